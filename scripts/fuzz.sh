#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (`cmake --preset fuzz`) and fuzzes
# every parser of untrusted input within ONE fixed total budget that the
# targets share equally.
#
#   scripts/fuzz.sh [total-seconds]     default 120 (what CI runs)
#
# Each target starts from its seed corpus, build/fuzz/seeds/<target>/, made
# by `fuzz_seed_corpus` (tests/fuzz/seed_corpus.cc) and
# from any committed `testdata/<target>/` folder under src/. A target whose
# seed corpus is missing or empty fails the run: it is never fuzzed from
# nothing. Inputs it finds are kept in build/fuzz/corpus/<target>/ for the
# next run. Exit status is non-zero if any target crashes, leaks, times out
# or runs out of memory; the input that did it stays in
# build/fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

# The targets, one per line: name, then its binary under build/fuzz/. To add
# a fuzzer, add its line here and give it seeds (fuzz_seed_corpus or a
# committed testdata/<name>/ folder beside its code).
targets=(
  "template_fuzzer           src/bio/template_fuzzer"
  "gallery_blob_fuzzer       src/bio/gallery_blob_fuzzer"
  "envelope_fuzzer           src/sync/envelope_fuzzer"
  "upload_body_fuzzer        src/sync/upload_body_fuzzer"
  "request_timestamp_fuzzer  src/sync/request_timestamp_fuzzer"
  "enrollment_fuzzer         src/enrollment/enrollment_fuzzer"
  "biometrics_fuzzer         src/enrollment/biometrics_fuzzer"
  "feed_item_fuzzer          src/station/feed_item_fuzzer"
  "config_fuzzer             src/service/config_fuzzer"
  "multipart_fuzzer          src/net/multipart_fuzzer"
  "chip_fuzzer               src/card/chip_fuzzer"
  "suket_token_fuzzer        src/suket/suket_token_fuzzer"
)

total="${1:-120}"
if ! [[ "$total" =~ ^[0-9]+$ ]] || [ "$total" -lt "${#targets[@]}" ]; then
  echo "fuzz: the total budget must be a whole number of seconds, at least one per target (${#targets[@]})" >&2
  exit 2
fi
per_target=$((total / ${#targets[@]}))

names=()
for line in "${targets[@]}"; do
  read -r name _ <<<"$line"
  names+=("$name")
done
cmake --preset fuzz >/dev/null
cmake --build build/fuzz --target "${names[@]}" fuzz_seed_corpus -j2

seeds=build/fuzz/seeds
rm -rf "$seeds"
build/fuzz/tests/fuzz/fuzz_seed_corpus "$seeds"

failed=()
echo "fuzz: ${#targets[@]} targets, ${per_target} s each (${total} s in all)"
for line in "${targets[@]}"; do
  read -r name binary <<<"$line"
  while IFS= read -r -d '' committed; do
    mkdir -p "$seeds/$name"
    cp -f "$committed"/* "$seeds/$name"/
  done < <(find src -type d -path "*/testdata/$name" -print0)
  if [ -z "$(ls -A "$seeds/$name" 2>/dev/null)" ]; then
    echo "fuzz: $name has no seed corpus in $seeds/$name; refusing to fuzz it from nothing" >&2
    failed+=("$name (no seed corpus)")
    continue
  fi
  mkdir -p "build/fuzz/corpus/$name" "build/fuzz/artifacts/$name"
  echo "== fuzz: $name ($(ls "$seeds/$name" | wc -l) seeds, ${per_target} s)"
  if ! "build/fuzz/$binary" "build/fuzz/corpus/$name" "$seeds/$name" \
      -max_total_time="$per_target" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="build/fuzz/artifacts/$name/" -print_final_stats=1; then
    failed+=("$name (see build/fuzz/artifacts/$name/)")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzz: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "fuzz: every target ran ${per_target} s without a crash"
