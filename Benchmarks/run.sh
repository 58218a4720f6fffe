#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make bench`: build Hub and OneBotLoad in release mode, start an instant fake LLM upstream
# and the hub (start-up shared with web.sh and gateway.sh in lib.sh), then run three OneBot 11
# load scenarios and print a summary table. See Benchmarks/README.md. Tunables (environment):
#   BENCH_EVENTS        events per closed-loop scenario          (default 20000)
#   BENCH_WARMUP        warm-up events before each measurement   (default 2000)
#   BENCH_RATE          open-loop rate, events/s                 (default 1000)
#   BENCH_RATE_SECONDS  open-loop duration, s                    (default 10)
#   BENCH_SKIP_BUILD=1  use the existing .build/release binaries
#   BENCH_HUB           hub executable to measure                (default .build/release/hub)
#   BENCH_PIN=1         pin the hub to CPU 0 and the load generator + upstream to CPU 1
#   BENCH_OUT           where results and logs are copied        (default .build/bench)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
EVENTS=${BENCH_EVENTS:-20000}
WARMUP=${BENCH_WARMUP:-2000}
RATE=${BENCH_RATE:-1000}
RATE_SECONDS=${BENCH_RATE_SECONDS:-10}
TOKEN=bench

bench_setup
bench_start_upstream
bench_start_hub HUB_ONEBOT_ACCESS_TOKEN="$TOKEN" HUB_CHAT_RATE_LIMIT_PER_USER=off HUB_CHAT_RATE_LIMIT_PER_GROUP=off

# The scenarios. A failed scenario is reported and the others still run.
scenario() {
    local label=$1
    shift
    bench_measure "$label" "$HUB_PID" run --url "ws://127.0.0.1:$HUB_PORT/onebot/v11/ws" --token "$TOKEN" "$@"
}

# Distinct user ranges keep one scenario's conversation history out of the next.
scenario closed-1x64 --bots 1 --users 64 --events "$EVENTS" --warmup "$WARMUP" --user-id 1000000000
scenario closed-4x256 --bots 4 --users 256 --events "$EVENTS" --warmup "$WARMUP" --user-id 1100000000
scenario "open-${RATE}rps" --bots 4 --users 256 --rate "$RATE" --events $((RATE * RATE_SECONDS)) \
    --warmup "$RATE" --user-id 1200000000

bench_summary "Hub benchmark ($(date -u +%Y-%m-%d), $(nproc) CPU(s), hub idle RSS $IDLE_RSS MiB)"
exit "$BENCH_FAILED"
