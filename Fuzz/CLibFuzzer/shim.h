// SPDX-License-Identifier: Apache-2.0
// libFuzzer's entry for programs with their own main (compiler-rt, FuzzerInterface.h). The
// definition comes from the libFuzzer runtime that `--sanitize fuzzer` links; HubFuzz calls it
// only when built with -DHUB_FUZZING, so a plain build needs no definition.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
