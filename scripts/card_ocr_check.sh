#!/usr/bin/env bash
# How well OCR reads rendered cards: renders synthetic residents' cards with
# `ektp card example --seed S` for S in FIRST..LAST and counts the fronts on
# which tesseract finds both the NIK and the full name.
#
#   scripts/card_ocr_check.sh [FIRST] [LAST]      default 31 90
#   EKTP=build/dev/ektp                            the binary to use
#
# Seeds 1..30 were used to choose the font; report figures from others.
set -euo pipefail
cd "$(dirname "$0")/.."
first=${1:-31}
last=${2:-90}
ektp=${EKTP:-build/dev/ektp}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
found=0
for seed in $(seq "$first" "$last"); do
  dir="$work/$seed"
  "$ektp" card example --seed "$seed" --out "$dir" >/dev/null
  read -r nik name < <("$ektp" card show "$dir/chip.bin" --json |
    python3 -c 'import json, sys; r = json.load(sys.stdin)["resident"]; print(r["nik"], r["name"])')
  tesseract "$dir/front.png" "$dir/text" >/dev/null 2>&1
  if grep -qF "$nik" "$dir/text.txt" && grep -qF "$name" "$dir/text.txt"; then
    found=$((found + 1))
  else
    echo "seed $seed: not read back: $(grep -F ': ' "$dir/text.txt" | head -2 | tr '\n' ' ')"
  fi
done
total=$((last - first + 1))
echo "{\"cards\": $total, \"nik_and_name_read\": $found}"
