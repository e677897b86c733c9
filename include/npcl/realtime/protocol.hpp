#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "npcl/audio/audio_format.hpp"
#include "npcl/audio/resampler.hpp"
#include "npcl/realtime/dialect.hpp"
#include "npcl/realtime/realtime_link.hpp"
#include "npcl/realtime/server_event.hpp"

namespace npcl::realtime {

/// The Realtime wire protocol of one conversation in one dialect: turns the
/// link's call-level requests into client event JSON and server event JSON
/// into server_event. No I/O. Stateful only where the wire needs it: the
/// resamplers of both audio directions, function names announced before their
/// arguments (beta has no name in arguments.done), calls already reported,
/// and audio received per item (for truncate clamping). Never mixes dialects:
/// everything it encodes has the shape of the dialect given at construction.
///
/// Audio: an 8 kHz call uses G.711 μ-law on the wire both ways (`audio/pcmu`,
/// beta `g711_ulaw`) with no resampling; any other supported call rate uses
/// PCM16 24 kHz (`audio/pcm` rate 24000, beta `pcm16`) through audio::resampler.
class protocol {
 public:
  /// The audio encoding used on the wire.
  enum class wire_audio { pcmu, pcm16_24k };

  /// True when a call in `call_format` can be carried (mono, 8 kHz or a
  /// rate audio::resampler converts).
  static bool supports(const audio::audio_format& call_format) noexcept;

  /// Throws std::invalid_argument when !supports(call_format) (checked at call set-up).
  protocol(realtime::dialect d, audio::audio_format call_format);

  /// The dialect everything is encoded in.
  realtime::dialect wire_dialect() const noexcept { return dialect_; }
  /// The wire audio encoding chosen for the call's rate.
  wire_audio audio() const noexcept { return wire_; }

  /// session.update configuring the whole conversation. GA: nested
  /// `session.audio.*`, `type:"realtime"`, `max_output_tokens`, never
  /// temperature; beta: flat, `max_response_output_tokens`, temperature.
  /// A tool whose parameters are not a JSON object is left out and named in
  /// `why` (when given).
  std::string session_update(const link_config& config, std::string* why = nullptr) const;

  /// input_audio_buffer.append carrying `pcm` (call rate) in the wire format,
  /// base64. Resampling keeps its filter state across calls.
  std::string audio_append(std::span<const std::int16_t> pcm);

  /// response.create, with per-response instructions when not empty.
  std::string response_create(const std::string& instructions = {}) const;

  /// response.cancel.
  std::string response_cancel() const;

  /// conversation.item.truncate of content 0 of `item_id` at `audio_end`.
  std::string truncate(const std::string& item_id, std::chrono::milliseconds audio_end) const;

  /// conversation.item.create of a function_call_output item (send
  /// response_create() after it for the follow-up answer).
  std::string tool_output(const std::string& call_id, const std::string& output) const;

  /// conversation.item.create replaying a transcript line as text: caller
  /// `input_text`, assistant `output_text` (GA) or `text` (beta).
  std::string history_item(const transcript_line& line) const;

  /// Decodes one server message. Returns nullopt with a reason in `why` for
  /// malformed JSON, a missing or non-string `type`, missing required fields
  /// or invalid base64 audio. Events of either dialect's names are accepted.
  std::optional<server_event> decode(std::string_view text, std::string* why = nullptr);

  /// Assistant audio of `item_id` received so far, as wire playing time.
  std::chrono::milliseconds audio_received(const std::string& item_id) const;

 private:
  /// Records `bytes` more wire audio for `item_id`, forgetting the oldest items beyond a few dozen.
  void count_received(const std::string& item_id, std::size_t bytes);

  realtime::dialect dialect_;             ///< wire dialect of every event encoded
  audio::audio_format call_format_;       ///< rate the link's PCM is at
  wire_audio wire_;                       ///< wire audio encoding
  std::optional<audio::resampler> up_;    ///< call rate → 24 kHz (PCM16 wire only)
  std::optional<audio::resampler> down_;  ///< 24 kHz → call rate (PCM16 wire only)
  std::optional<std::uint8_t> odd_byte_;  ///< PCM16 wire: a delta's trailing half sample, joined to the next
  std::map<std::string, std::string> function_names_;  ///< function_call item id → name, until its call is reported
  std::deque<std::string> reported_calls_;             ///< call ids already reported (newest last, bounded)
  std::deque<std::pair<std::string, std::size_t>> received_;  ///< item id → wire audio bytes received (newest last, bounded)
};

}  // namespace npcl::realtime
