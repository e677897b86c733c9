#include "obs/json_formatter.hpp"

#include <chrono>
#include <ctime>

#include "obs/call_scope.hpp"

namespace npcl::obs {
namespace {

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD

/// Length of the well-formed UTF-8 sequence starting at text[i] (Unicode
/// Table 3-7: no overlongs, no surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  std::size_t length = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

void append(spdlog::memory_buf_t& out, std::string_view s) { out.append(s.data(), s.data() + s.size()); }

void append_control_escape(unsigned char c, spdlog::memory_buf_t& out) {
  switch (c) {
    case '\n': append(out, "\\n"); return;
    case '\r': append(out, "\\r"); return;
    case '\t': append(out, "\\t"); return;
    case '\b': append(out, "\\b"); return;
    case '\f': append(out, "\\f"); return;
    default: {
      static constexpr char hex[] = "0123456789abcdef";
      const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0f]};
      append(out, std::string_view(escaped, sizeof escaped));
    }
  }
}

void append_key(spdlog::memory_buf_t& out, std::string_view key, std::string_view value) {
  append(out, ",\"");
  append(out, key);
  append(out, "\":\"");
  append_json_escaped(value, out);
  out.push_back('"');
}

}  // namespace

void append_json_escaped(std::string_view text, spdlog::memory_buf_t& out) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c < 0x20 || c == 0x7f) {
        append_control_escape(c, out);
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    if (const std::size_t n = utf8_sequence_length(text, i); n != 0) {
      append(out, text.substr(i, n));
      i += n;
    } else {
      append(out, replacement_character);
      ++i;
    }
  }
}

void append_text_escaped(std::string_view text, spdlog::memory_buf_t& out) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      append_control_escape(c, out);
    } else {
      out.push_back(ch);
    }
  }
}

std::string_view level_name(spdlog::level::level_enum level) noexcept {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

void json_formatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using namespace std::chrono;
  const auto since_epoch = msg.time.time_since_epoch();
  const auto secs = duration_cast<seconds>(since_epoch);
  const auto millis = duration_cast<milliseconds>(since_epoch - secs).count();
  const std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm utc{};
  gmtime_r(&t, &utc);
  fmt::format_to(std::back_inserter(dest), R"({{"ts":"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z","level":")",
                 utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                 static_cast<int>(millis));
  append(dest, level_name(msg.level));
  append(dest, R"(","msg":")");
  append_json_escaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  dest.push_back('"');
  if (const log_context* ctx = call_scope::current()) {
    append_key(dest, "call_id", ctx->call_id);
    append_key(dest, "channel_id", ctx->channel_id);
  }
  append(dest, "}\n");
}

std::unique_ptr<spdlog::formatter> json_formatter::clone() const { return std::make_unique<json_formatter>(); }

}  // namespace npcl::obs
