#pragma once
#include <sstream>
#include <string>
#include <vector>

namespace npcl::test {

/// The lines of `text` without their newlines, for line-by-line assertions.
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace npcl::test
