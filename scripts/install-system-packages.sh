#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Certify needs, and only those that are missing:
# Python's venv, Pango for WeasyPrint, a CJK font so certificates print Chinese names,
# and fontconfig to find it. Uses sudo when not run as root.
set -euo pipefail

packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-noto-cjk fonts-arphic-uming fonts-wqy-zenhei)
# The browser tests drive Debian's Chromium (never a downloaded browser build).
packages+=(chromium)
# The accessibility tests need npm to install axe-core (tests/e2e/package-lock.json); a Node.js
# that is already there (e.g. from NodeSource) is kept.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
# The benchmarks start redis-servers of their own (bench/exam_load.py's certificate batch).
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
# Debian's python3 needs its venv package to create .venv.
py=${PYTHON:-python3}
if ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  ver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  packages+=("python${ver}-venv")
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "warning: not a Debian/Ubuntu system; install Pango, HarfBuzz and a CJK font (Noto CJK) yourself." >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing system packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v fc-cache >/dev/null && fc-cache -f >/dev/null 2>&1 || true
