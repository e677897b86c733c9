#include "npcl/session/locale_library.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace npcl::session {

locale_library::locale_library(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    problems_.push_back(dir + ": not a directory");
    return;
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.value("language", nlohmann::json()).is_string()) {
      problems_.push_back(entry.path().string() + ": not a locale object with a \"language\"");
      continue;
    }
    locale l;
    auto text = [&](const char* key) {
      auto it = j.find(key);
      return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    l.language = text("language");
    l.name = text("name");
    l.instructions = text("instructions");
    l.greeting = text("greeting");
    if (auto it = j.find("fillers"); it != j.end() && it->is_array())
      for (const auto& f : *it)
        if (f.is_string()) l.fillers.push_back(f.get<std::string>());
    locales_[l.language] = std::move(l);
  }
}

const locale* locale_library::find(const std::string& language) const {
  if (auto it = locales_.find(language); it != locales_.end()) return &it->second;
  auto primary = language.substr(0, language.find('-'));
  for (const auto& [tag, l] : locales_)
    if (tag.substr(0, tag.find('-')) == primary) return &l;
  return nullptr;
}

}  // namespace npcl::session
