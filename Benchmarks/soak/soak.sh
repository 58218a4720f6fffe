#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `make soak` (not part of `make test` or CI): a release hub under 30 minutes of mixed load over
# every door, with bot reconnects, a Redis restart and a flaky upstream; every message accounted
# for, the hub's RSS, file descriptors, threads and gauges sampled before, during and after.
# See Benchmarks/README.md ("Soak"). Starts, all on loopback and all stopped on exit:
#   - a private redis-server (restarted once, in the middle of the load),
#   - upstream.py: an OpenAI-compatible stand-in that fails 30% of requests with HTTP 500 and
#     answers the rest "echo: <last user message>" after 10-150 ms, as two providers (a, b),
#   - the release hub, configured by a generated hub.yaml (below),
#   - soak.py: the bots, web clients and API clients, the accounting and the samples.
# Tunables (environment):
#   SOAK_SECONDS        load duration                               (default 1800)
#   SOAK_RECONNECTS     planned bot disconnects                     (default 100 × SOAK_SECONDS / 1800, at least 2)
#   SOAK_REPLY_WAIT     onebot.reply_wait, seconds                  (default 5)
#   SOAK_REDIS_DOWN     seconds Redis stays down                    (default 5)
#   SOAK_FAIL_RATE      share of upstream requests failed with 500  (default 0.3)
#   SOAK_SAMPLE_SECONDS seconds between samples                     (default 30, SOAK_SECONDS / 8 when shorter)
#   SOAK_PIN=1          hub on CPU 0, everything else on CPU 1      (default: unpinned)
#   SOAK_SKIP_BUILD=1   use the existing .build/release/hub
#   SOAK_OUT            results folder                              (default .build/soak)
#   SOAK_DRIVER_ARGS    extra arguments for soak.py (rates: --rate-ws 10 --rate-web 8 …; see soak.py --help)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
SOAK_DIR="$ROOT/Benchmarks/soak"
SECONDS_TOTAL=${SOAK_SECONDS:-1800}
RECONNECTS=${SOAK_RECONNECTS:-$(( SECONDS_TOTAL * 100 / 1800 > 2 ? SECONDS_TOTAL * 100 / 1800 : 2 ))}
REPLY_WAIT=${SOAK_REPLY_WAIT:-5}
REDIS_DOWN=${SOAK_REDIS_DOWN:-5}
FAIL_RATE=${SOAK_FAIL_RATE:-0.3}
SAMPLE_SECONDS=${SOAK_SAMPLE_SECONDS:-$(( SECONDS_TOTAL >= 240 ? 30 : (SECONDS_TOTAL / 8 > 5 ? SECONDS_TOTAL / 8 : 5) ))}
OUT=${SOAK_OUT:-$ROOT/.build/soak}
VENV="$ROOT/.venv-soak"
HUB_BIN="$ROOT/.build/release/hub"
TOKEN=soak-token
SECRET=soak-secret
ADMIN_KEY=soak-admin
API_KEY=soak-client

PIDS=()
REDIS_PID=
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hub-soak.XXXXXX")

soak_cleanup() {
    local status=$?
    trap - EXIT INT TERM
    # Newest first (the driver, the hub, the upstream, then Redis), each given 10 s to exit: the
    # hub finishes the turns it has in flight, which need the upstream.
    local pid i
    for (( i = ${#PIDS[@]} - 1; i >= 0; i-- )); do
        pid=${PIDS[$i]}
        kill "$pid" 2>/dev/null || continue
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null && echo "soak: process $pid did not exit within 10 s of SIGTERM; killed" >&2
    done
    if [[ -n $REDIS_PID ]]; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    mkdir -p "$OUT"
    cp "$WORK"/*.log "$WORK"/*.yaml "$WORK"/upstream-stats.json "$WORK"/hub.sqlite* "$OUT"/ 2>/dev/null || true
    rm -rf "$WORK"
    if [[ $status -ne 0 ]]; then
        echo "soak: failed (exit $status); logs are in $OUT" >&2
    fi
    exit "$status"
}
trap soak_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

HUB_PIN=()
LOAD_PIN=()
if [[ ${SOAK_PIN:-0} == 1 ]] && command -v taskset >/dev/null; then
    HUB_PIN=(taskset -c 0)
    LOAD_PIN=(taskset -c 1)
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Test helpers from PyPI, in their own virtualenv (gitignored), never in the hub.
if ! "$VENV/bin/python" -c 'import openai, websockets, aiohttp' 2>/dev/null; then
    echo "soak: installing openai, websockets and aiohttp into .venv-soak (soak helpers only)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check 'openai>=1.40,<4' 'websockets>=13' 'aiohttp>=3.9'
fi
PY="$VENV/bin/python"

if [[ ${SOAK_SKIP_BUILD:-0} != 1 ]]; then
    echo "soak: building the release hub (several minutes the first time)"
    swift build -c release --product hub
fi
mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT"/samples.csv "$OUT"/summary.* "$OUT"/hub.yaml "$OUT"/upstream-stats.json "$OUT"/hub.sqlite*

# Redis: private, no persistence; restarted in the middle of the load on the same port.
REDIS_PORT=$(free_port)
start_redis() {
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
        --daemonize no >>"$WORK/redis.log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 50); do
        redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.1
    done
    echo "soak: redis-server did not start" >&2
    tail -n 20 "$WORK/redis.log" >&2
    exit 1
}
stop_redis() {
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=
}
start_redis

# The flaky upstream: both providers of the hub point at it (prefixes /a and /b).
: >"$WORK/upstream.log"
"${LOAD_PIN[@]}" "$PY" "$SOAK_DIR/upstream.py" --port 0 --fail-rate "$FAIL_RATE" --stats "$WORK/upstream-stats.json" \
    >>"$WORK/upstream.log" 2>&1 &
UPSTREAM_PID=$!
PIDS+=("$UPSTREAM_PID")
UPSTREAM_PORT=
for _ in $(seq 100); do
    UPSTREAM_PORT=$(sed -n 's/^upstream listening on \([0-9][0-9]*\)$/\1/p' "$WORK/upstream.log")
    [[ -n $UPSTREAM_PORT ]] && break
    kill -0 "$UPSTREAM_PID" 2>/dev/null || { cat "$WORK/upstream.log" >&2; exit 1; }
    sleep 0.1
done
[[ -n $UPSTREAM_PORT ]] || { echo "soak: the upstream did not start" >&2; exit 1; }

HUB_PORT=$(free_port)
HTTP_API_PORT=$(free_port)
# Rate limits off (chat per user and per group, web per client; the gateway's is off by default):
# their defaults would refuse a soak's load, and a refusal is not what is measured. Two providers
# on the flaky upstream, each retried once, so a failed attempt is retried and then fails over;
# a message whose every attempt failed gets the failure apology. Breakers open after 10 failures
# in a row (at 30% failures, 5 in a row would come every minute or so). reply_wait is short so
# that a bot away for longer (every fifth reconnect) sends the hub's replies to the outbox.
cat >"$WORK/hub.yaml" <<EOF
server: { host: 127.0.0.1, port: $HUB_PORT }
storage: { sqlite_path: $WORK/hub.sqlite }
redis: { url: "redis://127.0.0.1:$REDIS_PORT/0" }
onebot:
  access_token: $TOKEN
  secret: $SECRET
  reply_wait: $REPLY_WAIT
  http_api: { "3900000099": "http://127.0.0.1:$HTTP_API_PORT" }
chat:
  rate_limit: { per_user: "off", per_group: "off" }
web: { rate_limit: "off" }
gateway: { api_keys: [ "$API_KEY" ], rate_limit: "off" }
admin: { api_key: $ADMIN_KEY }
llm:
  providers:
    - { name: flaky-a, base_url: "http://127.0.0.1:$UPSTREAM_PORT/a/v1", api_key: soak, retry_attempts: 1, timeout: 10,
        models: [ { name: soak-model } ] }
    - { name: flaky-b, base_url: "http://127.0.0.1:$UPSTREAM_PORT/b/v1", api_key: soak, retry_attempts: 1, timeout: 10,
        models: [ { name: soak-model } ] }
  default_model: soak-model
  circuit_breaker: { failure_threshold: 10, recovery_timeout: 30 }
EOF
env LOG_LEVEL=info "${HUB_PIN[@]}" "$HUB_BIN" serve --config "$WORK/hub.yaml" >"$WORK/hub.log" 2>&1 &
HUB_PID=$!
PIDS+=("$HUB_PID")
ready=0
for _ in $(seq 300); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$HUB_PORT/health" 2>/dev/null; then ready=1; break; fi
    kill -0 "$HUB_PID" 2>/dev/null || break
    sleep 0.1
done
if [[ $ready != 1 ]]; then
    echo "soak: the hub did not become healthy on port $HUB_PORT; last log lines:" >&2
    tail -n 30 "$WORK/hub.log" >&2
    exit 1
fi
sleep 2
echo "soak: hub pid $HUB_PID on 127.0.0.1:$HUB_PORT (commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)), redis :$REDIS_PORT," \
    "upstream :$UPSTREAM_PORT (fails $FAIL_RATE), $(nproc) CPU(s), $([[ ${#HUB_PIN[@]} -gt 0 ]] && echo "hub pinned to CPU 0" || echo unpinned)"
echo "soak: ${SECONDS_TOTAL} s of load, $RECONNECTS bot reconnects, one Redis restart; results in $OUT"

# shellcheck disable=SC2086
"${LOAD_PIN[@]}" "$PY" "$SOAK_DIR/soak.py" --hub-url "http://127.0.0.1:$HUB_PORT" --hub-pid "$HUB_PID" --db "$WORK/hub.sqlite" \
    --token "$TOKEN" --secret "$SECRET" --admin-key "$ADMIN_KEY" --api-key "$API_KEY" --http-api-port "$HTTP_API_PORT" \
    --upstream-url "http://127.0.0.1:$UPSTREAM_PORT" --upstream-pid "$UPSTREAM_PID" --redis-port "$REDIS_PORT" --hub-log "$WORK/hub.log" --events-file "$WORK/events.log" \
    --started-file "$WORK/started" --out "$OUT" --seconds "$SECONDS_TOTAL" --reconnects "$RECONNECTS" \
    --reply-wait "$REPLY_WAIT" --sample-seconds "$SAMPLE_SECONDS" ${SOAK_DRIVER_ARGS:-} > >(tee "$WORK/driver.log") 2>&1 &
DRIVER_PID=$!
PIDS+=("$DRIVER_PID")

# The Redis restart, half-way through the load.
while [[ ! -e $WORK/started ]]; do
    kill -0 "$DRIVER_PID" 2>/dev/null || break
    sleep 0.2
done
if [[ -e $WORK/started ]]; then
    end=$(( $(date +%s) + SECONDS_TOTAL / 2 ))
    while (( $(date +%s) < end )) && kill -0 "$DRIVER_PID" 2>/dev/null; do sleep 1; done
    if kill -0 "$DRIVER_PID" 2>/dev/null; then
        stop_redis
        stopped=$(date -u +%H:%M:%S)
        sleep "$REDIS_DOWN"
        start_redis
        echo "redis stopped at $stopped, started again at $(date -u +%H:%M:%S) (down ${REDIS_DOWN} s)" >>"$WORK/events.log"
        echo "soak: $(tail -n 1 "$WORK/events.log")"
    fi
fi
status=0
wait "$DRIVER_PID" || status=$?
if ! kill -0 "$HUB_PID" 2>/dev/null; then
    echo "soak: the hub exited during the soak; last log lines:" >&2
    tail -n 30 "$WORK/hub.log" >&2
    status=1
fi
exit "$status"
