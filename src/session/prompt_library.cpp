#include "npcl/session/prompt_library.hpp"

#include <filesystem>

#include "npcl/audio/resampler.hpp"
#include "npcl/audio/wav.hpp"

namespace npcl::session {

prompt_library::prompt_library(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) {
    problems_.push_back(dir + ": not a directory");
    return;
  }
  for (const auto& lang : fs::directory_iterator(dir, ec)) {
    if (!lang.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(lang.path(), ec)) {
      if (file.path().extension() != ".wav") continue;
      std::string why;
      auto wav = audio::read_wav(file.path(), &why);
      if (!wav || !audio::resampler::supported_rate(wav->sample_rate_hz)) {
        problems_.push_back(file.path().string() + ": " + (why.empty() ? "unsupported sample rate" : why));
        continue;
      }
      recordings_[lang.path().filename().string() + "/" + file.path().stem().string()] =
          recording{wav->sample_rate_hz, std::move(wav->samples)};
    }
  }
}

std::shared_ptr<const std::vector<std::int16_t>> prompt_library::get(const std::string& language,
                                                                     const std::string& name, int rate_hz) const {
  auto it = recordings_.find(language + "/" + name);
  if (it == recordings_.end()) it = recordings_.find("en-IN/" + name);
  if (it == recordings_.end() || !audio::resampler::supported_rate(rate_hz)) return nullptr;
  auto key = it->first + "@" + std::to_string(rate_hz);
  std::lock_guard lock(mutex_);
  if (auto c = converted_.find(key); c != converted_.end()) return c->second;
  // A few dozen short prompts at most: converting once under the lock is cheap.
  std::vector<std::int16_t> out;
  audio::resampler r(it->second.rate_hz, rate_hz);
  r.process(it->second.samples, out);
  auto shared = std::make_shared<const std::vector<std::int16_t>>(std::move(out));
  converted_[key] = shared;
  return shared;
}

}  // namespace npcl::session
