"""The state store's tables (SQLAlchemy Core), created on first use by ``StateStore``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, Text

metadata = MetaData()

runs = Table(
    "cdc_sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("table_name", String(256)),
    Column("holder", String(256), nullable=False),
    Column("status", String(16), nullable=False),  # running | succeeded | failed
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("rows", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("details", JSON),
)

run_failures = Table(
    "cdc_sync_run_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False, index=True),
    Column("key", Text),
    Column("reason", Text, nullable=False),
)

leases = Table(
    "cdc_sync_leases",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("holder", String(256), nullable=False),
    Column("run_id", Integer),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

fences = Table(
    "cdc_sync_fences",
    metadata,
    Column("table_name", String(256), primary_key=True),
    Column("holder", String(256), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

watermarks = Table(
    "cdc_sync_watermarks",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

errors = Table(
    "cdc_sync_errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("component", String(64), nullable=False),
    Column("message", Text, nullable=False),
)

table_reports = Table(
    "cdc_sync_table_reports",
    metadata,
    Column("table_name", String(256), primary_key=True),
    Column("component", String(64), primary_key=True),
    Column("holder", String(256), primary_key=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("report", JSON, nullable=False),
)

truncates = Table(
    "cdc_sync_truncates",
    metadata,
    Column("group_id", String(256), primary_key=True),
    Column("table_name", String(256), primary_key=True),
    Column("position", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("partitions", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

truncate_acks = Table(
    "cdc_sync_truncate_acks",
    metadata,
    Column("group_id", String(256), primary_key=True),
    Column("table_name", String(256), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("position", String(256), nullable=False),
)

verify_cursors = Table(
    "cdc_sync_verify_cursors",
    metadata,
    Column("table_name", String(256), primary_key=True),
    Column("cursor", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

repairs = Table(
    "cdc_sync_repairs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_name", String(256), nullable=False, index=True),
    Column("key", JSON, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
)

KEEP_ERRORS = 200
KEEP_REPORTS = dt.timedelta(days=1)
