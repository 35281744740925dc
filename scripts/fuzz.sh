#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (`cmake --preset fuzz`) and runs each
# for a bounded time, seeded from the ISO/ANSI test vectors and a few FVC
# templates, and the multipart parser from one enrollment-shaped body.
# Usage: scripts/fuzz.sh [seconds-per-target, default 60]
# Exit status is non-zero if a target crashes; crash inputs stay in
# build/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
data="$(pwd)/../shared/data"

cmake --preset fuzz >/dev/null
cmake --build build/fuzz --target template_fuzzer multipart_fuzzer -j2

corpus=build/fuzz/corpus/template
mkdir -p "$corpus" build/fuzz/artifacts
cp -f "$data"/iso19794-vectors/*.dat "$corpus"/ 2>/dev/null || true
for db in DB1_B DB2_B DB3_B DB4_B; do
  cp -f "$data"/fvc2002/$db/101_1.iso "$corpus"/fvc_${db}_101_1.iso 2>/dev/null || true
done

build/fuzz/src/bio/template_fuzzer "$corpus" \
  -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 \
  -artifact_prefix=build/fuzz/artifacts/ -print_final_stats=1

corpus=build/fuzz/corpus/multipart
mkdir -p "$corpus"
printf 'multipart/form-data; boundary=b\n--b\r\nContent-Disposition: form-data; name="demographics"\r\nContent-Type: application/json\r\n\r\n{"nama":"X"}\r\n--b\r\nContent-Disposition: form-data; name="photo"; filename="f.jpg"\r\n\r\n\xff\xd8\xff\xd9\r\n--b--\r\n' \
  >"$corpus"/enrollment
build/fuzz/src/net/multipart_fuzzer "$corpus" \
  -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 \
  -artifact_prefix=build/fuzz/artifacts/ -print_final_stats=1
