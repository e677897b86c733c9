#pragma once
// The classic GMM VAD is exported by libwebrtc-audio-processing but its
// header is not installed; these declarations match the library's C ABI.
#include <cstddef>
#include <cstdint>

extern "C" {
struct WebRtcVadInst;
WebRtcVadInst* WebRtcVad_Create();
void WebRtcVad_Free(WebRtcVadInst* handle);
int WebRtcVad_Init(WebRtcVadInst* handle);
int WebRtcVad_set_mode(WebRtcVadInst* handle, int mode);
/// 1 voiced, 0 not, -1 error; 8/16/32/48 kHz, 10/20/30 ms frames.
int WebRtcVad_Process(WebRtcVadInst* handle, int fs, const std::int16_t* audio_frame, std::size_t frame_length);
}
