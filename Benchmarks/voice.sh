#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make bench` (seventh part): the live voice door. VoiceBench devices (Opus, 16 kHz, 60 ms frames
# at real time) speak espeak-ng's "hello world what time is it" to a release hub answering from the
# instant upstream, and measure the time from the last speech frame sent to the first answer audio
# frame received: in manual listening (`listen stop` right after the speech: the hub's own
# processing) and in auto listening (the device streams silence; the VAD must notice the end, so
# add voice.endpoint_silence_ms), with in-process speech (PocketSphinx on its en-us language model,
# espeak-ng). Then the number of devices at once whose first-audio p99 stays under 1 s, in process
# and with remote speech (VoiceBench's instant speech server). Rate limits are off.
# Tunables (environment):
#   BENCH_VOICE_TURNS      turns per device for the single-device runs (default 10)
#   BENCH_VOICE_MAX        most devices tried in the sweep               (default 32)
#   BENCH_VOICE_POOL       PocketSphinx decoders (live utterances at once) (default 8; the hub's
#                          default is 2: a third utterance at once is recognized whole at its end)
#   BENCH_SKIP_BUILD, BENCH_HUB, BENCH_PIN as in run.sh; results go to $BENCH_OUT/voice
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TURNS=${BENCH_VOICE_TURNS:-10}
MAX=${BENCH_VOICE_MAX:-32}
POOL=${BENCH_VOICE_POOL:-8}
TOKEN=bench
VOICE="$BIN/VoiceBench"

bench_setup voice
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    swift build -c release --product VoiceBench
fi
bench_start_upstream

voice() {
    local label=$1
    shift
    "${LOAD_PIN[@]}" "$VOICE" run --url "ws://127.0.0.1:$HUB_PORT/xiaozhi/v1/" --token "$TOKEN" --label "$label" --json "$@" \
        | tee -a "$WORK/voice-runs.out"
}
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }

# Finds the most devices (1, 2, 4, …) whose first-audio p99 stays under 1 s.
sweep() {
    local kind=$1 best=0 devices=1 line p99
    while ((devices <= MAX)); do
        line=$(voice "$kind-sweep-$devices" --mode manual --devices "$devices" --turns 3) || break
        p99=$(field "$line" p99_ms)
        [[ -n $p99 ]] && awk -v p="$p99" 'BEGIN { exit !(p < 1000) }' || break
        best=$devices
        devices=$((devices * 2))
    done
    echo "$kind: $best device(s) at once with first-audio p99 under 1 s" | tee -a "$WORK/voice-summary.out"
}

: >"$WORK/voice-runs.out"
: >"$WORK/voice-summary.out"
echo "stt: { providers: [ { name: sphinx, kind: pocketsphinx, pool_size: $POOL } ] }" >"$WORK/in-process.yaml"
bench_start_hub HUB_CONFIG="$WORK/in-process.yaml" HUB_VOICE_ACCESS_TOKEN="$TOKEN" HUB_CHAT_RATE_LIMIT_PER_USER=off HUB_CHAT_RATE_LIMIT_PER_GROUP=off
voice in-process-manual --mode manual --turns "$TURNS"
voice in-process-auto --mode auto --turns "$TURNS"
sweep in-process
kill "$HUB_PID" 2>/dev/null || true
wait "$HUB_PID" 2>/dev/null || true

# Remote speech: an instant speech server stands in for the cloud services.
: >"$WORK/speech-server.log"
"$VOICE" speech-server --port 0 >"$WORK/speech-server.log" 2>&1 &
PIDS+=($!)
SPEECH_PORT=
for _ in $(seq 100); do
    SPEECH_PORT=$(sed -n 's/^speech server listening on \([0-9][0-9]*\)$/\1/p' "$WORK/speech-server.log" || true)
    [[ -n $SPEECH_PORT ]] && break
    sleep 0.1
done
cat >"$WORK/remote.yaml" <<YAML
tts: { providers: [ { name: remote, kind: openai, base_url: "http://127.0.0.1:$SPEECH_PORT/v1", timeout: 10 } ] }
stt: { providers: [ { name: remote, kind: openai, base_url: "http://127.0.0.1:$SPEECH_PORT/v1", timeout: 10 } ] }
lanes: { cpu: { max_concurrent: 16, queue: 1024 } }
YAML
bench_start_hub HUB_CONFIG="$WORK/remote.yaml" HUB_VOICE_ACCESS_TOKEN="$TOKEN" HUB_CHAT_RATE_LIMIT_PER_USER=off HUB_CHAT_RATE_LIMIT_PER_GROUP=off
voice remote-manual --mode manual --turns "$TURNS"
sweep remote

echo
echo "Voice door ($(date -u +%Y-%m-%d), $(nproc) CPU(s), commit $(git rev-parse --short HEAD 2>/dev/null || echo ?))"
echo
echo "| run | devices | turns | errors | p50 ms | p90 ms | p99 ms | max ms |"
echo "|---|---|---|---|---|---|---|---|"
while read -r line; do
    echo "| $(sed -n 's/.*"label":"\([^"]*\)".*/\1/p' <<<"$line") | $(field "$line" devices) | $(field "$line" turns) | $(field "$line" errors) | $(field "$line" p50_ms) | $(field "$line" p90_ms) | $(field "$line" p99_ms) | $(field "$line" max_ms) |"
done <"$WORK/voice-runs.out"
echo
cat "$WORK/voice-summary.out"
