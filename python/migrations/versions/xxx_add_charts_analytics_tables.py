"""Add charts and analytics tables

Revision ID: add_charts_analytics
Revises:
Create Date: 2026-02-04

The spec's migration (docs/schema.md): api_call_log, the new
columns of protected_groups, enforced_channels and verification_log, and every
index the spec lists.  On PostgreSQL through the nezuko_analytics extension
when it can be installed, else as plain DDL from spec_data (generated from the extension's spec);
on SQLite through the package's sqlite_schema.sql (sql/sqlite/).  Running it twice, or on a
database where the extension is installed already, changes nothing.
In the bot's own chain, set down_revision to its previous revision.
"""
from alembic import op

from nezuko_analytics import schema

revision = "add_charts_analytics"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema.upgrade(op.get_bind())


def downgrade() -> None:
    schema.downgrade(op.get_bind())
