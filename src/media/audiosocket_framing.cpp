#include "npcl/media/audiosocket_framing.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "npcl/util/ids.hpp"

namespace npcl::media {
namespace {

constexpr std::size_t uuid_bytes = 16;
constexpr std::size_t max_length_field = 0xffff;

bool known_kind(std::uint8_t k) {
  return k == 0x00 || k == 0x01 || k == 0x03 || (k >= 0x10 && k <= 0x18) || k == 0xff;
}

// Checks a header's length against what its kind allows; returns the reason
// it is wrong, or an empty string.
std::string header_problem(std::uint8_t kind, std::size_t length, std::size_t max_payload) {
  if (!known_kind(kind)) return fmt::format("unknown kind 0x{:02x}", kind);
  if (length > max_payload) return fmt::format("kind 0x{:02x}: length {} over the limit of {}", kind, length, max_payload);
  switch (static_cast<audiosocket_kind>(kind)) {
    case audiosocket_kind::hangup:
      if (length != 0) return fmt::format("hangup with a {}-byte payload", length);
      break;
    case audiosocket_kind::id:
      if (length != uuid_bytes) return fmt::format("id of {} bytes (a UUID has 16)", length);
      break;
    case audiosocket_kind::dtmf:
      if (length != 1) return fmt::format("DTMF of {} bytes (one digit expected)", length);
      break;
    case audiosocket_kind::error:
      break;
    default:  // audio: Asterisk itself fails a read of an empty audio frame
      if (length == 0) return fmt::format("empty audio of kind 0x{:02x}", kind);
      if (length % 2 != 0) return fmt::format("audio of kind 0x{:02x} with an odd length {}", kind, length);
  }
  return {};
}

}  // namespace

int audiosocket_audio_rate(audiosocket_kind kind) noexcept {
  switch (kind) {
    case audiosocket_kind::slin: return 8000;
    case audiosocket_kind::slin12: return 12000;
    case audiosocket_kind::slin16: return 16000;
    case audiosocket_kind::slin24: return 24000;
    case audiosocket_kind::slin32: return 32000;
    case audiosocket_kind::slin44: return 44100;
    case audiosocket_kind::slin48: return 48000;
    case audiosocket_kind::slin96: return 96000;
    case audiosocket_kind::slin192: return 192000;
    default: return 0;
  }
}

std::optional<audiosocket_kind> audiosocket_audio_kind(int rate_hz) noexcept {
  for (std::uint8_t k = 0x10; k <= 0x18; ++k) {
    auto kind = static_cast<audiosocket_kind>(k);
    if (audiosocket_audio_rate(kind) == rate_hz) return kind;
  }
  return std::nullopt;
}

std::string audiosocket_uuid_text(std::span<const std::uint8_t> raw) {
  if (raw.size() != uuid_bytes) return {};
  return util::uuid_text(raw.first<uuid_bytes>());
}

audiosocket_parser::audiosocket_parser(std::size_t max_payload)
    : max_payload_(std::min(max_payload, max_length_field)) {}

void audiosocket_parser::feed(std::span<const std::uint8_t> bytes) {
  if (!error_.empty()) return;
  // Compact only here, so payload spans handed out by next() stay valid
  // until the caller feeds again.
  if (read_pos_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(read_pos_));
    read_pos_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

audiosocket_parser::result audiosocket_parser::next(audiosocket_message& out) {
  if (!error_.empty()) return result::malformed;
  const std::size_t available = buffer_.size() - read_pos_;
  if (available < 1) return result::need_more;
  const std::uint8_t* p = buffer_.data() + read_pos_;
  // The kind alone can already be judged: reject garbage without waiting.
  if (!known_kind(p[0])) {
    error_ = header_problem(p[0], 0, max_payload_);
    return result::malformed;
  }
  if (available < audiosocket_header_bytes) return result::need_more;
  const std::size_t length = (std::size_t{p[1]} << 8) | p[2];
  if (auto problem = header_problem(p[0], length, max_payload_); !problem.empty()) {
    error_ = std::move(problem);
    return result::malformed;
  }
  if (available < audiosocket_header_bytes + length) return result::need_more;
  out.kind = static_cast<audiosocket_kind>(p[0]);
  out.payload = std::span<const std::uint8_t>(p + audiosocket_header_bytes, length);
  read_pos_ += audiosocket_header_bytes + length;
  return result::message;
}

void append_audiosocket_message(std::vector<std::uint8_t>& out, audiosocket_kind kind,
                                std::span<const std::uint8_t> payload) {
  const std::size_t length = std::min(payload.size(), max_length_field);
  out.reserve(out.size() + audiosocket_header_bytes + length);
  out.push_back(static_cast<std::uint8_t>(kind));
  out.push_back(static_cast<std::uint8_t>(length >> 8));
  out.push_back(static_cast<std::uint8_t>(length & 0xff));
  out.insert(out.end(), payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(length));
}

void append_audiosocket_audio(std::vector<std::uint8_t>& out, audiosocket_kind kind,
                              std::span<const std::int16_t> samples) {
  const std::size_t count = std::min(samples.size(), max_length_field / 2);
  const std::size_t length = count * 2;
  out.reserve(out.size() + audiosocket_header_bytes + length);
  out.push_back(static_cast<std::uint8_t>(kind));
  out.push_back(static_cast<std::uint8_t>(length >> 8));
  out.push_back(static_cast<std::uint8_t>(length & 0xff));
  for (std::size_t i = 0; i < count; ++i) {
    const auto u = static_cast<std::uint16_t>(samples[i]);
    out.push_back(static_cast<std::uint8_t>(u & 0xff));
    out.push_back(static_cast<std::uint8_t>(u >> 8));
  }
}

void decode_audiosocket_audio(std::span<const std::uint8_t> payload, std::vector<std::int16_t>& out) {
  const std::size_t count = payload.size() / 2;
  out.reserve(out.size() + count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto u = static_cast<std::uint16_t>(payload[2 * i] | (payload[2 * i + 1] << 8));
    out.push_back(static_cast<std::int16_t>(u));
  }
}

}  // namespace npcl::media
