#include "npcl/realtime/dialect.hpp"

#include <array>
#include <utility>

namespace npcl::realtime {
namespace {

constexpr std::array<std::pair<dialect, std::string_view>, 4> names{{
    {dialect::ga, "ga"},
    {dialect::beta, "beta"},
    {dialect::azure_ga, "azure_ga"},
    {dialect::azure_preview, "azure_preview"},
}};

}  // namespace

std::string_view to_string(dialect d) noexcept {
  for (const auto& [value, name] : names)
    if (value == d) return name;
  return "ga";
}

std::optional<dialect> parse_dialect(std::string_view text) noexcept {
  for (const auto& [value, name] : names)
    if (name == text) return value;
  return std::nullopt;
}

}  // namespace npcl::realtime
