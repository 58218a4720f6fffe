#!/usr/bin/env bash
# Builds HubFuzz with libFuzzer and AddressSanitizer and runs its targets (Fuzz/README.md).
#
#   scripts/fuzz.sh [target...]          each target FUZZ_SECONDS (default 60; 0: until it crashes or
#                                        is stopped) from its corpus; new inputs go to
#                                        .build-fuzz/corpus/<target>, kept between runs
#   scripts/fuzz.sh --quick [target...]  make test: each target over the committed corpus, then
#                                        FUZZ_QUICK_SECONDS (default 10; 0: the corpus only) more,
#                                        new inputs into a temporary directory
#
# A crash leaves its input in .build-fuzz/artifacts/ and fails the script; replay it with
# `.build-fuzz/debug/HubFuzz <target> <file>` (or a plain build's HubFuzz, without sanitizers).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
if [[ "${1:-}" == "--quick" ]]; then
  quick=1
  shift
fi
scratch=.build-fuzz
# libFuzzer's coverage and AddressSanitizer on the Swift and the C code (libyaml in Yams, the NIO shims);
# -DHUB_FUZZING hands main to libFuzzer. (SwiftPM's own --sanitize fuzzer would link libFuzzer's main
# over HubFuzz's entry point.)
build=(swift build --scratch-path "$scratch" --product HubFuzz
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DHUB_FUZZING -Xcc -fsanitize=fuzzer-no-link,address)

start=$SECONDS
echo "fuzz: building HubFuzz (libFuzzer + ASan) in $scratch"
# gold warns once per ASan helper it cannot export (about 140 lines); nothing else is dropped.
if ! "${build[@]}" 2>&1 | { grep -v "Cannot export local symbol" || true; }; then
  echo "fuzz: build failed"
  exit 1
fi
echo "fuzz: build took $((SECONDS - start)) s"
binary="$("${build[@]}" --show-bin-path)/HubFuzz"

if (($# > 0)); then
  targets=("$@")
else
  mapfile -t targets < <("$binary" list | awk '{print $1}')
fi

if ((quick)); then
  seconds=${FUZZ_QUICK_SECONDS:-10}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
else
  seconds=${FUZZ_SECONDS:-60}
  work="$scratch/corpus"
fi
mkdir -p "$scratch/artifacts" "$scratch/logs"

# The Swift runtime's crash handler would take the signal before libFuzzer, which then saves no input.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
# Known leaks inside system libraries (each explained in the file).
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0}"

failed=()
summary=()
for target in "${targets[@]}"; do
  corpus="Fuzz/Corpus/$target"
  [[ -d "$corpus" ]] || { echo "fuzz: no corpus directory $corpus"; exit 2; }
  mkdir -p "$work/$target"
  options=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$scratch/artifacts/$target-")
  if ((seconds > 0)); then
    options+=(-max_total_time="$seconds")
  elif ((quick)); then
    options+=(-runs=0) # the corpus only
  fi
  [[ -f "Fuzz/Dictionaries/$target.dict" ]] && options+=(-dict="Fuzz/Dictionaries/$target.dict")
  log="$scratch/logs/$target.log"
  echo "fuzz: $target for ${seconds} s (log $log)"
  status=0
  "$binary" "$target" "${options[@]}" "$work/$target" "$corpus" >"$log" 2>&1 || status=$?
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  speed=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
  found=$(find "$work/$target" -type f | wc -l)
  summary+=("$(printf '%-24s %10s runs %8s/s %6s new inputs' "$target" "${runs:-?}" "${speed:-?}" "$found")")
  if ((status != 0)); then
    failed+=("$target")
    echo "fuzz: $target FAILED (exit $status); the end of its log:"
    tail -n 40 "$log"
  fi
done

echo "fuzz: executions per target"
printf '  %s\n' "${summary[@]}"
if ((${#failed[@]} > 0)); then
  echo "fuzz: crashes or failures in: ${failed[*]} (inputs in $scratch/artifacts/)"
  exit 1
fi
echo "fuzz: no crash in ${#targets[@]} targets ($((SECONDS - start)) s in all)"
