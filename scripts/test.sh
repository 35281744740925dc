#!/usr/bin/env bash
# Runs every test: installs what is missing, builds with a CMake preset
# (default: dev; `scripts/test.sh asan` for the sanitizer build), starts a
# throwaway PostgreSQL so both storage backends are tested, and runs CTest.
set -euo pipefail
cd "$(dirname "$0")/.."

preset=${1:-dev}
bash scripts/setup.sh >/dev/null

cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"

pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/ektp-pg-XXXXXX")
trap 'scripts/throwaway_postgres.sh stop "$pg_dir"' EXIT
eval "$(scripts/throwaway_postgres.sh start "$pg_dir")"
echo "test: throwaway PostgreSQL at $EKTP_TEST_PG"

ctest --preset "$preset" -j "$(nproc)" "${@:2}"
