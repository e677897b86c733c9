#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace npcl::media {

/// Why a datagram is not an RTP packet (RFC 3550 §5.1); used in log lines and
/// tests, so each reason names one check.
enum class rtp_reject {
  too_short,            ///< fewer than the 12 bytes of the fixed header
  bad_version,          ///< version field is not 2
  truncated_csrc,       ///< the CSRC list runs past the end of the datagram
  truncated_extension,  ///< the header extension runs past the end
  bad_padding,          ///< padding count is 0 or larger than what follows the header
};

/// Short lower-case text for a reject reason ("too short", ...).
std::string_view to_string(rtp_reject reason) noexcept;

/// One RTP packet: the header fields the daemon uses and its payload. As a
/// parse result the payload is a view into the datagram, valid while the
/// datagram's buffer is; CSRCs and the extension are validated and skipped
/// (Asterisk sends neither).
struct rtp_packet {
  static constexpr std::size_t header_size = 12;  ///< fixed header, no CSRC/extension (bytes)

  bool marker = false;                     ///< M bit: first packet of a talk spurt
  std::uint8_t payload_type = 0;           ///< PT, 0..127
  std::uint16_t sequence = 0;              ///< sequence number, +1 per packet, wraps at 65535
  std::uint32_t timestamp = 0;             ///< sampling instant in units of the payload's clock
  std::uint32_t ssrc = 0;                  ///< synchronisation source of the stream
  std::span<const std::uint8_t> payload;   ///< audio bytes, without header and padding

  /// Validates `datagram` as RTP version 2 (fixed header, CSRC count,
  /// extension length and padding all inside the datagram) and returns its
  /// fields and payload view. An empty payload is valid RTP. On failure returns
  /// nullopt and, when `why` is given, the first check that failed.
  static std::optional<rtp_packet> parse(std::span<const std::uint8_t> datagram,
                                         rtp_reject* why = nullptr) noexcept;

  /// Writes a 12-byte header (V=2, no padding, extension or CSRC) with these
  /// fields followed by the payload into `out`. Returns the bytes written, or
  /// 0 when `out` is smaller than header_size + payload.size(). The payload
  /// type is masked to 7 bits.
  std::size_t build(std::span<std::uint8_t> out) const noexcept;
};

}  // namespace npcl::media
