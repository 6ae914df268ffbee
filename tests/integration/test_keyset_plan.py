"""Keyset paging on a composite key is an index range scan (PostgreSQL's planner, real server)."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, text

from cdc_sync.bootstrap.keyset import chunk_query
from cdc_sync.database_url import normalise_url
from cdc_sync.source.keyset import after_key

pytestmark = pytest.mark.stack


def test_composite_key_page_starts_an_index_range_at_the_position(pg_url: str) -> None:
    """Invariant: a page after (a, b) reads the primary-key index from `a >= x` on, not from its start.

    `(a > x) OR (a = x AND b > y)` alone leaves the planner no range to start
    from (it filters a scan of the whole index); the leading `a >= x` is the
    range bootstrap, verify and timestamp polling all rely on.
    """
    engine = create_engine(normalise_url(pg_url))
    table = Table(
        "keyset_plan",
        MetaData(),
        Column("a", Integer, primary_key=True),
        Column("b", Integer, primary_key=True),
        Column("title", String(40)),
    )
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO keyset_plan SELECT g / 20, g % 20, 'row ' || g "
                "FROM generate_series(0, 99999) AS g"
            )
        )
        conn.execute(text("ANALYZE keyset_plan"))
    key = [table.c.a, table.c.b]
    query = chunk_query(table, key, 500, [4000, 7])
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {sql}")))
        rows = conn.execute(query).all()
        bare = table.select().where(after_key(key, [4000, 7]).clauses[1]).order_by(*key).limit(500)
        bare_sql = str(bare.compile(engine, compile_kwargs={"literal_binds": True}))
        bare_plan = "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {bare_sql}")))
    engine.dispose()
    assert "Index Cond: (a >= 4000)" in plan, plan
    assert "Index Cond" not in bare_plan, bare_plan  # what the OR alone gets
    assert (rows[0].a, rows[0].b) == (4000, 8) and len(rows) == 500
