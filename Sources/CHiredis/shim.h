// SPDX-License-Identifier: Apache-2.0
// hiredis 0.14 (Debian 12): RESP encoding (redisFormatCommandArgv) and the reply reader.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
