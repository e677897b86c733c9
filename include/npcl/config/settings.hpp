#pragma once
#include "npcl/app/app_options.hpp"
#include "npcl/ari/ari_options.hpp"
#include "npcl/audio/audio_options.hpp"
#include "npcl/http/http_options.hpp"
#include "npcl/media/media_options.hpp"
#include "npcl/obs/obs_options.hpp"
#include "npcl/realtime/client_options.hpp"
#include "npcl/session/session_options.hpp"
#include "npcl/store/store_options.hpp"
#include "npcl/tools/tools_options.hpp"

namespace npcl::config {

/// Every module's options, parsed once at start-up and immutable afterwards.
struct settings {
  obs::log_options log;
  ari::ari_options ari;
  media::media_options media;
  realtime::client_options realtime;  ///< key and model in .service; transport around it
  audio::vad_options vad;
  session::session_options session;
  http::http_options http;
  app::app_options app;
  store::store_options store;
  tools::tools_options tools;  ///< where the customer-service tools get their answers
};

}  // namespace npcl::config
