// The installed binary as an operator runs it: exit codes and messages.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <array>
#include <fstream>
#include <filesystem>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_ari_server.hpp"

extern char** environ;

namespace npcl::test {
namespace {

struct run_result {
  int status = -1;     ///< exit status, or -1 if it did not exit normally
  std::string output;  ///< stdout and stderr together
};

// Runs the daemon binary with extra environment; `on_started` may signal it.
run_result run_binary(std::vector<std::string> args, std::vector<std::string> env,
                      const std::function<void(pid_t)>& on_started = nullptr) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  args.insert(args.begin(), NPCL_DAEMON_BINARY);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // A clean environment: the test runner's own settings must not leak in.
  env.push_back("PATH=/usr/bin:/bin");
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, NPCL_DAEMON_BINARY, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  run_result r;
  if (rc != 0) {
    ::close(fds[0]);
    return r;
  }
  std::thread reader([&] {
    std::array<char, 4096> buf;
    ssize_t n;
    while ((n = ::read(fds[0], buf.data(), buf.size())) > 0) r.output.append(buf.data(), static_cast<size_t>(n));
  });
  if (on_started) on_started(pid);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  reader.join();
  ::close(fds[0]);
  if (WIFEXITED(wstatus)) r.status = WEXITSTATUS(wstatus);
  return r;
}

TEST(cli, check_config_with_a_malformed_ari_url_exits_2_naming_the_variable) {
  auto r = run_binary({"--check-config", "--env-file", "/dev/null"}, {"ARI_BASE_URL=notaurl"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("ARI_BASE_URL"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("notaurl"), std::string::npos) << r.output;
}

TEST(cli, bad_values_exit_2_before_starting) {
  for (const char* bad : {"HTTP_PORT=http", "MAX_CALL_DURATION=-5", "AUTO_ANSWER_CALLS=perhaps", "AUDIO_FORMAT=mp3"}) {
    auto r = run_binary({"--env-file", "/dev/null"}, {bad});
    std::string name(bad, std::string(bad).find('='));
    EXPECT_EQ(r.status, 2) << bad << "\n" << r.output;
    EXPECT_NE(r.output.find(name), std::string::npos) << r.output;
  }
}

TEST(cli, check_config_prints_settings_without_secrets) {
  auto r = run_binary({"--check-config", "--env-file", "/dev/null"},
                      {"OPENAI_API_KEY=sk-test-very-secret-value", "ARI_PASSWORD=hunter2-password"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("ARI_BASE_URL=http://localhost:8088/ari"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("STASIS_APP=openai-voice-assistant"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("sk-test-very-secret-value"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("hunter2-password"), std::string::npos) << r.output;
}

TEST(cli, import_loads_consumers_and_reports_bad_rows_by_line) {
  auto dir = std::filesystem::temp_directory_path() / ("npcl-import-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto csv = dir / "consumers.csv";
  {
    std::ofstream out(csv);
    out << "number,name,mobile,area,sector,status\n"
        << "2100000001,Asha Verma,9810000001,Noida,Sector 62,active\n"
        << "not-a-number,Bad Row,9810000002,Noida,Sector 18,active\n"
        << "2100000003,Ravi Kumar,9810000003,Greater Noida,Alpha 1,active\n";
  }
  auto r = run_binary({"--env-file", "/dev/null", "import", "consumers", csv.string()},
                      {"DATA_DIR=" + (dir / "data").string()});
  EXPECT_EQ(r.status, 1) << r.output;  // one row rejected
  EXPECT_NE(r.output.find("imported 2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("line 3"), std::string::npos) << r.output;
  auto bad = run_binary({"--env-file", "/dev/null", "import", "meters", csv.string()}, {"DATA_DIR=" + dir.string()});
  EXPECT_EQ(bad.status, 2) << bad.output;
  std::filesystem::remove_all(dir);
}

TEST(cli, version_and_help) {
  auto v = run_binary({"--version"}, {});
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.output.find("npcl-assistant"), std::string::npos);
  auto h = run_binary({"--help"}, {});
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.output.find("--check-config"), std::string::npos);
}

TEST(cli, sigterm_on_the_real_process_exits_zero_and_never_logs_the_password) {
  fakes::fake_ari_server fake;
  auto r = run_binary(
      {"--env-file", "/dev/null"},
      {"ARI_BASE_URL=" + fake.base_url(), "ARI_PASSWORD=1234", "HTTP_PORT=0", "LOG_LEVEL=debug",
       "OPENAI_API_KEY=sk-never-in-logs", "RTP_PORT_MIN=42400", "RTP_PORT_MAX=42409",
       "ENABLE_ASSISTANT=false", "DATA_DIR=" + (std::filesystem::temp_directory_path() / "npcl-cli-test").string()},
      [&](pid_t pid) {
        EXPECT_TRUE(fake.wait_for_events_connection(std::chrono::seconds(10)));
        auto caller = fake.place_call();
        EXPECT_TRUE(fake.wait_for_bridged(caller, std::chrono::seconds(5)));
        ::kill(pid, SIGTERM);
        fake.caller_hangup(caller);
      });
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fake.wait_for_idle(std::chrono::seconds(2)));
  EXPECT_EQ(r.output.find("sk-never-in-logs"), std::string::npos);
  EXPECT_EQ(r.output.find("MTIzNA"), std::string::npos) << "basic-auth header logged";  // base64 of the secret part
  EXPECT_NE(r.output.find("call summary"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace npcl::test
