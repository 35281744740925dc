#!/usr/bin/env bash
# Starts or stops a throwaway CUPS server with a virtual PDF printer, for tests.
#
#   eval "$(scripts/throwaway_cups.sh start DIR)"   # exports EKTP_TEST_CUPS
#   scripts/throwaway_cups.sh stop DIR
#
# EKTP_TEST_CUPS is "server=127.0.0.1:PORT printer=ektp-pdf pdf_dir=DIR/pdf
# stopped=ektp-stopped rejecting=ektp-rejecting": a cupsd of its own (config,
# spool, cache and logs in DIR) on 127.0.0.1 at a free port and on
# DIR/cups.sock, with three queues on Debian's cups-pdf backend
# (printer-driver-cups-pdf): `ektp-pdf` writes each job as DIR/pdf/<job
# name>.pdf; `ektp-stopped` is stopped and `ektp-rejecting` rejects jobs, for
# the error paths. Anyone on loopback may print and read job names.
#
# Requires root: the cups-pdf backend is root-only (mode 0700) and cupsd runs
# backends as their owner. cups-pdf reads its configuration only from
# /etc/cups (compiled in), so cupsd runs in a private mount namespace where
# DIR/backend-etc is bind-mounted on /etc/cups; the system's /etc/cups is never
# touched. Where mount namespaces are not allowed (no CAP_SYS_ADMIN), the
# configuration goes to /etc/cups/cups-pdf-<name>.conf under a name unique to
# DIR (device URI cups-pdf:/<name>), removed again by `stop`.
set -euo pipefail

action=${1:?usage: throwaway_cups.sh start|stop DIR}
dir=${2:?usage: throwaway_cups.sh start|stop DIR}

stop_server() {
  if [ -f "$dir/cupsd.pid" ]; then
    pid=$(cat "$dir/cupsd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  if [ -f "$dir/system-conf" ]; then rm -f "$(cat "$dir/system-conf")"; fi
}

case "$action" in
  start)
    [ "$(id -u)" -eq 0 ] || { echo "throwaway_cups: must run as root (the cups-pdf backend runs only as root)" >&2; exit 1; }
    [ -x /usr/sbin/cupsd ] && [ -x /usr/lib/cups/backend/cups-pdf ] ||
      { echo "throwaway_cups: cupsd or the cups-pdf backend not found; run scripts/setup.sh" >&2; exit 1; }
    dir=$(realpath -m "$dir")
    mkdir -p "$dir"/{etc/ppd,spool,cache,state,tmp,log,pdf,backend-etc}
    chmod 755 "$dir"  # cupsd's filters run as lp: they read the spool and write TempDir below DIR
    chown root:lp "$dir/tmp"
    chmod 1770 "$dir/tmp"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

    if unshare --mount --propagation private true 2>/dev/null; then
      name=ektp
      conf_dir=$dir/backend-etc
      launch=(unshare --mount --propagation private -- sh -c 'mount --bind "$0" /etc/cups && exec "$@"' "$conf_dir")
    else
      name=ektp-$(basename "$dir" | tr -c 'a-zA-Z0-9\n' '-')-$$
      conf_dir=/etc/cups
      echo "/etc/cups/cups-pdf-$name.conf" >"$dir/system-conf"
      launch=()
    fi
    cat >"$conf_dir/cups-pdf-$name.conf" <<EOF
Out $dir/pdf
AnonDirName $dir/pdf
Spool $dir/tmp/cups-pdf
Log $dir/log
Grp root
UserUMask 0022
LogType 3
TitlePref 1
Cut -1
EOF

    cat >"$dir/etc/cups-files.conf" <<EOF
ServerRoot $dir/etc
RequestRoot $dir/spool
CacheDir $dir/cache
StateDir $dir/state
TempDir $dir/tmp
AccessLog $dir/log/access_log
ErrorLog $dir/log/error_log
PageLog $dir/log/page_log
User lp
Group lp
SystemGroup root
FileDevice No
Printcap $dir/state/printcap
Sandboxing Relaxed
EOF
    cat >"$dir/etc/cupsd.conf" <<EOF
LogLevel info
Listen 127.0.0.1:$port
Listen $dir/cups.sock
Browsing No
BrowseLocalProtocols none
DefaultAuthType None
WebInterface No
<Location />
  Order allow,deny
  Allow from 127.0.0.1
  Allow from @LOCAL
</Location>
<Policy default>
  JobPrivateValues none
  SubscriptionPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
EOF
    : >"$dir/etc/printers.conf"
    add_queue() {  # PRINTER STATE ACCEPTING MESSAGE
      cp /usr/share/ppd/cups-pdf/CUPS-PDF_noopt.ppd "$dir/etc/ppd/$1.ppd"
      printf '<Printer %s>\nInfo ektp test printer\nDeviceURI cups-pdf:/%s\nState %s\nStateMessage %s\nAccepting %s\nShared No\n</Printer>\n' \
        "$1" "$name" "$2" "$4" "$3" >>"$dir/etc/printers.conf"
    }
    add_queue ektp-pdf Idle Yes ""
    add_queue ektp-stopped Stopped Yes "paused for the ektp tests"
    add_queue ektp-rejecting Idle No "closed for the ektp tests"
    chmod 600 "$dir/etc/printers.conf"

    ( "${launch[@]}" /usr/sbin/cupsd -f -c "$dir/etc/cupsd.conf" -s "$dir/etc/cups-files.conf" \
        </dev/null >"$dir/log/cupsd.out" 2>&1 & echo $! >"$dir/cupsd.pid" )
    listening() { python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; }
    for _ in $(seq 100); do
      listening && break
      kill -0 "$(cat "$dir/cupsd.pid")" 2>/dev/null || break
      sleep 0.1
    done
    if ! listening; then
      cat "$dir/log/cupsd.out" "$dir/log/error_log" >&2 2>/dev/null || true
      echo "throwaway_cups: cupsd did not start listening on 127.0.0.1:$port (its log is above)" >&2
      stop_server
      exit 1
    fi
    echo "export EKTP_TEST_CUPS='server=127.0.0.1:$port printer=ektp-pdf pdf_dir=$dir/pdf stopped=ektp-stopped rejecting=ektp-rejecting'"
    ;;
  stop)
    stop_server
    rm -rf "$dir"
    ;;
  *)
    echo "throwaway_cups: unknown action $action" >&2
    exit 2
    ;;
esac
