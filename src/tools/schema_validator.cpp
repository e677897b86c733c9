#include "tools/schema_validator.hpp"

#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <regex>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace npcl::tools {

using nlohmann::json;

namespace {

[[noreturn]] void reject(const std::string& where, const std::string& why) {
  throw std::invalid_argument("tool schema at " + (where.empty() ? std::string("/") : where) + ": " + why);
}

// Walks every subschema: valijson runs std::regex on the input for pattern, format and the
// property-name keywords, and std::regex recurses once per character, so only patterns
// applied after a short maxLength (valijson checks maxLength first) are safe on model input.
void check_node(const json& node, const std::string& where, std::size_t max_subject) {
  if (node.is_boolean()) return;
  if (!node.is_object()) reject(where, "a schema must be an object");
  for (const char* banned : {"format", "patternProperties", "propertyNames"}) {
    if (node.contains(banned)) reject(where, std::string("\"") + banned + "\" is not supported (regex on unbounded input)");
  }
  if (auto p = node.find("pattern"); p != node.end()) {
    if (!p->is_string()) reject(where, "pattern must be a string");
    try {
      std::regex compiled(p->get<std::string>());
    } catch (const std::regex_error& e) {
      reject(where, "pattern does not compile: " + std::string(e.what()));
    }
    auto m = node.find("maxLength");
    if (m == node.end() || !m->is_number_unsigned() || m->get<std::uint64_t>() > max_subject) {
      reject(where, "a pattern needs maxLength <= " + std::to_string(max_subject));
    }
  }
  for (const char* kw : {"properties", "definitions", "$defs"}) {
    if (auto it = node.find(kw); it != node.end() && it->is_object()) {
      for (const auto& [name, sub] : it->items()) check_node(sub, where + "/" + kw + "/" + name, max_subject);
    }
  }
  if (auto it = node.find("dependencies"); it != node.end() && it->is_object()) {
    for (const auto& [name, sub] : it->items()) {
      if (!sub.is_array()) check_node(sub, where + "/dependencies/" + name, max_subject);
    }
  }
  for (const char* kw : {"items", "allOf", "anyOf", "oneOf"}) {
    auto it = node.find(kw);
    if (it == node.end()) continue;
    if (it->is_array()) {
      for (std::size_t i = 0; i < it->size(); ++i) check_node((*it)[i], where + "/" + kw + "/" + std::to_string(i), max_subject);
    } else {
      check_node(*it, where + "/" + kw, max_subject);
    }
  }
  for (const char* kw : {"additionalProperties", "additionalItems", "not", "if", "then", "else", "contains"}) {
    if (auto it = node.find(kw); it != node.end()) check_node(*it, where + "/" + kw, max_subject);
  }
}

// Cuts every string to `keep` code points so the wording pass never hands a long string to
// std::regex; a string that long already broke its maxLength, which is still reported.
void bound_strings(json& value, std::size_t keep) {
  if (value.is_string()) {
    auto& s = value.get_ref<std::string&>();
    std::size_t points = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && points++ == keep) {
        s.resize(i);
        break;
      }
    }
  } else if (value.is_structured()) {
    for (auto& child : value) bound_strings(child, keep);
  }
}

enum class kind { required, type, enumeration, pattern, min_length, max_length, minimum, maximum, additional, other };

struct violation {
  std::vector<std::string> path;  // argument names and array indexes below the root
  kind what{kind::other};
  std::string name;         // the missing or unexpected property, for required/additional
  std::string description;  // valijson's own wording, the fallback
};

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The text between the first pair of single quotes, which is where valijson names a property.
std::string quoted(const std::string& s) {
  auto a = s.find('\'');
  auto b = a == std::string::npos ? a : s.find('\'', a + 1);
  return b == std::string::npos ? std::string{} : s.substr(a + 1, b - a - 1);
}

violation classify(const valijson::ValidationResults::Error& e) {
  violation v;
  for (std::size_t i = 1; i < e.context.size(); ++i) {  // [0] is "<root>"
    const auto& c = e.context[i];
    v.path.push_back(c.size() >= 2 && c.front() == '[' && c.back() == ']' ? c.substr(1, c.size() - 2) : c);
  }
  v.description = e.description;
  const auto& d = e.description;
  if (starts_with(d, "Missing required property")) {
    v.what = kind::required;
    v.name = quoted(d);
  } else if (d.find("'type' constraint") != std::string::npos) {
    v.what = kind::type;
  } else if (d.find("enum values") != std::string::npos || d.find("'const' constraint") != std::string::npos) {
    v.what = kind::enumeration;
  } else if (d.find("'pattern' constraint") != std::string::npos) {
    v.what = kind::pattern;
  } else if (starts_with(d, "String should be no fewer than")) {
    v.what = kind::min_length;
  } else if (starts_with(d, "String should be no more than")) {
    v.what = kind::max_length;
  } else if (starts_with(d, "Expected number greater than")) {
    v.what = kind::minimum;
  } else if (starts_with(d, "Expected number less than")) {
    v.what = kind::maximum;
  } else if (starts_with(d, "Object contains a property that could not be validated")) {
    v.what = kind::additional;
    v.name = quoted(d.substr(d.find(':')));
  }
  return v;
}

// A violation on a missing or unexpected property is about the level below its context.
std::size_t depth_of(const violation& v) {
  return v.path.size() + (v.what == kind::required || v.what == kind::additional ? 1 : 0);
}

int preference(kind k) {
  switch (k) {
    case kind::type: return 0;  // "must be a string" says more than the enum or length it also broke
    case kind::required: return 1;
    case kind::other: return 3;
    default: return 2;
  }
}

const json* child_schema(const json* node, const std::string& segment, bool& is_index) {
  is_index = false;
  if (node == nullptr || !node->is_object()) return nullptr;
  if (auto p = node->find("properties"); p != node->end() && p->is_object()) {
    if (auto s = p->find(segment); s != p->end()) return &*s;
  }
  if (auto it = node->find("items"); it != node->end() && !segment.empty() &&
                                     segment.find_first_not_of("0123456789") == std::string::npos) {
    is_index = true;
    if (it->is_object()) return &*it;
    if (it->is_array()) {
      auto i = std::stoul(segment);
      return i < it->size() ? &(*it)[i] : nullptr;
    }
  }
  return nullptr;
}

std::string type_phrase(const json& type) {
  auto one = [](const std::string& t) -> std::string {
    if (t == "string") return "a string";
    if (t == "integer") return "a whole number";
    if (t == "number") return "a number";
    if (t == "boolean") return "true or false";
    if (t == "object") return "an object";
    if (t == "array") return "a list";
    return t;
  };
  if (type.is_string()) return one(type.get<std::string>());
  std::string out;
  if (type.is_array()) {
    for (const auto& t : type) {
      if (!t.is_string()) continue;
      if (!out.empty()) out += " or ";
      out += one(t.get<std::string>());
    }
  }
  return out;
}

std::string value_list(const json& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ", ";
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

argument_error word(const violation& v, const json& root) {
  // Render the path and find the subschema it points at, to quote the limits it broke.
  std::string field;
  const json* node = &root;
  for (const auto& segment : v.path) {
    bool is_index = false;
    node = child_schema(node, segment, is_index);
    field += is_index ? "[" + segment + "]" : (field.empty() ? segment : "." + segment);
  }
  if (v.what == kind::required || v.what == kind::additional) {
    field += field.empty() ? v.name : "." + v.name;
    if (v.what == kind::required) return {field + " is required", field};
    return {field + " is not an argument of this tool", field};
  }
  const std::string subject = field.empty() ? "the arguments" : field;
  auto has = [&](const char* key) { return node != nullptr && node->is_object() && node->contains(key); };
  switch (v.what) {
    case kind::type:
      if (has("type") && !type_phrase(node->at("type")).empty()) {
        return {subject + " must be " + type_phrase(node->at("type")), field};
      }
      break;
    case kind::enumeration:
      if (has("enum") && node->at("enum").is_array()) return {subject + " must be one of " + value_list(node->at("enum")), field};
      if (has("const")) return {subject + " must be " + value_list(json::array({node->at("const")})), field};
      break;
    case kind::pattern: {
      std::string hint = has("description") && node->at("description").is_string()
                             ? node->at("description").get<std::string>()
                             : "pattern " + node->at("pattern").get<std::string>();
      return {subject + " is not in the expected format (" + hint + ")", field};
    }
    case kind::min_length:
      if (has("minLength")) return {subject + " must be at least " + node->at("minLength").dump() + " characters", field};
      break;
    case kind::max_length:
      if (has("maxLength")) return {subject + " must be at most " + node->at("maxLength").dump() + " characters", field};
      break;
    case kind::minimum:
      if (has("exclusiveMinimum")) return {subject + " must be greater than " + node->at("exclusiveMinimum").dump(), field};
      if (has("minimum")) return {subject + " must be at least " + node->at("minimum").dump(), field};
      break;
    case kind::maximum:
      if (has("exclusiveMaximum")) return {subject + " must be less than " + node->at("exclusiveMaximum").dump(), field};
      if (has("maximum")) return {subject + " must be at most " + node->at("maximum").dump(), field};
      break;
    default:
      break;
  }
  return {subject + ": " + v.description, field};
}

}  // namespace

struct schema_validator::impl {
  json source;               ///< the schema as given, to quote its limits in messages
  valijson::Schema parsed;   ///< immutable after construction; shared by all threads
  std::size_t max_subject;   ///< longest string (code points) a pattern may see
};

schema_validator::schema_validator(const json& schema, std::size_t max_pattern_subject_length)
    : impl_(std::make_unique<impl>()) {
  if (!schema.is_object() || schema.value("type", json()) != "object") {
    reject("", "the arguments schema must be an object schema with \"type\": \"object\"");
  }
  check_node(schema, "", max_pattern_subject_length);
  impl_->source = schema;
  impl_->max_subject = max_pattern_subject_length;
  try {
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(impl_->source);
    parser.populateSchema(adapter, impl_->parsed);
  } catch (const std::exception& e) {
    reject("", e.what());
  }
}

schema_validator::~schema_validator() = default;

std::optional<argument_error> schema_validator::validate(const json& arguments) const {
  try {
    // A Validator caches compiled regexes and is not thread-safe, so each call has its own.
    valijson::Validator fast;
    valijson::adapters::NlohmannJsonAdapter target(arguments);
    // Without a results object valijson stops at the first broken constraint of a node, so
    // maxLength (checked before pattern) keeps long strings away from std::regex.
    if (fast.validate(impl_->parsed, target, nullptr)) return std::nullopt;

    json bounded = arguments;
    bound_strings(bounded, impl_->max_subject + 1);
    valijson::Validator thorough;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter bounded_target(bounded);
    thorough.validate(impl_->parsed, bounded_target, &results);

    std::optional<violation> best;
    valijson::ValidationResults::Error e;
    while (results.popError(e)) {
      violation v = classify(e);
      if (!best || depth_of(v) > depth_of(*best) ||
          (depth_of(v) == depth_of(*best) && preference(v.what) < preference(best->what))) {
        best = std::move(v);
      }
    }
    if (!best) return argument_error{"the arguments do not match the tool's schema", {}};
    return word(*best, impl_->source);
  } catch (const std::exception& e) {
    // std::regex may give up on a complex match; the call is refused, the process survives.
    return argument_error{std::string("the arguments could not be checked: ") + e.what(), {}};
  }
}

}  // namespace npcl::tools
