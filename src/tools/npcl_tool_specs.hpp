#pragma once
// The customer-service tools as the model sees them, whichever back-end answers (the
// daemon's records or the utility's CRM): names, descriptions, argument schemas, and the
// checks a schema cannot express.
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace npcl::tools {

/// An argument that passed the schema but still cannot be used, e.g. only blanks.
struct bad_argument {
  std::string field;    ///< the argument at fault
  std::string message;  ///< what the model should fix
};

/// Complaint categories as the model names them; outage means no supply.
inline constexpr std::array<std::string_view, 6> complaint_categories{"outage",  "voltage",     "meter",
                                                                      "billing", "streetlight", "other"};

/// A tool that creates a record waits this long: a write that times out leaves the caller
/// without the number of a record that may still be committed a moment later.
inline constexpr std::chrono::seconds record_write_deadline{15};

/// One customer-service tool.
struct npcl_tool_spec {
  std::string name;         ///< function name offered to the model
  std::string description;  ///< when to call it and how to read its answer out
  nlohmann::json schema;    ///< JSON Schema of the arguments object
  /// Creates a record (register_complaint, request_new_connection): never sent twice, and
  /// given record_write_deadline.
  bool creates_record = false;
  /// Free-text arguments that must hold more than blanks.
  std::vector<std::string> required_text;
  /// Further checks on the trimmed arguments; throws bad_argument. May be null.
  void (*check)(const nlohmann::json& args) = nullptr;
};

/// Every customer-service tool, in the order offered to the model.
const std::vector<npcl_tool_spec>& npcl_tool_specs();

/// Parses arguments that passed the tool's schema, trims the blanks the model sometimes pads
/// text with (dropping optional text that was only blanks) and applies the spec's checks.
/// Throws bad_argument.
nlohmann::json checked_arguments(const npcl_tool_spec& spec, const std::string& arguments_json);

}  // namespace npcl::tools
