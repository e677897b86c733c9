#include "realtime/base64.hpp"

#include <boost/beast/core/detail/base64.hpp>

namespace npcl::realtime::detail {

namespace b64 = boost::beast::detail::base64;

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  std::string text(b64::encoded_size(bytes.size()), '\0');
  text.resize(b64::encode(text.data(), bytes.data(), bytes.size()));
  return text;
}

bool base64_decode(std::string_view text, std::vector<std::uint8_t>& out) {
  out.clear();
  if (text.size() % 4 != 0) return false;
  std::size_t padding = 0;
  while (padding < text.size() && padding < 2 && text[text.size() - 1 - padding] == '=') ++padding;
  out.resize(b64::decoded_size(text.size()));
  auto [written, read] = b64::decode(out.data(), text.data(), text.size());
  // Beast stops silently at the first character outside the alphabet (or an
  // early '='): only a decode that consumed everything before the padding is whole.
  if (read != text.size() - padding) {
    out.clear();
    return false;
  }
  out.resize(written);
  return true;
}

}  // namespace npcl::realtime::detail
