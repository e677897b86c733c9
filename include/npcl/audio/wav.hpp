#pragma once
// 16-bit PCM mono RIFF/WAVE files: test vectors, recordings and the demo.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace npcl::audio {

/// Contents of a mono PCM16 WAV file.
struct wav_data {
  int sample_rate_hz = 0;             ///< samples per second (Hz)
  std::vector<std::int16_t> samples;  ///< PCM16 samples in host order, oldest first
};

/// Parses an in-memory WAV image. Accepts RIFF/WAVE with a "fmt " chunk of
/// PCM (format 1, or WAVE_FORMAT_EXTENSIBLE with the PCM sub-format), one
/// channel, 16 bits, a rate of 1..384000 Hz, and a "data" chunk that lies
/// wholly inside the image; other chunks are skipped. Anything else returns
/// nullopt and, when `why` is given, a one-line reason to log.
std::optional<wav_data> parse_wav(std::span<const std::uint8_t> image, std::string* why = nullptr);

/// Reads and parses the file at `path` as parse_wav() does; an unreadable
/// file also returns nullopt with a reason.
std::optional<wav_data> read_wav(const std::filesystem::path& path, std::string* why = nullptr);

/// Builds the bytes of a canonical 44-byte-header PCM16 mono WAV file.
/// Returns an empty vector if the rate is not positive or the data would not
/// fit a RIFF size field.
std::vector<std::uint8_t> make_wav(int sample_rate_hz, std::span<const std::int16_t> samples);

/// Writes make_wav()'s bytes to `path`, replacing any file there. Returns
/// false, with a reason in `why` when given, if the arguments are invalid or
/// the file cannot be written completely.
bool write_wav(const std::filesystem::path& path, int sample_rate_hz,
               std::span<const std::int16_t> samples, std::string* why = nullptr);

}  // namespace npcl::audio
