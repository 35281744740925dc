#!/usr/bin/env bash
# Installs every Debian package ektp needs to build, test and run.
# Idempotent and non-interactive; works as root or through sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev
  libssl-dev libcpp-httplib-dev libboost-dev nlohmann-json3-dev libsimdjson-dev libsodium-dev
  libsqlite3-dev sqlite3 libpq-dev postgresql postgresql-contrib
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libcairo2-dev fonts-dejavu-core libcups2-dev cups-daemon cups-client printer-driver-cups-pdf tesseract-ocr libqrencode-dev zbar-tools poppler-utils libjpeg-dev libpng-dev libcbor-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsystemd-dev systemd dpkg-dev adduser
  procps curl python3 openssl
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
  exit 0
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
