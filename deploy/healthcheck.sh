#!/usr/bin/env bash
# The image's HEALTHCHECK: GET /health on the hub's own port, healthy on a 200. Bash's /dev/tcp
# keeps curl out of the runtime image.
set -euo pipefail
port=${HUB_SERVER_PORT:-8080}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
read -r -t 4 status_line <&3
case "$status_line" in
  "HTTP/1.1 200"*) exit 0 ;;
  *) echo "hub /health: ${status_line:-no answer}" >&2; exit 1 ;;
esac
