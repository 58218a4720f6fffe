// SPDX-License-Identifier: Apache-2.0
#include "apm_shim.h"
#include <cstring>
#include <webrtc/modules/audio_processing/include/audio_processing.h>
#include <webrtc/modules/interface/module_common_types.h>

struct apm_vad {
    webrtc::AudioProcessing *apm;
    webrtc::AudioFrame frame;
};

extern "C" apm_vad *apm_vad_create(int likelihood, int frame_ms) {
    apm_vad *v = new apm_vad;
    v->apm = webrtc::AudioProcessing::Create();
    if (!v->apm) { delete v; return nullptr; }
    webrtc::VoiceDetection *vd = v->apm->voice_detection();
    if (vd->Enable(true) != 0 ||
        vd->set_likelihood(static_cast<webrtc::VoiceDetection::Likelihood>(likelihood)) != 0 ||
        vd->set_frame_size_ms(frame_ms) != 0) {
        delete v->apm;
        delete v;
        return nullptr;
    }
    v->frame.sample_rate_hz_ = 16000;
    v->frame.num_channels_ = 1;
    v->frame.samples_per_channel_ = 160;
    return v;
}

extern "C" int apm_vad_process(apm_vad *v, const int16_t *samples160) {
    std::memcpy(v->frame.data_, samples160, 160 * sizeof(int16_t));
    v->frame.sample_rate_hz_ = 16000;
    v->frame.num_channels_ = 1;
    v->frame.samples_per_channel_ = 160;
    int err = v->apm->ProcessStream(&v->frame);
    if (err != 0) return err < 0 ? err : -err;
    return v->apm->voice_detection()->stream_has_voice() ? 1 : 0;
}

extern "C" void apm_vad_destroy(apm_vad *v) {
    delete v->apm;
    delete v;
}
