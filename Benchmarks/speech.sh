#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make bench` (sixth part): speech. First the in-process providers alone (SpeechBench: espeak-ng
# characters/s and time to first audio, PocketSphinx real-time factor for 1, 2 and 4 streams),
# then a release hub's POST /v1/audio/speech for one sentence, open loop, against the same
# synthesis measured in process in the same run (the ratio is what the HTTP route, the cpu lane,
# the router and the WAV encoding add). Rate limits do not apply to speech.
# Tunables (environment):
#   BENCH_SPEECH_RATE     requests/s                 (default 20)
#   BENCH_SPEECH_SECONDS  measured seconds           (default 10)
#   BENCH_SKIP_BUILD, BENCH_HUB, BENCH_PIN as in run.sh; results go to $BENCH_OUT/speech
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RATE=${BENCH_SPEECH_RATE:-20}
SECONDS_PER_RUN=${BENCH_SPEECH_SECONDS:-10}
SENTENCE="The hub speaks this sentence to measure how long one answer takes."

bench_setup speech
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    swift build -c release --product SpeechBench
fi
echo "In process (SpeechBench):"
"${HUB_PIN[@]}" "$BIN/SpeechBench" 5 2 | tee "$WORK/speechbench.txt"

bench_start_upstream
bench_start_hub
body="{\"model\":\"tts-1\",\"input\":\"$SENTENCE\",\"voice\":\"en-us\",\"response_format\":\"wav\"}"
bench_measure "speech-${RATE}rps" "$HUB_PID" http-load --url "http://127.0.0.1:$HUB_PORT/v1/audio/speech" \
    --rate "$RATE" --duration "$SECONDS_PER_RUN" --warmup 2 --connections 8 --body "$body"
bench_summary "Speech through the hub ($(date -u +%Y-%m-%d), $(nproc) CPU(s))"
