from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert
from sqlalchemy.dialects import oracle, postgresql

from cdc_sync.bootstrap.keyset import after_key, chunk_query, count_query

metadata = MetaData()
items = Table(
    "ITEMS",
    metadata,
    Column("A", Integer, primary_key=True),
    Column("B", String(10), primary_key=True),
    Column("STATUS", String(10)),
)


def compiled(query: object, dialect: object) -> str:
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]


def test_single_column_key_is_a_plain_comparison() -> None:
    assert compiled(after_key([items.c.A], [5]), postgresql.dialect()) == '"ITEMS"."A" > 5'


def test_composite_key_expands_to_or_of_ands_behind_a_range_on_the_leading_column() -> None:
    """The leading `A >= 5` gives the index a range start; the OR alone gives it none."""
    sql = compiled(after_key([items.c.A, items.c.B], [5, "x"]), postgresql.dialect())
    assert sql == (
        '"ITEMS"."A" >= 5 AND ("ITEMS"."A" > 5 OR "ITEMS"."A" = 5 AND "ITEMS"."B" > \'x\')'
    )


def test_key_and_values_must_match() -> None:
    with pytest.raises(ValueError):
        after_key([items.c.A], [1, 2])


def test_chunk_query_orders_by_key_limits_and_filters_without_offset() -> None:
    query = chunk_query(items, [items.c.A, items.c.B], 100, [3, "b"], "STATUS <> 'DRAFT'")
    sql = compiled(query, oracle.dialect())
    assert "(STATUS <> 'DRAFT')" in sql
    assert 'ORDER BY "ITEMS"."A", "ITEMS"."B"' in sql
    assert "FETCH FIRST 100 ROWS ONLY" in sql
    assert "OFFSET" not in sql.upper()


def test_first_chunk_has_no_key_predicate() -> None:
    sql = compiled(chunk_query(items, [items.c.A], 10), postgresql.dialect())
    assert "WHERE" not in sql and "LIMIT 10" in sql


def test_chunks_walk_a_composite_key_exactly_once() -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    rows = [{"A": a, "B": b, "STATUS": "OK"} for a in range(7) for b in ("a", "b", "c")]
    key = [items.c.A, items.c.B]
    with engine.begin() as conn:
        conn.execute(insert(items), rows)
        seen, last = [], None
        while True:
            chunk = conn.execute(chunk_query(items, key, 4, last)).all()
            seen += [(r.A, r.B) for r in chunk]
            if len(chunk) < 4:
                break
            last = [chunk[-1].A, chunk[-1].B]
        assert conn.execute(count_query(items, "A < 3")).scalar_one() == 9
    assert seen == [(r["A"], r["B"]) for r in rows]
