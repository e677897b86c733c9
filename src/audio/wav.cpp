#include "npcl/audio/wav.hpp"

#include <array>
#include <fstream>
#include <iterator>
#include <limits>
#include <string_view>

namespace npcl::audio {
namespace {

constexpr std::uint16_t format_pcm = 1;
constexpr std::uint16_t format_extensible = 0xFFFE;
constexpr int max_rate_hz = 384000;
constexpr std::size_t riff_header_size = 12;  // "RIFF" size "WAVE"
constexpr std::size_t chunk_header_size = 8;  // id, size
constexpr std::size_t canonical_header_size = riff_header_size + chunk_header_size + 16 + chunk_header_size;

// WAV is little-endian whatever the host; assemble values byte by byte.
std::uint16_t le16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | (b[at + 1] << 8));
}

std::uint32_t le32(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) | (static_cast<std::uint32_t>(b[at + 1]) << 8) |
         (static_cast<std::uint32_t>(b[at + 2]) << 16) | (static_cast<std::uint32_t>(b[at + 3]) << 24);
}

bool has_id(std::span<const std::uint8_t> b, std::size_t at, std::string_view id) {
  for (std::size_t i = 0; i < 4; ++i) {
    if (b[at + i] != static_cast<std::uint8_t>(id[i])) return false;
  }
  return true;
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v));
  put16(out, static_cast<std::uint16_t>(v >> 16));
}

void put_id(std::vector<std::uint8_t>& out, std::string_view id) { out.insert(out.end(), id.begin(), id.end()); }

std::nullopt_t reject(std::string* why, std::string reason) {
  if (why) *why = std::move(reason);
  return std::nullopt;
}

// Checks a "fmt " chunk body; returns the sample rate, or 0 with a reason.
int check_fmt(std::span<const std::uint8_t> body, std::string* why) {
  auto fail = [why](std::string reason) {
    if (why) *why = std::move(reason);
    return 0;
  };
  if (body.size() < 16) return fail("fmt chunk shorter than 16 bytes");
  const std::uint16_t format = le16(body, 0);
  const std::uint16_t channels = le16(body, 2);
  const std::uint32_t rate = le32(body, 4);
  const std::uint32_t byte_rate = le32(body, 8);
  const std::uint16_t block_align = le16(body, 12);
  const std::uint16_t bits = le16(body, 14);
  bool pcm = format == format_pcm;
  if (format == format_extensible && body.size() >= 40) {
    // The sub-format GUID starts with the plain format code.
    pcm = le16(body, 24) == format_pcm;
  }
  if (!pcm) return fail("not PCM (format tag " + std::to_string(format) + ")");
  if (channels != 1) return fail("not mono (" + std::to_string(channels) + " channels)");
  if (bits != 16) return fail("not 16-bit (" + std::to_string(bits) + " bits per sample)");
  if (rate == 0 || rate > max_rate_hz) return fail("sample rate " + std::to_string(rate) + " Hz out of range");
  if (block_align != 2 || byte_rate != rate * 2) return fail("block align / byte rate inconsistent with 16-bit mono");
  return static_cast<int>(rate);
}

}  // namespace

std::optional<wav_data> parse_wav(std::span<const std::uint8_t> image, std::string* why) {
  if (image.size() < riff_header_size) return reject(why, "shorter than a RIFF header");
  if (!has_id(image, 0, "RIFF") || !has_id(image, 8, "WAVE")) return reject(why, "not a RIFF/WAVE file");
  // The RIFF size may understate (some writers) or overstate (truncated
  // file); the chunks themselves are bounded by the bytes actually present.
  wav_data wav;
  bool have_fmt = false;
  std::size_t at = riff_header_size;
  while (true) {
    if (image.size() - at < chunk_header_size) {
      return reject(why, have_fmt ? "no data chunk" : "no fmt chunk");
    }
    const std::uint32_t size = le32(image, at + 4);
    const std::size_t body_at = at + chunk_header_size;
    if (size > image.size() - body_at) {
      return reject(why, "chunk '" + std::string(image.begin() + at, image.begin() + at + 4) +
                             "' of " + std::to_string(size) + " bytes runs past the end of the file (" +
                             std::to_string(image.size() - body_at) + " left)");
    }
    const auto body = image.subspan(body_at, size);
    if (has_id(image, at, "fmt ")) {
      wav.sample_rate_hz = check_fmt(body, why);
      if (wav.sample_rate_hz == 0) return std::nullopt;
      have_fmt = true;
    } else if (has_id(image, at, "data")) {
      if (!have_fmt) return reject(why, "data chunk before fmt chunk");
      if (size % 2 != 0) return reject(why, "data chunk holds an odd number of bytes");
      wav.samples.resize(size / 2);
      for (std::size_t i = 0; i < wav.samples.size(); ++i) {
        wav.samples[i] = static_cast<std::int16_t>(le16(body, 2 * i));
      }
      return wav;
    }
    // Chunks are padded to an even length.
    const std::size_t next = body_at + size + (size & 1u);
    if (next > image.size()) return reject(why, have_fmt ? "no data chunk" : "no fmt chunk");
    at = next;
  }
}

std::optional<wav_data> read_wav(const std::filesystem::path& path, std::string* why) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return reject(why, "cannot open " + path.string());
  std::vector<std::uint8_t> image{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  if (file.bad()) return reject(why, "cannot read " + path.string());
  return parse_wav(image, why);
}

std::vector<std::uint8_t> make_wav(int sample_rate_hz, std::span<const std::int16_t> samples) {
  constexpr std::size_t max_data = std::numeric_limits<std::uint32_t>::max() - canonical_header_size;
  if (sample_rate_hz <= 0 || sample_rate_hz > max_rate_hz || samples.size() > max_data / 2) return {};
  const auto data_bytes = static_cast<std::uint32_t>(samples.size() * 2);
  const auto rate = static_cast<std::uint32_t>(sample_rate_hz);
  std::vector<std::uint8_t> out;
  out.reserve(canonical_header_size + data_bytes);
  put_id(out, "RIFF");
  put32(out, static_cast<std::uint32_t>(canonical_header_size - chunk_header_size) + data_bytes);
  put_id(out, "WAVE");
  put_id(out, "fmt ");
  put32(out, 16);
  put16(out, format_pcm);
  put16(out, 1);         // channels
  put32(out, rate);
  put32(out, rate * 2);  // byte rate
  put16(out, 2);         // block align
  put16(out, 16);        // bits per sample
  put_id(out, "data");
  put32(out, data_bytes);
  for (const std::int16_t s : samples) put16(out, static_cast<std::uint16_t>(s));
  return out;
}

bool write_wav(const std::filesystem::path& path, int sample_rate_hz, std::span<const std::int16_t> samples,
               std::string* why) {
  const std::vector<std::uint8_t> image = make_wav(sample_rate_hz, samples);
  if (image.empty()) {
    if (why) *why = "invalid rate " + std::to_string(sample_rate_hz) + " Hz or too many samples";
    return false;
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(reinterpret_cast<const char*>(image.data()), static_cast<std::streamsize>(image.size()));
  file.close();
  if (!file) {
    if (why) *why = "cannot write " + path.string();
    return false;
  }
  return true;
}

}  // namespace npcl::audio
