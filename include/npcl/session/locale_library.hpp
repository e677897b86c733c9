#pragma once
#include <map>
#include <string>
#include <vector>

namespace npcl::session {

/// One language's words for the assistant (config/locales/<lang>.json).
struct locale {
  std::string language;      ///< BCP 47, e.g. "hi-IN"
  std::string name;          ///< "Hindi"
  std::string instructions;  ///< how to speak this language on the phone
  std::string greeting;      ///< the first sentence the caller hears
  std::vector<std::string> fillers;  ///< short "one moment" phrases
};

/// Every locale file of a directory, read once at start-up. Read-only after
/// construction, so safe from any thread.
class locale_library {
 public:
  /// Reads `<dir>/*.json`; malformed files are skipped and listed in problems().
  explicit locale_library(const std::string& dir);
  locale_library() = default;
  /// The locale for `language` (exact tag, then the same primary language), or null.
  const locale* find(const std::string& language) const;
  std::size_t size() const { return locales_.size(); }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::map<std::string, locale> locales_;  ///< by language tag
  std::vector<std::string> problems_;      ///< skipped files and why
};

}  // namespace npcl::session
