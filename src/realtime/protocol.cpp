#include "npcl/realtime/protocol.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string_view>

#include "npcl/audio/g711.hpp"
#include "realtime/base64.hpp"

namespace npcl::realtime {
namespace {

using json = nlohmann::json;

constexpr int wire_pcm_rate_hz = 24000;   // the only linear PCM rate the service takes
constexpr int wire_ulaw_rate_hz = 8000;   // G.711 is always 8 kHz
constexpr std::size_t remembered_items = 64;  // items whose names / audio lengths are kept

// Invalid UTF-8 in configured or transcript text must not throw on the
// I/O path: it is replaced instead.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string string_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::int64_t int_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

const json* object_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

json turn_detection_json(const turn_detection& t) {
  switch (t.type) {
    case turn_detection::kind::none:
      return nullptr;
    case turn_detection::kind::semantic_vad:
      return {{"type", "semantic_vad"},
              {"eagerness", t.eagerness},
              {"create_response", true},
              {"interrupt_response", t.interrupt_response}};
    case turn_detection::kind::server_vad:
      break;
  }
  return {{"type", "server_vad"},
          {"threshold", t.threshold},
          {"prefix_padding_ms", t.prefix_padding.count()},
          {"silence_duration_ms", t.silence.count()},
          {"create_response", true},
          {"interrupt_response", t.interrupt_response}};
}

json transcription_json(const link_config& c) {
  if (c.transcription_model.empty()) return nullptr;
  json t = {{"model", c.transcription_model}};
  if (!c.language.empty()) t["language"] = c.language;
  return t;
}

json tools_json(const std::vector<tool_spec>& tools, std::string* why) {
  json out = json::array();
  for (const auto& tool : tools) {
    json params = json::parse(tool.parameters_json, nullptr, false);
    if (params.is_discarded() || !params.is_object()) {
      if (why) *why += (why->empty() ? "" : "; ") + ("tool " + tool.name + " left out: parameters are not a JSON object");
      continue;
    }
    out.push_back({{"type", "function"}, {"name", tool.name}, {"description", tool.description},
                   {"parameters", std::move(params)}});
  }
  return out;
}

json max_tokens_json(int n) {
  if (n >= 1 && n <= 4096) return n;
  return "inf";
}

bool is_known_unused(std::string_view type) {
  static constexpr std::string_view names[] = {
      "conversation.created",
      "input_audio_buffer.cleared",
      "input_audio_buffer.timeout_triggered",
      "input_audio_buffer.dtmf_event_received",
      "conversation.item.retrieved",
      "conversation.item.truncated",
      "conversation.item.deleted",
      "conversation.item.input_audio_transcription.delta",
      "conversation.item.input_audio_transcription.failed",
      "conversation.item.input_audio_transcription.segment",
      "response.content_part.added",
      "response.content_part.done",
      "response.output_audio_transcript.delta",
      "response.audio_transcript.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.text.delta",
      "response.text.done",
      "response.function_call_arguments.delta",
      "transcription_session.updated",
      "output_audio_buffer.started",
      "output_audio_buffer.stopped",
      "output_audio_buffer.cleared",
  };
  return std::find(std::begin(names), std::end(names), type) != std::end(names);
}

}  // namespace

bool protocol::supports(const audio::audio_format& call_format) noexcept {
  return call_format.channels == 1 &&
         (call_format.sample_rate_hz == wire_ulaw_rate_hz || audio::resampler::supported_rate(call_format.sample_rate_hz));
}

protocol::protocol(realtime::dialect d, audio::audio_format call_format)
    : dialect_(d), call_format_(call_format), wire_(wire_audio::pcm16_24k) {
  if (!supports(call_format))
    throw std::invalid_argument("realtime: call audio must be mono at 8, 16, 24 or 48 kHz");
  if (call_format.sample_rate_hz == wire_ulaw_rate_hz) {
    wire_ = wire_audio::pcmu;
  } else {
    up_.emplace(call_format.sample_rate_hz, wire_pcm_rate_hz);
    down_.emplace(wire_pcm_rate_hz, call_format.sample_rate_hz);
  }
}

std::string protocol::session_update(const link_config& c, std::string* why) const {
  if (why) why->clear();
  const bool ulaw = wire_ == wire_audio::pcmu;
  json session;
  if (uses_ga_shapes(dialect_)) {
    json format = ulaw ? json{{"type", "audio/pcmu"}} : json{{"type", "audio/pcm"}, {"rate", wire_pcm_rate_hz}};
    session = {
        {"type", "realtime"},
        {"instructions", c.instructions},
        {"output_modalities", {"audio"}},
        {"audio",
         {{"input", {{"format", format}, {"transcription", transcription_json(c)}, {"turn_detection", turn_detection_json(c.turns)}}},
          {"output", {{"format", format}, {"voice", c.voice}}}}},
        {"tools", tools_json(c.tools, why)},
        {"tool_choice", "auto"},
        {"max_output_tokens", max_tokens_json(c.max_output_tokens)},
    };
  } else {
    const char* format = ulaw ? "g711_ulaw" : "pcm16";
    session = {
        {"modalities", {"text", "audio"}},
        {"instructions", c.instructions},
        {"voice", c.voice},
        {"input_audio_format", format},
        {"output_audio_format", format},
        {"input_audio_transcription", transcription_json(c)},
        {"turn_detection", turn_detection_json(c.turns)},
        {"tools", tools_json(c.tools, why)},
        {"tool_choice", "auto"},
        {"temperature", c.temperature},
        {"max_response_output_tokens", max_tokens_json(c.max_output_tokens)},
    };
  }
  return dump({{"type", "session.update"}, {"session", std::move(session)}});
}

std::string protocol::audio_append(std::span<const std::int16_t> pcm) {
  std::vector<std::uint8_t> bytes;
  if (wire_ == wire_audio::pcmu) {
    bytes.resize(pcm.size());
    audio::ulaw_encode(pcm, bytes);
  } else {
    std::vector<std::int16_t> wide;
    up_->process(pcm, wide);
    bytes.reserve(wide.size() * 2);
    for (std::int16_t s : wide) {  // the wire is little-endian whatever the host is
      auto u = static_cast<std::uint16_t>(s);
      bytes.push_back(static_cast<std::uint8_t>(u & 0xFF));
      bytes.push_back(static_cast<std::uint8_t>(u >> 8));
    }
  }
  return dump({{"type", "input_audio_buffer.append"}, {"audio", detail::base64_encode(bytes)}});
}

std::string protocol::response_create(const std::string& instructions) const {
  json j = {{"type", "response.create"}};
  if (!instructions.empty()) j["response"] = {{"instructions", instructions}};
  return dump(j);
}

std::string protocol::response_cancel() const { return dump({{"type", "response.cancel"}}); }

std::string protocol::truncate(const std::string& item_id, std::chrono::milliseconds audio_end) const {
  return dump({{"type", "conversation.item.truncate"},
               {"item_id", item_id},
               {"content_index", 0},
               {"audio_end_ms", std::max<std::int64_t>(0, audio_end.count())}});
}

std::string protocol::tool_output(const std::string& call_id, const std::string& output) const {
  return dump({{"type", "conversation.item.create"},
               {"item", {{"type", "function_call_output"}, {"call_id", call_id}, {"output", output}}}});
}

std::string protocol::history_item(const transcript_line& line) const {
  const bool caller = line.who == transcript_line::speaker::caller;
  const char* content_type = caller ? "input_text" : (uses_ga_shapes(dialect_) ? "output_text" : "text");
  json item = {{"type", "message"},
               {"role", caller ? "user" : "assistant"},
               {"content", json::array({{{"type", content_type}, {"text", line.text}}})}};
  return dump({{"type", "conversation.item.create"}, {"item", std::move(item)}});
}

std::chrono::milliseconds protocol::audio_received(const std::string& item_id) const {
  for (const auto& [id, bytes] : received_) {
    if (id != item_id) continue;
    const std::size_t bytes_per_ms = wire_ == wire_audio::pcmu ? 8 : 48;
    return std::chrono::milliseconds(bytes / bytes_per_ms);
  }
  return std::chrono::milliseconds{0};
}

void protocol::count_received(const std::string& item_id, std::size_t bytes) {
  for (auto& [id, total] : received_) {
    if (id == item_id) {
      total += bytes;
      return;
    }
  }
  received_.emplace_back(item_id, bytes);
  if (received_.size() > remembered_items) received_.pop_front();
}

std::optional<server_event> protocol::decode(std::string_view text, std::string* why) {
  auto reject = [why](std::string reason) -> std::optional<server_event> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return reject("not valid JSON");
  if (!j.is_object()) return reject("not a JSON object");
  auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string()) return reject("no string `type`");

  server_event ev;
  ev.wire_type = type_it->get<std::string>();
  const std::string& type = ev.wire_type;
  using kind = server_event::kind;

  // A function call is reported once, from whichever of arguments.done and
  // output_item.done comes first with both a name and arguments.
  auto tool_call = [&](std::string call_id, std::string name, std::string arguments) {
    if (call_id.empty() || name.empty() ||
        std::find(reported_calls_.begin(), reported_calls_.end(), call_id) != reported_calls_.end()) {
      ev.type = kind::known_unused;
      return;
    }
    reported_calls_.push_back(call_id);
    if (reported_calls_.size() > remembered_items) reported_calls_.pop_front();
    ev.type = kind::tool_call;
    ev.call_id = std::move(call_id);
    ev.name = std::move(name);
    ev.arguments = std::move(arguments);
  };
  auto remember_function = [&](const json& item) {
    if (string_at(item, "type") != "function_call") return;
    function_names_[string_at(item, "id")] = string_at(item, "name");
    if (function_names_.size() > remembered_items) function_names_.erase(function_names_.begin());
  };

  if (type == "session.created") {
    ev.type = kind::session_created;
  } else if (type == "session.updated") {
    ev.type = kind::session_updated;
  } else if (type == "input_audio_buffer.speech_started" || type == "input_audio_buffer.speech_stopped") {
    const bool started = type == "input_audio_buffer.speech_started";
    ev.type = started ? kind::speech_started : kind::speech_stopped;
    ev.item_id = string_at(j, "item_id");
    ev.audio_ms = int_at(j, started ? "audio_start_ms" : "audio_end_ms");
  } else if (type == "input_audio_buffer.committed") {
    ev.type = kind::committed;
    ev.item_id = string_at(j, "item_id");
  } else if (type == "conversation.item.added" || type == "conversation.item.created" ||
             type == "conversation.item.done") {
    const json* item = object_at(j, "item");
    if (!item) return reject(type + " without an `item` object");
    ev.type = type == "conversation.item.done" ? kind::item_done : kind::item_added;
    ev.item_id = string_at(*item, "id");
    ev.role = string_at(*item, "role");
    remember_function(*item);
  } else if (type == "response.created") {
    const json* response = object_at(j, "response");
    if (!response) return reject("response.created without a `response` object");
    ev.type = kind::response_created;
    ev.response_id = string_at(*response, "id");
  } else if (type == "response.done") {
    const json* response = object_at(j, "response");
    if (!response) return reject("response.done without a `response` object");
    ev.type = kind::response_done;
    ev.response_id = string_at(*response, "id");
    ev.status = string_at(*response, "status");
    if (const json* details = object_at(*response, "status_details")) {
      ev.reason = string_at(*details, "reason");
      if (const json* error = object_at(*details, "error")) {
        ev.error.type = string_at(*error, "type");
        ev.error.code = string_at(*error, "code");
        ev.error.message = string_at(*error, "message");
      }
    }
    if (const json* usage = object_at(*response, "usage")) {
      ev.tokens.input_tokens = static_cast<std::uint64_t>(std::max<std::int64_t>(0, int_at(*usage, "input_tokens")));
      ev.tokens.output_tokens = static_cast<std::uint64_t>(std::max<std::int64_t>(0, int_at(*usage, "output_tokens")));
      if (const json* in = object_at(*usage, "input_token_details"))
        ev.tokens.input_audio_tokens = static_cast<std::uint64_t>(std::max<std::int64_t>(0, int_at(*in, "audio_tokens")));
      if (const json* out = object_at(*usage, "output_token_details"))
        ev.tokens.output_audio_tokens = static_cast<std::uint64_t>(std::max<std::int64_t>(0, int_at(*out, "audio_tokens")));
    }
  } else if (type == "response.output_audio.delta" || type == "response.audio.delta") {
    auto delta = j.find("delta");
    if (delta == j.end() || !delta->is_string()) return reject(type + " without a string `delta`");
    std::vector<std::uint8_t> bytes;
    if (!detail::base64_decode(delta->get_ref<const std::string&>(), bytes))
      return reject(type + " with invalid base64 audio");
    ev.type = kind::audio_delta;
    ev.item_id = string_at(j, "item_id");
    ev.response_id = string_at(j, "response_id");
    count_received(ev.item_id, bytes.size());
    if (wire_ == wire_audio::pcmu) {
      ev.pcm.resize(bytes.size());
      audio::ulaw_decode(bytes, ev.pcm);
    } else {
      std::vector<std::int16_t> wide;
      wide.reserve(bytes.size() / 2 + 1);
      std::size_t i = 0;
      if (odd_byte_ && !bytes.empty()) {
        wide.push_back(static_cast<std::int16_t>(*odd_byte_ | (bytes[0] << 8)));
        odd_byte_.reset();
        i = 1;
      }
      for (; i + 1 < bytes.size(); i += 2)
        wide.push_back(static_cast<std::int16_t>(bytes[i] | (bytes[i + 1] << 8)));
      if (i < bytes.size()) odd_byte_ = bytes[i];
      down_->process(wide, ev.pcm);
    }
  } else if (type == "response.output_audio.done" || type == "response.audio.done") {
    ev.type = kind::audio_done;
    ev.item_id = string_at(j, "item_id");
    ev.response_id = string_at(j, "response_id");
    odd_byte_.reset();
  } else if (type == "response.output_audio_transcript.done" || type == "response.audio_transcript.done") {
    ev.type = kind::assistant_transcript;
    ev.item_id = string_at(j, "item_id");
    ev.response_id = string_at(j, "response_id");
    ev.text = string_at(j, "transcript");
  } else if (type == "conversation.item.input_audio_transcription.completed") {
    ev.type = kind::caller_transcript;
    ev.item_id = string_at(j, "item_id");
    ev.text = string_at(j, "transcript");
  } else if (type == "response.output_item.added") {
    ev.type = kind::known_unused;
    if (const json* item = object_at(j, "item")) remember_function(*item);
  } else if (type == "response.function_call_arguments.done") {
    ev.item_id = string_at(j, "item_id");
    ev.response_id = string_at(j, "response_id");
    std::string name = string_at(j, "name");
    if (name.empty()) {
      auto known = function_names_.find(ev.item_id);
      if (known != function_names_.end()) name = known->second;
    }
    auto arguments = j.find("arguments");
    if (arguments == j.end() || !arguments->is_string()) return reject(type + " without string `arguments`");
    tool_call(string_at(j, "call_id"), std::move(name), arguments->get<std::string>());
  } else if (type == "response.output_item.done") {
    ev.type = kind::known_unused;
    const json* item = object_at(j, "item");
    if (item && string_at(*item, "type") == "function_call") {
      ev.item_id = string_at(*item, "id");
      ev.response_id = string_at(j, "response_id");
      tool_call(string_at(*item, "call_id"), string_at(*item, "name"), string_at(*item, "arguments"));
      function_names_.erase(ev.item_id);
    }
  } else if (type == "rate_limits.updated") {
    ev.type = kind::rate_limits;
    auto limits = j.find("rate_limits");
    if (limits != j.end() && limits->is_array()) {
      for (const auto& l : *limits) {
        if (!l.is_object()) continue;
        rate_limit r;
        r.name = string_at(l, "name");
        r.limit = int_at(l, "limit");
        r.remaining = int_at(l, "remaining");
        auto reset = l.find("reset_seconds");
        if (reset != l.end() && reset->is_number()) r.reset_seconds = reset->get<double>();
        ev.limits.push_back(std::move(r));
      }
    }
  } else if (type == "error") {
    const json* error = object_at(j, "error");
    if (!error) return reject("error event without an `error` object");
    ev.type = kind::error;
    ev.error.type = string_at(*error, "type");
    ev.error.code = string_at(*error, "code");
    ev.error.message = string_at(*error, "message");
  } else {
    ev.type = is_known_unused(type) ? kind::known_unused : kind::unknown;
  }
  return ev;
}

}  // namespace npcl::realtime
