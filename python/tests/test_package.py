"""The package installs offline (pip --no-index --no-build-isolation into a
venv that sees Debian's packages) and finds its SQL without the checkout."""

import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_installed_package_runs_the_sqlite_migration_away_from_the_checkout(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-index", "--no-build-isolation",
                          str(ROOT / "python")], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert pip.returncode == 0, pip.stderr
    db = tmp_path / "bot.db"
    sqlite3.connect(db).executescript(
        "CREATE TABLE protected_groups (group_id INTEGER PRIMARY KEY, title TEXT, enabled BOOLEAN DEFAULT 1);"
        "CREATE TABLE enforced_channels (channel_id INTEGER PRIMARY KEY, title TEXT);")
    script = f"""
import nezuko_analytics, importlib.metadata
from sqlalchemy import create_engine
from nezuko_analytics import schema
assert "{ROOT}" not in nezuko_analytics.__file__, nezuko_analytics.__file__
with create_engine("sqlite:///{db}").begin() as conn:
    schema.upgrade(conn)
print(importlib.metadata.version("nezuko-analytics"))
"""
    run = subprocess.run([str(venv / "bin" / "python"), "-c", script], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin"}, timeout=120)
    assert run.returncode == 0, run.stderr
    control = (ROOT / "nezuko_analytics.control").read_text()
    assert f"default_version = '{run.stdout.strip()}'" in control
    columns = {r[1] for r in sqlite3.connect(db).execute("SELECT * FROM pragma_table_info('protected_groups')")}
    assert {"member_count", "last_sync_at"} <= columns
    assert sqlite3.connect(db).execute("SELECT count(*) FROM sqlite_master WHERE name = 'api_call_log'").fetchone() == (1,)
