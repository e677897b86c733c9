#pragma once
// ITU-T G.711 μ-law (PCMU) and A-law (PCMA), bit-exact with the ITU reference
// implementation (G.191 STL g711.c): decode is a 256-entry table, encode a
// table indexed by the sample's top 14 (μ-law) or 12 (A-law) bits, so both
// directions are one load per sample. μ-law encoding differs from the older
// Sun g711.c (and Python's audioop) on 508 of the 65 536 inputs: negative
// samples lying exactly on a decision value, which G.191 quantises to the
// smaller magnitude.
#include <cstdint>
#include <span>

namespace npcl::audio {

/// μ-law byte as sent on the wire for a linear PCM16 sample. 0 encodes as
/// 0xFF (the silence byte); magnitudes above 32 124 saturate to 0x80 / 0x00.
std::uint8_t ulaw_encode(std::int16_t sample) noexcept;

/// Linear PCM16 value of a μ-law wire byte: ±(((m << 3) + 132) << e) − 132,
/// range ±32 124; 0xFF and 0x7F both give 0.
std::int16_t ulaw_decode(std::uint8_t code) noexcept;

/// A-law byte as sent on the wire (even bits inverted) for a linear PCM16
/// sample. 0 encodes as 0xD5.
std::uint8_t alaw_encode(std::int16_t sample) noexcept;

/// Linear PCM16 value of an A-law wire byte, range ±32 256, never 0
/// (0xD5 → +8, 0x55 → −8).
std::int16_t alaw_decode(std::uint8_t code) noexcept;

/// Encodes min(in.size(), out.size()) samples of `in` into `out`, in order;
/// the rest of `out` is left untouched. Callers size `out` to `in`.
void ulaw_encode(std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept;

/// Decodes min(in.size(), out.size()) bytes of `in` into `out`, in order;
/// the rest of `out` is left untouched. Callers size `out` to `in`.
void ulaw_decode(std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept;

/// A-law counterpart of the span ulaw_encode, same size contract.
void alaw_encode(std::span<const std::int16_t> in, std::span<std::uint8_t> out) noexcept;

/// A-law counterpart of the span ulaw_decode, same size contract.
void alaw_decode(std::span<const std::uint8_t> in, std::span<std::int16_t> out) noexcept;

}  // namespace npcl::audio
