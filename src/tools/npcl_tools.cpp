#include "npcl/tools/npcl_tools.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "npcl/obs/log.hpp"
#include "npcl/store/store.hpp"
#include "npcl/tools/registry.hpp"

namespace npcl::tools {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// ---------------------------------------------------------------------------------------------
// Service levels

// What the utility promises per complaint category: how urgently the field staff treat it and
// how long until it is resolved. No supply and bad voltage damage appliances and stop work, so
// they go to the crews first; a meter needs a visit by the metering team; billing and street
// lights are handled in batches by offices that work days, not shifts. The store has no "low"
// priority: everything that is not urgent is "normal", and the promised time tells them apart.
struct service_level {
  std::string_view name;                ///< category as the model names it
  store::complaint_category category;   ///< category as the store keeps it
  store::complaint_priority priority;   ///< urgency given to the crews
  std::chrono::hours resolve_within;    ///< promised time to resolution, from registration
};

constexpr std::array<service_level, 6> service_levels{{
    {"outage", store::complaint_category::no_supply, store::complaint_priority::high, 4h},
    {"voltage", store::complaint_category::voltage, store::complaint_priority::high, 8h},
    {"meter", store::complaint_category::meter, store::complaint_priority::normal, 48h},
    {"billing", store::complaint_category::billing, store::complaint_priority::normal, 72h},
    {"streetlight", store::complaint_category::streetlight, store::complaint_priority::normal, 72h},
    {"other", store::complaint_category::other, store::complaint_priority::normal, 72h},
}};

const service_level* level_named(std::string_view name) {
  for (const auto& l : service_levels) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

// The model's name for a stored category; categories the model cannot choose (safety_hazard,
// from other channels) keep the store's name.
std::string category_name(store::complaint_category c) {
  for (const auto& l : service_levels) {
    if (l.category == c) return std::string(l.name);
  }
  return std::string(store::to_string(c));
}

// ---------------------------------------------------------------------------------------------
// What the model reads back

// Callers and field staff are in India: times are given in India Standard Time, which has no
// daylight saving, so a fixed offset is exact.
constexpr std::chrono::minutes ist_offset{5 * 60 + 30};

// "2026-03-05T14:00:00+05:30".
std::string iso_time(store::timestamp t) {
  using namespace std::chrono;
  auto local = t + ist_offset;
  auto day = floor<days>(local);
  year_month_day ymd{day};
  hh_mm_ss hms{local - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d+05:30", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

// How to read an identifier aloud: one character at a time, and a pause where it has a dash,
// so "NC-2026-000123" becomes "N C, 2 0 2 6, 0 0 0 1 2 3". Read as a number it would be wrong.
std::string spoken(std::string_view id) {
  std::string out;
  bool pause = false;
  for (char ch : id) {
    if (std::isalnum(static_cast<unsigned char>(ch)) == 0) {
      pause = !out.empty();
      continue;
    }
    if (!out.empty()) out += pause ? ", " : " ";
    out += ch;
    pause = false;
  }
  return out;
}

// "1234.50": the amount exactly as billed, never rounded to whole rupees.
std::string rupees(std::int64_t paise) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(paise / 100),
                static_cast<long long>(paise % 100));
  return buf;
}

// "1234 rupees 50 paise", so the amount is said the way a bill is read out.
std::string rupees_spoken(std::int64_t paise) {
  std::string out = std::to_string(paise / 100) + " rupees";
  if (paise % 100 != 0) out += " " + std::to_string(paise % 100) + " paise";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Argument schemas. Every object refuses unknown properties so a misspelt argument is
// reported instead of silently ignored.

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
  for (const auto& l : service_levels) names.push_back(l.name);
  return names;
}

// ---------------------------------------------------------------------------------------------
// Running a handler

// An argument that passed the schema but still cannot be used, e.g. only blanks.
struct bad_argument {
  std::string field;    ///< the argument at fault
  std::string message;  ///< what the model should fix
};

// Text arguments without the blanks the model sometimes pads them with.
std::string trimmed(const json& args, const char* field) {
  auto it = args.find(field);
  if (it == args.end()) return {};
  const auto& s = it->get_ref<const std::string&>();
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

std::string required_text(const json& args, const char* field) {
  std::string value = trimmed(args, field);
  if (value.empty()) throw bad_argument{field, std::string(field) + " must not be blank"};
  return value;
}

tool_result output(const json& j) { return tool_ok(j.dump(-1, ' ', false, json::error_handler_t::replace)); }

tool_result not_found(const std::string& tool, std::string message) {
  spdlog::info("tool {}: {}", tool, message);
  return tool_error("not_found", std::move(message));
}

// `call_id` is the call the tool runs in, recorded with what a tool writes.
using body = std::function<tool_result(const json& args, const std::string& call_id)>;

// Turns what can go wrong with the records into outputs the model can act on: the store is
// synchronous and throws, the registry would only say "tool_failed".
registry::handler guarded(std::string tool, body run) {
  return [tool = std::move(tool), run = std::move(run)](const std::string& arguments, call_actions& actions) {
    try {
      return run(json::parse(arguments), actions.call_id());
    } catch (const bad_argument& e) {
      spdlog::warn("tool {}: arguments refused: {}", tool, e.message);
      return tool_error("invalid_arguments", e.message, e.field);
    } catch (const store::store_error& e) {
      switch (e.kind()) {
        case store::store_error_kind::invalid: {
          // The store names the field first: "callback_number: not a phone number".
          std::string message = e.what();
          auto colon = message.find(':');
          spdlog::warn("tool {}: store refused the arguments: {}", tool, message);
          return tool_error("invalid_arguments", message, colon == std::string::npos ? "" : message.substr(0, colon));
        }
        case store::store_error_kind::not_found:
          return not_found(tool, e.what());
        case store::store_error_kind::unavailable:
        case store::store_error_kind::conflict:
          break;
      }
      spdlog::warn("tool {}: records unavailable ({}): {}", tool, store::to_string(e.kind()), e.what());
      return tool_error("unavailable", "records are unavailable right now; offer a human agent");
    }
  };
}

store::timestamp now() { return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()); }

// ---------------------------------------------------------------------------------------------
// The tools

// A write that times out leaves the caller without the number of a record that may still be
// committed a moment later, so writes wait longer than look-ups (the registry's default, 5 s)
// for a database busy with other writers: SQLite's busy timeout or a PostgreSQL lock.
constexpr std::chrono::seconds write_deadline{15};

// A mobile may hold many connections; more than this are summarised, not read out.
constexpr std::size_t max_consumers_listed = 5;

json consumer_json(const store::consumer& c) {
  return {{"consumer_number", c.number},
          {"consumer_number_spoken", spoken(c.number)},
          {"masked_name", c.masked_name},
          {"area", c.area},
          {"sector", c.sector},
          {"status", store::to_string(c.status)}};
}

void add_lookup_consumer(registry& r, store::store& s) {
  r.add("lookup_consumer",
        "Find the caller's electricity connection by consumer number (10 digits, printed on the bill) or by "
        "registered mobile number. Give exactly one of the two. Returns the holder's name masked for privacy, the "
        "area, sector and supply status (active, disconnected, temporarily_disconnected). Use it to confirm whom "
        "you are speaking with before talking about a bill or a complaint; read the masked name only as a hint "
        "(\"is the connection in the name starting with R?\"), never guess the rest. When a mobile holds several "
        "connections, ask which consumer number the caller means.",
        object_schema({{"consumer_number", consumer_number_field()},
                       {"mobile", mobile_field("registered mobile of the connection")}},
                      {})
            .dump(),
        guarded("lookup_consumer",
                [&s](const json& args, const std::string& call_id) {
                  const bool by_number = args.contains("consumer_number");
                  if (by_number == args.contains("mobile")) {
                    throw bad_argument{"consumer_number", "give either consumer_number or mobile, exactly one of them"};
                  }
                  std::vector<store::consumer> found;
                  std::string key;
                  if (by_number) {
                    key = args["consumer_number"].get<std::string>();
                    if (auto c = s.find_consumer_by_number(key)) found.push_back(std::move(*c));
                    if (found.empty()) return not_found("lookup_consumer", "no consumer with number " + key);
                  } else {
                    key = args["mobile"].get<std::string>();
                    found = s.find_consumers_by_mobile(key);
                    if (found.empty()) return not_found("lookup_consumer", "no consumer registered with mobile " + key);
                  }
                  json list = json::array();
                  for (std::size_t i = 0; i < found.size() && i < max_consumers_listed; ++i) {
                    list.push_back(consumer_json(found[i]));
                  }
                  return output({{"consumers", std::move(list)}, {"total_found", found.size()}});
                }),
        true);
}

void add_get_bill_summary(registry& r, store::store& s) {
  r.add("get_bill_summary",
        "The latest bill of a consumer: billing month, amount due in rupees, due date and whether it is paid, "
        "unpaid or overdue. Call it whenever the caller asks about a bill, an amount or a due date, and say only "
        "the amount and date it returns: never estimate or round an amount. Read amount_spoken for the amount "
        "and consumer_number_spoken digit by digit.",
        object_schema({{"consumer_number", consumer_number_field()}}, {"consumer_number"}).dump(),
        guarded("get_bill_summary",
                [&s](const json& args, const std::string& call_id) {
                  auto number = args["consumer_number"].get<std::string>();
                  auto c = s.find_consumer_by_number(number);
                  if (!c) return not_found("get_bill_summary", "no consumer with number " + number);
                  auto b = s.latest_bill(number);
                  if (!b) return not_found("get_bill_summary", "no bill on record for consumer " + number);
                  return output({{"consumer_number", number},
                                 {"consumer_number_spoken", spoken(number)},
                                 {"masked_name", c->masked_name},
                                 {"billing_period", b->period},
                                 {"amount_rupees", rupees(b->amount_paise)},
                                 {"amount_spoken", rupees_spoken(b->amount_paise)},
                                 {"due_date", b->due_date},
                                 {"status", store::to_string(b->status)}});
                }),
        true);
}

void add_register_complaint(registry& r, store::store& s) {
  r.add("register_complaint",
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
                      {"category", "area", "address", "description", "callback_number"})
            .dump(),
        guarded("register_complaint",
                [&s](const json& args, const std::string& call_id) {
                  const service_level* level = level_named(args["category"].get<std::string>());
                  if (level == nullptr) throw bad_argument{"category", "category is not known"};
                  store::new_complaint c;
                  c.category = level->category;
                  c.priority = level->priority;
                  c.area = required_text(args, "area");
                  c.address = required_text(args, "address");
                  c.description = required_text(args, "description");
                  c.callback_number = args["callback_number"].get<std::string>();
                  c.consumer_number = args.value("consumer_number", std::string());
                  c.call_id = call_id;
                  c.expected_resolution = now() + level->resolve_within;
                  store::complaint saved;
                  try {
                    saved = s.register_complaint(c);
                  } catch (const store::store_error& e) {
                    if (e.kind() != store::store_error_kind::not_found) throw;
                    return not_found("register_complaint",
                                     "no consumer with number " + c.consumer_number +
                                         "; check the number with the caller or register without it");
                  }
                  return output({{"complaint_number", saved.number},
                                 {"complaint_number_spoken", spoken(saved.number)},
                                 {"category", level->name},
                                 {"priority", store::to_string(saved.priority)},
                                 {"status", store::to_string(saved.status)},
                                 {"registered_at", iso_time(saved.created_at)},
                                 {"expected_resolution", iso_time(saved.expected_resolution)},
                                 {"expected_resolution_hours", level->resolve_within.count()}});
                }),
        true, write_deadline);
}

void add_get_complaint_status(registry& r, store::store& s) {
  r.add("get_complaint_status",
        "The current state of a registered complaint (registered, assigned, in_progress, resolved, closed), with "
        "its category, priority and expected resolution time. Call it whenever the caller asks about an earlier "
        "complaint, and say only the status it returns. Ask for the 9-digit complaint number if you do not have "
        "it.",
        object_schema({{"complaint_number", complaint_number_field()}}, {"complaint_number"}).dump(),
        guarded("get_complaint_status",
                [&s](const json& args, const std::string& call_id) {
                  auto number = args["complaint_number"].get<std::string>();
                  auto c = s.complaint_by_number(number);
                  if (!c) return not_found("get_complaint_status", "no complaint with number " + number);
                  return output({{"complaint_number", c->number},
                                 {"complaint_number_spoken", spoken(c->number)},
                                 {"category", category_name(c->category)},
                                 {"status", store::to_string(c->status)},
                                 {"priority", store::to_string(c->priority)},
                                 {"area", c->area},
                                 {"registered_at", iso_time(c->created_at)},
                                 {"expected_resolution", iso_time(c->expected_resolution)}});
                }),
        true);
}

bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

void add_get_outage_status(registry& r, store::store& s) {
  r.add("get_outage_status",
        "Current and announced power cuts in an area, optionally narrowed to a sector or feeder: planned "
        "(maintenance) or unplanned (fault), when each started or starts, and the expected restoration time when "
        "known. Call it when the caller reports no supply, before registering an outage complaint: if a cut is "
        "already known, tell them, give the restoration time, and register a complaint only if they still want "
        "one. If expected_restoration is null, say the time is not known yet; do not guess.",
        object_schema({{"area", area_field("area or locality, as the caller names it")},
                       {"sector", area_field("sector or feeder within the area, if the caller knows it")}},
                      {"area"})
            .dump(),
        guarded("get_outage_status",
                [&s](const json& args, const std::string& call_id) {
                  auto area = required_text(args, "area");
                  auto sector = trimmed(args, "sector");
                  const auto at = now();
                  json list = json::array();
                  for (const auto& o : s.outages_in_area(area, at)) {
                    // An outage without a sector covers the whole area, so it concerns every sector.
                    if (!sector.empty() && !o.sector.empty() && !same_text(o.sector, sector)) continue;
                    list.push_back({{"kind", store::to_string(o.kind)},
                                    {"sector", o.sector.empty() ? std::string("whole area") : o.sector},
                                    {"in_progress", o.start <= at},
                                    {"start", iso_time(o.start)},
                                    {"expected_restoration", o.eta ? json(iso_time(*o.eta)) : json(nullptr)},
                                    {"note", o.note}});
                  }
                  if (list.empty() && !s.is_area_served(area)) {
                    return not_found("get_outage_status",
                                     "no area named " + area +
                                         " in the service area; ask the caller to repeat the area name");
                  }
                  json out{{"area", area}, {"outages", std::move(list)}};
                  if (!sector.empty()) out["sector"] = sector;
                  return output(out);
                }),
        true);
}

void add_request_new_connection(registry& r, store::store& s) {
  r.add("request_new_connection",
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
                      {"applicant_name", "mobile", "area", "address"})
            .dump(),
        guarded("request_new_connection",
                [&s](const json& args, const std::string& call_id) {
                  store::new_connection_request q;
                  q.applicant_name = required_text(args, "applicant_name");
                  q.mobile = args["mobile"].get<std::string>();
                  q.area = required_text(args, "area");
                  q.address = required_text(args, "address");
                  q.load_category = args.value("load_category", std::string());
                  q.call_id = call_id;
                  auto saved = s.create_connection_request(q);
                  return output({{"reference", saved.reference},
                                 {"reference_spoken", spoken(saved.reference)},
                                 {"status", saved.status},
                                 {"received_at", iso_time(saved.created_at)}});
                }),
        true, write_deadline);
}

void add_check_service_area(registry& r, store::store& s) {
  r.add("check_service_area",
        "Whether the utility supplies electricity in an area. Call it before taking a new connection request or "
        "when the caller is unsure whether they are in the service area. If served is false, say the area is "
        "not in the service area as far as the records show, and offer a human agent.",
        object_schema({{"area", area_field("area or locality, as the caller names it")}}, {"area"}).dump(),
        guarded("check_service_area",
                [&s](const json& args, const std::string& call_id) {
                  auto area = required_text(args, "area");
                  return output({{"area", area}, {"served", s.is_area_served(area)}});
                }),
        true);
}

}  // namespace

void add_npcl_tools(registry& r, store::store& s) {
  add_lookup_consumer(r, s);
  add_get_bill_summary(r, s);
  add_register_complaint(r, s);
  add_get_complaint_status(r, s);
  add_get_outage_status(r, s);
  add_request_new_connection(r, s);
  add_check_service_area(r, s);
}

}  // namespace npcl::tools
