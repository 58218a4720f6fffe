// SPDX-License-Identifier: Apache-2.0
// libsamplerate 0.2 (Debian 12): sample rate conversion.
#include <samplerate.h>
