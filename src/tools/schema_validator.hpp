#pragma once
// Private to src/tools: JSON Schema (draft 7) checks of tool arguments, through valijson.
#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace npcl::tools {

/// Why arguments were rejected, worded for the model to correct its call.
struct argument_error {
  std::string message;  ///< e.g. "language must be one of en-IN, hi-IN, bho-IN, bn-IN"
  std::string field;    ///< path of the offending argument ("account.number", "items[2]"); empty for the whole object
};

/// One tool's parameter schema, parsed once; validate() is const and safe from any thread.
class schema_validator {
 public:
  /// Throws std::invalid_argument when `schema` is not an object schema valijson accepts,
  /// uses "format", "patternProperties" or "propertyNames" (regex on unbounded input), or has
  /// a "pattern" that does not compile or whose node lacks maxLength <= `max_pattern_subject_length`.
  schema_validator(const nlohmann::json& schema, std::size_t max_pattern_subject_length);
  ~schema_validator();
  schema_validator(const schema_validator&) = delete;
  schema_validator& operator=(const schema_validator&) = delete;

  /// Empty when `arguments` satisfies the schema; otherwise the most specific violation.
  std::optional<argument_error> validate(const nlohmann::json& arguments) const;

 private:
  struct impl;  // valijson types stay in the .cpp: they are costly to compile
  std::unique_ptr<impl> impl_;  ///< parsed schema and the source kept for wording errors
};

}  // namespace npcl::tools
