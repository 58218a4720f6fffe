// SPDX-License-Identifier: Apache-2.0
// pocketsphinx "5prealpha" with sphinxbase (Debian 12): the old cmd_ln_t API, not pocketsphinx 5.x.
// err.h gives err_set_logfp, to silence sphinxbase's logging.
#include <pocketsphinx/pocketsphinx.h>
#include <sphinxbase/err.h>
