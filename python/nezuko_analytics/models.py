"""SQLAlchemy 1.4 models of the bot's tables with the columns nezuko_analytics
adds, and api_call_log.  Types and defaults match what apply_schema() makes on
PostgreSQL and sql/sqlite/nezuko_analytics.sql makes on SQLite, so the bot's
ORM code reads and writes them on either back end without raw SQL.
Timestamps on SQLite are stored as UTC text: write timezone-aware UTC values."""

from sqlalchemy import (JSON, BigInteger, Boolean, Column, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint, false, func, true)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import declarative_base

Base = declarative_base()

# bigserial on PostgreSQL, INTEGER PRIMARY KEY (the rowid) on SQLite
BigIntegerKey = BigInteger().with_variant(Integer, "sqlite")


class ProtectedGroup(Base):
    __tablename__ = "protected_groups"
    group_id = Column(BigInteger, primary_key=True, autoincrement=False)
    owner_id = Column(BigInteger)
    title = Column(String(255))
    enabled = Column(Boolean, nullable=False, default=True, server_default=true())
    params = Column(JSON().with_variant(JSONB(), "postgresql"))
    created_at = Column(DateTime(timezone=True), server_default=func.now())
    updated_at = Column(DateTime(timezone=True), server_default=func.now())
    # added by nezuko_analytics
    member_count = Column(Integer, default=0, server_default="0")
    last_sync_at = Column(DateTime(timezone=True))


class EnforcedChannel(Base):
    __tablename__ = "enforced_channels"
    channel_id = Column(BigInteger, primary_key=True, autoincrement=False)
    title = Column(String(255))
    username = Column(String(64))
    invite_link = Column(Text)
    created_at = Column(DateTime(timezone=True), server_default=func.now())
    updated_at = Column(DateTime(timezone=True), server_default=func.now())
    # added by nezuko_analytics
    subscriber_count = Column(Integer, default=0, server_default="0")
    last_sync_at = Column(DateTime(timezone=True))


class GroupChannelLink(Base):
    __tablename__ = "group_channel_links"
    __table_args__ = (UniqueConstraint("group_id", "channel_id"),)
    id = Column(Integer, primary_key=True, autoincrement=True)
    group_id = Column(BigInteger, ForeignKey("protected_groups.group_id"))
    channel_id = Column(BigInteger, ForeignKey("enforced_channels.channel_id"))
    is_required = Column(Boolean, default=True, server_default=true())
    created_at = Column(DateTime(timezone=True), server_default=func.now())


class VerificationLog(Base):
    __tablename__ = "verification_log"
    id = Column(BigIntegerKey, primary_key=True, autoincrement=True)
    user_id = Column(BigInteger, nullable=False)
    group_id = Column(BigInteger, nullable=False)
    channel_id = Column(BigInteger)
    status = Column(String(20), nullable=False)
    latency_ms = Column(Integer)
    cached = Column(Boolean, nullable=False, default=False, server_default=false())
    timestamp = Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    # added by nezuko_analytics
    error_type = Column(String(50))


class ApiCallLog(Base):
    __tablename__ = "api_call_log"
    id = Column(Integer, primary_key=True, autoincrement=True)
    method = Column(String(50), nullable=False)
    chat_id = Column(BigInteger)
    user_id = Column(BigInteger)
    success = Column(Boolean, default=True, server_default=true())
    latency_ms = Column(Integer)
    error_type = Column(String(50))
    timestamp = Column(DateTime(timezone=True), server_default=func.now())
