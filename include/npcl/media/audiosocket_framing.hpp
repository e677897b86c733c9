#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace npcl::media {

/// AudioSocket message kinds (asterisk-media.md §2.1): the first byte of every
/// message, in both directions.
enum class audiosocket_kind : std::uint8_t {
  hangup = 0x00,        ///< daemon → Asterisk: hang up; empty payload
  id = 0x01,            ///< Asterisk → daemon, first message: 16 raw UUID bytes
  dtmf = 0x03,          ///< Asterisk → daemon: one ASCII digit, sent at digit end
  slin = 0x10,          ///< s16 LE audio, 8 kHz (every voice frame on Asterisk < 20.17)
  slin12 = 0x11,        ///< s16 LE audio, 12 kHz
  slin16 = 0x12,        ///< s16 LE audio, 16 kHz
  slin24 = 0x13,        ///< s16 LE audio, 24 kHz
  slin32 = 0x14,        ///< s16 LE audio, 32 kHz
  slin44 = 0x15,        ///< s16 LE audio, 44.1 kHz
  slin48 = 0x16,        ///< s16 LE audio, 48 kHz
  slin96 = 0x17,        ///< s16 LE audio, 96 kHz
  slin192 = 0x18,       ///< s16 LE audio, 192 kHz
  error = 0xff,         ///< error, optional application-specific code as payload
};

/// Bytes before every payload: kind (1) and big-endian length (2).
inline constexpr std::size_t audiosocket_header_bytes = 3;

/// Sample rate (Hz) carried by an audio kind; 0 for the kinds that carry no audio.
int audiosocket_audio_rate(audiosocket_kind kind) noexcept;

/// The audio kind for a sample rate (8000 → slin, 16000 → slin16, ...);
/// nullopt for a rate AudioSocket has no kind for.
std::optional<audiosocket_kind> audiosocket_audio_kind(int rate_hz) noexcept;

/// Canonical lower-case text of 16 raw UUID bytes ("e42d3f3a-acef-..."); an
/// empty string when `raw` is not 16 bytes long.
std::string audiosocket_uuid_text(std::span<const std::uint8_t> raw);

/// One complete message as it came off the wire. `payload` points into the
/// parser's buffer and stays valid until the next feed().
struct audiosocket_message {
  audiosocket_kind kind = audiosocket_kind::hangup;  ///< what the payload is
  std::span<const std::uint8_t> payload;             ///< `length` bytes after the header
};

/// Incremental AudioSocket parser: TCP may split a message anywhere or put
/// several in one read, so bytes are fed as they arrive and whole messages
/// come out. Each message is validated from its header, before its payload
/// arrives: an unknown kind, a hangup/id/DTMF of the wrong length, an empty or
/// odd-length audio payload, or a payload over the limit are rejected with a
/// reason. After a rejection the byte stream has lost its framing, so the
/// parser stays failed: the connection must be closed.
class audiosocket_parser {
 public:
  /// Default payload limit (bytes). 20 ms at 192 kHz, the largest frame any
  /// Asterisk sends, is 7 680 bytes; anything much larger is not audio.
  static constexpr std::size_t default_max_payload = 16 * 1024;

  /// What next() found.
  enum class result {
    message,    ///< `out` holds a complete message
    need_more,  ///< no complete message buffered; feed more bytes
    malformed,  ///< the stream is invalid; error() says why
  };

  /// A parser accepting payloads of at most `max_payload` bytes.
  explicit audiosocket_parser(std::size_t max_payload = default_max_payload);

  /// Appends bytes read from the socket. Invalidates payloads returned before.
  void feed(std::span<const std::uint8_t> bytes);

  /// Takes the next complete message out of the buffer. Call until it returns
  /// need_more (or malformed) after each feed().
  result next(audiosocket_message& out);

  /// Why the stream was rejected; empty while it is valid.
  const std::string& error() const noexcept { return error_; }

  /// Bytes received but not yet returned as a message (the start of the next
  /// one), valid until the next feed(): what a new owner of the stream must
  /// parse first.
  std::span<const std::uint8_t> unparsed() const noexcept {
    return std::span<const std::uint8_t>(buffer_).subspan(read_pos_);
  }

 private:
  std::size_t max_payload_;           ///< payload limit (bytes)
  std::vector<std::uint8_t> buffer_;  ///< received bytes; consumed ones precede read_pos_
  std::size_t read_pos_ = 0;          ///< offset of the first byte not yet returned
  std::string error_;                 ///< reason of the rejection; non-empty = failed for good
};

/// Appends one message (header and payload) to `out`. The payload must be
/// at most 65 535 bytes (the length field); longer input is truncated there.
void append_audiosocket_message(std::vector<std::uint8_t>& out, audiosocket_kind kind,
                                std::span<const std::uint8_t> payload);

/// Appends an audio message of `kind` carrying `samples` as s16 little-endian.
void append_audiosocket_audio(std::vector<std::uint8_t>& out, audiosocket_kind kind,
                              std::span<const std::int16_t> samples);

/// Decodes an audio payload (s16 little-endian) and appends the samples to
/// `out`; a trailing odd byte is ignored (the parser rejects such payloads).
void decode_audiosocket_audio(std::span<const std::uint8_t> payload, std::vector<std::int16_t>& out);

}  // namespace npcl::media
