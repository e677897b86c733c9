#include <gtest/gtest.h>

#include <string>

#include "config/temp_dir.hpp"
#include "npcl/config/loader.hpp"

namespace {

using npcl::config::config_error;
using npcl::config::env_map;
using npcl::config::parse_env_file;
using npcl::config::test::temp_dir;

TEST(env_file, reads_the_dotenv_syntax_of_existing_files) {
  temp_dir dir;
  const auto file = dir.write("a.env",
                              "# a comment line\n"
                              "\n"
                              "   \n"
                              "PLAIN=value\n"
                              "export EXPORTED=yes\n"
                              "SPACED = around equals \n"
                              "DOUBLE=\"NPCL Assistant\"\n"
                              "SINGLE='it # stays'\n"
                              "HASH_IN_DOUBLE=\"a#b # c\"\n"
                              "TRAILING=value # a comment\n"
                              "TRAILING_TAB=value\t# a comment\n"
                              "GLUED=pass#word\n"
                              "QUOTED_COMMENT=\"x\" # comment after quotes\n"
                              "ESCAPED=\"say \\\"hi\\\" \\\\ there\"\n"
                              "LITERAL='no \\n escapes'\n"
                              "EMPTY=\n"
                              "EMPTY_QUOTES=\"\"\n"
                              "ONLY_COMMENT= # nothing here\n"
                              "CRLF=windows\r\n"
                              "  INDENTED=ok\n");
  const env_map expected = {
      {"PLAIN", "value"},
      {"EXPORTED", "yes"},
      {"SPACED", "around equals"},
      {"DOUBLE", "NPCL Assistant"},
      {"SINGLE", "it # stays"},
      {"HASH_IN_DOUBLE", "a#b # c"},
      {"TRAILING", "value"},
      {"TRAILING_TAB", "value"},
      {"GLUED", "pass#word"},
      {"QUOTED_COMMENT", "x"},
      {"ESCAPED", "say \"hi\" \\ there"},
      {"LITERAL", "no \\n escapes"},
      {"EMPTY", ""},
      {"EMPTY_QUOTES", ""},
      {"ONLY_COMMENT", ""},
      {"CRLF", "windows"},
      {"INDENTED", "ok"},
  };
  EXPECT_EQ(parse_env_file(file), expected);
}

TEST(env_file, a_later_line_for_the_same_key_wins) {
  temp_dir dir;
  const auto file = dir.write("a.env", "KEY=first\nKEY=second\n");
  EXPECT_EQ(parse_env_file(file).at("KEY"), "second");
}

struct malformed_case {
  const char* text;  // file contents; the bad line is always line 3
  const char* why;   // expected part of the reason
};

class env_file_malformed : public testing::TestWithParam<malformed_case> {};

TEST_P(env_file_malformed, names_the_file_and_line_and_never_echoes_the_line) {
  temp_dir dir;
  const auto file = dir.write("bad.env", GetParam().text);
  try {
    parse_env_file(file);
    FAIL() << "accepted a malformed line";
  } catch (const config_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.variable(), file);
    EXPECT_NE(what.find(file), std::string::npos) << what;
    EXPECT_NE(what.find("line 3"), std::string::npos) << what;
    EXPECT_NE(what.find(GetParam().why), std::string::npos) << what;
    EXPECT_EQ(what.find("sk-secret"), std::string::npos) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(
    lines, env_file_malformed,
    testing::Values(malformed_case{"A=1\n# ok\nOPENAI_API_KEY sk-secret\n", "KEY=VALUE"},
                    malformed_case{"A=1\n\n=sk-secret\n", "variable name"},
                    malformed_case{"A=1\n\n1KEY=sk-secret\n", "variable name"},
                    malformed_case{"A=1\n\nKEY WITH SPACE=sk-secret\n", "variable name"},
                    malformed_case{"A=1\n\nKEY=\"sk-secret\n", "unterminated"},
                    malformed_case{"A=1\n\nKEY='sk-secret\n", "unterminated"},
                    malformed_case{"A=1\n\nKEY=\"sk-\"secret\n", "after the closing quote"}));

TEST(env_file, a_missing_file_is_an_error_naming_it) {
  temp_dir dir;
  const auto missing = dir.path("missing.env");
  try {
    parse_env_file(missing);
    FAIL() << "read a file that does not exist";
  } catch (const config_error& e) {
    EXPECT_EQ(e.variable(), missing);
    EXPECT_NE(std::string(e.what()).find("cannot read"), std::string::npos) << e.what();
  }
}

TEST(env_file, a_directory_is_an_error) {
  temp_dir dir;
  EXPECT_THROW(parse_env_file(dir.path("")), config_error);
}

}  // namespace
