/* WebRTC's GMM VAD (common_audio/vad) straight from Debian's libwebrtc_audio_processing.so.1:
 * its C symbols are exported but no header is shipped, so the prototypes are declared here
 * (checked against the disassembly of the 0.3 library: Create returns the instance).
 * usage: vad_webrtc MODE(0-3) FRAME_MS(10|20|30) files... */
#include "common.h"

typedef struct WebRtcVadInst VadInst;
VadInst *WebRtcVad_Create(void);
void WebRtcVad_Free(VadInst *handle);
int WebRtcVad_Init(VadInst *handle);
int WebRtcVad_set_mode(VadInst *handle, int mode);
int WebRtcVad_Process(VadInst *handle, int fs, const int16_t *audio_frame, size_t frame_length);
int WebRtcVad_ValidRateAndFrameLength(int rate, size_t frame_length);

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s MODE FRAME_MS files...\n", argv[0]); return 2; }
    int mode = atoi(argv[1]);
    size_t flen = (size_t)atoi(argv[2]) * RATE / 1000;
    if (WebRtcVad_ValidRateAndFrameLength(RATE, flen) != 0) { fprintf(stderr, "invalid frame length\n"); return 2; }
    VadInst *vad = WebRtcVad_Create();
    for (int a = 3; a < argc; a++) {
        size_t n;
        int16_t *x = read_raw(argv[a], &n);
        size_t nblocks = n / BLOCK;
        char *d = malloc(nblocks + 1);
        memset(d, '0', nblocks);
        double t0 = cpu_now_us();
        /* a fresh stream: Init resets all state and the mode (back to 0), so set_mode after it */
        if (WebRtcVad_Init(vad) != 0 || WebRtcVad_set_mode(vad, mode) != 0) { fprintf(stderr, "init/mode failed\n"); return 1; }
        for (size_t s = 0; s + flen <= n; s += flen) {
            int r = WebRtcVad_Process(vad, RATE, x + s, flen);
            if (r < 0) { fprintf(stderr, "process failed\n"); return 1; }
            if (r) memset(d + s / BLOCK, '1', flen / BLOCK);
        }
        total_cpu_us += cpu_now_us() - t0;
        total_audio_s += (double)n / RATE;
        print_decisions(argv[a], d, nblocks);
        free(d);
        free(x);
    }
    WebRtcVad_Free(vad);
    print_cpu();
    return 0;
}
