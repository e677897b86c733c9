// fake_realtime_server: a stand-in OpenAI Realtime service to watch the daemon talk without
// an OpenAI account.
//   fake_realtime_server --port 18089 --key sk-demo-key [--script answers.json]
// The daemon connects with OPENAI_REALTIME_URL=ws://127.0.0.1:18089/v1/realtime and
// OPENAI_API_KEY=sk-demo-key. Every event sent and received is printed as one line; the
// program exits on SIGINT/SIGTERM.
//
// The script is a JSON array, one entry per response the fake creates, in order:
//   {"wav": "greeting.wav", "transcript": "Namaste, welcome to NPCL."}   audio answer
//   {"function": "end_call", "arguments": {"reason": "done"}}            function call
//   {"caller": "My power is out."}     transcript given to the next caller turn
// WAV paths are relative to the script's folder; files are mono PCM16 at 8, 16, 24 or
// 48 kHz. Without --script: a greeting and one answer, both tones.
#include <pthread.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "fakes/fake_realtime_server.hpp"
#include "npcl/audio/resampler.hpp"
#include "npcl/audio/wav.hpp"

namespace {

namespace fs = std::filesystem;
using npcl::fakes::fake_realtime_server;

// The fake's scripted audio rate (Hz).
constexpr int script_rate_hz = 24000;

// A WAV file as PCM16 24 kHz, or nullopt with the reason in `why`.
std::optional<std::vector<std::int16_t>> load_script_audio(const fs::path& path, std::string& why) {
  auto wav = npcl::audio::read_wav(path, &why);
  if (!wav) return std::nullopt;
  if (!npcl::audio::resampler::supported_rate(wav->sample_rate_hz)) {
    why = std::to_string(wav->sample_rate_hz) + " Hz is not 8000, 16000, 24000 or 48000 (convert it with sox -r 24000)";
    return std::nullopt;
  }
  npcl::audio::resampler converter(wav->sample_rate_hz, script_rate_hz);
  std::vector<std::int16_t> out;
  converter.process(wav->samples, out);
  // Push the filter's tail out, so the last syllable is not cut.
  const std::vector<std::int16_t> flush(static_cast<std::size_t>(wav->sample_rate_hz / 50), 0);
  converter.process(flush, out);
  return out;
}

// Queues every entry of the script file on `server`; false with a reason naming the entry
// if the file is unreadable or an entry is malformed (nothing is queued then).
bool load_script(const fs::path& file, fake_realtime_server& server, std::string& why) {
  std::ifstream in(file);
  if (!in) {
    why = "cannot open " + file.string();
    return false;
  }
  const auto doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) {
    why = file.string() + ": not a JSON array of responses";
    return false;
  }
  // Checked in full first: a half-loaded script would make a confusing demo.
  std::vector<std::function<void()>> queue;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const auto& entry = doc[i];
    const std::string where = file.string() + " entry " + std::to_string(i + 1) + ": ";
    const auto text = [&](const char* key) {
      return entry.contains(key) && entry[key].is_string() ? entry[key].get<std::string>() : std::string();
    };
    if (!entry.is_object()) {
      why = where + "not an object";
      return false;
    }
    if (entry.contains("wav")) {
      if (!entry["wav"].is_string()) {
        why = where + "\"wav\" is not a path";
        return false;
      }
      fs::path wav_path = entry["wav"].get<std::string>();
      if (wav_path.is_relative()) wav_path = file.parent_path() / wav_path;
      std::string wav_why;
      auto pcm = load_script_audio(wav_path, wav_why);
      if (!pcm) {
        why = where + wav_path.string() + ": " + wav_why;
        return false;
      }
      queue.push_back([&server, pcm = std::move(*pcm), t = text("transcript")]() mutable {
        server.script_audio(std::move(pcm), t);
      });
    } else if (entry.contains("function")) {
      const std::string name = text("function");
      const auto args = entry.value("arguments", nlohmann::json::object());
      if (name.empty() || !args.is_object()) {
        why = where + "\"function\" needs a name and \"arguments\" an object";
        return false;
      }
      queue.push_back([&server, name, a = args.dump()] { server.script_function_call(name, a); });
    } else if (entry.contains("caller")) {
      if (!entry["caller"].is_string()) {
        why = where + "\"caller\" is not a string";
        return false;
      }
      queue.push_back([&server, t = text("caller")] { server.script_user_transcript(t); });
    } else {
      why = where + "needs \"wav\", \"function\" or \"caller\"";
      return false;
    }
  }
  for (auto& q : queue) q();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  npcl::fakes::fake_realtime_options opts;
  opts.port = 18089;
  std::string script;
  CLI::App cli{"Fake OpenAI Realtime server (a simulation: no real model) for watching the daemon"};
  cli.add_option("--port", opts.port, "TCP port on 127.0.0.1 (0 = any)")->capture_default_str();
  cli.add_option("--key", opts.api_key, "API key the daemon must present")->capture_default_str();
  cli.add_option("--script", script, "JSON array of responses (see the top of fake_realtime_main.cpp)")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(cli, argc, argv);

  // SIGINT/SIGTERM are blocked in every thread (the server's thread inherits the mask) and
  // taken synchronously below, so shutdown runs in main, not in a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::mutex out_mu;
  const auto say = [&](std::string_view line) {
    std::lock_guard lk(out_mu);
    std::cout << line << std::endl;
  };
  opts.trace = say;

  try {
    fake_realtime_server server(opts);
    if (!script.empty()) {
      std::string why;
      if (!load_script(script, server, why)) {
        std::cerr << "fake_realtime_server: --script: " << why << "\n";
        return 2;
      }
    } else {
      server.script_audio(fake_realtime_server::tone(1200, 440), "Namaste, welcome to NPCL. How may I help you?");
      server.script_audio(fake_realtime_server::tone(1500, 660),
                          "I am sorry about the outage. Let me register a complaint for you.");
    }
    say("SIMULATION: fake OpenAI Realtime listening on " + server.url() + " (key " + opts.api_key + ")");
    int signal = 0;
    sigwait(&stop_signals, &signal);
    say(std::string("stopping on ") + (signal == SIGINT ? "SIGINT" : "SIGTERM"));
  } catch (const std::exception& e) {
    std::cerr << "fake_realtime_server: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
