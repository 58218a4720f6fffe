#!/usr/bin/env bash
# Static checks of the deploy bundle (deploy/), in seconds, with Debian's tools and the test
# virtualenv's kubernetes-validate (scripts/install-deps.sh --test, scripts/test.sh):
#   docker-compose config · promtool check config / check rules / test rules · nginx -t on every
#   site · kubernetes-validate --strict on every manifest · systemd-analyze verify and security on
#   the unit · the NapCat config and the dashboard parse · every HUB_* variable deploy/ sets is a
#   configuration key's override.
# That the dashboard and the rules name only metrics the hub exports is DeployMetricsTests (swift test).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${HUB_TEST_VENV:-.venv-test}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
step() { printf '%-64s' "$1"; }
ok() { echo "ok${1:+ ($1)}"; }
fail() {
  echo "FAILED"
  sed 's/^/    /' "$work/out"
  failures=$((failures + 1))
}
# Runs "$@" quietly; its output is shown only when it fails (or prints what `forbidden` matches).
check() {
  local label=$1 forbidden=$2
  shift 2
  step "$label"
  if "$@" > "$work/out" 2>&1 && { [ -z "$forbidden" ] || ! grep -Eq "$forbidden" "$work/out"; }; then ok; else fail; fi
}

# --- docker-compose: the file with every profile, variables from .env.example (none left unset) ---
check "docker-compose config (all profiles)" "is not set|WARNING" \
  docker-compose --project-directory deploy --env-file deploy/.env.example -f deploy/docker-compose.yml \
  --profile napcat --profile monitoring config -q

# --- Prometheus ---
check "promtool check config deploy/prometheus/prometheus.yml" "" promtool check config deploy/prometheus/prometheus.yml
check "promtool check rules deploy/prometheus/alerts.yml" "" promtool check rules deploy/prometheus/alerts.yml
check "promtool test rules deploy/prometheus/tests/*.yml" "" promtool test rules deploy/prometheus/tests/*.yml

# --- nginx -t on each site, in a throwaway prefix: upstream names made local, certificates made up ---
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=hub.example.com \
  -keyout "$work/privkey.pem" -out "$work/fullchain.pem" > /dev/null 2>&1
for site in compose.conf compose-tls.conf hub.conf; do
  prefix="$work/nginx-$site"
  mkdir -p "$prefix/snippets" "$prefix/logs"
  cp deploy/nginx/hub-proxy.conf deploy/nginx/hub-websocket.conf "$prefix/snippets/"
  sed -e 's/server hub:8080;/server 127.0.0.1:8080;/' \
      -e "s|ssl_certificate [^;]*;|ssl_certificate $work/fullchain.pem;|" \
      -e "s|ssl_certificate_key [^;]*;|ssl_certificate_key $work/privkey.pem;|" \
      "deploy/nginx/$site" > "$prefix/site.conf"
  cat > "$prefix/nginx.conf" <<NGINX
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log;
events {}
http {
    access_log off;
    include /etc/nginx/mime.types;
    include $prefix/site.conf;
}
NGINX
  check "nginx -t deploy/nginx/$site" "\[warn\]|\[emerg\]" nginx -t -q -p "$prefix/" -c "$prefix/nginx.conf"
done

# --- Kubernetes: every manifest (the kustomization lists them all; it is no cluster resource) ---
manifests=()
for file in deploy/k8s/*.yaml; do
  if [ "$(basename "$file")" != kustomization.yaml ]; then manifests+=("$file"); fi
done
check "kubernetes-validate --strict deploy/k8s (${#manifests[@]} files)" "" \
  "$venv/bin/kubernetes-validate" --strict --quiet "${manifests[@]}"
step "deploy/k8s/kustomization.yaml lists every manifest"
listed=$(sed -n 's/^  - \(.*\.yaml\)$/\1/p' deploy/k8s/kustomization.yaml | sort)
present=$(for file in "${manifests[@]}"; do basename "$file"; done | sort)
if [ "$listed" = "$present" ]; then ok; else diff <(echo "$listed") <(echo "$present") > "$work/out" || true; fail; fi

# --- systemd: the unit as written, with a stand-in binary (verify wants ExecStart to exist) ---
sed 's|^ExecStart=/usr/local/bin/hub |ExecStart=/bin/true |' deploy/systemd/hub.service > "$work/hub.service"
check "systemd-analyze verify deploy/systemd/hub.service" "." systemd-analyze verify "$work/hub.service"
check "systemd-analyze security (exposure at most 2.0)" "" \
  systemd-analyze security --offline=true --threshold=20 "$work/hub.service"
step "  exposure"; ok "$(systemd-analyze security --offline=true "$work/hub.service" 2>&1 | sed -n 's/.*exposure level for hub.service: //p')"

# --- JSON that tools read as is ---
check "deploy/grafana/hub.json and bots/napcat/onebot11.json parse" "" \
  python3 -c 'import json, sys; [json.load(open(p)) for p in sys.argv[1:]]' deploy/grafana/hub.json bots/napcat/onebot11.json

# --- HUB_* variables set in deploy/ are overrides the configuration documents ---
step "HUB_* variables in deploy/ are configuration keys"
known=$(grep -rhoE '`HUB_[A-Z0-9_]+`' Sources/Hub/Configuration | tr -d '`' | sort -u)
# Not keys: the config file's path, the one-provider shortcut's model, the compose image name.
known+=$'\nHUB_CONFIG\nHUB_LLM_MODEL\nHUB_IMAGE'
unknown=$(grep -rhoE '\bHUB_[A-Z0-9_]+' deploy | sort -u | grep -vxF -f <(echo "$known") || true)
if [ -z "$unknown" ]; then ok "$(grep -rhoE '\bHUB_[A-Z0-9_]+' deploy | sort -u | wc -l) names"; else echo "$unknown" > "$work/out"; fail; fi

if [ "$failures" -ne 0 ]; then
  echo "check-deploy: $failures check(s) failed"
  exit 1
fi
echo "check-deploy: every check passed"
