/* Reference baseline: 10 ms log energy against a tracked noise floor (falls fast, rises 2 dB/s).
 * Speech when energy > floor + THRESH_DB and > -60 dBFS. usage: vad_energy THRESH_DB files... */
#include "common.h"
#include <math.h>

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s THRESH_DB files...\n", argv[0]); return 2; }
    double thr = atof(argv[1]);
    for (int a = 2; a < argc; a++) {
        size_t n;
        int16_t *x = read_raw(argv[a], &n);
        size_t nblocks = n / BLOCK;
        char *d = malloc(nblocks + 1);
        double t0 = cpu_now_us();
        double floor_db = 0;
        for (size_t b = 0; b < nblocks; b++) {
            double e = 0;
            for (int i = 0; i < BLOCK; i++) { double v = x[b * BLOCK + i]; e += v * v; }
            double db = 10 * log10(e / BLOCK + 1e-3) - 90.309; /* dBFS */
            if (b == 0) floor_db = db;
            if (db < floor_db) floor_db += 0.5 * (db - floor_db);
            else floor_db += fmin(0.02, 0.05 * (db - floor_db));
            d[b] = (db > floor_db + thr && db > -60) ? '1' : '0';
        }
        total_cpu_us += cpu_now_us() - t0;
        total_audio_s += (double)n / RATE;
        print_decisions(argv[a], d, nblocks);
        free(d);
        free(x);
    }
    print_cpu();
    return 0;
}
