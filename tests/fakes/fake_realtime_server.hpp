#pragma once
// An in-process OpenAI Realtime peer for tests: a WebSocket server on 127.0.0.1 (plain or
// TLS) speaking the GA dialect, or the beta dialect on connections that send
// `OpenAI-Beta: realtime=v1`, as the Realtime reference (§11, "what a faithful fake server must do") describes.
// It checks the API key on the upgrade, sends session.created, validates every client
// event for the connection's dialect (answering a malformed one with an `error` event and
// keeping the socket open), runs an energy VAD over the appended audio, and answers turns
// and response.create with scripted audio (PCM16 24 kHz converted to the session's output
// format) streamed faster than real time, or with scripted function calls.
// It runs its own io_context on its own thread; every public call is thread-safe, and the
// wait_for_x calls block the test thread up to a deadline.
//
// Not emulated: text-only responses (output is always audio with a transcript), semantic
// VAD eagerness (treated as server VAD), idle_timeout_ms, conversation.item.retrieve audio,
// WebRTC/SIP-only events.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace npcl::fakes {

/// How the fake Realtime server is set up.
struct fake_realtime_options {
  std::string api_key = "sk-test-key";  ///< key accepted as "Authorization: Bearer" or "api-key"
  bool tls = false;                     ///< serve wss:// with a generated CA (see ca_file())
  bool allow_beta = true;  ///< false: beta upgrades get error beta_api_shape_disabled + close 4000
  std::uint16_t port = 0;  ///< TCP port on 127.0.0.1; 0 picks a free one
  /// Playing time of successive output audio deltas (ms), cycled: deltas vary in size as
  /// the real ones do.
  std::vector<int> delta_ms{40, 120, 60, 200};
  /// Wall time between two audio deltas; much shorter than a delta, so audio arrives
  /// faster than real time.
  std::chrono::milliseconds delta_interval{4};
  /// RMS (of PCM16 samples) above which a 10 ms block of appended audio counts as speech.
  double vad_rms_threshold = 500.0;
  /// Speech needed before speech_started is sent (ms of consecutive voiced blocks).
  int vad_min_speech_ms = 60;
  /// Called with one line per event received and sent, in order, with the fake's lock
  /// held: it must not call back into the fake.
  std::function<void(std::string_view line)> trace;
};

/// One answer the fake gives, taken in order by each response it creates.
struct scripted_response {
  /// Assistant audio: PCM16 mono 24 kHz, converted to the session's output format.
  std::vector<std::int16_t> pcm24k;
  std::string transcript;  ///< transcript of that audio, streamed in deltas
  /// Non-empty: the response is a function_call item instead of audio.
  std::string function_name;
  std::string function_arguments;  ///< JSON text of the call's arguments
};

/// A client event as received.
struct received_event {
  int connection = 0;  ///< 1 for the first connection accepted, counting up
  std::string type;    ///< its "type" ("" if it had none or was not JSON)
  std::string raw;     ///< the text frame exactly as received
};

/// A conversation.item.truncate the fake accepted.
struct truncation {
  std::string item_id;   ///< assistant item truncated
  int audio_end_ms = 0;  ///< played audio the client reported (ms)
};

/// A function_call_output item the client created.
struct function_output {
  std::string call_id;  ///< call it answers
  std::string output;   ///< output string as sent
};

/// One WebSocket upgrade request and how it was answered.
struct realtime_handshake {
  std::string target;        ///< request target, e.g. "/v1/realtime?model=gpt-realtime"
  bool beta = false;         ///< carried OpenAI-Beta: realtime=v1
  unsigned status = 0;       ///< 101 accepted, else the HTTP status answered
};

class fake_realtime_server {
 public:
  /// Listens on 127.0.0.1:o.port and serves at once. Throws boost::system::system_error
  /// if the port cannot be bound, std::runtime_error if TLS material cannot be made.
  explicit fake_realtime_server(fake_realtime_options o = {});
  /// Closes every connection and joins the server thread.
  ~fake_realtime_server();
  fake_realtime_server(const fake_realtime_server&) = delete;
  fake_realtime_server& operator=(const fake_realtime_server&) = delete;

  /// The TCP port it listens on.
  std::uint16_t port() const;
  /// "ws://127.0.0.1:<port>/v1/realtime" (wss:// with TLS); the client adds ?model=.
  std::string url() const;
  /// Path of a PEM file with the CA that signed the server certificate ("" without TLS).
  std::string ca_file() const;

  // --- script ---
  /// Queues an audio answer: the next response the fake creates plays it.
  void script_audio(std::vector<std::int16_t> pcm24k, std::string transcript);
  /// Queues a function call: the next response the fake creates is a function_call item
  /// with a fresh call_id.
  void script_function_call(std::string name, std::string arguments_json);
  /// Queues the transcript of the next caller turn (input transcription completed);
  /// without one the turn is transcribed as "hello".
  void script_user_transcript(std::string text);
  /// The answer used when the script is empty (default: 600 ms of a 440 Hz tone).
  void set_default_response(scripted_response r);
  /// A sine tone as PCM16 24 kHz: `ms` long, `amplitude` peak (a test signal).
  static std::vector<std::int16_t> tone(int ms, double hz = 440.0, double amplitude = 8000.0);

  // --- faults ---
  /// Closes every open connection abruptly (TCP close, no close frame).
  void drop_connections();
  /// After `n` more server events (counted over all connections), the connection about
  /// to send the next one is closed abruptly instead.
  void drop_after_events(int n);
  /// Sends an `error` event to every open connection now; `code`/`param` empty → null.
  void send_error(std::string type, std::string code, std::string message, std::string param = {});
  /// Closes every open connection with a WebSocket close frame.
  void close_connections(std::uint16_t code, std::string reason);
  /// Every response from now on starts (response.created) `d` late.
  void delay_responses(std::chrono::milliseconds d);
  /// While `status` is non-zero, upgrades are answered with that HTTP status and `body`.
  void refuse_handshakes(unsigned status, std::string body = {});

  // --- observations (thread-safe snapshots) ---
  /// Every client event received, in order, over all connections.
  std::vector<received_event> received() const;
  /// Types of every server event sent, in order, over all connections.
  std::vector<std::string> sent_types() const;
  /// Every server event sent (JSON text), in order, over all connections.
  std::vector<std::string> sent() const;
  /// Raw JSON of the last session.update accepted (no value before the first).
  std::optional<std::string> last_session_update() const;
  /// The effective session (JSON text, dialect shape) of the latest connection.
  std::string effective_session() const;
  /// Truncations accepted, in order.
  std::vector<truncation> truncations() const;
  /// response.cancel events received (whether or not a response was active).
  int cancels() const;
  /// function_call_output items created by the client, in order.
  std::vector<function_output> function_outputs() const;
  /// Raw JSON of every item the client created with conversation.item.create, in order.
  std::vector<std::string> history_items() const;
  /// Playing time of all audio appended over all connections (ms).
  std::int64_t audio_appended_ms() const;
  /// Every upgrade request, in order.
  std::vector<realtime_handshake> handshakes() const;
  /// Connections currently open (after the WebSocket handshake).
  int open_connections() const;
  /// TLS handshakes that failed (e.g. the client did not trust the CA).
  int tls_failures() const;

  /// Waits until at least `count` client events of `type` have been received.
  testing::AssertionResult wait_for_event(const std::string& type, std::chrono::milliseconds timeout,
                                          int count = 1);
  /// Waits until at least `count` server events of `type` have been sent.
  testing::AssertionResult wait_for_sent(const std::string& type, std::chrono::milliseconds timeout,
                                         int count = 1);
  /// Waits until at least `count` connections have been accepted since the start.
  testing::AssertionResult wait_for_connections(int count, std::chrono::milliseconds timeout);
  /// Waits until no connection is open.
  testing::AssertionResult wait_for_no_connections(std::chrono::milliseconds timeout);
  /// Waits until at least `count` session.update events have been accepted.
  testing::AssertionResult wait_for_session_update(std::chrono::milliseconds timeout, int count = 1);
  /// Waits until at least `count` truncations have been accepted.
  testing::AssertionResult wait_for_truncation(std::chrono::milliseconds timeout, int count = 1);
  /// Waits until at least `count` response.cancel events have been received.
  testing::AssertionResult wait_for_cancel(std::chrono::milliseconds timeout, int count = 1);
  /// Waits until at least `count` function outputs have been created.
  testing::AssertionResult wait_for_function_output(std::chrono::milliseconds timeout, int count = 1);
  /// Waits until at least `count` history items have been created.
  testing::AssertionResult wait_for_history_items(int count, std::chrono::milliseconds timeout);
  /// Waits until at least `count` TLS handshakes have failed.
  testing::AssertionResult wait_for_tls_failures(int count, std::chrono::milliseconds timeout);
  /// Waits until at least `ms` of audio has been appended.
  testing::AssertionResult wait_for_audio_ms(std::int64_t ms, std::chrono::milliseconds timeout);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;  ///< server thread, sockets, sessions and the script
};

}  // namespace npcl::fakes
