#include "npcl/tools/call_tools.hpp"

#include <nlohmann/json.hpp>

#include "npcl/tools/registry.hpp"

namespace npcl::tools {

using nlohmann::json;

namespace {

// Optional free-text reason, kept short: it is logged and shown in the call record.
constexpr const char* reason_schema = R"({
  "type": "object",
  "properties": {
    "reason": {"type": "string", "maxLength": 300,
               "description": "Short reason, in English, for the call record."}
  }
})";

constexpr const char* language_schema = R"({
  "type": "object",
  "properties": {
    "language": {"type": "string", "enum": ["en-IN", "hi-IN", "bho-IN", "bn-IN"],
                 "description": "en-IN English, hi-IN Hindi, bho-IN Bhojpuri, bn-IN Bengali."}
  },
  "required": ["language"]
})";

std::string reason_of(const std::string& arguments_json) {
  return json::parse(arguments_json).value("reason", std::string());
}

// end_call and transfer_to_agent differ only in the action they ask of the call.
void add_reason_tool(registry& r, std::string name, std::string description,
                     void (call_actions::*action)(std::string), std::string output) {
  r.add(std::move(name), std::move(description), reason_schema,
        [action, output = std::move(output)](const std::string& arguments, call_actions& actions) {
          (actions.*action)(reason_of(arguments));
          return tool_ok(output);
        },
        false);
}

}  // namespace

void add_call_tools(registry& r) {
  add_reason_tool(r, "end_call",
                  "End the phone call. Call this only when the caller's request is resolved or they ask to end "
                  "the call, and after you have said goodbye: the line is hung up once your current speech has "
                  "played.",
                  &call_actions::end_call_after_speech, R"({"status":"ending_call"})");
  add_reason_tool(r, "transfer_to_agent",
                  "Transfer the caller to a human agent. Use it when the caller asks for a person, when the "
                  "request needs a human (a complaint you cannot resolve, an emergency such as a fallen line or "
                  "fire), or after two failed attempts to help. Tell the caller you are transferring them first; "
                  "the transfer happens once your current sentence has played.",
                  &call_actions::transfer_after_speech, R"({"status":"transferring"})");
  r.add("set_language",
        "Switch the conversation language when the caller speaks or asks for another language. Continue in "
        "the new language from your next sentence.",
        language_schema,
        [](const std::string& arguments, call_actions& actions) {
          std::string language = json::parse(arguments).at("language").get<std::string>();
          actions.set_language(language);
          return tool_ok(json{{"status", "language_set"}, {"language", language}}.dump());
        },
        false);
}

}  // namespace npcl::tools
