#!/usr/bin/env bash
# Gathers what the runtime image needs from a build: `stage-hub.sh BIN_DIR STAGING` copies
# BIN_DIR/hub (debug info stripped, symbols kept for backtraces), any SwiftPM resource bundle
# beside it (today the web page is compiled into the binary, so there is none), and every Swift
# runtime library the binary links from the toolchain (none with --static-swift-stdlib) into
# STAGING/lib. Used by deploy/Dockerfile's build stage and by `make image-check`.
set -euo pipefail
bin_dir=$1
staging=$2
mkdir -p "$staging/lib"
cp "$bin_dir/hub" "$staging/hub"
if command -v strip >/dev/null; then strip --strip-debug "$staging/hub"; fi
for bundle in "$bin_dir"/*.resources; do
  if [ -d "$bundle" ]; then cp -R "$bundle" "$staging/"; fi
done
# `ldd` lines look like `libswiftCore.so => /usr/lib/swift/linux/libswiftCore.so (0x…)`.
ldd "$staging/hub" | awk '$3 ~ /\/lib\/swift\// { print $3 }' | while read -r library; do
  cp -L "$library" "$staging/lib/"
done
missing=$(ldd "$staging/hub" | grep 'not found' || true)
if [ -n "$missing" ]; then
  echo "stage-hub: libraries not found for hub:" >&2
  echo "$missing" >&2
  exit 1
fi
echo "staged $(du -sh "$staging" | cut -f1) in $staging: hub + $(find "$staging/lib" -name '*.so*' | wc -l) Swift runtime libraries"
