#!/usr/bin/env bash
# `make portable`: the portable edition nezuko_analytics_sql, packaged.
#   build/portable/nezuko_analytics_sql--VERSION.sql   the extension script
#   build/portable/install_pgtle.sql                   registers it with pg_tle
#   build/portable/dbdev/                               database.dev's layout
# The version is the control file's (the one place it lives); the script is
# sql/shared/ joined with sql/portable/ (scripts/sql_parts.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
version="$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" nezuko_analytics.control)"
name=nezuko_analytics_sql
out=build/portable
rm -rf "$out"
mkdir -p "$out/dbdev"
script="$out/$name--$version.sql"
# shellcheck disable=SC2046
cat $(bash scripts/sql_parts.sh portable) | sed "s/@NZ_VERSION@/$version/g" >"$script"

# Nothing native may remain: a C function, the C++ aggregates, the native reads.
if grep -nE "LANGUAGE c\b|MODULE_PATHNAME|^\\\\|latency_dist\(|latency_read|native_[a-z_]+\(|hourly_status_counts\(|verification_summary\(|api_summary\(|latency_bucket_counts\(|time_led_index" "$script"; then
    echo "build_portable.sh: the portable script refers to native objects (above)" >&2
    exit 1
fi
# pg_tle quotes a script with these two tags
if grep -qF -e '$_pgtle_o_$' -e '$_pgtle_i_$' -e '$nz_portable$' "$script"; then
    echo "build_portable.sh: the script contains a dollar-quote tag pg_tle or install_pgtle.sql uses" >&2
    exit 1
fi

# Every version's script: the frozen ones of shipped versions, then this one.
scripts=()
while IFS= read -r frozen; do
    [[ -n "$frozen" && "$frozen" != */"$name--$version.sql" ]] && scripts+=("$frozen")
done < <(ls sql/versions/"$name"--*.sql 2>/dev/null | sort -V)
scripts+=("$script")

description="Analytics for the Nezuko Telegram bot in SQL and PL/pgSQL (portable edition of nezuko_analytics): dashboard charts, data contracts, retention"
{
    echo "-- Registers $name with pg_tle (Trusted Language Extensions): every version"
    echo "-- up to $version (the default), and the upgrade paths between them."
    echo "-- Run it with psql as a member of pgtle_admin (no superuser needed):"
    echo "--   psql -v ON_ERROR_STOP=1 -f install_pgtle.sql"
    echo "-- then, in each database that wants it: CREATE EXTENSION $name;"
    echo "-- Running it again is harmless: a version already registered is left as it is."
    echo "\\set ON_ERROR_STOP on"
    # Every version: the first one registers the extension, each later one
    # is added to it (a database that registered 1.4 with an earlier
    # install_pgtle.sql then gets 1.5 and the path there).
    first=1
    for v_script in "${scripts[@]}"; do
        v="${v_script##*/$name--}"; v="${v%.sql}"
        if (( first )); then
            echo "SELECT pgtle.install_extension('$name', '$v', '$description', \$nz_portable\$"
            cat "$v_script"
            echo "\$nz_portable\$)"
            echo "WHERE NOT EXISTS (SELECT 1 FROM pgtle.available_extensions() WHERE name = '$name');"
            first=0
        else
            echo "SELECT pgtle.install_extension_version_sql('$name', '$v', \$nz_portable\$"
            cat "$v_script"
            echo "\$nz_portable\$)"
            echo "WHERE NOT EXISTS (SELECT 1 FROM pgtle.available_extension_versions() WHERE name = '$name' AND version = '$v');"
        fi
    done
    for up in sql/upgrade/"$name"--*--*.sql; do
        [[ -e "$up" ]] || continue
        from_to="${up##*/$name--}"; from_to="${from_to%.sql}"
        echo "SELECT pgtle.install_update_path('$name', '${from_to%%--*}', '${from_to##*--}', \$nz_portable\$"
        cat "$up"
        echo "\$nz_portable\$)"
        echo "WHERE NOT EXISTS (SELECT 1 FROM pgtle.extension_update_paths('$name') WHERE source = '${from_to%%--*}' AND target = '${from_to##*--}' AND path IS NOT NULL);"
    done
    echo "SELECT pgtle.set_default_version('$name', '$version');"
} >"$out/install_pgtle.sql"

# database.dev: control file, versioned scripts, README
cp "${scripts[@]}" "$out/dbdev/"
for up in sql/upgrade/"$name"--*--*.sql; do [[ -e "$up" ]] && cp "$up" "$out/dbdev/"; done
cat >"$out/dbdev/$name.control" <<CONTROL
# $name: the portable edition of nezuko_analytics (SQL and PL/pgSQL)
comment = '$description'
default_version = '$version'
relocatable = false
superuser = false
trusted = true
CONTROL
cp docs/portable.md "$out/dbdev/README.md"
echo "portable edition $version: $script, $out/install_pgtle.sql, $out/dbdev/"
