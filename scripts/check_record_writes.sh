#!/usr/bin/env bash
# Fails when SQL outside the record owner (src/store/record_repository.cc)
# writes the `records` or `record_events` tables, or spells a record state's
# name as an SQL literal in product code (core/lifecycle.cc holds the names): every record change must
# be a legal, audited transition (docs/architecture.md, "Adding a record state").
set -euo pipefail
cd "$(dirname "$0")/.."

owner=src/store/record_repository.cc
status=0

writes=$(grep -rnIiE "(insert[[:space:]]+into|update|delete[[:space:]]+from|replace[[:space:]]+into)[[:space:]]+record(s|_events)\b" \
           src tests benchmarks --include='*.cc' --include='*.h' 2>/dev/null | grep -v "^$owner:" || true)
if [ -n "$writes" ]; then
  echo "check_record_writes: SQL outside $owner writes records or record_events; use store::RecordRepository:" >&2
  echo "$writes" >&2
  status=1
fi

states=$(sed -n 's/^ *{S::k[A-Za-z]*, "\([a-z_]*\)"},*$/\1/p' src/core/lifecycle.cc)
if [ -z "$states" ]; then
  echo "check_record_writes: found no state names in src/core/lifecycle.cc; update this script's pattern" >&2
  exit 1
fi
pattern=$(echo "$states" | paste -sd'|')
# Tests and benchmarks may spell names: a test that pins the stored spelling is a good test.
literals=$(grep -rnIiE "(state|to_state|from_state)[^;]*'($pattern)'" src --include='*.cc' --include='*.h' \
             | grep -vE "_(test|benchmark)\.cc:" || true)
if [ -n "$literals" ]; then
  echo "check_record_writes: SQL spells a record state's name; take it from core/lifecycle (store::SqlStateList or a bound parameter):" >&2
  echo "$literals" >&2
  status=1
fi
exit $status
