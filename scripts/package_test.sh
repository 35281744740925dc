#!/usr/bin/env bash
# The Debian package, end to end, as an administrator meets it: builds
# ektp_<version>_amd64.deb from build/dev (run scripts/test.sh first; nothing
# is rebuilt but the package), installs it with apt-get, checks the user,
# modes, conffiles and man page, runs `ektp central init` as the package's
# user, runs ektp-central.service's command under a stand-in for systemd's
# notification socket (READY=1 only once listening, WATCHDOG=1, STOPPING=1)
# and, without journald, a stand-in for the journal's (structured fields),
# verifies the units with systemd-analyze, upgrades to a newer build (data and
# an edited conffile kept), removes (data kept), and purges (data and
# configuration gone). Needs root (apt-get, dpkg); leaves the machine as it
# found it, also when a check fails.
#
#   scripts/package_test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "package_test: run as root (it installs and purges the package)" >&2
  exit 1
fi
if [ ! -x build/dev/ektp ]; then
  echo "package_test: build/dev/ektp is missing; run scripts/test.sh first" >&2
  exit 1
fi

fail() {
  echo "package_test: FAILED: $*" >&2
  exit 1
}
pass() { echo "package_test: ok: $*"; }

user_existed=0
getent passwd ektp >/dev/null && user_existed=1
work=$(mktemp -d "${TMPDIR:-/tmp}/ektp-package-XXXXXX")
chmod 0755 "$work"  # apt's _apt user reads the .deb from here
cleanup() {
  if dpkg-query -W -f='${Status}' ektp 2>/dev/null | grep -q "installed\|config-files"; then
    apt-get purge -y -qq ektp >/dev/null 2>&1 || true
  fi
  if [ "$user_existed" -eq 0 ] && getent passwd ektp >/dev/null; then
    deluser --system --quiet ektp >/dev/null 2>&1 || true
    delgroup --system --quiet ektp >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
# A run that failed half way may have left the package behind.
cleanup
mkdir -p "$work" && chmod 0755 "$work"

export DEBIAN_FRONTEND=noninteractive
cmake --build --preset dev --target ektp ektp_package_files >/dev/null
version=$(build/dev/ektp --version | awk '{print $2}')
cpack --config build/dev/CPackConfig.cmake -B "$work/old" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log" >&2; fail "cpack"; }
deb="$work/old/ektp_${version}_amd64.deb"
[ -f "$deb" ] || fail "cpack made no $deb"
# The same build as a newer version, to upgrade to.
cpack --config build/dev/CPackConfig.cmake -B "$work/new" -D CPACK_PACKAGE_VERSION="${version}+1" \
  -D CPACK_DEBIAN_PACKAGE_VERSION="${version}+1" >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log" >&2; fail "cpack"; }
new_deb="$work/new/ektp_${version}+1_amd64.deb"
[ -f "$new_deb" ] || fail "cpack made no $new_deb"
pass "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

apt-get install -y -qq "$deb" >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get install $deb"; }
[ "$(ektp --version)" = "ektp $version" ] || fail "ektp --version says '$(ektp --version)', not 'ektp $version'"
pass "installed; ektp --version: $(ektp --version)"

# The system user, the data directory and the configuration's modes.
[ "$(getent passwd ektp | cut -d: -f6)" = /var/lib/ektp ] || fail "no system user ektp with home /var/lib/ektp"
[ "$(stat -c '%U:%G %a' /var/lib/ektp)" = "ektp:ektp 700" ] ||
  fail "/var/lib/ektp is $(stat -c '%U:%G %a' /var/lib/ektp), not ektp:ektp 700"
for file in central station; do
  [ "$(stat -c '%U:%G %a' /etc/ektp/$file.toml)" = "root:ektp 640" ] ||
    fail "/etc/ektp/$file.toml is $(stat -c '%U:%G %a' /etc/ektp/$file.toml), not root:ektp 640"
  dpkg-query -W -f='${Conffiles}\n' ektp | grep -q "/etc/ektp/$file.toml " || fail "/etc/ektp/$file.toml is no conffile"
done
# Read whole first: `zcat | grep -q` fails under pipefail once the page
# outgrows the pipe buffer (grep quits at the match, zcat gets SIGPIPE).
man_page=$(zcat /usr/share/man/man1/ektp.1.gz) || fail "cannot read /usr/share/man/man1/ektp.1.gz"
grep -q '^\.SS ektp central init' <<<"$man_page" || fail "the man page lacks 'central init'"
completion=/usr/share/bash-completion/completions/ektp
bash -n "$completion" || fail "bash -n refuses $completion"
[ "$(bash -c "source $completion; COMP_WORDS=(ektp central ini); COMP_CWORD=2; _ektp; echo \${COMPREPLY[*]}")" = "init" ] ||
  fail "$completion does not complete 'ektp central ini'"
pass "user ektp, /var/lib/ektp ektp:ektp 0700, /etc/ektp/*.toml root:ektp 0640 conffiles, man page, bash completion"

# Every key of the shipped files is one the binary knows (--config refuses others).
as_ektp=(setpriv --reuid=ektp --regid=ektp --init-groups --reset-env)
"${as_ektp[@]}" ektp central serve --config /etc/ektp/central.toml --print-config >"$work/central.effective" ||
  fail "ektp central serve refuses /etc/ektp/central.toml"
grep -qx 'data_dir = "/var/lib/ektp/central"' "$work/central.effective" || fail "central.toml does not set the data dir"
"${as_ektp[@]}" ektp station serve --config /etc/ektp/station.toml --print-config >/dev/null ||
  fail "ektp station serve refuses /etc/ektp/station.toml"
pass "ektp reads /etc/ektp/central.toml and station.toml as user ektp"

"${as_ektp[@]}" ektp central init --dir /var/lib/ektp/central --hostname central.test >"$work/init.log" ||
  fail "ektp central init as ektp: $(cat "$work/init.log")"
[ "$(stat -c '%U %a' /var/lib/ektp/central/signing.key)" = "ektp 600" ] ||
  fail "signing.key is $(stat -c '%U %a' /var/lib/ektp/central/signing.key), not ektp 600"
pass "ektp central init as user ektp: keys owned by ektp, 0600"

# The units' ExecStart under a stand-in for systemd's notification socket.
# --port 0 and 127.0.0.1: the test must not take the machine's 8443.
python3 - "$work" <<'PY' || fail "the services' sd_notify protocol or journal fields (above)"
import os, signal, socket, subprocess, sys, urllib.request, ssl
work = sys.argv[1]
sock_path = os.path.join(work, "notify")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sock_path)
os.chmod(sock_path, 0o777)
sock.settimeout(30)

# Without journald (a container), a stand-in on its socket receives what
# sd_journal_sendv sends; with journald running, the journal gets it instead.
journal_path = "/run/systemd/journal/socket"
journal = None
made = [d for d in ("/run/systemd", "/run/systemd/journal") if not os.path.exists(d)]
if not os.path.exists(journal_path):
    for d in made:
        os.mkdir(d, 0o755)
    journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journal.bind(journal_path)
    os.chmod(journal_path, 0o666)
    journal.settimeout(10)

def close_journal():
    if journal is not None:
        journal.close()
        os.unlink(journal_path)
        for d in reversed(made):
            os.rmdir(d)

def expect(what, process):
    while True:
        message = sock.recv(4096).decode()
        if message.startswith(what):
            return message
        if not message.startswith("WATCHDOG=1"):
            sys.exit(f"{process}: expected {what}, got {message!r}")

def run(name, argv, url_path):
    # sh's pid is the service's pid after both execs: WATCHDOG_PID names it.
    log = open(os.path.join(work, name + ".log"), "w")
    log_stat = os.fstat(log.fileno())
    process = subprocess.Popen(
        ["sh", "-c", 'export WATCHDOG_PID=$$; exec setpriv --reuid=ektp --regid=ektp --init-groups "$@"', "sh"] + argv,
        env={"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "400000", "PATH": "/usr/bin:/bin",
             "JOURNAL_STREAM": f"{log_stat.st_dev}:{log_stat.st_ino}"},
        stdout=subprocess.PIPE, stderr=log)
    ready = expect("READY=1", name)
    if journal is not None:
        # The native protocol: one NAME=value per line.
        entries = []
        while not any(f"EKTP_EVENT={name}.started" in e for e in entries):
            entries.append(journal.recv(65536).decode(errors="replace"))
        started = next(e for e in entries if f"EKTP_EVENT={name}.started" in e).splitlines()
        for field in ("SYSLOG_IDENTIFIER=ektp", "PRIORITY=6"):
            if field not in started:
                sys.exit(f"{name}: the journal entry of {name}.started lacks {field}: {started}")
        if not any(f.startswith("EKTP_URL=https://127.0.0.1:") for f in started):
            sys.exit(f"{name}: the journal entry of {name}.started lacks EKTP_URL: {started}")
        print(f"package_test: ok: {name}: logs reach the journal as fields (EKTP_EVENT, EKTP_URL, PRIORITY)")
    url = process.stdout.readline().decode().split(" listening on ")[1].strip()
    # READY=1 came after the listener opened: the server answers at once.
    context = ssl._create_unverified_context()
    with urllib.request.urlopen(url + url_path, context=context, timeout=10) as answer:
        if answer.status != 200:
            sys.exit(f"{name}: {url_path} answered {answer.status} after READY=1")
    if sock.recv(4096).decode() != "WATCHDOG=1":
        sys.exit(f"{name}: no WATCHDOG=1 with WATCHDOG_USEC set")
    process.send_signal(signal.SIGTERM)
    expect("STOPPING=1", name)
    if process.wait(timeout=60) != 0:
        sys.exit(f"{name}: exit status {process.returncode} after SIGTERM")
    print(f"package_test: ok: {name}: {ready.splitlines()[1]}; /readyz 200; WATCHDOG=1; STOPPING=1; exit 0")

try:
    run("central", ["ektp", "central", "serve", "--config", "/etc/ektp/central.toml", "--bind", "127.0.0.1",
                    "--port", "0"], "/readyz")
finally:
    close_journal()
PY

# The units, as installed (systemd-analyze works without systemd as PID 1).
if ! systemd-analyze verify /lib/systemd/system/ektp-central.service /lib/systemd/system/ektp-station.service \
  >"$work/verify.log" 2>&1 || [ -s "$work/verify.log" ]; then
  cat "$work/verify.log" >&2
  fail "systemd-analyze verify on the installed units"
fi
pass "systemd-analyze verify ektp-central.service ektp-station.service: no findings"

# Upgrade: the admin's edit of a conffile and the data stay; the new binary
# opens (and migrates) the same data directory.
sed -i 's/^# threads = 8$/threads = 4/' /etc/ektp/central.toml
key_before=$(sha256sum /var/lib/ektp/central/signing.key)
apt-get install -y -qq "$new_deb" >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "upgrade to $new_deb"; }
[ "$(dpkg-query -W -f='${Version}' ektp)" = "${version}+1" ] || fail "the upgrade did not install ${version}+1"
grep -qx 'threads = 4' /etc/ektp/central.toml || fail "the upgrade lost the admin's edit of central.toml"
[ "$(sha256sum /var/lib/ektp/central/signing.key)" = "$key_before" ] || fail "the upgrade changed central's key"
"${as_ektp[@]}" ektp central token create --dir /var/lib/ektp/central --kecamatan 35.21.01 >/dev/null ||
  fail "the upgraded binary cannot use the data directory"
pass "upgrade to ${version}+1 kept the data and the edited central.toml"

apt-get remove -y -qq ektp >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get remove ektp"; }
[ ! -e /usr/bin/ektp ] || fail "remove left /usr/bin/ektp"
[ -f /var/lib/ektp/central/signing.key ] || fail "remove deleted the data (only purge may)"
[ -f /etc/ektp/central.toml ] || fail "remove deleted the configuration (only purge may)"
pass "apt-get remove: binary gone, data and configuration kept"

apt-get purge -y -qq ektp >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get purge ektp"; }
for path in /var/lib/ektp /etc/ektp /lib/systemd/system/ektp-central.service /usr/share/man/man1/ektp.1.gz \
  /usr/share/bash-completion/completions/ektp; do
  [ ! -e "$path" ] || fail "purge left $path"
done
if dpkg-statoverride --list | grep -q /etc/ektp; then fail "purge left a dpkg-statoverride for /etc/ektp"; fi
if dpkg-query -W -f='${Status}' ektp 2>/dev/null | grep -q "installed\|config-files"; then
  fail "dpkg still knows ektp after purge"
fi
pass "apt-get purge: data, configuration and units gone"
