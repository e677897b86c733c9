// Cost of the per-frame audio work of one call direction: one iteration is
// one 20 ms frame (the inbound pipeline: one 10 ms frame). The resamplers and
// the pipeline keep their state across iterations, as in a call, so the
// figures include the steady-state cost only.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "npcl/audio/g711.hpp"
#include "npcl/audio/inbound_pipeline.hpp"
#include "npcl/audio/resampler.hpp"

namespace {

using namespace npcl::audio;

constexpr int telephone_hz = 8000;
constexpr int realtime_hz = 24000;  // OpenAI Realtime audio/pcm
constexpr std::size_t telephone_frame = 160;
constexpr std::size_t realtime_frame = 480;

// Speech-like test signal: two tones and a little deterministic noise, so
// the codec tables are hit across many segments rather than one code.
std::vector<std::int16_t> signal(int rate_hz, std::size_t count) {
  std::vector<std::int16_t> out(count);
  std::uint32_t noise = 12345;
  for (std::size_t n = 0; n < count; ++n) {
    const double t = static_cast<double>(n) / rate_hz;
    noise = noise * 1664525u + 1013904223u;
    const double v = 9000.0 * std::sin(2 * std::numbers::pi * 440.0 * t) +
                     5000.0 * std::sin(2 * std::numbers::pi * 1870.0 * t) +
                     static_cast<double>(static_cast<std::int32_t>(noise >> 16) - 32768) / 32.0;
    out[n] = static_cast<std::int16_t>(std::lround(v));
  }
  return out;
}

std::vector<std::uint8_t> encoded(void (*encode)(std::span<const std::int16_t>, std::span<std::uint8_t>)) {
  const auto pcm = signal(telephone_hz, telephone_frame);
  std::vector<std::uint8_t> wire(pcm.size());
  encode(pcm, wire);
  return wire;
}

using decode_fn = void (*)(std::span<const std::uint8_t>, std::span<std::int16_t>);
using encode_fn = void (*)(std::span<const std::int16_t>, std::span<std::uint8_t>);

// Caller → model: G.711 frame from the wire to 24 kHz PCM16.
void inbound(benchmark::State& state, decode_fn decode, encode_fn encode) {
  const auto wire = encoded(encode);
  std::vector<std::int16_t> pcm(telephone_frame);
  std::vector<std::int16_t> wide;
  wide.reserve(realtime_frame + 1);
  resampler up(telephone_hz, realtime_hz, static_cast<int>(state.range(0)));
  for (auto _ : state) {
    decode(wire, pcm);
    wide.clear();
    up.process(pcm, wide);
    benchmark::DoNotOptimize(wide.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

// Model → caller: 24 kHz PCM16 frame to G.711 for the wire.
void outbound(benchmark::State& state, encode_fn encode) {
  const auto wide = signal(realtime_hz, realtime_frame);
  std::vector<std::int16_t> pcm;
  pcm.reserve(telephone_frame + 1);
  std::vector<std::uint8_t> wire(telephone_frame);
  resampler down(realtime_hz, telephone_hz, static_cast<int>(state.range(0)));
  for (auto _ : state) {
    pcm.clear();
    down.process(wide, pcm);
    encode(pcm, wire);
    benchmark::DoNotOptimize(wire.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void decode_only(benchmark::State& state, decode_fn decode, encode_fn encode) {
  const auto wire = encoded(encode);
  std::vector<std::int16_t> pcm(telephone_frame);
  for (auto _ : state) {
    decode(wire, pcm);
    benchmark::DoNotOptimize(pcm.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void encode_only(benchmark::State& state, encode_fn encode) {
  const auto pcm = signal(telephone_hz, telephone_frame);
  std::vector<std::uint8_t> wire(telephone_frame);
  for (auto _ : state) {
    encode(pcm, wire);
    benchmark::DoNotOptimize(wire.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

// Resampling alone, per 20 ms frame at the input rate; range(0) is the quality.
void resample_only(benchmark::State& state, int in_hz, int out_hz) {
  const auto in = signal(in_hz, static_cast<std::size_t>(in_hz / 50));
  std::vector<std::int16_t> out;
  out.reserve(static_cast<std::size_t>(out_hz / 50) + 1);
  resampler r(in_hz, out_hz, static_cast<int>(state.range(0)));
  for (auto _ : state) {
    out.clear();
    r.process(in, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

// The whole inbound pipeline (high-pass, noise suppression, speech decision,
// echo guard; AEC when range(1) is 2) on one 10 ms frame; one iteration is one
// frame. The input is a second of the speech-like signal above the energy
// gate, so every frame takes the full spectral and pitch analysis, the
// detector's worst case. range(1): 0 no far end, 1 playout's audio fed as
// the echo reference each frame (echo guard searching), 2 the same with the
// echo canceller on.
void pipeline_frame(benchmark::State& state) {
  const int rate = static_cast<int>(state.range(0));
  const auto mode = state.range(1);
  const audio_format format{rate, 1, 10};
  vad_options options;
  options.echo_cancel = mode == 2;
  inbound_pipeline pipeline(format, options);
  const std::size_t n = format.samples_per_channel();
  const auto near = signal(rate, static_cast<std::size_t>(rate));
  // The far end: the same mix at other pitches (generated as if at 5/4 of the
  // rate), so neither the guard nor the canceller finds it in the near end and
  // removes the work under test.
  const auto far = signal(rate * 5 / 4, static_cast<std::size_t>(rate) + n * 7);
  std::size_t at = 0;
  for (auto _ : state) {
    if (mode > 0) {
      pipeline.far_end(frame{std::vector<std::int16_t>(far.begin() + static_cast<long>(at + n * 7),
                                                       far.begin() + static_cast<long>(at + n * 8)),
                             rate});
    }
    auto r = pipeline.process(
        frame{std::vector<std::int16_t>(near.begin() + static_cast<long>(at), near.begin() + static_cast<long>(at + n)),
              rate});
    benchmark::DoNotOptimize(r.cleaned.samples.data());
    benchmark::ClobberMemory();
    at = at + 2 * n <= near.size() ? at + n : 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// Argument: speexdsp quality; the daemon's default first.
constexpr int default_q = resampler::default_quality;

BENCHMARK_CAPTURE(inbound, ulaw_decode_8k_to_24k, ulaw_decode, ulaw_encode)->Arg(default_q);
BENCHMARK_CAPTURE(outbound, 24k_to_8k_ulaw_encode, ulaw_encode)->Arg(default_q);
BENCHMARK_CAPTURE(inbound, alaw_decode_8k_to_24k, alaw_decode, alaw_encode)->Arg(default_q);
BENCHMARK_CAPTURE(outbound, 24k_to_8k_alaw_encode, alaw_encode)->Arg(default_q);
BENCHMARK_CAPTURE(decode_only, ulaw, ulaw_decode, ulaw_encode);
BENCHMARK_CAPTURE(decode_only, alaw, alaw_decode, alaw_encode);
BENCHMARK_CAPTURE(encode_only, ulaw, ulaw_encode);
BENCHMARK_CAPTURE(encode_only, alaw, alaw_encode);
BENCHMARK_CAPTURE(resample_only, 8k_to_24k, 8000, 24000)->DenseRange(0, 5);
BENCHMARK_CAPTURE(resample_only, 24k_to_8k, 24000, 8000)->DenseRange(0, 5);
BENCHMARK_CAPTURE(resample_only, 8k_to_16k, 8000, 16000)->Arg(default_q);
BENCHMARK_CAPTURE(resample_only, 16k_to_8k, 16000, 8000)->Arg(default_q);
BENCHMARK(pipeline_frame)->ArgNames({"hz", "far_end"})->ArgsProduct({{8000, 16000}, {0, 1, 2}});

}  // namespace
