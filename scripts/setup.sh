#!/usr/bin/env bash
# Installs every Debian package ektp needs to build, test and run, and the
# web console's npm packages (web/package-lock.json) into web/node_modules.
# Idempotent and non-interactive; works as root or through sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev
  libssl-dev libcpp-httplib-dev libboost-dev nlohmann-json3-dev libsimdjson-dev libsodium-dev
  libsqlite3-dev sqlite3 libpq-dev postgresql postgresql-contrib
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libcairo2-dev fonts-dejavu-core libcups2-dev cups-daemon cups-client printer-driver-cups-pdf tesseract-ocr libqrencode-dev zbar-tools poppler-utils libjpeg-dev libpng-dev libcbor-dev zlib1g-dev
  libplplot-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsystemd-dev systemd dpkg-dev adduser
  procps curl python3 openssl
  chromium
)

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup: run as root or install sudo" >&2
  exit 1
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
else
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The web console's build and browser tests: Node.js 20.19 or later (Vite 7),
# and exactly the packages of the lockfile. Once installed, builds need no
# network.
web=$(cd "$(dirname "$0")/../web" && pwd)
if ! node_version=$(node --version 2>/dev/null) || \
   ! printf '%s\n' "v20.19.0" "$node_version" | sort -V -C; then
  echo "setup: the web console needs Node.js 20.19 or later with npm (found: ${node_version:-none})" >&2
  exit 1
fi
lock_sum=$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$web/node_modules/.ektp-lock-sha256" 2>/dev/null)" != "$lock_sum" ]; then
  echo "setup: npm ci in web/ (packages of web/package-lock.json)"
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" > "$web/node_modules/.ektp-lock-sha256"
fi
echo "setup: done"
