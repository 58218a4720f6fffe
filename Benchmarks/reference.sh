#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make bench` (fifth part): the hub's QQ door against the naive reference bot (ReferenceBot: the
# same parts, only decode → one upstream call → one insert → reply) in the same run, with the
# same load generator and instant upstream, each bot pinned to CPU 0 and everything else to CPU 1.
# Rounds alternate hub and reference so a slow spell of this shared machine touches both; the
# ratio column is each round's own hub/reference ratio. Rate limits are off on the hub (its
# default 30 messages/60 s per user would refuse a benchmark's load). See Benchmarks/README.md.
# Tunables (environment):
#   BENCH_REF_ROUNDS   alternating rounds                  (default 3)
#   BENCH_REF_EVENTS   events per closed-loop measurement   (default 20000)
#   BENCH_REF_RATE     open-loop rate, events/s             (default 1000)
#   BENCH_REF_SECONDS  open-loop seconds                    (default 10)
#   BENCH_SKIP_BUILD, BENCH_HUB as in run.sh; BENCH_PIN defaults to 1 here; results go to
#   $BENCH_OUT/reference (default .build/bench/reference)
set -euo pipefail

export BENCH_PIN=${BENCH_PIN:-1}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ROUNDS=${BENCH_REF_ROUNDS:-3}
EVENTS=${BENCH_REF_EVENTS:-20000}
RATE=${BENCH_REF_RATE:-1000}
RATE_SECONDS=${BENCH_REF_SECONDS:-10}
REFERENCE="$BIN/ReferenceBot"
TOKEN=bench

bench_setup reference
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    swift build -c release --product ReferenceBot
fi
bench_start_upstream

# Stops the bot started last (the hub or the reference) and waits for it.
stop_bot() {
    kill "$1" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$1" 2>/dev/null || true
}

start_reference() {
    local log="$WORK/reference-$1.log"
    : >"$log"
    "${HUB_PIN[@]}" "$REFERENCE" --port 0 --upstream "http://127.0.0.1:$UPSTREAM_PORT/v1" --database "$WORK/reference-$1.sqlite" >>"$log" 2>&1 &
    PIDS+=($!)
    REF_PID=$!
    REF_PORT=
    for _ in $(seq 100); do
        REF_PORT=$(sed -n 's/^reference bot listening on \([0-9][0-9]*\)$/\1/p' "$log")
        [[ -n $REF_PORT ]] && break
        kill -0 "$REF_PID" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.1
    done
    [[ -n $REF_PORT ]] || { echo "bench: the reference bot did not start" >&2; exit 1; }
}

start_hub() {
    # A fresh database per round, so both bots start each round from an empty file.
    rm -f "$WORK/bench.sqlite"*
    bench_start_hub HUB_ONEBOT_ACCESS_TOKEN="$TOKEN" HUB_CHAT_RATE_LIMIT_PER_USER=off HUB_CHAT_RATE_LIMIT_PER_GROUP=off
}

closed=(--bots 1 --users 64 --events "$EVENTS" --warmup 2000)
open=(--bots 1 --users 64 --rate "$RATE" --events $((RATE * RATE_SECONDS)) --warmup "$RATE")
for round in $(seq "$ROUNDS"); do
    # The upstream's own latency at the open-loop rate, asked directly (the goal is the hub's p99
    # within 2 ms of it); every round, since a p99 moves with this machine's spells.
    bench_measure "upstream-open-$round" "$UPSTREAM_PID" http-load --url "http://127.0.0.1:$UPSTREAM_PORT/v1/chat/completions" \
        --rate "$RATE" --duration "$RATE_SECONDS" --warmup 1 --connections 16
    start_hub
    bench_measure "hub-closed-$round" "$HUB_PID" run --url "ws://127.0.0.1:$HUB_PORT/onebot/v11/ws" --token "$TOKEN" \
        --user-id $((1000000000 + round * 1000)) "${closed[@]}"
    bench_measure "hub-open-$round" "$HUB_PID" run --url "ws://127.0.0.1:$HUB_PORT/onebot/v11/ws" --token "$TOKEN" \
        --user-id $((1500000000 + round * 1000)) "${open[@]}"
    stop_bot "$HUB_PID"
    start_reference "$round"
    bench_measure "reference-closed-$round" "$REF_PID" run --url "ws://127.0.0.1:$REF_PORT/onebot/v11/ws" \
        --user-id $((1000000000 + round * 1000)) "${closed[@]}"
    bench_measure "reference-open-$round" "$REF_PID" run --url "ws://127.0.0.1:$REF_PORT/onebot/v11/ws" \
        --user-id $((1500000000 + round * 1000)) "${open[@]}"
    stop_bot "$REF_PID"
done

bench_summary "Hub vs the naive reference bot ($(date -u +%Y-%m-%d), $(nproc) CPU(s), commit $(git rev-parse --short HEAD 2>/dev/null || echo ?))"

field() {
    grep -h "\"label\":\"$1\"" "$WORK/results.jsonl" 2>/dev/null | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" | head -n 1
}
# The median of the numbers given ("-" ones left out), or "-".
median() {
    printf '%s\n' "$@" | grep -v '^-$' | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}
echo
echo "Closed loop, 1 bot × 64 users, instant upstream; each bot pinned to CPU 0"
echo
echo "| round | hub replies/s | reference replies/s | hub/reference | hub CPU µs/reply | reference CPU µs/reply |"
echo "|---|---|---|---|---|---|"
ratios=()
for round in $(seq "$ROUNDS"); do
    h=$(field "hub-closed-$round" replies_per_s) r=$(field "reference-closed-$round" replies_per_s)
    hc=$(field "hub-closed-$round" hub_cpu_us_per_reply) rc=$(field "reference-closed-$round" hub_cpu_us_per_reply)
    ratio=$(awk -v a="${h:-0}" -v b="${r:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    ratios+=("$ratio")
    echo "| $round | ${h:--} | ${r:--} | $ratio | ${hc:--} | ${rc:--} |"
done
echo
echo "Median hub/reference: $(median "${ratios[@]}") (goal ≥ 0.75)"
echo
echo "Open loop at $RATE events/s, p50 / p99 ms; the goal is the hub's p99 at most 2 ms above the upstream's own"
echo
echo "| round | hub | reference | upstream asked directly | hub p99 above the upstream's |"
echo "|---|---|---|---|---|"
above=()
for round in $(seq "$ROUNDS"); do
    hp=$(field "hub-open-$round" p99_ms) up=$(field "upstream-open-$round" p99_ms)
    a=$(awk -v h="$hp" -v u="$up" 'BEGIN { if (h != "" && u != "") printf "%.2f", h - u; else print "-" }')
    above+=("$a")
    echo "| $round | $(field "hub-open-$round" p50_ms) / ${hp:--} | $(field "reference-open-$round" p50_ms) / $(field "reference-open-$round" p99_ms) | $(field "upstream-open-$round" p50_ms) / ${up:--} | $a |"
done
echo
echo "Median hub p99 above the upstream's own: $(median "${above[@]}") ms (goal ≤ 2 ms)"
exit "$BENCH_FAILED"
