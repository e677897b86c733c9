// Cost of AudioSocket framing per 20 ms frame of one call direction: parsing
// Asterisk's messages as TCP delivers them (cut into segments that do not
// respect message boundaries) and building the messages sent back.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "npcl/media/audiosocket_framing.hpp"

namespace {

using namespace npcl::media;

// One second of slin16 messages (50 × 640 bytes) as one byte stream.
std::vector<std::uint8_t> one_second_of_slin16() {
  std::vector<std::uint8_t> wire;
  std::vector<std::int16_t> frame(320);
  for (int f = 0; f < 50; ++f) {
    for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::int16_t>(f * 1000 + i * 37);
    append_audiosocket_audio(wire, audiosocket_kind::slin16, frame);
  }
  return wire;
}

// Items are frames: bytes fed in 1 448-byte segments (a loopback/Ethernet MSS).
void parse_and_decode_slin16(benchmark::State& state) {
  const auto wire = one_second_of_slin16();
  constexpr std::size_t segment = 1448;
  std::vector<std::int16_t> samples;
  std::size_t frames = 0;
  for (auto _ : state) {
    audiosocket_parser parser;
    for (std::size_t at = 0; at < wire.size(); at += segment) {
      parser.feed(std::span<const std::uint8_t>(wire).subspan(at, std::min(segment, wire.size() - at)));
      audiosocket_message m;
      while (parser.next(m) == audiosocket_parser::result::message) {
        samples.clear();
        decode_audiosocket_audio(m.payload, samples);
        benchmark::DoNotOptimize(samples.data());
        ++frames;
      }
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
}
BENCHMARK(parse_and_decode_slin16);

void build_slin16_message(benchmark::State& state) {
  std::vector<std::int16_t> frame(320, 1234);
  std::vector<std::uint8_t> out;
  for (auto _ : state) {
    out.clear();
    append_audiosocket_audio(out, audiosocket_kind::slin16, frame);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(build_slin16_message);

}  // namespace
