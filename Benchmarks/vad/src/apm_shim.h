/* C face of a tiny C++ shim over webrtc::AudioProcessing's VoiceDetection (what a SwiftPM C++
 * target would expose to Swift if only the C++ API were usable). Not thread-safe: one per stream. */
#ifndef APM_SHIM_H
#define APM_SHIM_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
typedef struct apm_vad apm_vad;
/* likelihood 0..3 = kVeryLow..kHigh (very low ~ aggressive mode 3); frame_ms 10/20/30; rate 16000 */
apm_vad *apm_vad_create(int likelihood, int frame_ms);
/* exactly 10 ms (160 samples at 16 kHz): APM only takes 10 ms chunks. 1 voice, 0 none, <0 error */
int apm_vad_process(apm_vad *v, const int16_t *samples160);
void apm_vad_destroy(apm_vad *v);
#ifdef __cplusplus
}
#endif
#endif
