#!/usr/bin/env bash
# The parts of an edition's install script, in the order they are joined:
# sql/shared/*.sql with sql/<edition>/*.sql, sorted by file name (the
# numbers interleave them: an engine function comes before its users).
#   bash scripts/sql_parts.sh native|portable
set -euo pipefail
edition="${1:?usage: sql_parts.sh native|portable}"
here="$(cd "$(dirname "$0")/.." && pwd)"
[[ -d "$here/sql/$edition" ]] || { echo "sql_parts.sh: no edition '$edition'" >&2; exit 2; }
cd "$here"
dupes="$(ls sql/shared sql/"$edition" | grep '\.sql$' | sort | uniq -d)"
[[ -z "$dupes" ]] || { echo "sql_parts.sh: a part name is in both sql/shared and sql/$edition: $dupes" >&2; exit 2; }
for f in sql/shared/*.sql sql/"$edition"/*.sql; do printf '%s %s\n' "$(basename "$f")" "$f"; done | LC_ALL=C sort | cut -d' ' -f2
