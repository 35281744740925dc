#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds `ektp`
# (dev preset, shared with scripts/test.sh) and runs `ektp demo`: a day of
# central and four stations on localhost with synthetic residents of Ngawi.
# Arguments go to `ektp demo`, e.g. `scripts/demo.sh --residents 100 --exit-when-done`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh >/dev/null
cmake --preset dev >/dev/null
cmake --build --preset dev --target ektp
exec build/dev/ektp demo "$@"
