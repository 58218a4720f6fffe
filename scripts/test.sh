#!/usr/bin/env bash
# Runs the whole suite with a private redis-server on a free loopback port, stopped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
workdir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$workdir" \
  --daemonize no --logfile "$workdir/redis.log" &
redis_pid=$!
cleanup() {
  kill "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT
for _ in $(seq 1 50); do
  if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then break; fi
  sleep 0.1
done
redis-cli -p "$port" ping | grep -q PONG || { echo "redis-server did not start"; cat "$workdir/redis.log"; exit 1; }
echo "redis-server for the suite on 127.0.0.1:$port"
export HUB_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
# Test helpers from PyPI in a test virtualenv: the official openai package (OpenAI-compatible API
# tests), selenium (the web page's browser test, with Debian's chromium-driver), kubernetes-validate
# (the deploy bundle's manifests) and schemathesis (the live hub against its OpenAPI document).
if ! .venv-test/bin/python -c 'import openai, selenium, kubernetes_validate, schemathesis' 2>/dev/null; then
  echo "installing openai, selenium, kubernetes-validate and schemathesis into .venv-test (test helpers only)"
  python3 -m venv .venv-test
  .venv-test/bin/pip install --quiet --disable-pip-version-check 'openai>=1.40,<4' 'selenium>=4.20,<5' \
    'kubernetes-validate>=1.31,<2' 'schemathesis>=4.30,<5'
fi
export HUB_TEST_PYTHON="$PWD/.venv-test/bin/python"
# The deploy bundle's static checks (seconds); DeployMetricsTests below checks its metric names.
scripts/check-deploy.sh
swift build --build-tests
# The suites that load the machine on purpose (thousands of connections, a hub killed and
# restarted, live speech recognized and spoken at real time, twenty voice devices, the headless
# browsers (the chat page, its microphone, /draw, the admin dashboard), an image queue killed mid-job, two thousand generated requests from schemathesis) and
# the ones that bound reply times (against a slowed Redis, beside a full image queue) run after the
# others, one at a time, so neither side skews the other (in parallel with the rest they pushed
# timing-bound tests past their bounds on 2 cores).
serial='WebBrowserTests|WebDrawBrowserTests|AdminBrowserTests|ConnectionMemoryTests|CrashReplayTests|RedisLatencyTests|VoiceDoorTests|VoiceBrowserTests|VoiceLoadTests|StreamingASRTests|SpeechRecognitionStreamTests|OneBotVoiceInTests|SpeechFailoverTests|ImageJobRestartTests|LaneIsolationTests|SchemathesisTests'
swift test --skip-build --skip "$serial"
swift test --skip-build --filter "$serial" --no-parallel
# The fuzz targets over their corpora plus a few seconds each, built with libFuzzer and ASan in
# .build-fuzz (scripts/fuzz.sh; `make fuzz` runs them longer).
scripts/fuzz.sh --quick
