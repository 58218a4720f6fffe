// SPDX-License-Identifier: Apache-2.0
// WebRTC's VAD through AudioProcessing, the public C++ API of libwebrtc-audio-processing 0.3.
// Measured against labelled audio (/work/notes/VAD.md): its decisions equal the library's
// WebRtcVad_* C functions, block for block, with likelihood kVeryLow..kHigh for modes 3..0.
#include "hub_vad.h"

#include <cstring>
#include <new>

#include <webrtc/modules/audio_processing/include/audio_processing.h>
#include <webrtc/modules/interface/module_common_types.h>

struct hub_vad {
    webrtc::AudioProcessing *apm;
    webrtc::AudioFrame frame;
};

// The likelihood that gives WebRTC VAD mode `mode`: the order is reversed (mode 3, the most
// aggressive, is the lowest likelihood of declaring voice).
static bool likelihood(int mode, webrtc::VoiceDetection::Likelihood *out) {
    switch (mode) {
    case 0: *out = webrtc::VoiceDetection::kHighLikelihood; return true;
    case 1: *out = webrtc::VoiceDetection::kModerateLikelihood; return true;
    case 2: *out = webrtc::VoiceDetection::kLowLikelihood; return true;
    case 3: *out = webrtc::VoiceDetection::kVeryLowLikelihood; return true;
    default: return false;
    }
}

extern "C" hub_vad *hub_vad_create(int mode) {
    webrtc::VoiceDetection::Likelihood wanted;
    if (!likelihood(mode, &wanted)) return nullptr;
    hub_vad *vad = new (std::nothrow) hub_vad;
    if (vad == nullptr) return nullptr;
    vad->apm = webrtc::AudioProcessing::Create();
    // Everything else of the APM (echo control, gain, noise suppression, high-pass) is off by
    // default; only 10 ms frames work (set_frame_size_ms(20 or 30) makes every frame voice).
    if (vad->apm == nullptr || vad->apm->voice_detection()->Enable(true) != 0 ||
        vad->apm->voice_detection()->set_likelihood(wanted) != 0 ||
        vad->apm->voice_detection()->set_frame_size_ms(10) != 0) {
        delete vad->apm;
        delete vad;
        return nullptr;
    }
    return vad;
}

extern "C" int hub_vad_set_mode(hub_vad *vad, int mode) {
    webrtc::VoiceDetection::Likelihood wanted;
    if (!likelihood(mode, &wanted)) return -1;
    return vad->apm->voice_detection()->set_likelihood(wanted) == 0 ? 0 : -1;
}

extern "C" int hub_vad_reset(hub_vad *vad) {
    // Initialize() re-creates the components' state and keeps their settings: the decisions that
    // follow equal a new detector's (checked on the evaluation's noisy streams).
    return vad->apm->Initialize() == 0 ? 0 : -1;
}

extern "C" int hub_vad_process(hub_vad *vad, const int16_t *samples, size_t count) {
    if (count != HUB_VAD_FRAME_SAMPLES) return -1;
    webrtc::AudioFrame &frame = vad->frame;
    // ProcessStream may change the frame (and its fields): set them all every time.
    frame.sample_rate_hz_ = HUB_VAD_SAMPLE_RATE;
    frame.num_channels_ = 1;
    frame.samples_per_channel_ = HUB_VAD_FRAME_SAMPLES;
    std::memcpy(frame.data_, samples, HUB_VAD_FRAME_SAMPLES * sizeof(int16_t));
    int error = vad->apm->ProcessStream(&frame);
    if (error != 0) return error < 0 ? error : -error;
    return vad->apm->voice_detection()->stream_has_voice() ? 1 : 0;
}

extern "C" void hub_vad_destroy(hub_vad *vad) {
    if (vad == nullptr) return;
    delete vad->apm;
    delete vad;
}
