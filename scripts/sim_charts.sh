#!/usr/bin/env bash
# Regenerates the charts of docs/simulation.md (docs/images/sim/<scenario>/)
# and prints each named scenario's table, as `ektp sim --scenario <name>`
# writes them.
#
#   scripts/sim_charts.sh [path/to/ektp]     (default build/dev/ektp)
set -euo pipefail
ektp="${1:-build/dev/ektp}"
cd "$(dirname "$0")/.."
for scenario in situbondo ngawi rokan-hilir; do
  out="$(mktemp -d)"
  "$ektp" sim --scenario "$scenario" --out "$out" | sed '/^wrote /d'
  mkdir -p "docs/images/sim/$scenario"
  cp "$out"/*.svg "docs/images/sim/$scenario/"
  rm -rf "$out"
  echo
done
