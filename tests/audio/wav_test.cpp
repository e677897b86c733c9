#include "npcl/audio/wav.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace npcl::audio {
namespace {

namespace fs = std::filesystem;

// A file path private to this test, removed afterwards.
class wav_file : public testing::Test {
 protected:
  void TearDown() override {
    std::error_code ec;
    fs::remove(path_, ec);
  }

  fs::path path_ = fs::temp_directory_path() /
                   ("npcl_wav_test_" + std::to_string(::getpid()) + "_" +
                    testing::UnitTest::GetInstance()->current_test_info()->name() + ".wav");
};

std::vector<std::int16_t> ramp() {
  std::vector<std::int16_t> s;
  for (int v = -32768; v <= 32767; v += 257) s.push_back(static_cast<std::int16_t>(v));
  return s;
}

void put_le32(std::vector<std::uint8_t>& image, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) image[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

TEST_F(wav_file, round_trip_keeps_rate_and_samples) {
  const auto samples = ramp();
  std::string why;
  ASSERT_TRUE(write_wav(path_, 24000, samples, &why)) << why;
  EXPECT_EQ(fs::file_size(path_), 44 + 2 * samples.size());
  const auto wav = read_wav(path_, &why);
  ASSERT_TRUE(wav) << why;
  EXPECT_EQ(wav->sample_rate_hz, 24000);
  EXPECT_EQ(wav->samples, samples);
}

TEST_F(wav_file, truncated_header_is_rejected_with_a_reason) {
  auto image = make_wav(8000, ramp());
  image.resize(30);  // cuts through the fmt chunk
  std::ofstream(path_, std::ios::binary).write(reinterpret_cast<const char*>(image.data()), 30);
  std::string why;
  EXPECT_FALSE(read_wav(path_, &why));
  EXPECT_NE(why.find("fmt"), std::string::npos) << why;
}

TEST_F(wav_file, missing_file_is_rejected_with_a_reason) {
  std::string why;
  EXPECT_FALSE(read_wav(path_ / "absent.wav", &why));
  EXPECT_NE(why.find("cannot open"), std::string::npos) << why;
}

TEST(wav, truncated_data_is_rejected) {
  auto image = make_wav(8000, ramp());
  image.resize(image.size() - 10);
  std::string why;
  EXPECT_FALSE(parse_wav(image, &why));
  EXPECT_NE(why.find("past the end"), std::string::npos) << why;
}

TEST(wav, short_or_foreign_images_are_rejected) {
  std::string why;
  EXPECT_FALSE(parse_wav({}, &why));
  EXPECT_FALSE(why.empty());
  auto image = make_wav(8000, ramp());
  image[0] = 'X';
  EXPECT_FALSE(parse_wav(image, &why));
  EXPECT_NE(why.find("RIFF"), std::string::npos) << why;
}

TEST(wav, formats_other_than_16_bit_mono_pcm_are_rejected) {
  const auto good = make_wav(8000, ramp());
  ASSERT_TRUE(parse_wav(good));
  struct change {
    std::size_t at;
    std::uint8_t value;
    const char* reason;
  };
  // Offsets in the canonical header: format tag 20, channels 22, bits 34.
  for (const change c : {change{20, 3, "not PCM"}, change{22, 2, "not mono"}, change{34, 8, "not 16-bit"}}) {
    auto image = good;
    image[c.at] = c.value;
    std::string why;
    EXPECT_FALSE(parse_wav(image, &why)) << c.reason;
    EXPECT_NE(why.find(c.reason), std::string::npos) << why;
  }
  auto zero_rate = good;
  put_le32(zero_rate, 24, 0);
  EXPECT_FALSE(parse_wav(zero_rate));
}

TEST(wav, unknown_chunks_before_data_are_skipped) {
  const std::vector<std::int16_t> samples{1, -2, 3};
  const auto plain = make_wav(16000, samples);
  // Insert an odd-sized LIST chunk (padded to even) between fmt and data.
  std::vector<std::uint8_t> image(plain.begin(), plain.begin() + 36);
  const std::vector<std::uint8_t> list{'L', 'I', 'S', 'T', 3, 0, 0, 0, 'a', 'b', 'c', 0};
  image.insert(image.end(), list.begin(), list.end());
  image.insert(image.end(), plain.begin() + 36, plain.end());
  std::string why;
  const auto wav = parse_wav(image, &why);
  ASSERT_TRUE(wav) << why;
  EXPECT_EQ(wav->sample_rate_hz, 16000);
  EXPECT_EQ(wav->samples, samples);
}

TEST(wav, invalid_rate_is_not_written) {
  std::string why;
  EXPECT_TRUE(make_wav(0, ramp()).empty());
  EXPECT_FALSE(write_wav(fs::temp_directory_path() / "npcl_wav_never_written.wav", -1, ramp(), &why));
  EXPECT_FALSE(why.empty());
}

}  // namespace
}  // namespace npcl::audio
