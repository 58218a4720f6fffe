#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make bench`: image jobs on the `batch` lane. Starts the instant fake upstream (chat and
# `/v1/images/generations`, a 1×1 PNG at once) and a release hub (lib.sh) with it as the only
# image provider and the shipped lane limits (`lanes.batch`: 1 at a time, 1024 queued), chat rate
# limits and the response cache off. Then, in one run:
#   1. chat turns over OneBot, open loop, with the batch lane idle;
#   2. the same while a feeder keeps the batch lane saturated (it posts /api/v1/image/generate
#      faster than jobs finish, so one job always runs and the queue stays full);
#   3. job throughput alone: jobs finished per second with the queue kept full and no chat.
# Prints the chat latency idle vs saturated (goal: p99 within 1.2×) and jobs/s.
# Tunables (environment):
#   BENCH_IMAGES_CHAT_RATE   chat events/s in phases 1 and 2        (default 200)
#   BENCH_IMAGES_SECONDS     measured seconds per phase             (default 10)
#   BENCH_IMAGES_FEED_RATE   image submissions/s of the feeder      (default 400)
#   BENCH_SKIP_BUILD, BENCH_HUB, BENCH_PIN as in run.sh; results go to $BENCH_OUT/images
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CHAT_RATE=${BENCH_IMAGES_CHAT_RATE:-200}
SECONDS_PER_PHASE=${BENCH_IMAGES_SECONDS:-10}
FEED_RATE=${BENCH_IMAGES_FEED_RATE:-400}
TOKEN=bench-token

bench_setup images
bench_start_upstream
cat >"$WORK/hub.yaml" <<YAML
image:
  providers:
    - { name: instant, kind: openai, base_url: "http://127.0.0.1:$UPSTREAM_PORT/v1", retry_attempts: 0 }
YAML
bench_start_hub HUB_CONFIG="$WORK/hub.yaml" HUB_STORAGE_MEDIA_DIR="$WORK/media" HUB_ONEBOT_ACCESS_TOKEN="$TOKEN" \
    HUB_LLM_CACHING_ENABLED=false HUB_CHAT_RATE_LIMIT_PER_USER=off HUB_CHAT_RATE_LIMIT_PER_GROUP=off

chat() {
    bench_measure "$1" "$HUB_PID" run --url "ws://127.0.0.1:$HUB_PORT/onebot/v11/ws" --token "$TOKEN" --bots 1 --users 64 \
        --user-id "$2" --rate "$CHAT_RATE" --events $((CHAT_RATE * SECONDS_PER_PHASE)) --warmup "$CHAT_RATE"
}

# Images finished so far (the hub's own counter).
succeeded() {
    curl -fsS "http://127.0.0.1:$HUB_PORT/metrics" | awk '/^hub_jobs_total\{/ && /kind="image"/ && /outcome="succeeded"/ { n += $NF } END { printf "%d", n }'
}
batch_queued() {
    curl -fsS "http://127.0.0.1:$HUB_PORT/api/v1/system/resources" | sed -n 's/.*"batch":{[^}]*"queued":\([0-9]*\).*/\1/p'
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
        [[ $(batch_queued) -ge 1000 ]] 2>/dev/null && break
        sleep 0.1
    done
}

chat idle 1100000000

feed $((SECONDS_PER_PHASE + 8)) chat
before=$(succeeded)
started=$(date +%s.%N)
chat saturated 1200000000
after=$(succeeded)
ended=$(date +%s.%N)
queued_saturated=$(batch_queued)
wait "$FEED_PID" || true

# Let the queue drain, then measure throughput alone.
for _ in $(seq 600); do [[ $(batch_queued) == 0 ]] && break; sleep 0.1; done
feed $((SECONDS_PER_PHASE + 6)) alone
alone_before=$(succeeded)
alone_started=$(date +%s.%N)
sleep "$SECONDS_PER_PHASE"
alone_after=$(succeeded)
alone_ended=$(date +%s.%N)
queued_alone=$(batch_queued)
wait "$FEED_PID" || true

bench_summary "Image jobs benchmark ($(date -u +%Y-%m-%d), $(nproc) CPU(s), hub idle RSS $IDLE_RSS MiB)"

field() {
    grep -h "\"label\":\"$1\"" "$WORK/results.jsonl" 2>/dev/null | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" | head -n 1
}
ratio() {
    if [[ -n $1 && -n $2 ]]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; else echo -; fi
}
rate() { awk -v n="$(($2 - $1))" -v a="$3" -v b="$4" 'BEGIN { printf "%.1f", n / (b - a) }'; }

i50=$(field idle p50_ms) i99=$(field idle p99_ms) s50=$(field saturated p50_ms) s99=$(field saturated p99_ms)
echo
echo "Chat turns (OneBot, open loop $CHAT_RATE/s, 0 ms upstream) with the batch lane idle vs saturated"
echo
echo "| batch lane | p50 ms | p99 ms | replies/s | image jobs finished/s meanwhile | jobs queued at the end |"
echo "|---|---|---|---|---|---|"
printf '| idle | %s | %s | %s | 0 | 0 |\n' "${i50:--}" "${i99:--}" "$(field idle replies_per_s)"
printf '| saturated | %s | %s | %s | %s | %s |\n' "${s50:--}" "${s99:--}" "$(field saturated replies_per_s)" \
    "$(rate "$before" "$after" "$started" "$ended")" "${queued_saturated:-?}"
printf '| **saturated / idle** | %s× | **%s×** (goal ≤ 1.2×) | | | |\n' "$(ratio "$s50" "$i50")" "$(ratio "$s99" "$i99")"
echo
echo "Job throughput alone (instant image upstream, lanes.batch.max_concurrent 1, queue kept full): $(rate "$alone_before" "$alone_after" "$alone_started" "$alone_ended") jobs/s (queue at the end: ${queued_alone:-?})"
exit "$BENCH_FAILED"
