#pragma once
// Private to src/tools: a cheap pre-parse guard for untrusted JSON text.
#include <cstddef>
#include <string_view>

namespace npcl::tools {

/// Deepest nesting of objects and arrays in `text` ("{}" is 1, "1" is 0), counting only
/// brackets outside strings. Stops counting once `limit` is exceeded and returns limit + 1,
/// so a hostile input costs at most one pass. Malformed text is the parser's business.
std::size_t json_depth(std::string_view text, std::size_t limit);

}  // namespace npcl::tools
