#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make bench`: build Hub and OneBotLoad in release mode, start an instant fake LLM upstream
# and the hub, then run three OneBot 11 load scenarios and print a summary table.
# See Benchmarks/README.md. Tunables (environment):
#   BENCH_EVENTS        events per closed-loop scenario          (default 20000)
#   BENCH_WARMUP        warm-up events before each measurement   (default 2000)
#   BENCH_RATE          open-loop rate, events/s                 (default 1000)
#   BENCH_RATE_SECONDS  open-loop duration, s                    (default 10)
#   BENCH_SKIP_BUILD=1  use the existing .build/release binaries
#   BENCH_HUB           hub executable to measure                (default .build/release/hub)
#   BENCH_PIN=1         pin the hub to CPU 0 and the load generator + upstream to CPU 1
#   BENCH_OUT           where results and logs are copied        (default .build/bench)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
BIN="$ROOT/.build/release"
EVENTS=${BENCH_EVENTS:-20000}
WARMUP=${BENCH_WARMUP:-2000}
RATE=${BENCH_RATE:-1000}
RATE_SECONDS=${BENCH_RATE_SECONDS:-10}
OUT=${BENCH_OUT:-$ROOT/.build/bench}
HUB_BIN=${BENCH_HUB:-$BIN/hub}
TOKEN=bench

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hub-bench.XXXXXX")
PIDS=()

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        # Give each process 5 s to exit cleanly, then kill it.
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    mkdir -p "$OUT"
    cp "$WORK"/*.log "$WORK"/*.out "$WORK"/results.jsonl "$OUT"/ 2>/dev/null || true
    rm -rf "$WORK"
    if [[ $status -ne 0 ]]; then
        echo "bench: failed (exit $status); logs are in $OUT" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Command prefixes that pin the hub to CPU 0 and everything else to CPU 1 (BENCH_PIN=1).
HUB_PIN=()
LOAD_PIN=()
if [[ ${BENCH_PIN:-0} == 1 ]] && command -v taskset >/dev/null; then
    HUB_PIN=(taskset -c 0)
    LOAD_PIN=(taskset -c 1)
fi

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    echo "bench: building release binaries (this takes several minutes the first time)"
    swift build -c release --product hub
    swift build -c release --product OneBotLoad
fi
LOAD="$BIN/OneBotLoad"

# 1. The fake upstream, on a port of its own choosing.
"${LOAD_PIN[@]}" "$LOAD" upstream --port 0 >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)
UPSTREAM_PID=$!
UPSTREAM_PORT=
for _ in $(seq 100); do
    UPSTREAM_PORT=$(sed -n 's/^upstream listening on \([0-9][0-9]*\)$/\1/p' "$WORK/upstream.log")
    [[ -n $UPSTREAM_PORT ]] && break
    kill -0 "$UPSTREAM_PID" 2>/dev/null || { cat "$WORK/upstream.log" >&2; exit 1; }
    sleep 0.1
done
[[ -n $UPSTREAM_PORT ]] || { echo "bench: upstream did not start" >&2; exit 1; }
echo "bench: upstream on 127.0.0.1:$UPSTREAM_PORT"

# 2. The hub, with a throwaway database.
HUB_PORT=$("$LOAD" free-port)
env HUB_SERVER_PORT="$HUB_PORT" \
    HUB_SERVER_HOST=127.0.0.1 \
    HUB_STORAGE_SQLITE_PATH="$WORK/bench.sqlite" \
    HUB_ONEBOT_ACCESS_TOKEN="$TOKEN" \
    OPENAI_BASE_URL="http://127.0.0.1:$UPSTREAM_PORT/v1" \
    OPENAI_API_KEY=bench \
    HUB_LLM_MODEL=bench-model \
    HUB_CHAT_RATE_LIMIT_PER_USER=off \
    HUB_CHAT_RATE_LIMIT_PER_GROUP=off \
    LOG_LEVEL=warning \
    "${HUB_PIN[@]}" "$HUB_BIN" serve >"$WORK/hub.log" 2>&1 &
PIDS+=($!)
HUB_PID=$!

ready=0
for _ in $(seq 300); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$HUB_PORT/health" 2>/dev/null; then
        ready=1
        break
    fi
    kill -0 "$HUB_PID" 2>/dev/null || break
    sleep 0.1
done
if [[ $ready != 1 ]]; then
    echo "bench: the hub did not become healthy on port $HUB_PORT; last log lines:" >&2
    tail -n 30 "$WORK/hub.log" >&2
    exit 1
fi
sleep 1
IDLE_RSS=$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$HUB_PID/status" 2>/dev/null || true)
IDLE_RSS=${IDLE_RSS:-?}
echo "bench: hub pid $HUB_PID on 127.0.0.1:$HUB_PORT, idle RSS ${IDLE_RSS} MiB, $(nproc) CPU(s)"

# 3. The scenarios. A failed scenario is reported and the others still run.
failed=0
scenario() {
    local label=$1
    shift
    echo
    if ! "${LOAD_PIN[@]}" "$LOAD" run --url "ws://127.0.0.1:$HUB_PORT/onebot/v11/ws" --token "$TOKEN" \
        --hub-pid "$HUB_PID" --label "$label" --json "$@" | tee "$WORK/$label.out"; then
        echo "bench: scenario $label failed" >&2
        failed=1
    fi
    grep '^{' "$WORK/$label.out" >>"$WORK/results.jsonl" || true
}

# Distinct user ranges keep one scenario's conversation history out of the next.
scenario closed-1x64 --bots 1 --users 64 --events "$EVENTS" --warmup "$WARMUP" --user-id 1000000000
scenario closed-4x256 --bots 4 --users 256 --events "$EVENTS" --warmup "$WARMUP" --user-id 1100000000
scenario "open-${RATE}rps" --bots 4 --users 256 --rate "$RATE" --events $((RATE * RATE_SECONDS)) \
    --warmup "$RATE" --user-id 1200000000

echo
echo "Hub benchmark ($(date -u +%Y-%m-%d), $(nproc) CPU(s), hub idle RSS $IDLE_RSS MiB)"
echo
if [[ -s $WORK/results.jsonl ]]; then
    "$LOAD" summary "$WORK/results.jsonl"
fi
exit "$failed"
