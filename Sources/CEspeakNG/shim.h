// SPDX-License-Identifier: Apache-2.0
// espeak-ng 1.51 (Debian 12): the classic speak_lib API (process-global state, synchronous mode).
#include <espeak-ng/speak_lib.h>
