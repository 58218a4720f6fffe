/* speexdsp's preprocessor VAD. usage: vad_speex FRAME_MS PROB_START PROB_CONTINUE DENOISE(0|1) files...
 * PROB_* are percentages as SPEEX_PREPROCESS_SET_PROB_START/_CONTINUE take them (defaults 35/20). */
#include "common.h"
#include <speex/speex_preprocess.h>

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: %s FRAME_MS PROB_START PROB_CONTINUE DENOISE files...\n", argv[0]); return 2; }
    int flen = atoi(argv[1]) * RATE / 1000;
    spx_int32_t start = atoi(argv[2]), cont = atoi(argv[3]), denoise = atoi(argv[4]), on = 1;
    for (int a = 5; a < argc; a++) {
        size_t n;
        int16_t *x = read_raw(argv[a], &n);
        size_t nblocks = n / BLOCK;
        char *d = malloc(nblocks + 1);
        memset(d, '0', nblocks);
        double t0 = cpu_now_us();
        /* no reset ctl exists: a fresh stream needs a fresh state */
        SpeexPreprocessState *st = speex_preprocess_state_init(flen, RATE);
        speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_VAD, &on);
        speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_DENOISE, &denoise);
        speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_PROB_START, &start);
        speex_preprocess_ctl(st, SPEEX_PREPROCESS_SET_PROB_CONTINUE, &cont);
        for (size_t s = 0; s + flen <= n; s += flen) {
            /* run() works in place (it denoises x when DENOISE is on) */
            if (speex_preprocess_run(st, x + s)) memset(d + s / BLOCK, '1', flen / BLOCK);
        }
        speex_preprocess_state_destroy(st);
        total_cpu_us += cpu_now_us() - t0;
        total_audio_s += (double)n / RATE;
        print_decisions(argv[a], d, nblocks);
        free(d);
        free(x);
    }
    print_cpu();
    return 0;
}
