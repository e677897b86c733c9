#include "config/temp_dir.hpp"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace npcl::config::test {

temp_dir::temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "npcl-config-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  root_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

std::string temp_dir::write(const std::string& name, const std::string& text) const {
  const auto file = path(name);
  std::ofstream(file, std::ios::binary) << text;
  return file;
}

std::string temp_dir::path(const std::string& name) const { return root_ + "/" + name; }

}  // namespace npcl::config::test
