#pragma once
#include <string>

namespace npcl::tools {

/// What a tool may ask of the call it runs in; the session implements it.
/// Every method is called on the call's strand, never from a pool thread.
class call_actions {
 public:
  virtual ~call_actions() = default;
  /// Hang up once the assistant's current speech has finished playing.
  virtual void end_call_after_speech(std::string reason) = 0;
  /// Hand the caller to a human agent once the current sentence has played.
  virtual void transfer_after_speech(std::string reason) = 0;
  /// Switch the conversation language (BCP 47: en-IN hi-IN bho-IN bn-IN).
  virtual void set_language(std::string language) = 0;
  /// Our id of the call, so records a tool writes (complaints, connection requests) can be
  /// traced to the call they were taken on. Empty outside a call. Fixed for the call's life.
  virtual std::string call_id() const { return {}; }
};

}  // namespace npcl::tools
