#!/usr/bin/env bash
# `make image-check`: builds the runtime stage of deploy/Dockerfile here, where no base image can be
# pulled, and has the image's hub answer. Not part of `make test` (it needs root, podman, the Debian
# mirror and a release build). Steps:
#   1. the hub built on the host as the Dockerfile's build stage builds it (release,
#      --static-swift-stdlib), staged by deploy/stage-hub.sh; IMAGE_CHECK_BINARY=path/to/hub skips the build
#      and stages that binary (with its Swift runtime libraries when it links them);
#   2. a bookworm made by debootstrap (minbase, as debian:bookworm-slim) imported as the base image,
#      the staged files imported as the binary stage (both kept for the next run);
#   3. `podman build --isolation chroot --format docker --target runtime` with those two as BASE_IMAGE and BINARY_STAGE;
#   4. the image's hub started by chroot into a container made from it (`podman run` cannot set up
#      cgroups here), as the image's user and with its environment: /health through the image's own
#      HEALTHCHECK script, the chat page, /ready, speech synthesized with the image's espeak-ng and
#      recognized again with its PocketSphinx model.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then echo "image-check: needs root (podman build, debootstrap, chroot)" >&2; exit 1; fi
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=localhost/hub-check/debian:bookworm-slim
binary=localhost/hub-check/binary:latest
image=localhost/hub:image-check
work=$(mktemp -d /var/tmp/hub-image-check.XXXXXX)
container=""
hub_pid=""
cleanup() {
  if [ -n "$hub_pid" ]; then kill "$hub_pid" 2>/dev/null || true; wait "$hub_pid" 2>/dev/null || true; fi
  if [ -n "$container" ]; then podman umount "$container" > /dev/null 2>&1 || true; podman rm -f "$container" > /dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
started=$(date +%s)
say() { echo "image-check [$(( $(date +%s) - started ))s]: $*"; }

# 1. The binary.
if [ -n "${IMAGE_CHECK_BINARY:-}" ]; then
  bin_dir=$(cd "$(dirname "$IMAGE_CHECK_BINARY")" && pwd)
  say "staging $IMAGE_CHECK_BINARY"
else
  say "building the hub (swift build -c release --product hub --static-swift-stdlib)"
  swift build -c release --product hub --static-swift-stdlib
  bin_dir=$(swift build -c release --static-swift-stdlib --show-bin-path)
fi
deploy/stage-hub.sh "$bin_dir" "$work/binary/staging"

# 2. The base image and the binary stage.
if ! podman image exists "$base"; then
  say "debootstrap bookworm (minbase) from $mirror"
  debootstrap --variant=minbase --include=passwd,ca-certificates bookworm "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log"; exit 1; }
  # As in the official image: the updates and security suites, no package lists, no caches.
  rm -f "$work/rootfs/etc/apt/sources.list"
  cat > "$work/rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin "$work/rootfs/var/cache/apt/archives/"*.deb
  tar -C "$work/rootfs" -c . | podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["bash"]' - "$base" > /dev/null
  rm -rf "$work/rootfs"
fi
say "base image $base ($(podman image inspect --format '{{.Size}}' "$base" | numfmt --to=iec))"
tar -C "$work/binary" -c staging | podman import - "$binary" > /dev/null

# 3. The runtime stage.
say "podman build --isolation chroot --target runtime"
# Docker's image format: OCI images have no HEALTHCHECK.
podman build --isolation chroot --format docker --target runtime --pull=never \
  --build-arg BASE_IMAGE="$base" --build-arg BINARY_STAGE="$binary" \
  -f deploy/Dockerfile -t "$image" . > "$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
say "built $image: $(podman image inspect --format '{{.Size}}' "$image" | numfmt --to=iec)," \
  "user $(podman image inspect --format '{{.Config.User}}' "$image")," \
  "volumes $(podman image inspect --format '{{range $k, $v := .Config.Volumes}}{{$k}} {{end}}' "$image")," \
  "healthcheck $(podman image inspect --format '{{json .HealthCheck}}' "$image")"

# 4. The image's hub, by chroot into a container's root, in a mount namespace of its own.
container=$(podman create "$image")
root=$(podman mount "$container")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
user=$(podman image inspect --format '{{.Config.User}}' "$image")
mapfile -t image_env < <(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image" | sed '/^$/d')
say "starting the image's hub as $user on 127.0.0.1:$port, its root read-only"
# The root read-only with /data and /tmp writable, as docker-compose.yml (read_only) and the
# Kubernetes deployment (readOnlyRootFilesystem) run it.
unshare --mount --propagation private sh -c '
  set -e
  root=$1; uid=$2; shift 2
  mount --bind "$root" "$root" && mount -o remount,bind,ro "$root"
  mount -t tmpfs -o "mode=0700,uid=$uid" tmpfs "$root/data"
  mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
  mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" && mount --rbind /sys "$root/sys"
  exec "$@"
' image-check "$root" "$(chroot "$root" id -u "${user%%:*}")" env -i "${image_env[@]}" HUB_SERVER_HOST=127.0.0.1 HUB_SERVER_PORT="$port" \
  chroot --userspec="$user" "$root" sh -c 'cd /data && exec /usr/local/bin/hub serve' > "$work/hub.log" 2>&1 &
hub_pid=$!
in_image() { env -i "${image_env[@]}" HUB_SERVER_PORT="$port" chroot --userspec="$user" "$root" "$@"; }
for _ in $(seq 1 100); do
  if in_image /usr/local/bin/hub-healthcheck 2> /dev/null; then break; fi
  if ! kill -0 "$hub_pid" 2> /dev/null; then cat "$work/hub.log"; echo "image-check: the hub exited" >&2; exit 1; fi
  sleep 0.2
done
in_image /usr/local/bin/hub-healthcheck || { cat "$work/hub.log"; exit 1; }
say "/health: 200 (the image's HEALTHCHECK script)"
url="http://127.0.0.1:$port"
curl -fsS "$url/health"; echo
fail() { echo "image-check: $*" >&2; tail -20 "$work/hub.log" >&2; exit 1; }
curl -fsS "$url/" -o "$work/index.html" && grep -q '<html' "$work/index.html" || fail "/ is not the chat page"
say "/: the chat page ($(stat -c %s "$work/index.html") bytes)"
say "/ready: $(curl -sS "$url/ready")"
curl -fsS "$url/api/v1/tts/synthesize" -H 'Content-Type: application/json' -d '{"text":"hello from the image"}' -o "$work/hello.wav" \
  && [ "$(head -c 4 "$work/hello.wav")" = RIFF ] || fail "no speech from /api/v1/tts/synthesize"
say "speech: $(stat -c %s "$work/hello.wav") bytes of WAV from espeak-ng in the image"
heard=$(curl -fsS "$url/api/v1/asr/transcribe" -H 'Content-Type: audio/wav' --data-binary @"$work/hello.wav") \
  || fail "/api/v1/asr/transcribe failed"
say "recognition (PocketSphinx's free-speech model often mishears): $heard"
say "in the image: $(in_image sh -c 'echo $(ls -d /usr/lib/*/espeak-ng-data /usr/share/pocketsphinx/model/en-us); id')"
echo "image-check: ok ($image)"
