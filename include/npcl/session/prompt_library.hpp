#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace npcl::session {

/// The recorded prompts (apology, busy, transfer, filler, goodbye) of every
/// language, read once at start-up from SOUNDS_DIR/<lang>/<name>.wav — file
/// I/O never happens during a call. Thread-safe.
class prompt_library {
 public:
  /// Loads every `<dir>/<lang>/<name>.wav` (16-bit mono PCM); unreadable or
  /// malformed files are skipped and listed in problems().
  explicit prompt_library(const std::string& dir);
  /// An empty library (no prompts: callers just hear nothing).
  prompt_library() = default;

  /// The prompt `name` in `language` (falling back to en-IN) as PCM16 at
  /// `rate_hz`, or null when there is no such recording.
  std::shared_ptr<const std::vector<std::int16_t>> get(const std::string& language, const std::string& name,
                                                       int rate_hz) const;
  /// How many recordings were loaded.
  std::size_t size() const { return recordings_.size(); }
  /// Files that could not be used, with the reason.
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  struct recording {
    int rate_hz = 0;                   ///< rate of `samples`
    std::vector<std::int16_t> samples; ///< as read from the file
  };
  std::map<std::string, recording> recordings_;  ///< "<lang>/<name>" → recording
  std::vector<std::string> problems_;            ///< skipped files and why
  mutable std::mutex mutex_;                     ///< guards converted_
  /// "<lang>/<name>@<rate>" → resampled copy, made on first use.
  mutable std::map<std::string, std::shared_ptr<const std::vector<std::int16_t>>> converted_;
};

}  // namespace npcl::session
