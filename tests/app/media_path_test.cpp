// Audio both ways through a whole call: fake Asterisk (ARI + media peer) →
// daemon → back. Extension 1001 ("media-test") echoes the caller, so what the
// peer receives must be exactly what it sent, after one codec round trip.
#include <gtest/gtest.h>

#include <cmath>

#include "app/daemon_harness.hpp"
#include "app/http_get.hpp"
#include "fakes/audiosocket_peer.hpp"
#include "fakes/rtp_peer.hpp"
#include "fakes/websocket_media_peer.hpp"
#include "npcl/audio/g711.hpp"

namespace npcl::test {
namespace {

using fakes::fake_ari_server;

std::vector<std::int16_t> tone(int rate, double hz, std::chrono::milliseconds length, double amplitude = 8000) {
  std::vector<std::int16_t> out(static_cast<std::size_t>(rate * length.count() / 1000));
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::int16_t>(amplitude * std::sin(2 * M_PI * hz * static_cast<double>(i) / rate));
  return out;
}

std::string query_of(const fake_ari_server& fake, const std::string& key) {
  for (const auto& r : fake.requests())
    if (r.path == "/channels/externalMedia" && r.query.count(key)) return r.query.at(key);
  return {};
}

std::uint16_t port_of(const std::string& host_port) {
  return static_cast<std::uint16_t>(std::stoi(host_port.substr(host_port.rfind(':') + 1)));
}

// Sets up a media-test call whose RTP goes to `peer`; returns the caller id.
std::string rtp_echo_call(fake_ari_server& fake, fakes::rtp_peer& peer) {
  fake.set_unicastrtp_port(peer.port());
  auto caller = fake.place_call("5551001", "Media Test", {"media-test"}, "1001");
  EXPECT_TRUE(fake.wait_for_bridged(caller, std::chrono::seconds(5)));
  peer.set_target(port_of(query_of(fake, "external_host")));
  return caller;
}

struct g711_case {
  const char* format;
  std::int16_t (*round_trip)(std::int16_t);
};

class rtp_echo : public testing::TestWithParam<g711_case> {};

TEST_P(rtp_echo, caller_audio_comes_back_within_g711_quantisation_with_continuous_rtp) {
  fake_ari_server fake;
  auto s = settings_for(fake, 42600);
  s.media.format = GetParam().format;
  running_daemon d(std::move(s));
  ASSERT_TRUE(fake.wait_for_events_connection(5s));
  fakes::rtp_peer_options o;
  o.format = GetParam().format;
  fakes::rtp_peer peer(o);
  auto caller = rtp_echo_call(fake, peer);

  auto signal = tone(8000, 440, 1000ms);
  peer.play(signal);
  ASSERT_TRUE(peer.wait_for_received(50, 5s));
  auto back = peer.decoded();
  ASSERT_GE(back.size(), signal.size());
  for (std::size_t i = 0; i < signal.size(); ++i)
    ASSERT_EQ(back[i], GetParam().round_trip(signal[i])) << "sample " << i;

  auto packets = peer.received();
  ASSERT_GE(packets.size(), 50u);
  EXPECT_TRUE(packets.front().marker) << "first packet of a talk spurt carries the marker";
  for (std::size_t i = 1; i < packets.size(); ++i) {
    EXPECT_EQ(static_cast<std::uint16_t>(packets[i].sequence - packets[i - 1].sequence), 1) << i;
    EXPECT_EQ(packets[i].timestamp - packets[i - 1].timestamp, 160u) << i;
    EXPECT_EQ(packets[i].ssrc, packets[0].ssrc);
    EXPECT_TRUE(packets[i].played);
  }
  fake.caller_hangup(caller);
  EXPECT_TRUE(fake.wait_for_idle(5s));
  EXPECT_TRUE(metric_becomes(d->http_port(), "calls_total{outcome=\"completed\"}", 1));
  auto metrics = http_get(d->http_port(), "/metrics").body;
  EXPECT_GE(metric_value(metrics, "media_packets_in_total"), 50);
  EXPECT_GE(metric_value(metrics, "playout_frames_total"), 50);
}

std::int16_t ulaw_round_trip(std::int16_t x) { return audio::ulaw_decode(audio::ulaw_encode(x)); }
std::int16_t alaw_round_trip(std::int16_t x) { return audio::alaw_decode(audio::alaw_encode(x)); }

void PrintTo(const g711_case& c, std::ostream* os) { *os << c.format; }

INSTANTIATE_TEST_SUITE_P(formats, rtp_echo,
                         testing::Values(g711_case{"ulaw", ulaw_round_trip}, g711_case{"alaw", alaw_round_trip}),
                         [](const auto& info) { return std::string(info.param.format); });

TEST(rtp_slin16, wideband_from_asterisk_goes_back_in_a_payload_type_asterisk_plays) {
  fake_ari_server fake;
  auto s = settings_for(fake, 42650);
  s.media.format = "slin16";
  s.media.sample_rate = 16000;
  s.media.chunk_size = 320;
  running_daemon d(std::move(s));
  ASSERT_TRUE(fake.wait_for_events_connection(5s));
  fakes::rtp_peer_options o;
  o.format = "slin16";
  fakes::rtp_peer peer(o);
  auto caller = rtp_echo_call(fake, peer);
  peer.play(tone(16000, 440, 1000ms));
  ASSERT_TRUE(peer.wait_for_received(45, 5s));
  EXPECT_EQ(peer.dropped_dynamic(), 0u) << "sent PT 118, which a real Asterisk drops silently";
  for (const auto& p : peer.received()) EXPECT_TRUE(p.played) << "PT " << int(p.payload_type);
  fake.caller_hangup(caller);
  EXPECT_TRUE(fake.wait_for_idle(5s));
}

TEST(audiosocket_call, slin16_round_trip_is_bit_exact) {
  fake_ari_server fake;
  auto s = settings_for(fake);
  s.media.transport = media::transport_kind::audiosocket;
  s.media.format = "slin16";
  s.media.sample_rate = 16000;
  s.media.chunk_size = 320;
  s.media.listen_port = 0;
  // Port 0 is for tests only; learn the listener's port from externalMedia.
  running_daemon d(std::move(s));
  ASSERT_TRUE(fake.wait_for_events_connection(5s));
  auto caller = fake.place_call("5551001", "Media Test", {"media-test"}, "1001");
  ASSERT_TRUE(fake.wait_for_request("POST", "/channels/externalMedia", 5s));
  auto host = query_of(fake, "external_host");
  auto uuid = query_of(fake, "data");
  ASSERT_EQ(query_of(fake, "encapsulation"), "audiosocket");
  ASSERT_EQ(uuid.size(), 36u);
  // Asterisk connects as soon as the channel exists.
  fakes::audiosocket_peer peer;
  ASSERT_TRUE(peer.connect("127.0.0.1", port_of(host)));
  peer.send_id(uuid);
  ASSERT_TRUE(fake.wait_for_bridged(caller, 5s));
  auto signal = tone(16000, 440, 1000ms);
  fakes::audiosocket_peer::audio_options ao;
  ao.kind = 0x12;
  ao.samples_per_frame = 320;
  ao.fragment = true;
  peer.send_audio(signal, ao);
  ASSERT_TRUE(peer.wait_for_audio(50, 5s));
  auto back = peer.audio_samples();
  ASSERT_GE(back.size(), signal.size());
  back.resize(signal.size());
  EXPECT_EQ(back, signal);
  peer.close();  // a real Asterisk ends AudioSocket with a TCP close
  fake.caller_hangup(caller);
  EXPECT_TRUE(fake.wait_for_idle(5s));
}

TEST(websocket_call, slin16_round_trip_through_chan_websocket_is_bit_exact) {
  fake_ari_server fake;
  fakes::websocket_media_peer asterisk_media;
  const std::string id = "6f1c2d3e-4a5b-4c6d-8e7f-901234567890";
  asterisk_media.add_connection(id, "slin16");
  fake.set_media_connection_id(id);
  auto s = settings_for(fake);
  s.media.transport = media::transport_kind::websocket;
  s.media.format = "slin16";
  s.media.sample_rate = 16000;
  s.media.chunk_size = 320;
  s.media.websocket_host = "127.0.0.1";
  s.media.websocket_port = asterisk_media.port();
  running_daemon d(std::move(s));
  ASSERT_TRUE(fake.wait_for_events_connection(5s));
  auto caller = fake.place_call("5551001", "Media Test", {"media-test"}, "1001");
  ASSERT_TRUE(fake.wait_for_bridged(caller, 5s));
  EXPECT_EQ(query_of(fake, "transport"), "websocket");
  EXPECT_EQ(query_of(fake, "encapsulation"), "none");
  EXPECT_EQ(query_of(fake, "connection_type"), "server");
  ASSERT_TRUE(asterisk_media.wait_for_connected(id, 5s)) << "the daemon did not connect to /media/<id>";
  auto signal = tone(16000, 440, 1000ms);
  asterisk_media.stream(id, signal);
  ASSERT_TRUE(asterisk_media.wait_for_played(id, 50, 5s));
  auto back = asterisk_media.played_pcm(id);
  ASSERT_GE(back.size(), signal.size());
  back.resize(signal.size());
  EXPECT_EQ(back, signal);
  fake.caller_hangup(caller);
  EXPECT_TRUE(fake.wait_for_idle(5s));
}

}  // namespace
}  // namespace npcl::test
