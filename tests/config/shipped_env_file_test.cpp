// The env file shipped to /etc/npcl-assistant/ documents every setting and,
// left as shipped, changes nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "config/temp_dir.hpp"
#include "npcl/config/loader.hpp"

namespace {

using npcl::config::describe;
using npcl::config::load;
using npcl::config::parse;
using npcl::config::parse_env_file;
using npcl::config::test::temp_dir;

const std::string shipped = NPCL_SHIPPED_ENV_FILE;

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> described_names() {
  std::vector<std::string> names;
  std::istringstream lines(describe(parse({})));
  for (std::string line; std::getline(lines, line);) names.push_back(line.substr(0, line.find('=')));
  return names;
}

TEST(shipped_env_file, documents_every_setting_with_a_comment) {
  const auto text = read_all(shipped);
  ASSERT_FALSE(text.empty()) << "cannot read " << shipped;
  const auto names = described_names();
  ASSERT_GT(names.size(), 40u);
  for (const auto& name : names) {
    // Each setting appears as `NAME=` or `#NAME=` right after its comment line.
    const std::regex documented("\n# [^\n]+\n#?" + name + "=");
    EXPECT_TRUE(std::regex_search(text, documented)) << name << " is not documented in " << shipped;
  }
}

TEST(shipped_env_file, loading_it_unchanged_yields_the_defaults) {
  const auto r = load({}, shipped, {});
  EXPECT_EQ(r.env_file, shipped);
  EXPECT_EQ(describe(r.values), describe(parse({})));
  // Every line is a known setting: nothing in the shipped file is mistyped.
  for (const auto& w : r.warnings) EXPECT_EQ(w.find("unknown setting"), std::string::npos) << w;
}

TEST(shipped_env_file, the_defaults_it_shows_in_comments_are_the_real_defaults) {
  // Uncommenting every `#NAME=value` line must not change anything either.
  std::istringstream in(read_all(shipped));
  std::string uncommented;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, std::regex("#[A-Z_]+=.*"))) line.erase(0, 1);
    uncommented += line + "\n";
  }
  temp_dir dir;
  const auto values = parse_env_file(dir.write("uncommented.env", uncommented));
  for (const auto& name : described_names())
    EXPECT_EQ(values.count(name), 1u) << name << " has no example line";
  EXPECT_EQ(describe(parse(values)), describe(parse({})));
}

}  // namespace
