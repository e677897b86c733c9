#include "tools/npcl_tool_specs.hpp"

#include <algorithm>
#include <utility>

#include "npcl/tools/registry.hpp"

namespace npcl::tools {

using nlohmann::json;

namespace {

// Every object refuses unknown properties so a misspelt argument is reported instead of
// silently ignored.

// Longest area or sector name accepted, in characters; the utility's own names are far shorter.
constexpr std::size_t max_area_length = 64;
// Longest address or landmark, applicant name and complaint description, in characters: a
// summary said on the phone, not a letter. The registry names the field of a broken length
// limit only up to max_pattern_subject_length, so no limit here goes beyond it.
constexpr std::size_t max_address_length = 200;
constexpr std::size_t max_name_length = 100;
constexpr std::size_t max_description_length = 250;
static_assert(max_description_length <= registry::max_pattern_subject_length &&
              max_address_length <= registry::max_pattern_subject_length);

json text_field(std::size_t max_length, std::string description) {
  return {{"type", "string"}, {"minLength", 1}, {"maxLength", max_length}, {"description", std::move(description)}};
}

// The description doubles as the hint in the error message when the pattern is broken.
json patterned_field(std::string pattern, std::size_t max_length, std::string description) {
  return {{"type", "string"},
          {"pattern", std::move(pattern)},
          {"maxLength", max_length},
          {"description", std::move(description)}};
}

// Consumer numbers are 10 digits, like the demo records 9990000001...
json consumer_number_field() {
  return patterned_field("^[0-9]{10}$", 10, "consumer numbers have 10 digits, digits only");
}

json mobile_field(const std::string& whose) {
  return patterned_field("^(\\+91)?[0-9]{10}$", 13,
                         whose + ": mobile numbers have 10 digits, optionally after +91, no spaces");
}

json complaint_number_field() {
  return patterned_field("^[0-9]{9}$", 9, "complaint numbers have 9 digits, including leading zeros");
}

json area_field(std::string description) { return text_field(max_area_length, std::move(description)); }

json object_schema(json properties, std::vector<std::string> required) {
  json schema{{"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
  if (!required.empty()) schema["required"] = std::move(required);
  return schema;
}

json category_enum() {
  json names = json::array();
  for (auto name : complaint_categories) names.push_back(name);
  return names;
}

void exactly_one_key(const json& args) {
  if (args.contains("consumer_number") == args.contains("mobile")) {
    throw bad_argument{"consumer_number", "give either consumer_number or mobile, exactly one of them"};
  }
}

std::vector<npcl_tool_spec> make_specs() {
  std::vector<npcl_tool_spec> specs;
  specs.push_back(
      {"lookup_consumer",
       "Find the caller's electricity connection by consumer number (10 digits, printed on the bill) or by "
       "registered mobile number. Give exactly one of the two. Returns the holder's name masked for privacy, the "
       "area, sector and supply status (active, disconnected, temporarily_disconnected). Use it to confirm whom "
       "you are speaking with before talking about a bill or a complaint; read the masked name only as a hint "
       "(\"is the connection in the name starting with R?\"), never guess the rest. When a mobile holds several "
       "connections, ask which consumer number the caller means.",
       object_schema({{"consumer_number", consumer_number_field()},
                      {"mobile", mobile_field("registered mobile of the connection")}},
                     {}),
       false,
       {},
       exactly_one_key});
  specs.push_back(
      {"get_bill_summary",
       "The latest bill of a consumer: billing month, amount due in rupees, due date and whether it is paid, "
       "unpaid or overdue. Call it whenever the caller asks about a bill, an amount or a due date, and say only "
       "the amount and date it returns: never estimate or round an amount. Read amount_spoken for the amount "
       "and consumer_number_spoken digit by digit.",
       object_schema({{"consumer_number", consumer_number_field()}}, {"consumer_number"}),
       false,
       {}});
  specs.push_back(
      {"register_complaint",
       "Register a complaint about supply or service. Before calling, collect: the category, the area, the "
       "address or a nearby landmark, a short description in the caller's words, and a callback mobile number "
       "(confirm it digit by digit); add the consumer number when the caller knows it. Categories: outage (no "
       "supply), voltage (low, high or fluctuating), meter, billing, streetlight, other. Call it once per "
       "complaint: the complaint is saved before you get its number. Then read complaint_number_spoken digit by "
       "digit, say the expected resolution time, and offer to repeat the number. For danger to life (a fallen "
       "wire, sparking, fire) do not register: transfer to an agent at once.",
       object_schema({{"category", {{"type", "string"},
                                    {"enum", category_enum()},
                                    {"description", "what the complaint is about; outage means no supply"}}},
                      {"area", area_field("area or locality of the fault")},
                      {"address", text_field(max_address_length, "house address or a nearby landmark")},
                      {"description", text_field(max_description_length, "what the caller reported, briefly")},
                      {"callback_number", mobile_field("number to call the caller back on")},
                      {"consumer_number", consumer_number_field()}},
                     {"category", "area", "address", "description", "callback_number"}),
       true,
       {"area", "address", "description"}});
  specs.push_back(
      {"get_complaint_status",
       "The current state of a registered complaint (registered, assigned, in_progress, resolved, closed), with "
       "its category, priority and expected resolution time. Call it whenever the caller asks about an earlier "
       "complaint, and say only the status it returns. Ask for the 9-digit complaint number if you do not have "
       "it.",
       object_schema({{"complaint_number", complaint_number_field()}}, {"complaint_number"}),
       false,
       {}});
  specs.push_back(
      {"get_outage_status",
       "Current and announced power cuts in an area, optionally narrowed to a sector or feeder: planned "
       "(maintenance) or unplanned (fault), when each started or starts, and the expected restoration time when "
       "known. Call it when the caller reports no supply, before registering an outage complaint: if a cut is "
       "already known, tell them, give the restoration time, and register a complaint only if they still want "
       "one. If expected_restoration is null, say the time is not known yet; do not guess.",
       object_schema({{"area", area_field("area or locality, as the caller names it")},
                      {"sector", area_field("sector or feeder within the area, if the caller knows it")}},
                     {"area"}),
       false,
       {"area"}});
  specs.push_back(
      {"request_new_connection",
       "Take an application for a new electricity connection. Check the area with check_service_area first. "
       "Collect the applicant's full name, a contact mobile (confirm it digit by digit), the area, the full "
       "address and, if known, the load category. Call it once: the application is saved before you get its "
       "reference. Read reference_spoken character by character and tell the caller that the office will call "
       "them about documents and a site visit.",
       object_schema({{"applicant_name", text_field(max_name_length, "applicant's full name")},
                      {"mobile", mobile_field("contact mobile of the applicant")},
                      {"area", area_field("area or locality of the premises")},
                      {"address", text_field(max_address_length, "full address of the premises")},
                      {"load_category", {{"type", "string"},
                                         {"enum", {"domestic", "commercial", "industrial", "agricultural"}},
                                         {"description", "kind of use, if the caller knows it"}}}},
                     {"applicant_name", "mobile", "area", "address"}),
       true,
       {"applicant_name", "area", "address"}});
  specs.push_back(
      {"check_service_area",
       "Whether the utility supplies electricity in an area. Call it before taking a new connection request or "
       "when the caller is unsure whether they are in the service area. If served is false, say the area is "
       "not in the service area as far as the records show, and offer a human agent.",
       object_schema({{"area", area_field("area or locality, as the caller names it")}}, {"area"}),
       false,
       {"area"}});
  return specs;
}

std::string trimmed(const std::string& s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

const std::vector<npcl_tool_spec>& npcl_tool_specs() {
  static const std::vector<npcl_tool_spec> specs = make_specs();
  return specs;
}

json checked_arguments(const npcl_tool_spec& spec, const std::string& arguments_json) {
  json args = json::parse(arguments_json);
  for (auto it = args.begin(); it != args.end();) {
    if (it->is_string()) {
      *it = trimmed(it->get_ref<const std::string&>());
      if (it->get_ref<const std::string&>().empty()) {
        const std::string field = it.key();
        if (std::find(spec.required_text.begin(), spec.required_text.end(), field) != spec.required_text.end()) {
          throw bad_argument{field, field + " must not be blank"};
        }
        it = args.erase(it);
        continue;
      }
    }
    ++it;
  }
  if (spec.check != nullptr) spec.check(args);
  return args;
}

}  // namespace npcl::tools
