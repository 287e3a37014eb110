"""Renders python/nezuko_analytics/spec_data.py from the extension's own
spec functions (sql/shared/20_schema_spec.sql), the one source of the spec's
tables, columns and indexes.  test_rules.py renders it again and fails when
the committed module differs.  To regenerate after changing the SQL:

    PGHOST=... PGPORT=... python3 python/tests/render_spec_data.py DB > python/nezuko_analytics/spec_data.py
(DB: a database where the extension is installed)"""

import json
import subprocess
import sys

QUERIES = {
    "SPEC_COLUMNS": "SELECT json_agg(json_build_array(table_name, column_name, column_ddl, accepted_types, added_by_spec)) "
                    "FROM nezuko_analytics.spec_columns()",
    "SPEC_INDEXES": "SELECT json_agg(json_build_array(index_name, table_name, key_columns)) FROM nezuko_analytics.spec_indexes()",
    "BASE_TABLE_DDL": "SELECT json_agg(json_build_array(creation_order, table_name, create_ddl) ORDER BY creation_order) "
                      "FROM nezuko_analytics.base_table_ddl()",
}

HEADER = '''"""The schema spec as data, for the plain-DDL and SQLite paths of the
migration.  GENERATED from the extension's spec_columns(), spec_indexes() and
base_table_ddl() (sql/shared/20_schema_spec.sql, the one source) by
python/tests/render_spec_data.py; do not edit: test_rules.py fails when this
module and the SQL differ.

SPEC_COLUMNS: (table, column, column DDL, accepted types, added by the spec)
SPEC_INDEXES: (index, table, key columns)
BASE_TABLE_DDL: (creation order, table, DDL with %1$I for the schema)"""
'''


def render(rows_by_name):
    out = [HEADER]
    for name, rows in rows_by_name.items():
        out.append(f"\n{name} = (\n")
        for row in rows:
            out.append(f"    {tuple(row)!r},\n")
        out.append(")\n")
    return "".join(out)


def fetch(run_query):
    """run_query(sql) -> the text of its one value."""
    return {name: json.loads(run_query(sql)) for name, sql in QUERIES.items()}


if __name__ == "__main__":
    db = sys.argv[1]
    def psql(sql):
        return subprocess.run(["psql", "-qXAt", "-d", db, "-c", sql], check=True, capture_output=True, text=True).stdout
    sys.stdout.write(render(fetch(psql)))
