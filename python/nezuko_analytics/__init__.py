"""The Nezuko bot's side of nezuko_analytics: SQLAlchemy models for the
analytics columns and api_call_log, the schema steps the Alembic migration
runs on PostgreSQL (with or without the extension) and SQLite, and an async
client that returns the dashboard's documents from either back end."""

from .client import Analytics
from .models import ApiCallLog, Base, EnforcedChannel, GroupChannelLink, ProtectedGroup, VerificationLog

__all__ = ["Analytics", "ApiCallLog", "Base", "EnforcedChannel", "GroupChannelLink", "ProtectedGroup",
           "VerificationLog"]
