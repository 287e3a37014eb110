#!/usr/bin/env bash
# Builds the module with PGXS and with CMake, checks that both builds are
# warning-free and install the same files (same script, same exported SQL
# functions), then installs the PGXS build for the other suites.
set -uo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
source "$here/test/lib/checks.sh"
cd "$here"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
jobs="$(nproc)"

sudo_cmd=()
[[ "$(id -u)" != 0 ]] && sudo_cmd=(sudo)

make clean >/dev/null 2>&1
make -j"$jobs" >"$work/make.log" 2>&1; rc=$?
check_eq "PGXS build succeeds" "0" "$rc"
[[ $rc -ne 0 ]] && tail -30 "$work/make.log"
warnings="$(grep -E 'warning:' "$work/make.log" | grep -E 'src/' || true)"
check_eq "PGXS build: no warnings from our code" "" "$warnings"

rm -rf build
{ cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j"$jobs"; } >"$work/cmake.log" 2>&1; rc=$?
check_eq "CMake build succeeds" "0" "$rc"
[[ $rc -ne 0 ]] && tail -30 "$work/cmake.log"
warnings="$(grep -E 'warning:' "$work/cmake.log" | grep -E 'src/|test/unit' || true)"
check_eq "CMake build: no warnings from our code" "" "$warnings"

make install DESTDIR="$work/pgxs" >/dev/null 2>&1
DESTDIR="$work/cmake" cmake --install build >/dev/null 2>&1
# PGXS also installs LLVM bitcode for JIT inlining (lib/bitcode/); that is
# optional and CMake does not build it, so it is left out of the comparison.
list() { (cd "$1" && find . -type f -not -path '*/bitcode/*' | sort); }
check_eq "both builds install the same module, control file and script" "$(list "$work/pgxs")" "$(list "$work/cmake")"
extdir="$(pg_config --sharedir)/extension"
version="$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" nezuko_analytics.control)"
script="$extdir/nezuko_analytics--$version.sql"
check_eq "the current version's script is installed" "yes" "$([[ -f "$work/pgxs$script" ]] && echo yes || echo no)"
for f in "$work/pgxs$extdir"/nezuko_analytics--*.sql; do
    s="$(basename "$f")"
    check_eq "both builds install the same $s" "$(md5sum < "$f")" "$(md5sum < "$work/cmake$extdir/$s" 2>/dev/null)"
done
lib="$(pg_config --pkglibdir)/nezuko_analytics.so"
symbols() { nm -D --defined-only "$1" 2>/dev/null | awk '{print $3}' | grep -E '^(pg_finfo_|Pg_magic_func$)' | sort; }
check_match "the PGXS module exports PG_MODULE_MAGIC and fmgr functions" "Pg_magic_func" "$(symbols "$work/pgxs$lib")"
check_eq "both modules export the same SQL-callable functions" "$(symbols "$work/pgxs$lib")" "$(symbols "$work/cmake$lib")"
# Every C function that any script declares (the current one, the frozen
# scripts of shipped versions, the upgrade scripts) is exported: a database
# still at an older version loads this module too.
missing=""
exported="$(nm -D --defined-only "$work/pgxs$lib")"  # once: grep -q on a pipe would SIGPIPE nm under pipefail
for f in $(cat "$work/pgxs$extdir"/nezuko_analytics--*.sql | grep -oE "'MODULE_PATHNAME', '[a-z_0-9]+'" | sed -E "s/.*, '(.*)'/\1/" | sort -u); do
    grep -qw "$f" <<<"$exported" || missing="$missing $f"
done
check_eq "every C function of every script is exported" "" "$missing"
module_version="$(strings -n 3 "$work/pgxs$lib" | grep -xF "$version" | head -1)"
check_eq "the module carries the control file's version" "$version" "$module_version"

"${sudo_cmd[@]}" make install >"$work/install.log" 2>&1; rc=$?
check_eq "make install succeeds" "0" "$rc"
# The server's user must be able to read the installed files.
check_eq "installed module is world-readable" "yes" "$([[ -r "$lib" && $(stat -c %a "$lib") =~ [4-7][4-7][4-7]$ ]] && echo yes || echo no)"

checks_summary build
