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
if ! pg_env=$(scripts/throwaway_postgres.sh start "$pg_dir"); then
  echo "test: the throwaway PostgreSQL did not start (its log is above); the PostgreSQL suites cannot run" >&2
  exit 1
fi
eval "$pg_env"
if [ -z "${EKTP_TEST_PG:-}" ]; then
  echo "test: scripts/throwaway_postgres.sh started but printed no EKTP_TEST_PG; the PostgreSQL suites cannot run" >&2
  exit 1
fi
if ! psql "$EKTP_TEST_PG dbname=postgres" -qAtc 'SELECT 1' >/dev/null; then
  echo "test: the throwaway PostgreSQL at $EKTP_TEST_PG does not answer; the PostgreSQL suites cannot run" >&2
  exit 1
fi
echo "test: throwaway PostgreSQL at $EKTP_TEST_PG"

if ! cups_env=$(scripts/throwaway_cups.sh start "$cups_dir"); then
  echo "test: the throwaway cupsd did not start (its log is above); the CUPS card output tests cannot run" >&2
  exit 1
fi
eval "$cups_env"
if [ -z "${EKTP_TEST_CUPS:-}" ]; then
  echo "test: scripts/throwaway_cups.sh started but printed no EKTP_TEST_CUPS; the CUPS tests cannot run" >&2
  exit 1
fi
echo "test: throwaway cupsd: $EKTP_TEST_CUPS"

ctest --preset "$preset" -j "$(nproc)" "${@:2}"
