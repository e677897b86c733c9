// demo_call: one simulated phone call through a running daemon, to hear what a caller hears.
//   demo_call --ari-port 18088 --realtime-port 18089 --key sk-demo-key
//             --caller-wav caller.wav --caller-text "My power is out." --out heard.wav
// It plays Asterisk (fake_ari_server, with an RTP peer for the caller's audio) and the OpenAI
// Realtime service (fake_realtime_server) in this process, waits for the daemon to connect,
// places one call, lets the scripted assistant greet, sends the caller's recording as
// μ-law RTP at real-time pace, waits for the answer, hangs up, writes everything the caller
// received to an 8 kHz WAV, and prints the transcript and a summary. Nothing here is a real
// Asterisk or a real model: every line printed says SIMULATION.
// Exit status: 0 when the call went through greeting → caller turn → answer → clean hang-up,
// 1 when a step failed (the line says which), 2 for bad arguments.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "fakes/fake_ari_server.hpp"
#include "fakes/fake_realtime_server.hpp"
#include "fakes/rtp_peer.hpp"
#include "npcl/audio/g711.hpp"
#include "npcl/audio/resampler.hpp"
#include "npcl/audio/wav.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using npcl::fakes::fake_realtime_server;

volatile std::sig_atomic_t g_stop = 0;  // set by SIGINT/SIGTERM: give up waiting and clean up
void on_signal(int) { g_stop = 1; }

constexpr int call_rate_hz = 8000;     // μ-law telephone audio (Hz)
constexpr int script_rate_hz = 24000;  // the fake Realtime's scripted audio (Hz)
constexpr int ptime_ms = 20;           // audio per RTP packet (ms)

std::mutex g_out_mu;             // one printed line at a time from both fakes' threads
clock_type::time_point g_start;  // time zero of the printed timestamps

void say(const std::string& line) {
  const double t = std::chrono::duration<double>(clock_type::now() - g_start).count();
  std::lock_guard lk(g_out_mu);
  std::cout << "[SIMULATION " << std::fixed << std::setprecision(2) << std::setw(6) << t << "s] " << line
            << std::endl;
}

// Converts mono PCM16 from any rate to `out_rate` (8, 16, 24 or 48 kHz). Rates speexdsp
// does not take (espeak-ng's 22050 Hz, CD's 44100 Hz) are first brought to 48 kHz by
// linear interpolation, which only upsamples or slightly decimates speech, then filtered
// properly by the windowed-sinc resampler.
std::vector<std::int16_t> to_rate(const npcl::audio::wav_data& in, int out_rate) {
  std::vector<std::int16_t> pcm = in.samples;
  int rate = in.sample_rate_hz;
  if (!npcl::audio::resampler::supported_rate(rate) && !pcm.empty()) {
    constexpr int mid_rate = 48000;
    const auto n = static_cast<std::size_t>(static_cast<double>(pcm.size()) * mid_rate / rate);
    std::vector<std::int16_t> up(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double pos = static_cast<double>(i) * rate / mid_rate;
      const auto k = std::min(static_cast<std::size_t>(pos), pcm.size() - 1);
      const double frac = pos - static_cast<double>(k);
      const double next = k + 1 < pcm.size() ? pcm[k + 1] : pcm[k];
      up[i] = static_cast<std::int16_t>(std::lround(pcm[k] * (1 - frac) + next * frac));
    }
    pcm = std::move(up);
    rate = mid_rate;
  }
  npcl::audio::resampler converter(rate, out_rate);
  std::vector<std::int16_t> out;
  converter.process(pcm, out);
  // Push the filter's tail out, so the last syllable is not cut.
  converter.process(std::vector<std::int16_t>(static_cast<std::size_t>(rate / 50), 0), out);
  return out;
}

// A WAV file at `rate`, or nullopt after printing why.
std::optional<std::vector<std::int16_t>> load_wav(const std::string& path, int rate) {
  std::string why;
  auto wav = npcl::audio::read_wav(path, &why);
  if (!wav) {
    std::cerr << "demo_call: " << path << ": " << why << "\n";
    return std::nullopt;
  }
  return to_rate(*wav, rate);
}

// What the caller heard, on the call's timeline: each played packet is placed where it
// arrived, so the pauses between the assistant's turns stay in the recording; packets
// arriving within a few frames of the previous one's end are joined to it, so network
// jitter does not cut gaps into a sentence.
std::vector<std::int16_t> caller_heard(const std::vector<npcl::fakes::rtp_peer_packet>& packets,
                                       clock_type::time_point call_start) {
  constexpr std::size_t join_samples = 3 * ptime_ms * call_rate_hz / 1000;
  std::vector<std::int16_t> out;
  for (const auto& p : packets) {
    if (!p.played || (p.payload_type != 0 && p.payload_type != 8)) continue;
    const auto since = std::chrono::duration<double>(p.arrival - call_start).count();
    const auto arrival = static_cast<std::size_t>(std::max(0.0, since) * call_rate_hz);
    const std::size_t at = arrival > out.size() + join_samples ? arrival : out.size();
    out.resize(std::max(out.size(), at) + p.payload.size(), 0);
    auto dst = std::span<std::int16_t>(out).subspan(at, p.payload.size());
    if (p.payload_type == 0) {
      npcl::audio::ulaw_decode(p.payload, dst);
    } else {
      npcl::audio::alaw_decode(p.payload, dst);
    }
  }
  return out;
}

// The direction and event of a trace line "-> 3 {json}" / "<- 3 {json}"; false for other
// lines. The fake cuts long events (session.update, a Devanagari transcript) short at 400
// bytes: those come back with only their "type", and `whole` false.
bool parse_trace(std::string_view line, std::string& direction, nlohmann::json& event, bool& whole) {
  if (line.size() < 4 || (line.substr(0, 3) != "-> " && line.substr(0, 3) != "<- ")) return false;
  direction = line.substr(0, 2) == "->" ? "model  -> daemon" : "daemon -> model ";
  const auto brace = line.find('{');
  if (brace == std::string_view::npos) return false;
  event = nlohmann::json::parse(line.substr(brace), nullptr, /*allow_exceptions=*/false);
  whole = event.is_object();
  if (whole) return true;
  constexpr std::string_view type_key = "\"type\":\"";
  const auto at = line.find(type_key);
  if (at == std::string_view::npos) return false;
  const auto begin = at + type_key.size();
  const auto end = line.find('"', begin);
  if (end == std::string_view::npos) return false;
  event = {{"type", std::string(line.substr(begin, end - begin))}};
  return true;
}

// One printed line per event worth watching; audio deltas and appends are left out (there
// are hundreds) and counted in the summary instead.
void print_event(std::string_view line) {
  std::string direction;
  nlohmann::json e;
  bool whole = false;
  if (!parse_trace(line, direction, e, whole)) {
    if (line.rfind("upgrade", 0) == 0 || line.find("closed") != std::string_view::npos)
      say("fake OpenAI Realtime: " + std::string(line));
    return;
  }
  const std::string type = e.value("type", "");
  static const std::vector<std::string> shown{
      "session.created", "session.update", "session.updated", "response.create", "response.created",
      "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "response.done",
      "conversation.item.truncate", "response.cancel", "error"};
  std::string detail;
  const std::string said = whole ? "\"" + e.value("transcript", "") + "\"" : "(long: see the transcript at the end)";
  if (type == "conversation.item.input_audio_transcription.completed") {
    detail = "CALLER SAID: " + said;
  } else if (type == "response.output_audio_transcript.done" || type == "response.audio_transcript.done") {
    detail = "ASSISTANT SAID: " + said;
  } else if (type == "conversation.item.truncate") {
    detail = "(caller heard " + std::to_string(e.value("audio_end_ms", 0)) + " ms)";
  } else if (type == "error" && e.contains("error") && e["error"].is_object()) {
    detail = e["error"].value("message", "");
  } else if (std::find(shown.begin(), shown.end(), type) == shown.end()) {
    return;
  }
  say("fake OpenAI Realtime: " + direction + " " + type + (detail.empty() ? "" : "  " + detail));
}

// Asterisk's side in brief: each REST request with its status (reply bodies left out) and
// each event's type.
void print_ari(std::string_view line) {
  constexpr std::string_view request = "request <- ", event = "event -> ";
  if (line.rfind(request, 0) == 0) {
    line.remove_prefix(request.size());
    const auto status = line.find(" => ");
    std::string text(line.substr(0, std::min<std::size_t>(status, 110)));
    if (status > 110) text += "...";
    if (status != std::string_view::npos) text += " => " + std::string(line.substr(status + 4, 3));
    say("fake Asterisk ARI: daemon -> Asterisk  " + text);
  } else if (line.rfind(event, 0) == 0) {
    const auto e = nlohmann::json::parse(line.substr(event.size()), nullptr, false);
    if (e.is_object()) say("fake Asterisk ARI: Asterisk -> daemon  event " + e.value("type", "?"));
  } else {
    say("fake Asterisk ARI: " + std::string(line));
  }
}

// Waits on `check` in short slices so that SIGINT/SIGTERM is noticed; prints the failure.
bool step(const std::string& what, const std::function<testing::AssertionResult(std::chrono::milliseconds)>& check,
          std::chrono::milliseconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  testing::AssertionResult r = testing::AssertionFailure();
  while (!g_stop) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    r = check(std::clamp(left, 0ms, 250ms));
    if (r || left <= 0ms) break;
  }
  if (!r)
    say("FAILED: " + what + (g_stop ? " (interrupted)"
                                    : " did not happen within " + std::to_string(timeout.count()) + " ms"));
  return static_cast<bool>(r);
}

std::string seconds(std::int64_t ms) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << static_cast<double>(ms) / 1000.0 << " s";
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  g_start = clock_type::now();
  npcl::fakes::fake_ari_options ari_opts;
  ari_opts.port = 18088;
  npcl::fakes::fake_realtime_options rt_opts;
  rt_opts.port = 18089;
  rt_opts.api_key = "sk-demo-key";
  std::string caller_wav, caller_text = "Hello, my power has been out since morning in sector 62 Noida.";
  std::string greeting_wav, greeting_text = "Namaste! Welcome to NPCL. How may I help you today?";
  std::string answer_wav,
      answer_text = "I am sorry your power is out. I will register a complaint for sector 62, Noida.";
  std::string out = "demo-call-heard.wav";
  int wait_daemon_s = 60;
  CLI::App cli{"One simulated call through the daemon (fake Asterisk, fake OpenAI Realtime)"};
  cli.add_option("--ari-port", ari_opts.port, "fake Asterisk ARI port on 127.0.0.1")->capture_default_str();
  cli.add_option("--ari-password", ari_opts.password, "ARI password the daemon uses")->capture_default_str();
  cli.add_option("--realtime-port", rt_opts.port, "fake Realtime port on 127.0.0.1")->capture_default_str();
  cli.add_option("--key", rt_opts.api_key, "API key the daemon must present")->capture_default_str();
  cli.add_option("--caller-wav", caller_wav, "what the caller says: mono PCM16 WAV, any rate")
      ->required()
      ->check(CLI::ExistingFile);
  cli.add_option("--caller-text", caller_text, "transcript of that recording")->capture_default_str();
  cli.add_option("--greeting-wav", greeting_wav, "assistant's greeting (default: a tone)")->check(CLI::ExistingFile);
  cli.add_option("--greeting-text", greeting_text, "its transcript")->capture_default_str();
  cli.add_option("--answer-wav", answer_wav, "assistant's answer (default: a tone)")->check(CLI::ExistingFile);
  cli.add_option("--answer-text", answer_text, "its transcript")->capture_default_str();
  cli.add_option("--out", out, "WAV (8 kHz) of everything the caller heard")->capture_default_str();
  cli.add_option("--wait-daemon", wait_daemon_s, "seconds to wait for the daemon to connect")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  auto caller = load_wav(caller_wav, call_rate_hz);
  auto greeting = greeting_wav.empty() ? fake_realtime_server::tone(1200, 440) : load_wav(greeting_wav, script_rate_hz);
  auto answer = answer_wav.empty() ? fake_realtime_server::tone(1500, 660) : load_wav(answer_wav, script_rate_hz);
  if (!caller || !greeting || !answer) return 2;
  const auto ms_of = [](std::size_t samples, int rate) { return static_cast<std::int64_t>(samples) * 1000 / rate; };
  const std::int64_t caller_ms = ms_of(caller->size(), call_rate_hz);
  const std::int64_t greeting_ms = ms_of(greeting->size(), script_rate_hz);
  const std::int64_t answer_ms = ms_of(answer->size(), script_rate_hz);
  // Silence after the caller's words ends their turn at the model's voice detector.
  caller->resize(caller->size() + static_cast<std::size_t>(call_rate_hz * 3 / 2), 0);

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  ari_opts.trace = print_ari;
  rt_opts.trace = print_event;

  try {
    say("This is a SIMULATION: no real Asterisk, no real phone line, no real OpenAI model.");
    npcl::fakes::fake_ari_server ari(ari_opts);
    fake_realtime_server realtime(rt_opts);
    realtime.script_audio(std::move(*greeting), greeting_text);
    realtime.script_audio(std::move(*answer), answer_text);
    realtime.script_user_transcript(caller_text);
    npcl::fakes::rtp_peer peer;  // the caller's phone, as Asterisk's externalMedia RTP
    ari.set_unicastrtp_port(peer.port());
    say("fake Asterisk ARI on " + ari.base_url() + ", fake OpenAI Realtime on " + realtime.url());

    bool ok = step("the daemon connecting to ARI", [&](auto t) { return ari.wait_for_events_connection(t); },
                   std::chrono::seconds(wait_daemon_s));
    const auto call_start = clock_type::now();
    std::string channel;
    if (ok) {
      say("caller 9876543210 dials extension 1000");
      channel = ari.place_call("9876543210", "Demo Caller");
      ok = !channel.empty();
      if (!ok) say("FAILED: the call did not enter Stasis");
    }
    ok = ok && step("the daemon bridging the call to its media", [&](auto t) { return ari.wait_for_bridged(channel, t); }, 10s);
    if (ok) {
      for (const auto& r : ari.requests())
        if (r.path == "/channels/externalMedia" && r.query.count("external_host")) {
          const auto& host = r.query.at("external_host");
          peer.set_target(static_cast<std::uint16_t>(std::stoi(host.substr(host.rfind(':') + 1))));
        }
    }
    const auto greeting_packets = static_cast<std::size_t>(greeting_ms / ptime_ms);
    // The caller speaks once the whole greeting has been heard, as a polite caller would;
    // talking over it would interrupt it (barge-in), which the tests cover.
    ok = ok && step("the greeting being played to the caller",
                    [&](auto t) { return peer.wait_for_received(greeting_packets, t); },
                    std::chrono::milliseconds(15000 + greeting_ms));
    if (ok) {
      say("caller speaks (" + seconds(caller_ms) + " of recorded speech as μ-law RTP, real-time pace): \"" +
          caller_text + "\"");
      peer.play(*caller);
    }
    ok = ok && step("the caller's recording being sent", [&](auto t) { return peer.wait_for_played(t); },
                    std::chrono::milliseconds(caller_ms + 10000));
    ok = ok && step("the answer", [&](auto t) { return realtime.wait_for_sent("response.done", t, 2); }, 15s);
    const auto answer_packets = greeting_packets + static_cast<std::size_t>(answer_ms / ptime_ms);
    // The caller hangs up once the whole answer has been heard.
    ok = ok && step("the answer being played to the caller",
                    [&](auto t) { return peer.wait_for_received(answer_packets, t); },
                    std::chrono::milliseconds(10000 + answer_ms));
    if (!channel.empty()) {
      say("caller hangs up");
      ari.caller_hangup(channel);
      const bool idle = step("the daemon cleaning up the call on Asterisk", [&](auto t) { return ari.wait_for_idle(t); }, 10s);
      const bool closed = step("the daemon closing the model connection",
                               [&](auto t) { return realtime.wait_for_no_connections(t); }, 10s);
      ok = ok && idle && closed;
    }
    const auto call_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - call_start).count();

    const auto packets = peer.received();
    const auto heard = caller_heard(packets, call_start);
    std::string why;
    const bool written = npcl::audio::write_wav(out, call_rate_hz, heard, &why);
    if (!written) say("FAILED: writing " + out + ": " + why);

    say("---- transcript (as the fake model scripted and sent it) ----");
    for (const auto& text : realtime.sent()) {
      const auto e = nlohmann::json::parse(text, nullptr, false);
      if (!e.is_object()) continue;
      const auto type = e.value("type", "");
      if (type == "conversation.item.input_audio_transcription.completed")
        say("  caller:    " + e.value("transcript", ""));
      else if (type == "response.output_audio_transcript.done" || type == "response.audio_transcript.done")
        say("  assistant: " + e.value("transcript", ""));
    }
    say("---- summary ----");
    std::size_t played = 0;
    for (const auto& p : packets) played += p.played ? 1 : 0;
    std::size_t appends = 0;
    for (const auto& e : realtime.received()) appends += e.type == "input_audio_buffer.append" ? 1 : 0;
    say("  call length:             " + seconds(call_ms));
    say("  caller audio sent:       " + seconds(caller_ms) + " of speech + 1.5 s of silence, " +
        std::to_string(peer.sent().size()) + " RTP packets");
    say("  reached the model:       " + seconds(realtime.audio_appended_ms()) + " in " + std::to_string(appends) +
        " input_audio_buffer.append events");
    say("  caller heard:            " + std::to_string(played) + " RTP packets = " +
        seconds(static_cast<std::int64_t>(played) * ptime_ms) + " of assistant audio (greeting " + seconds(greeting_ms) +
        " + answer " + seconds(answer_ms) + ")");
    say("  barge-ins (truncations): " + std::to_string(realtime.truncations().size()));
    say("  Asterisk left clean:     " + std::string(ari.wait_for_idle(0ms) ? "yes (no bridge, no channel)" : "NO"));
    if (written) say("  recording:               " + fs::absolute(out).string() + " (8 kHz, what the caller heard)");
    say(std::string("  result:                  ") + (ok && written ? "OK" : "FAILED"));
    return ok && written ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "demo_call: " << e.what() << "\n";
    return 1;
  }
}
