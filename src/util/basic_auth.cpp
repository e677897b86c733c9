#include "npcl/util/basic_auth.hpp"

#include <boost/beast/core/detail/base64.hpp>

namespace npcl::util {

std::string basic_auth(const std::string& user, const std::string& password) {
  namespace b64 = boost::beast::detail::base64;
  std::string plain = user + ":" + password;
  std::string out(b64::encoded_size(plain.size()), '\0');
  out.resize(b64::encode(out.data(), plain.data(), plain.size()));
  return "Basic " + out;
}

}  // namespace npcl::util
