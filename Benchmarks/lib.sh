# SPDX-License-Identifier: Apache-2.0
#
# Shared start-up of the hub benchmarks (run.sh, web.sh, gateway.sh). Source it, then:
#   bench_setup [SUBDIR]         paths, the exit trap, CPU pinning, open-file limit, release build;
#                                results go to $BENCH_OUT[/SUBDIR]
#   bench_start_upstream         the instant fake LLM upstream      -> UPSTREAM_PORT, UPSTREAM_PID
#   bench_start_hub [VAR=value…] a release hub using that upstream  -> HUB_PORT, HUB_PID, IDLE_RSS
#   bench_measure LABEL PID SUBCOMMAND [ARG…]
#                                one OneBotLoad measurement; PID is the process whose RSS and CPU
#                                it reports; its JSON line goes to results.jsonl, a failure sets
#                                BENCH_FAILED=1 and the script carries on
#   bench_summary TITLE          the title and the Markdown tables of every measurement
# Everything started is killed on exit, and logs, outputs and results.jsonl are copied to the
# results folder. Environment:
#   BENCH_SKIP_BUILD=1  use the existing .build/release binaries
#   BENCH_HUB           hub executable to measure                (default .build/release/hub)
#   BENCH_PIN=1         pin the hub to CPU 0 and the load generator + upstream to CPU 1
#   BENCH_OUT           where results and logs are copied        (default .build/bench)

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
BIN="$ROOT/.build/release"
LOAD="$BIN/OneBotLoad"
HUB_BIN=${BENCH_HUB:-$BIN/hub}
PIDS=()
BENCH_FAILED=0

bench_cleanup() {
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

bench_setup() {
    OUT=${BENCH_OUT:-$ROOT/.build/bench}${1:+/$1}
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/hub-bench.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    # Command prefixes that pin the hub to CPU 0 and everything else to CPU 1 (BENCH_PIN=1).
    HUB_PIN=()
    LOAD_PIN=()
    if [[ ${BENCH_PIN:-0} == 1 ]] && command -v taskset >/dev/null; then
        HUB_PIN=(taskset -c 0)
        LOAD_PIN=(taskset -c 1)
    fi

    # Every connection is a file descriptor, in the hub and in the load generator.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

    if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
        echo "bench: building release binaries (this takes several minutes the first time)"
        swift build -c release --product hub
        swift build -c release --product OneBotLoad
    fi
}

bench_start_upstream() {
    # Created first: the loop below may read it before the background process has opened it.
    : >"$WORK/upstream.log"
    "${LOAD_PIN[@]}" "$LOAD" upstream --port 0 >>"$WORK/upstream.log" 2>&1 &
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
}

# The hub with a throwaway database, the upstream as its only LLM, and the given extra settings.
bench_start_hub() {
    HUB_PORT=$("$LOAD" free-port)
    env HUB_SERVER_PORT="$HUB_PORT" \
        HUB_SERVER_HOST=127.0.0.1 \
        HUB_STORAGE_SQLITE_PATH="$WORK/bench.sqlite" \
        OPENAI_BASE_URL="http://127.0.0.1:$UPSTREAM_PORT/v1" \
        OPENAI_API_KEY=bench \
        HUB_LLM_MODEL=bench-model \
        LOG_LEVEL=warning \
        "$@" \
        "${HUB_PIN[@]}" "$HUB_BIN" serve >"$WORK/hub.log" 2>&1 &
    PIDS+=($!)
    HUB_PID=$!

    local ready=0
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
}

bench_measure() {
    local label=$1 pid=$2 subcommand=$3
    shift 3
    echo
    if ! "${LOAD_PIN[@]}" "$LOAD" "$subcommand" --hub-pid "$pid" --label "$label" --json "$@" | tee "$WORK/$label.out"; then
        echo "bench: scenario $label failed" >&2
        BENCH_FAILED=1
    fi
    grep '^{' "$WORK/$label.out" >>"$WORK/results.jsonl" || true
}

bench_summary() {
    echo
    echo "$1"
    echo
    if [[ -s $WORK/results.jsonl ]]; then
        "$LOAD" summary "$WORK/results.jsonl"
    fi
}
