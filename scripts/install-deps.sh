#!/usr/bin/env bash
# Installs the Debian packages nezuko_analytics needs, only those missing.
# Usage: scripts/install-deps.sh [--tests]   (--tests adds what the test suites need)
set -euo pipefail

packages=(postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-pgtap
          libtap-parser-sourcehandler-pgtap-perl sqlite3 make g++ cmake)
if [[ "${1:-}" == "--tests" ]]; then
    packages+=(googletest libgtest-dev postgresql-15-tdigest
               python3-sqlalchemy python3-alembic python3-asyncpg python3-aiosqlite
               python3-pytest python3-pytest-asyncio python3-venv python3-pip python3-setuptools
               flex bison libkrb5-dev)  # flex, bison, libkrb5-dev: building pg_tle (scripts/install-pgtle.sh)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
