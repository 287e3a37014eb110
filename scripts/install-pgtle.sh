#!/usr/bin/env bash
# Builds and installs pg_tle (Trusted Language Extensions, the version hosted
# Supabase builds) when the PostgreSQL installation lacks it: the portable
# edition's tests register nezuko_analytics_sql through it, as on Supabase.
# Source: $PG_TLE_SRC (a directory or a .tar.gz), else the vendored upstream
# tarball shared/vendor/pg_tle-1.4.0.tar.gz beside the checkout.  Exits 1,
# saying why, when neither is there.
#   bash scripts/install-pgtle.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
libdir="$(pg_config --pkglibdir)"
sharedir="$(pg_config --sharedir)/extension"
if [[ -f "$libdir/pg_tle.so" && -f "$sharedir/pg_tle.control" ]]; then
    exit 0
fi
# PG_TLE_SRC, else shared/vendor/pg_tle-1.4.0.tar.gz beside the checkout
# (../shared from the project root) or beside one of its parents (a clone
# made deeper under the same tree).
src="${PG_TLE_SRC:-}"
if [[ -z "$src" ]]; then
    d="$here"
    while [[ "$d" != / ]]; do
        d="$(dirname "$d")"
        [[ -f "$d/shared/vendor/pg_tle-1.4.0.tar.gz" ]] && { src="$d/shared/vendor/pg_tle-1.4.0.tar.gz"; break; }
    done
    src="${src:-$here/../shared/vendor/pg_tle-1.4.0.tar.gz}"
fi
if [[ ! -e "$src" ]]; then
    echo "install-pgtle: pg_tle is not installed and its source is missing: $src (set PG_TLE_SRC to a pg_tle 1.4.0 source directory or tarball)" >&2
    exit 1
fi
bash "$here/scripts/install-deps.sh" --tests
work="$(mktemp -d "${TMPDIR:-/tmp}/pg_tle_build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
if [[ -d "$src" ]]; then
    cp -r "$src/." "$work/"
else
    tar -xzf "$src" -C "$work" --strip-components=1
fi
echo "install-pgtle: building pg_tle from $src" >&2
make -s -C "$work" USE_PGXS=1 -j"$(nproc)" >"$work/build.log" 2>&1 || { tail -20 "$work/build.log" >&2; exit 1; }
sudo_cmd=()
[[ "$(id -u)" != 0 ]] && sudo_cmd=(sudo)
"${sudo_cmd[@]}" make -s -C "$work" USE_PGXS=1 install >"$work/install.log" 2>&1 || { tail -20 "$work/install.log" >&2; exit 1; }
echo "install-pgtle: installed pg_tle $(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$sharedir/pg_tle.control")" >&2
