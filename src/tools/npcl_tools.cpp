#include "npcl/tools/npcl_tools.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "npcl/obs/log.hpp"
#include "npcl/store/store.hpp"
#include "npcl/tools/registry.hpp"
#include "tools/npcl_tool_specs.hpp"

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
// Running a handler

tool_result output(const json& j) { return tool_ok(j.dump(-1, ' ', false, json::error_handler_t::replace)); }

tool_result not_found(const std::string& tool, std::string message) {
  spdlog::info("tool {}: {}", tool, message);
  return tool_error("not_found", std::move(message));
}

// `call_id` is the call the tool runs in, recorded with what a tool writes.
using body = std::function<tool_result(const json& args, const std::string& call_id)>;

// Turns what can go wrong with the records into outputs the model can act on: the store is
// synchronous and throws, the registry would only say "tool_failed".
registry::handler guarded(const npcl_tool_spec& spec, body run) {
  return [&spec, tool = spec.name, run = std::move(run)](const std::string& arguments, call_actions& actions) {
    try {
      return run(checked_arguments(spec, arguments), actions.call_id());
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

body lookup_consumer_body(store::store& s) {
  return [&s](const json& args, const std::string& call_id) {
    const bool by_number = args.contains("consumer_number");
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
  };
}

body get_bill_summary_body(store::store& s) {
  return [&s](const json& args, const std::string& call_id) {
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
  };
}

body register_complaint_body(store::store& s) {
  return [&s](const json& args, const std::string& call_id) {
    const service_level* level = level_named(args["category"].get<std::string>());
    if (level == nullptr) throw bad_argument{"category", "category is not known"};
    store::new_complaint c;
    c.category = level->category;
    c.priority = level->priority;
    c.area = args["area"].get<std::string>();
    c.address = args["address"].get<std::string>();
    c.description = args["description"].get<std::string>();
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
  };
}

body get_complaint_status_body(store::store& s) {
  return [&s](const json& args, const std::string& call_id) {
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
  };
}

bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

body get_outage_status_body(store::store& s) {
  return [&s](const json& args, const std::string& call_id) {
    auto area = args["area"].get<std::string>();
    auto sector = args.value("sector", std::string());
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
  };
}

body request_new_connection_body(store::store& s) {
  return [&s](const json& args, const std::string& call_id) {
    store::new_connection_request q;
    q.applicant_name = args["applicant_name"].get<std::string>();
    q.mobile = args["mobile"].get<std::string>();
    q.area = args["area"].get<std::string>();
    q.address = args["address"].get<std::string>();
    q.load_category = args.value("load_category", std::string());
    q.call_id = call_id;
    auto saved = s.create_connection_request(q);
    return output({{"reference", saved.reference},
                   {"reference_spoken", spoken(saved.reference)},
                   {"status", saved.status},
                   {"received_at", iso_time(saved.created_at)}});
  };
}

body check_service_area_body(store::store& s) {
  return [&s](const json& args, const std::string& call_id) {
    auto area = args["area"].get<std::string>();
    return output({{"area", area}, {"served", s.is_area_served(area)}});
  };
}

}  // namespace

void add_npcl_tools(registry& r, store::store& s) {
  const std::map<std::string, body> bodies{
      {"lookup_consumer", lookup_consumer_body(s)},
      {"get_bill_summary", get_bill_summary_body(s)},
      {"register_complaint", register_complaint_body(s)},
      {"get_complaint_status", get_complaint_status_body(s)},
      {"get_outage_status", get_outage_status_body(s)},
      {"request_new_connection", request_new_connection_body(s)},
      {"check_service_area", check_service_area_body(s)},
  };
  for (const auto& spec : npcl_tool_specs()) {
    // Writes wait longer than look-ups (the registry's default) for a database busy with other
    // writers: SQLite's busy timeout or a PostgreSQL lock.
    r.add(spec.name, spec.description, spec.schema.dump(), guarded(spec, bodies.at(spec.name)), true,
          spec.creates_record ? std::optional<std::chrono::milliseconds>(record_write_deadline) : std::nullopt);
  }
}

}  // namespace npcl::tools
