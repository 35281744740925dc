#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL cluster for tests.
#
#   eval "$(scripts/throwaway_postgres.sh start DIR)"   # exports EKTP_TEST_PG
#   scripts/throwaway_postgres.sh stop DIR
#
# By default the cluster trades durability for speed (fsync=off,
# synchronous_commit=off, full_page_writes=off), which suits tests. With
# `start DIR durable` it keeps PostgreSQL's durable defaults, for benchmarks
# whose figures must hold on a real server.
#
# The cluster lives in DIR (a fresh temporary directory), listens on
# 127.0.0.1 at a free port and on a socket in DIR, trusts local connections,
# and runs as an unprivileged user (postgres when started as root).
set -euo pipefail

action=${1:?usage: throwaway_postgres.sh start|stop DIR [durable]}
dir=${2:?usage: throwaway_postgres.sh start|stop DIR [durable]}
mode=${3:-fast}
case "$mode" in
  fast) durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" ;;
  durable) durability="" ;;
  *) echo "throwaway_postgres: unknown mode $mode (expected durable)" >&2; exit 2 ;;
esac

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pg_bin/initdb" ] || { echo "throwaway_postgres: PostgreSQL server binaries not found; run scripts/setup.sh" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
  as_owner=(runuser -u postgres --)
else
  as_owner=()
fi

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${as_owner[@]}" "$pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir $durability -c max_connections=200" \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "export EKTP_TEST_PG='host=127.0.0.1 port=$port user=postgres'"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "throwaway_postgres: unknown action $action" >&2
    exit 2
    ;;
esac
