/* Shared helpers for the VAD test programs: read a raw s16le 16 kHz mono file, time the VAD
 * work only (CPU time of this process), print one line per file:
 *   <path> <string of '0'/'1', one character per 10 ms block: the VAD's state known at the end of that block>
 * and a last line "#cpu <microseconds of CPU in VAD calls> <seconds of audio>". */
#ifndef VAD_EVAL_COMMON_H
#define VAD_EVAL_COMMON_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE 16000
#define BLOCK 160 /* 10 ms */

static int16_t *read_raw(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    int16_t *x = malloc((size_t)bytes + 2 * RATE);
    *n = fread(x, 2, (size_t)bytes / 2, f);
    fclose(f);
    return x;
}

static double cpu_now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double total_cpu_us, total_audio_s;

static void print_decisions(const char *path, const char *d, size_t nblocks) {
    printf("%s ", path);
    fwrite(d, 1, nblocks, stdout);
    putchar('\n');
}

static void print_cpu(void) { printf("#cpu %.0f %.3f\n", total_cpu_us, total_audio_s); }
#endif
