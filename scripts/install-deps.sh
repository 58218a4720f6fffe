#!/usr/bin/env bash
# Installs the Debian packages the hub builds and runs with (and with --test, what the suite needs;
# with --soak, what `make soak` needs; with --image, what `make image-check` needs),
# skipping what is present.
set -euo pipefail
packages=(
  pkg-config ca-certificates
  libsqlite3-dev          # GRDB
  libhiredis-dev          # Redis client (RESP codec)
  libsndfile1-dev         # audio files
  libsamplerate0-dev      # resampling
  libopus-dev             # Opus frames of the live voice door
  libwebrtc-audio-processing-dev   # voice activity detection (streaming recognition)
  libespeak-ng-dev        # speech synthesis
  libpocketsphinx-dev pocketsphinx-en-us   # speech recognition and its English model
  redis-server            # the tests' real Redis
)
# `install-deps.sh --soak`: also what `make soak` needs (its helpers live in a virtualenv).
if [ "${1:-}" = "--soak" ]; then
  packages+=(python3-venv curl)
fi
# `install-deps.sh --test`: also what only the suite needs.
if [ "${1:-}" = "--test" ]; then
  packages+=(
    python3-venv            # the test virtualenv (openai, selenium from PyPI)
    chromium chromium-driver   # the web page's browser test
    # scripts/check-deploy.sh: the deploy bundle's static checks (their services are not started).
    docker-compose prometheus nginx openssl systemd
  )
fi
# `install-deps.sh --image`: what `make image-check` needs to build the image here.
if [ "${1:-}" = "--image" ]; then
  packages+=(podman debootstrap)
fi
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Installed for their tools only (promtool, nginx -t): a policy-rc.d that refuses every start keeps
# their services (prometheus, nginx) from being started by the install, where none is in place.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d > /dev/null
  $sudo chmod 755 /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
