#pragma once
#include <string>

#include "npcl/session/locale_library.hpp"
#include "npcl/session/session_options.hpp"

namespace npcl::session {

/// The system instructions for a call: persona ASSISTANT_NAME, NPCL's rules
/// (never invent amounts or statuses, read numbers digit by digit, offer a
/// human agent), and the language to speak (BCP 47, e.g. "hi-IN").
/// `words`, when given, adds the locale's own speaking instructions.
std::string assistant_instructions(const session_options& options, const std::string& language,
                                   const locale* words = nullptr);

/// What the greeting response is asked to say, in `language`.
/// With a locale, the model says the locale's greeting word for word.
std::string greeting_instructions(const session_options& options, const std::string& language,
                                  const locale* words = nullptr);

/// The language's English name ("Hindi" for hi-IN); the tag itself if unknown.
std::string language_name(const std::string& language);

}  // namespace npcl::session
