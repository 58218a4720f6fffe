/* PocketSphinx 5prealpha / sphinxbase endpointing (the fe's noise-tracking VAD).
 * usage: vad_sphinx KIND VAD_THRESHOLD STARTSPEECH POSTSPEECH PRESPEECH files...
 *   KIND fe        : sphinxbase front end alone (fe_process_frames + fe_get_vad_state)
 *        ps        : full decoder, ps_process_raw(no_search=TRUE) + ps_get_in_speech
 *        ps-search : full decoder with the en-us LM search running, as the hub decodes
 * Audio is fed 160 samples (10 ms) at a time; the state is read after each block.
 * STARTSPEECH/POSTSPEECH 1/1 turns the state into the raw per-frame decision. */
#include "common.h"
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/fe.h>
#include <sphinxbase/cmd_ln.h>
#include <sphinxbase/ckd_alloc.h>

#define MODEL "/usr/share/pocketsphinx/model/en-us"

int main(int argc, char **argv) {
    if (argc < 7) { fprintf(stderr, "usage: %s fe|ps|ps-search THRESH START POST PRE files...\n", argv[0]); return 2; }
    const char *kind = argv[1];
    err_set_logfp(NULL);
    int use_fe = strcmp(kind, "fe") == 0, search = strcmp(kind, "ps-search") == 0;
    cmd_ln_t *config;
    fe_t *fe = NULL;
    ps_decoder_t *ps = NULL;
    mfcc_t **cep = NULL;
    if (use_fe) {
        /* the model's feat.params front-end values, as ps_init would read them */
        config = cmd_ln_init(NULL, fe_get_args(), TRUE, "-samprate", "16000", "-lowerf", "130", "-upperf", "6800",
                             "-nfilt", "25", "-transform", "dct", "-lifter", "22", "-vad_threshold", argv[2],
                             "-vad_startspeech", argv[3], "-vad_postspeech", argv[4], "-vad_prespeech", argv[5], NULL);
        fe = fe_init_auto_r(config);
        cep = (mfcc_t **)ckd_calloc_2d(64, fe_get_output_size(fe), sizeof(mfcc_t));
    } else {
        config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", MODEL "/en-us", "-dict", MODEL "/cmudict-en-us.dict",
                             "-lm", MODEL "/en-us.lm.bin", "-samprate", "16000", "-vad_threshold", argv[2],
                             "-vad_startspeech", argv[3], "-vad_postspeech", argv[4], "-vad_prespeech", argv[5], NULL);
        ps = ps_init(config);
    }
    if (!config || (use_fe ? !fe : !ps)) { fprintf(stderr, "init failed\n"); return 1; }
    for (int a = 6; a < argc; a++) {
        size_t n;
        int16_t *x = read_raw(argv[a], &n);
        size_t nblocks = n / BLOCK;
        char *d = malloc(nblocks + 1);
        double t0 = cpu_now_us();
        if (use_fe) { fe_start_stream(fe); fe_start_utt(fe); } /* stream: noise stats; utt: VAD state */
        else { ps_start_stream(ps); ps_start_utt(ps); }
        for (size_t b = 0; b < nblocks; b++) {
            const int16_t *p = x + b * BLOCK;
            if (use_fe) {
                size_t ns = BLOCK;
                while (ns > 0) {
                    int32 nfr = 64;
                    size_t before = ns;
                    fe_process_frames(fe, &p, &ns, cep, &nfr, NULL);
                    if (ns == before && nfr == 0) break;
                }
                d[b] = fe_get_vad_state(fe) ? '1' : '0';
            } else {
                if (ps_process_raw(ps, p, BLOCK, !search, FALSE) < 0) { fprintf(stderr, "process failed\n"); return 1; }
                d[b] = ps_get_in_speech(ps) ? '1' : '0';
            }
        }
        if (use_fe) { int32 nfr; fe_end_utt(fe, cep[0], &nfr); } else ps_end_utt(ps);
        total_cpu_us += cpu_now_us() - t0;
        total_audio_s += (double)n / RATE;
        print_decisions(argv[a], d, nblocks);
        free(d);
        free(x);
    }
    if (use_fe) { ckd_free_2d(cep); fe_free(fe); cmd_ln_free_r(config); } else { ps_free(ps); cmd_ln_free_r(config); }
    print_cpu();
    return 0;
}
