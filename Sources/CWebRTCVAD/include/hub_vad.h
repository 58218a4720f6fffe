/* SPDX-License-Identifier: Apache-2.0 */
/* The C face of WebRTC's voice activity detector, through the public C++ API of
   libwebrtc-audio-processing 0.3 (webrtc::AudioProcessing::voice_detection()), for Swift.
   16 kHz mono 16-bit audio in 10 ms frames (160 samples), the only frame size the API's VAD
   handles. One detector per stream, used by one thread at a time. */
#ifndef HUB_VAD_H
#define HUB_VAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A detector: an AudioProcessing instance with only voice detection on. */
typedef struct hub_vad hub_vad;

/** Samples in one frame: 10 ms at 16 kHz. */
#define HUB_VAD_FRAME_SAMPLES 160
/** The sample rate the detector takes. */
#define HUB_VAD_SAMPLE_RATE 16000

/** A new detector with `mode` 0 (flags the most as speech) to 3 (the most aggressive at calling
    audio non-speech), as WebRTC's VAD modes; NULL when out of memory or `mode` is out of range. */
hub_vad *hub_vad_create(int mode);

/** Changes the mode (0–3); 0 on success, -1 for a bad mode. The state is kept. */
int hub_vad_set_mode(hub_vad *vad, int mode);

/** Forgets everything heard (the noise model, the hangover), keeping the mode: afterwards the
    detector decides exactly as a new one would. 0 on success. */
int hub_vad_reset(hub_vad *vad);

/** Classifies one frame of `count` samples, which must be HUB_VAD_FRAME_SAMPLES: 1 speech,
    0 non-speech, negative on error (a wrong count, or the library's error code). */
int hub_vad_process(hub_vad *vad, const int16_t *samples, size_t count);

/** Frees the detector; NULL is ignored. */
void hub_vad_destroy(hub_vad *vad);

#ifdef __cplusplus
}
#endif

#endif
