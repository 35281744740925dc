#!/usr/bin/env bash
# Runs every test: installs what is missing, builds with a CMake preset
# (default: dev; `scripts/test.sh asan` for the sanitizer build), starts a
# throwaway PostgreSQL so both storage backends are tested and a throwaway
# cupsd with a virtual PDF printer for the CUPS card output, and runs CTest.
set -euo pipefail
cd "$(dirname "$0")/.."

preset=${1:-dev}
bash scripts/setup.sh >/dev/null

cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"

pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/ektp-pg-XXXXXX")
cups_dir=$(mktemp -d "${TMPDIR:-/tmp}/ektp-cups-XXXXXX")
trap 'scripts/throwaway_postgres.sh stop "$pg_dir"; scripts/throwaway_cups.sh stop "$cups_dir"' EXIT
# `eval "$(...)"` would hide a failed start (eval of nothing succeeds): check
# the start, the variable it sets and that the server answers, each by name.
start_throwaway() {  # NAME (postgres|cups) DIR VARIABLE WHAT-CANNOT-RUN
  local env
  if ! env=$("scripts/throwaway_$1.sh" start "$2"); then
    echo "test: the throwaway $1 server did not start (its log is above); $4 cannot run" >&2
    exit 1
  fi
  eval "$env"
  if [ -z "${!3:-}" ]; then
    echo "test: scripts/throwaway_$1.sh started but printed no $3; $4 cannot run" >&2
    exit 1
  fi
}
start_throwaway postgres "$pg_dir" EKTP_TEST_PG "the PostgreSQL suites"
if ! psql "$EKTP_TEST_PG dbname=postgres" -qAtc 'SELECT 1' >/dev/null; then
  echo "test: the throwaway PostgreSQL at $EKTP_TEST_PG does not answer; the PostgreSQL suites cannot run" >&2
  exit 1
fi
echo "test: throwaway PostgreSQL at $EKTP_TEST_PG"
start_throwaway cups "$cups_dir" EKTP_TEST_CUPS "the CUPS card output tests"
echo "test: throwaway cupsd: $EKTP_TEST_CUPS"

# The sanitizer pass leaves out the tests labelled `slow` (long real-scale
# runs, e.g. 500 cards printed offline); the dev pass runs every test.
skip_slow=()
if [ "$preset" = asan ]; then skip_slow=(-LE slow); fi
ctest --preset "$preset" -j "$(nproc)" "${skip_slow[@]}" "${@:2}"
