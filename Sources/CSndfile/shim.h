// SPDX-License-Identifier: Apache-2.0
// libsndfile 1.2 (Debian 12): reading and writing WAV, FLAC, Ogg Vorbis, Ogg Opus and MP3 through virtual I/O.
#include <sndfile.h>
