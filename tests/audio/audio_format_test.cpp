#include "npcl/audio/audio_format.hpp"
#include "npcl/audio/frame.hpp"

#include <gtest/gtest.h>

namespace npcl::audio {
namespace {

TEST(audio_format, counts_samples_per_frame) {
  EXPECT_EQ((audio_format{8000, 1, 20}).samples_per_frame(), 160u);
  EXPECT_EQ((audio_format{24000, 1, 20}).samples_per_frame(), 480u);
  EXPECT_EQ((audio_format{48000, 2, 10}).samples_per_channel(), 480u);
  EXPECT_EQ((audio_format{48000, 2, 10}).samples_per_frame(), 960u);
}

TEST(audio_format, rejects_shapes_without_whole_samples) {
  EXPECT_TRUE((audio_format{16000, 1, 20}.valid()));
  EXPECT_TRUE((audio_format{44100, 1, 10}.valid()));
  EXPECT_FALSE((audio_format{11025, 1, 10}.valid()));
  EXPECT_FALSE((audio_format{8000, 0, 20}.valid()));
  EXPECT_FALSE((audio_format{8000, 1, 0}.valid()));
}

TEST(frame, silence_has_the_format_shape_and_duration) {
  const frame f = frame::silence(audio_format{24000, 1, 20});
  EXPECT_EQ(f.samples.size(), 480u);
  EXPECT_EQ(f.sample_rate_hz, 24000);
  EXPECT_EQ(f.duration(), std::chrono::milliseconds(20));
  for (auto s : f.samples) EXPECT_EQ(s, 0);
  EXPECT_EQ((frame{{}, 0}).duration().count(), 0);
}

}  // namespace
}  // namespace npcl::audio
