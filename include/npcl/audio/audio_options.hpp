#pragma once

namespace npcl::audio {

/// Local voice detection (VAD_*).
struct vad_options {
  double energy_threshold = 0.01;  ///< VAD_ENERGY_THRESHOLD: RMS as a fraction of full scale (0..1)
};

}  // namespace npcl::audio
