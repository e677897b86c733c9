#include "npcl/media/rtp_packet.hpp"

#include <algorithm>

namespace npcl::media {
namespace {

std::uint16_t read_u16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint32_t read_u32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void write_u16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

void write_u32(std::uint8_t* p, std::uint32_t v) noexcept {
  write_u16(p, static_cast<std::uint16_t>(v >> 16));
  write_u16(p + 2, static_cast<std::uint16_t>(v));
}

}  // namespace

std::string_view to_string(rtp_reject reason) noexcept {
  switch (reason) {
    case rtp_reject::too_short: return "too short";
    case rtp_reject::bad_version: return "not RTP version 2";
    case rtp_reject::truncated_csrc: return "CSRC list truncated";
    case rtp_reject::truncated_extension: return "header extension truncated";
    case rtp_reject::bad_padding: return "bad padding";
  }
  return "unknown";
}

std::optional<rtp_packet> rtp_packet::parse(std::span<const std::uint8_t> d, rtp_reject* why) noexcept {
  auto fail = [why](rtp_reject r) -> std::optional<rtp_packet> {
    if (why) *why = r;
    return std::nullopt;
  };
  const std::size_t n = d.size();
  if (n < header_size) return fail(rtp_reject::too_short);
  const std::uint8_t* p = d.data();
  if ((p[0] >> 6) != 2) return fail(rtp_reject::bad_version);
  std::size_t header = header_size + 4u * (p[0] & 0x0fu);
  if (header > n) return fail(rtp_reject::truncated_csrc);
  if (p[0] & 0x10u) {
    // RFC 3550 §5.3.1: 16-bit profile word, then the length in 32-bit words.
    if (header + 4 > n) return fail(rtp_reject::truncated_extension);
    header += 4 + 4u * read_u16(p + header + 2);
    if (header > n) return fail(rtp_reject::truncated_extension);
  }
  std::size_t padding = 0;
  if (p[0] & 0x20u) {
    // The last byte counts itself, so 0 is as invalid as running into the header.
    padding = p[n - 1];
    if (padding == 0 || header + padding > n) return fail(rtp_reject::bad_padding);
  }
  rtp_packet r;
  r.marker = (p[1] & 0x80u) != 0;
  r.payload_type = static_cast<std::uint8_t>(p[1] & 0x7fu);
  r.sequence = read_u16(p + 2);
  r.timestamp = read_u32(p + 4);
  r.ssrc = read_u32(p + 8);
  r.payload = d.subspan(header, n - header - padding);
  return r;
}

std::size_t rtp_packet::build(std::span<std::uint8_t> out) const noexcept {
  const std::size_t total = header_size + payload.size();
  if (out.size() < total) return 0;
  std::uint8_t* p = out.data();
  p[0] = 0x80;  // V=2, P=0, X=0, CC=0
  p[1] = static_cast<std::uint8_t>((marker ? 0x80u : 0u) | (payload_type & 0x7fu));
  write_u16(p + 2, sequence);
  write_u32(p + 4, timestamp);
  write_u32(p + 8, ssrc);
  std::copy(payload.begin(), payload.end(), p + header_size);
  return total;
}

}  // namespace npcl::media
