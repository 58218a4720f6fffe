#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make bench`: image jobs on the `batch` lane. Starts the fake upstream (instant chat;
# `/v1/images/generations` answering a 1×1 PNG at once, or after a delay under `/delay/{ms}/`) and
# release hubs (lib.sh) with the shipped lane limits (`lanes.batch`: 1 at a time, 1024 queued),
# chat rate limits and the response cache off. In one run:
#   1. a hub whose image provider takes 2 s a picture (as real ones do): chat turns over OneBot,
#      open loop, with the batch lane idle, then while a feeder keeps it saturated (it posts
#      /api/v1/image/generate faster than jobs finish: one job always runs and 1024 wait);
#   2. a hub whose image provider answers at once: the same two chat runs, the batch lane now
#      running flat out on the hub's CPU, and job throughput alone (no chat).
# Prints the chat latency idle vs saturated (goal: p99 within 1.2×) and jobs/s.
# Tunables (environment):
#   BENCH_IMAGES_CHAT_RATE   chat events/s in phases 1 and 2        (default 200)
#   BENCH_IMAGES_SECONDS     measured seconds per phase             (default 10)
#   BENCH_IMAGES_FEED_RATE   image submissions/s of the feeder      (default 1000)
#   BENCH_SKIP_BUILD, BENCH_HUB, BENCH_PIN as in run.sh; results go to $BENCH_OUT/images
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CHAT_RATE=${BENCH_IMAGES_CHAT_RATE:-200}
SECONDS_PER_PHASE=${BENCH_IMAGES_SECONDS:-10}
FEED_RATE=${BENCH_IMAGES_FEED_RATE:-1000}
TOKEN=bench-token

bench_setup images
bench_start_upstream

# A hub whose one image provider is the fake at `$1` (a path under the upstream).
start_images_hub() {
    cat >"$WORK/hub-$2.yaml" <<YAML
image:
  providers:
    - { name: painter, kind: openai, base_url: "http://127.0.0.1:$UPSTREAM_PORT$1/v1", retry_attempts: 0, timeout: 30 }
YAML
    bench_start_hub HUB_CONFIG="$WORK/hub-$2.yaml" HUB_STORAGE_MEDIA_DIR="$WORK/media-$2" HUB_STORAGE_SQLITE_PATH="$WORK/bench-$2.sqlite" \
        HUB_ONEBOT_ACCESS_TOKEN="$TOKEN" HUB_LLM_CACHING_ENABLED=false HUB_CHAT_RATE_LIMIT_PER_USER=off HUB_CHAT_RATE_LIMIT_PER_GROUP=off
}

chat() {
    bench_measure "$1" "$HUB_PID" run --url "ws://127.0.0.1:$HUB_PORT/onebot/v11/ws" --token "$TOKEN" --bots 1 --users 64 \
        --user-id "$2" --rate "$CHAT_RATE" --events $((CHAT_RATE * SECONDS_PER_PHASE)) --warmup "$CHAT_RATE"
}

# Images finished so far (the hub's own counter).
succeeded() {
    curl -fsS "http://127.0.0.1:$HUB_PORT/metrics" | awk '/^hub_jobs_total\{/ && /kind="image"/ && /outcome="succeeded"/ { n += $NF } END { printf "%d", n }'
}
batch_field() {
    curl -fsS "http://127.0.0.1:$HUB_PORT/api/v1/system/resources" | sed -n "s/.*\"batch\":{[^}]*\"$1\":\([0-9]*\).*/\1/p"
}

# Keeps the batch lane saturated for $1 seconds (in the background); sets FEED_PID.
feed() {
    "${LOAD_PIN[@]}" "$LOAD" http-load --url "http://127.0.0.1:$HUB_PORT/api/v1/image/generate" --rate "$FEED_RATE" \
        --duration "$1" --warmup 0 --connections 8 --body '{"prompt":"a benchmark pixel","width":64,"height":64}' \
        --label "feeder-$2" --json >"$WORK/feeder-$2.out" 2>&1 &
    FEED_PID=$!
    PIDS+=("$FEED_PID")
    # Until the queue is full: from then on one job always runs and the rest wait.
    for _ in $(seq 100); do
        [[ $(batch_field queued) -ge 1000 ]] 2>/dev/null && break
        sleep 0.1
    done
}

stop_hub() {
    kill "$HUB_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$HUB_PID" 2>/dev/null || break; sleep 0.1; done
}

# 1. Pictures that take 2 s.
start_images_hub /delay/2000 slow
chat idle-slow 1100000000
feed $((SECONDS_PER_PHASE + 8)) slow
chat saturated-slow 1200000000
queued_slow=$(batch_field queued) running_slow=$(batch_field running)
kill "$FEED_PID" 2>/dev/null || true
stop_hub

# 2. Pictures at once.
start_images_hub "" instant
chat idle-instant 1300000000
feed $((SECONDS_PER_PHASE + 8)) instant
before=$(succeeded)
started=$(date +%s.%N)
chat saturated-instant 1400000000
after=$(succeeded)
ended=$(date +%s.%N)
queued_instant=$(batch_field queued)
wait "$FEED_PID" || true
for _ in $(seq 600); do [[ $(batch_field queued) == 0 ]] && break; sleep 0.1; done
feed $((SECONDS_PER_PHASE + 6)) alone
alone_before=$(succeeded)
alone_started=$(date +%s.%N)
sleep "$SECONDS_PER_PHASE"
alone_after=$(succeeded)
alone_ended=$(date +%s.%N)
queued_alone=$(batch_field queued)
wait "$FEED_PID" || true

bench_summary "Image jobs benchmark ($(date -u +%Y-%m-%d), $(nproc) CPU(s))"

field() {
    grep -h "\"label\":\"$1\"" "$WORK/results.jsonl" 2>/dev/null | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" | head -n 1
}
ratio() {
    if [[ -n $1 && -n $2 ]]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; else echo -; fi
}
rate() { awk -v n="$(($2 - $1))" -v a="$3" -v b="$4" 'BEGIN { printf "%.1f", n / (b - a) }'; }
row() {
    printf '| %s | %s | %s | %s | %s |\n' "$1" "$(field "$2" p50_ms)" "$(field "$2" p99_ms)" "$(field "$2" replies_per_s)" "$3"
}

echo
echo "Chat turns (OneBot, open loop $CHAT_RATE/s, 0 ms LLM upstream) with the batch lane idle vs saturated"
echo
echo "| image provider, batch lane | p50 ms | p99 ms | replies/s | batch lane meanwhile |"
echo "|---|---|---|---|---|"
row "2 s a picture, idle" idle-slow "empty"
row "2 s a picture, saturated" saturated-slow "${running_slow:-?} running, ${queued_slow:-?} queued"
printf '| **saturated / idle** | %s× | **%s×** (goal ≤ 1.2×) | | |\n' "$(ratio "$(field saturated-slow p50_ms)" "$(field idle-slow p50_ms)")" \
    "$(ratio "$(field saturated-slow p99_ms)" "$(field idle-slow p99_ms)")"
row "instant, idle" idle-instant "empty"
row "instant, saturated" saturated-instant "$(rate "$before" "$after" "$started" "$ended") jobs/s finished, ${queued_instant:-?} queued"
printf '| **saturated / idle** | %s× | **%s×** | | |\n' "$(ratio "$(field saturated-instant p50_ms)" "$(field idle-instant p50_ms)")" \
    "$(ratio "$(field saturated-instant p99_ms)" "$(field idle-instant p99_ms)")"
echo
echo "Job throughput alone (instant image upstream, lanes.batch.max_concurrent 1, queue kept full): $(rate "$alone_before" "$alone_after" "$alone_started" "$alone_ended") jobs/s (queue at the end: ${queued_alone:-?})"
exit "$BENCH_FAILED"
