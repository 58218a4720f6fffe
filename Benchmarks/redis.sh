#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make bench` (second part): the hub's Redis client against `redis-benchmark` on the same private
# redis-server, unpipelined and pipelined, and the latency of an engine cache hit.
# Tunables (environment):
#   BENCH_REDIS_REQUESTS  commands per unpipelined run (default 400000); pipelined runs send 4 times
#                         as many, so that they too last a second or more
#   BENCH_REDIS_ROUNDS    alternating runs of each side per row; the medians count (default 7)
#   BENCH_REDIS_CLIENTS   concurrent callers / redis-benchmark connections (default 50)
#   BENCH_REDIS_PIPELINE  commands per pipeline in the pipelined runs (default 16)
#   BENCH_SKIP_BUILD=1    use the existing .build/release binaries
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="$(pwd)/.build/release"
REQUESTS=${BENCH_REDIS_REQUESTS:-400000}
ROUNDS=${BENCH_REDIS_ROUNDS:-7}
CLIENTS=${BENCH_REDIS_CLIENTS:-50}
PIPELINE=${BENCH_REDIS_PIPELINE:-16}

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    echo "bench: building RedisLoad in release mode"
    swift build -c release --product RedisLoad
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
workdir=$(mktemp -d "${TMPDIR:-/tmp}/hub-redis-bench.XXXXXX")
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$workdir" --daemonize no \
    --logfile "$workdir/redis.log" &
redis_pid=$!
cleanup() {
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    rm -rf "$workdir"
}
trap cleanup EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
URL="redis://127.0.0.1:$port/0"
echo "bench: redis-server $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p') on 127.0.0.1:$port, $(nproc) CPU(s)"

# redis-benchmark prints one CSV line per test: "SET","<rps>",…; the figure is the mean of SET and GET.
# Commands per run: pipelined runs are about ten times faster, so they get more commands.
requests() { if (($1 > 1)); then echo $((4 * REQUESTS)); else echo "$REQUESTS"; fi; }
reference() {
    redis-benchmark -p "$port" -t set,get -n "$(requests "$1")" -c "$CLIENTS" -P "$1" --csv 2>/dev/null |
        awk -F'"' '/^"(SET|GET)"/ { sum += $4; n++ } END { if (n) printf "%.0f", sum / n }'
}
ours() {
    "$BIN/RedisLoad" client --url "$URL" --clients "$CLIENTS" --requests "$(requests "$1")" --pipeline "$1" --pool "$2" |
        sed -n 's/.*"ops_per_second":\([0-9]*\).*/\1/p'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Each side runs ROUNDS times, alternating, and the medians count: the two share the machine with
# the server, and single runs move by a third (at times by half) from one to the next. The ratio
# is the median of each round's own ratio (its two runs are seconds apart, so a slow or fast spell
# of the machine touches both), with the lowest and highest round beside it.
row() {
    local label=$1 pipeline=$2 pool=$3
    local theirs mine ratios a=() b=() r=()
    for _ in $(seq "$ROUNDS"); do
        a+=("$(reference "$pipeline")")
        b+=("$(ours "$pipeline" "$pool")")
        r+=("$(awk -v a="${b[-1]}" -v b="${a[-1]}" 'BEGIN { printf "%.0f", 100 * a / b }')")
    done
    theirs=$(printf '%s\n' "${a[@]}" | median)
    mine=$(printf '%s\n' "${b[@]}" | median)
    ratios=$(printf '%s\n' "${r[@]}" | sort -n)
    printf '| %s | %s | %s | %s%% (%s–%s%%) |\n' "$label" "$theirs" "$mine" \
        "$(echo "$ratios" | median)" "$(echo "$ratios" | head -1)" "$(echo "$ratios" | tail -1)"
}

echo
echo "Redis client benchmark ($(date -u +%Y-%m-%d), $(nproc) CPU(s); SET+GET, $REQUESTS commands per run, $((4 * REQUESTS)) pipelined, $CLIENTS callers)"
echo
echo "| mode | redis-benchmark ops/s (median of $ROUNDS) | hub RedisClient ops/s (median of $ROUNDS) | ratio (median of rounds; range) |"
echo "|---|---|---|---|"
row "unpipelined (one awaited command per caller), pool 2" 1 2
row "unpipelined, pool 8" 1 8
row "pipelined ×$PIPELINE, pool 2" "$PIPELINE" 2
row "pipelined ×$PIPELINE, pool 1" "$PIPELINE" 1
echo
"$BIN/RedisLoad" cache-hit --url "$URL" | grep -v '^{'
