/* WebRTC VAD through the C++ AudioProcessing API (apm_shim.cc). usage: vad_apm LIKELIHOOD FRAME_MS files... */
#include "common.h"
#include "apm_shim.h"

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s LIKELIHOOD(0-3) FRAME_MS files...\n", argv[0]); return 2; }
    int lik = atoi(argv[1]), fms = atoi(argv[2]);
    for (int a = 3; a < argc; a++) {
        size_t n;
        int16_t *x = read_raw(argv[a], &n);
        size_t nblocks = n / BLOCK;
        char *d = malloc(nblocks + 1);
        double t0 = cpu_now_us();
        apm_vad *v = apm_vad_create(lik, fms); /* no reset call: a fresh APM per stream */
        if (!v) { fprintf(stderr, "apm_vad_create failed\n"); return 1; }
        for (size_t b = 0; b < nblocks; b++) {
            int r = apm_vad_process(v, x + b * BLOCK);
            if (r < 0) { fprintf(stderr, "ProcessStream error %d\n", r); return 1; }
            d[b] = r ? '1' : '0';
        }
        apm_vad_destroy(v);
        total_cpu_us += cpu_now_us() - t0;
        total_audio_s += (double)n / RATE;
        print_decisions(argv[a], d, nblocks);
        free(d);
        free(x);
    }
    print_cpu();
    return 0;
}
