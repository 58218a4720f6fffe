#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make bench` (third part): the web chat door. Starts the instant fake LLM upstream and a release
# hub (lib.sh), holds many idle chat WebSockets open to measure the hub's memory per client, then
# runs closed-loop streamed chat turns, and prints a summary. See Benchmarks/README.md.
# Tunables (environment):
#   BENCH_WEB_IDLE_CLIENTS  idle clients held open                  (default 10000)
#   BENCH_WEB_IDLE_HOLD     seconds they are held                   (default 10)
#   BENCH_WEB_BATCH         handshakes in progress at once          (default 500)
#   BENCH_WEB_CLIENTS       clients of the turn scenario            (default 64)
#   BENCH_WEB_TURNS         measured turns                          (default 20000)
#   BENCH_WEB_WARMUP        warm-up turns                           (default 2000)
#   BENCH_SKIP_BUILD, BENCH_HUB, BENCH_PIN as in run.sh; results go to $BENCH_OUT/web
#   (default .build/bench/web)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
IDLE_CLIENTS=${BENCH_WEB_IDLE_CLIENTS:-10000}
IDLE_HOLD=${BENCH_WEB_IDLE_HOLD:-10}
BATCH=${BENCH_WEB_BATCH:-500}
CLIENTS=${BENCH_WEB_CLIENTS:-64}
TURNS=${BENCH_WEB_TURNS:-20000}
WARMUP=${BENCH_WEB_WARMUP:-2000}

bench_setup web
bench_start_upstream
bench_start_hub HUB_WEB_RATE_LIMIT=off HUB_WEB_MAX_CONNECTIONS=$((IDLE_CLIENTS + CLIENTS + 1000)) \
    HUB_CHAT_RATE_LIMIT_PER_USER=off HUB_CHAT_RATE_LIMIT_PER_GROUP=off
echo "bench: open-file limit $(ulimit -n) (the hub and the load generator each need one per client)"

URL="ws://127.0.0.1:$HUB_PORT/ws/chat"
# The idle clients go first, on a fresh hub, so the RSS before them is the hub's own.
bench_measure "web-idle-$IDLE_CLIENTS" "$HUB_PID" web-idle --url "$URL" --clients "$IDLE_CLIENTS" \
    --batch "$BATCH" --hold "$IDLE_HOLD"
bench_measure "web-turns-closed-$CLIENTS" "$HUB_PID" web-turns --url "$URL" --clients "$CLIENTS" \
    --turns "$TURNS" --warmup "$WARMUP"

bench_summary "Web chat benchmark ($(date -u +%Y-%m-%d), $(nproc) CPU(s), hub idle RSS $IDLE_RSS MiB)"
exit "$BENCH_FAILED"
