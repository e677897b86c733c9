#pragma once

namespace npcl::tools {

class registry;

/// Adds the call-control tools, which run inline on the call's strand:
/// end_call {reason?}, transfer_to_agent {reason?}, set_language {language: en-IN|hi-IN|bho-IN|bn-IN}.
/// Throws std::invalid_argument if one of them is already registered.
void add_call_tools(registry& r);

}  // namespace npcl::tools
