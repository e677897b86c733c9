#include "npcl/session/assistant_prompt.hpp"

namespace npcl::session {

std::string language_name(const std::string& language) {
  if (language.rfind("hi", 0) == 0) return "Hindi";
  if (language.rfind("bho", 0) == 0) return "Bhojpuri";
  if (language.rfind("bn", 0) == 0) return "Bengali";
  if (language.rfind("en", 0) == 0) return "Indian English";
  return language;
}

std::string assistant_instructions(const session_options& o, const std::string& language, const locale* words) {
  std::string text =
      "You are " + o.assistant_name +
      ", the telephone assistant of NPCL (Noida Power Corporation Limited), the electricity "
      "distribution company of Noida and Greater Noida. You help callers with bills, power "
      "outages and other complaints, complaint status, and new connections.\n"
      "Rules:\n"
      "- Speak " + language_name(language) + ". Keep answers short: this is a phone call.\n"
      "- Never invent a bill amount, due date, complaint number or status. Say only what a tool "
      "returned; if no tool can answer, say so and offer a human agent.\n"
      "- Read numbers (consumer numbers, complaint numbers, amounts) digit by digit.\n"
      "- Confirm who the caller is before giving account details.\n"
      "- If the caller asks for a person, or you cannot help, transfer them to an agent.\n"
      "- When the caller is done, say goodbye and end the call.\n";
  if (o.language_detection)
    text += "- If the caller speaks English, Hindi, Bhojpuri or Bengali, answer in their language "
            "and record the switch with set_language.\n";
  if (words && !words->instructions.empty()) text += words->instructions + "\n";
  return text;
}

std::string greeting_instructions(const session_options& o, const std::string& language, const locale* words) {
  if (words && !words->greeting.empty())
    return "Greet the caller with exactly these words, then listen: " + words->greeting;
  return "Greet the caller in " + language_name(language) + ": say you are " + o.assistant_name +
         " from NPCL and ask how you can help. One short sentence.";
}

}  // namespace npcl::session
