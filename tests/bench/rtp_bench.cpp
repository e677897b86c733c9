// Cost of the RTP work per 20 ms packet of one call: header parse and build,
// and the whole inbound (parse + jitter buffer + μ-law decode) and outbound
// (μ-law encode + build) paths. One iteration is one packet.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "npcl/audio/g711.hpp"
#include "npcl/media/jitter_buffer.hpp"
#include "npcl/media/rtp_packet.hpp"

namespace {

using namespace npcl;
constexpr std::size_t samples_per_packet = 160;  // 20 ms at 8 kHz

std::vector<std::int16_t> tone() {
  std::vector<std::int16_t> x(samples_per_packet);
  for (std::size_t n = 0; n < x.size(); ++n) {
    x[n] = static_cast<std::int16_t>(std::lround(9000 * std::sin(2 * std::numbers::pi * 440.0 * n / 8000)));
  }
  return x;
}

// A 172-byte μ-law packet as Asterisk sends it.
std::vector<std::uint8_t> asterisk_packet(std::uint16_t seq, std::uint32_t ts) {
  const auto pcm = tone();
  std::vector<std::uint8_t> payload(pcm.size());
  audio::ulaw_encode(pcm, payload);
  media::rtp_packet p;
  p.sequence = seq;
  p.timestamp = ts;
  p.ssrc = 0x44bf0916u;
  p.payload = payload;
  std::vector<std::uint8_t> wire(media::rtp_packet::header_size + payload.size());
  p.build(wire);
  return wire;
}

void rtp_parse(benchmark::State& state) {
  const auto wire = asterisk_packet(30980, 160);
  for (auto _ : state) {
    auto p = media::rtp_packet::parse(wire);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(rtp_parse);

void rtp_build(benchmark::State& state) {
  std::vector<std::uint8_t> payload(samples_per_packet, 0xff);
  std::vector<std::uint8_t> wire(media::rtp_packet::header_size + payload.size());
  media::rtp_packet p;
  p.payload = payload;
  for (auto _ : state) {
    ++p.sequence;
    p.timestamp += samples_per_packet;
    benchmark::DoNotOptimize(p.build(wire));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(rtp_build);

// Asterisk → caller frame: the sequence advances every iteration, so the
// jitter buffer takes its in-order path, as for nearly every real packet.
void rtp_inbound_ulaw(benchmark::State& state) {
  auto wire = asterisk_packet(0, 160);
  media::jitter_buffer jb;
  std::vector<audio::frame> out;
  auto now = media::jitter_buffer::clock::now();
  std::uint16_t seq = 0;
  std::uint32_t ts = 160;
  for (auto _ : state) {
    wire[2] = static_cast<std::uint8_t>(seq >> 8);
    wire[3] = static_cast<std::uint8_t>(seq);
    for (int i = 0; i < 4; ++i) wire[4 + i] = static_cast<std::uint8_t>(ts >> (24 - 8 * i));
    auto p = media::rtp_packet::parse(wire);
    audio::frame f{std::vector<std::int16_t>(p->payload.size()), 8000};
    audio::ulaw_decode(p->payload, f.samples);
    out.clear();
    jb.push(*p, std::move(f), now, out);
    benchmark::DoNotOptimize(out.data());
    ++seq;
    ts += samples_per_packet;
    now += std::chrono::milliseconds(20);
  }
}
BENCHMARK(rtp_inbound_ulaw);

// Assistant frame → Asterisk: encode and frame one packet (the send itself
// is a syscall, not measured here).
void rtp_outbound_ulaw(benchmark::State& state) {
  const auto pcm = tone();
  std::vector<std::uint8_t> payload(pcm.size());
  std::vector<std::uint8_t> wire(media::rtp_packet::header_size + payload.size());
  media::rtp_packet p;
  p.ssrc = 0xe7e0459au;
  for (auto _ : state) {
    audio::ulaw_encode(pcm, payload);
    p.payload = payload;
    ++p.sequence;
    p.timestamp += samples_per_packet;
    benchmark::DoNotOptimize(p.build(wire));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(rtp_outbound_ulaw);

}  // namespace

BENCHMARK_MAIN();
