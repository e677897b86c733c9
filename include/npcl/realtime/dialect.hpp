#pragma once
#include <optional>
#include <string_view>

namespace npcl::realtime {

/// Wire dialect of a Realtime service. The dialects differ in URL, headers,
/// session shape, audio format names, event names and whether temperature
/// exists; one connection speaks exactly one of them.
enum class dialect {
  ga,             ///< OpenAI Realtime GA: Bearer key, nested session.audio, no temperature
  beta,           ///< OpenAI Realtime beta: `OpenAI-Beta: realtime=v1`, flat session (switched off by OpenAI in 2026)
  azure_ga,       ///< Azure OpenAI `/openai/v1/realtime?model=<deployment>`: `api-key`, GA shapes
  azure_preview,  ///< Azure OpenAI `/openai/realtime?api-version=..&deployment=..`: `api-key`, beta shapes
};

/// True for the dialects whose session and events have the GA shape.
constexpr bool uses_ga_shapes(dialect d) noexcept { return d == dialect::ga || d == dialect::azure_ga; }

/// True for the dialects that authenticate with Azure's `api-key` header.
constexpr bool is_azure(dialect d) noexcept { return d == dialect::azure_ga || d == dialect::azure_preview; }

/// The configuration spelling: "ga", "beta", "azure_ga", "azure_preview".
std::string_view to_string(dialect d) noexcept;

/// Parses the configuration spelling (as to_string gives it); nullopt otherwise.
std::optional<dialect> parse_dialect(std::string_view text) noexcept;

}  // namespace npcl::realtime
