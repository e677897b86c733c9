#pragma once
#include <string>

namespace npcl::realtime {

/// The OpenAI Realtime connection (OPENAI_*, MAX_TOKENS, TEMPERATURE).
struct realtime_options {
  std::string api_key;                   ///< OPENAI_API_KEY (secret: never logged)
  std::string model = "gpt-realtime";    ///< OPENAI_MODEL
  std::string voice = "alloy";           ///< OPENAI_VOICE
  int max_tokens = 4096;                 ///< MAX_TOKENS: output tokens per response (1..4096)
  double temperature = 0.8;              ///< TEMPERATURE: only sent where the dialect has it
};

}  // namespace npcl::realtime
