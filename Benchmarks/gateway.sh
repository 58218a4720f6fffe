#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make bench` (fourth part): the overhead of the hub's OpenAI-compatible gateway. Starts the
# instant fake LLM upstream and a release hub (lib.sh) with the response cache off, then loads
# POST /v1/chat/completions open loop at each rate, first on the upstream directly and then
# through the hub, and prints the latency the hub adds. See Benchmarks/README.md.
# Tunables (environment):
#   BENCH_GATEWAY_RATES        requests/s, space-separated          (default "1000 5000")
#   BENCH_GATEWAY_SECONDS      measured seconds per run             (default 10)
#   BENCH_GATEWAY_WARMUP       warm-up seconds per run              (default 2)
#   BENCH_GATEWAY_CONNECTIONS  keep-alive connections               (default 64)
#   BENCH_SKIP_BUILD, BENCH_HUB, BENCH_PIN as in run.sh; results go to $BENCH_OUT/gateway
#   (default .build/bench/gateway)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RATES=${BENCH_GATEWAY_RATES:-1000 5000}
SECONDS_PER_RUN=${BENCH_GATEWAY_SECONDS:-10}
WARMUP=${BENCH_GATEWAY_WARMUP:-2}
CONNECTIONS=${BENCH_GATEWAY_CONNECTIONS:-64}

bench_setup gateway
bench_start_upstream
# Every request must really go upstream: no response cache, no rate limits.
bench_start_hub HUB_LLM_CACHING_ENABLED=false HUB_CHAT_RATE_LIMIT_PER_USER=off HUB_CHAT_RATE_LIMIT_PER_GROUP=off

# The direct run reports the upstream's CPU, the hub run the hub's.
for rate in $RATES; do
    for target in direct hub; do
        if [[ $target == direct ]]; then port=$UPSTREAM_PORT pid=$UPSTREAM_PID; else port=$HUB_PORT pid=$HUB_PID; fi
        bench_measure "$target-${rate}rps" "$pid" http-load --url "http://127.0.0.1:$port/v1/chat/completions" \
            --rate "$rate" --duration "$SECONDS_PER_RUN" --warmup "$WARMUP" --connections "$CONNECTIONS"
    done
done

bench_summary "Gateway benchmark ($(date -u +%Y-%m-%d), $(nproc) CPU(s), hub idle RSS $IDLE_RSS MiB)"

# A field of the JSON line of run LABEL.
field() {
    grep -h "\"label\":\"$1\"" "$WORK/results.jsonl" 2>/dev/null | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" | head -n 1
}
# A - B in ms with 3 decimals, or "-" when either is missing.
minus() {
    if [[ -n $1 && -n $2 ]]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.3f", a - b }'; else echo -; fi
}

echo
echo "Gateway overhead: POST /v1/chat/completions through the hub minus the same upstream directly (ms)"
echo
echo "| rate/s | direct p50 | direct p99 | hub p50 | hub p99 | added p50 | added p99 | hub answered/s | hub timeouts+errors+non-2xx |"
echo "|---|---|---|---|---|---|---|---|---|"
for rate in $RATES; do
    d50=$(field "direct-${rate}rps" p50_ms) d99=$(field "direct-${rate}rps" p99_ms)
    h50=$(field "hub-${rate}rps" p50_ms) h99=$(field "hub-${rate}rps" p99_ms)
    failures=0
    for key in timeouts errors refused; do
        value=$(field "hub-${rate}rps" "$key")
        failures=$((failures + ${value:-0}))
    done
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$rate" "${d50:--}" "${d99:--}" "${h50:--}" "${h99:--}" \
        "$(minus "$h50" "$d50")" "$(minus "$h99" "$d99")" "$(field "hub-${rate}rps" answered_per_s)" "$failures"
done
# What the upstream call alone costs the hub: the hub's client (AsyncHTTPClient, configured as the
# hub configures it) against a bare NIO HTTP/1.1 connection, on the same upstream.
echo
echo "Client floor: one POST /v1/chat/completions to the same upstream, by client (client-floor)"
echo
echo "| client | round trip p50 ms | round trip p99 ms | 32 callers, req/s | client CPU µs/request |"
echo "|---|---|---|---|---|"
"$LOAD" client-floor --url "http://127.0.0.1:$UPSTREAM_PORT/v1/chat/completions" >"$WORK/client-floor.out" 2>&1 || {
    echo "bench: client-floor failed:" >&2
    cat "$WORK/client-floor.out" >&2
    exit 1
}
grep '^{' "$WORK/client-floor.out" | while IFS= read -r line; do
    value() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" <<<"$line"; }
    printf '| %s | %s | %s | %s | %s |\n' "$(value client)" "$(value p50_ms)" "$(value p99_ms)" "$(value requests_per_s)" "$(value cpu_us_per_request)"
done

# A rate beyond what the hub sustains leaves requests unanswered: that is a result (in the table),
# not a broken benchmark. The script fails only when a measurement produced no result at all.
missing=0
for rate in $RATES; do
    for target in direct hub; do
        [[ -n $(field "$target-${rate}rps" p50_ms) ]] || missing=1
    done
done
exit "$missing"
