"""Columns that differ only in case, on a real PostgreSQL (``name`` and ``"Name"`` are two
columns: PostgreSQL docs, 4.1.1 "Identifiers and Key Words"), through our own capture.

Invariant: without `fields` the table is refused at start (install, bootstrap), naming both
columns and the `fields` entry; with that entry, both values reach the index through the
relay and the consumer, and bootstrap builds the same documents.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import meilisearch
import pytest
from sqlalchemy import create_engine

from tests.conftest import unique
from tests.integration.consumer_support import index_documents
from tests.integration.postgres_support import run
from tests.integration.relay_helpers import cli

pytestmark = pytest.mark.stack


def test_case_twins_are_refused_at_start_and_kept_apart_with_fields(
    make_config: Callable[..., Path], pg_url: str, meili: meilisearch.Client
) -> None:
    table = unique("twins")
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    run(engine, f'CREATE TABLE {table} (id bigint PRIMARY KEY, name text, "Name" text)')
    run(engine, f"INSERT INTO {table} VALUES (1, 'unquoted', 'quoted')")
    entry = {"name": table, "primary_key": ["id"], "index": table}
    try:
        refused = make_config(pg_url, tables=[entry])
        for command, where in ((["source", "install"], "tables[0]"), (["bootstrap"], "tables")):
            done = cli(refused, *command)
            assert done.returncode == 2, done.stdout + done.stderr
            assert f"{where} ({table}).fields: columns name and Name" in done.stderr
        found = re.search(r"fields = (\{[^}]*\})", done.stderr)
        assert found, done.stderr
        fields = tomllib.loads(f"fields = {found.group(1)}")["fields"]

        config = make_config(pg_url, tables=[{**entry, "fields": fields}])
        assert cli(config, "source", "install").returncode == 0
        run(engine, f"UPDATE {table} SET name = 'unquoted 2', \"Name\" = 'quoted 2' WHERE id = 1")
        run(engine, f"INSERT INTO {table} VALUES (2, 'two', 'Two')")
        for command in (["relay", "--once"], ["consume", "--until-caught-up"]):
            done = cli(config, *command)
            assert done.returncode == 0, done.stdout + done.stderr
        streamed = index_documents(meili, table)
        assert {k: (d["name"], d["Name"]) for k, d in streamed.items()} == {
            "1": ("unquoted 2", "quoted 2"),
            "2": ("two", "Two"),
        }
        done = cli(config, "bootstrap")
        assert done.returncode == 0, done.stdout + done.stderr
        assert index_documents(meili, table) == streamed
    finally:
        run(engine, f"DROP TABLE IF EXISTS {table}")
        engine.dispose()
        meili.delete_index(table)
