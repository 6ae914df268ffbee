from __future__ import annotations

import json

import pytest

from cdc_sync.bootstrap.catchup import TruncatedDuringLoad, operations
from cdc_sync.bootstrap.writes import Failure
from cdc_sync.config import TableSettings
from cdc_sync.documents.mapping import Upsert
from cdc_sync.kafka.reader import Record

TABLE = TableSettings.model_validate({"name": "ITEMS", "primary_key": ["ID"]})


def record(
    offset: int, value: dict[str, object] | None, key: bytes | None = b'{"ID": 1}'
) -> Record:
    return Record("t", 2, offset, key, None if value is None else json.dumps(value).encode())


def test_a_truncate_during_the_load_fails_the_run() -> None:
    """Chunk images read before the truncate cannot be told from those read after it."""
    failures: list[Failure] = []
    records = [
        record(0, {"after": {"ID": 1}, "op": "c", "source": {}}),
        record(1, {"op": "t", "source": {"connector": "postgresql"}}, key=None),
    ]
    ops = operations(TABLE, records, failures)
    assert isinstance(next(ops), Upsert)
    with pytest.raises(TruncatedDuringLoad, match=r"ITEMS was truncated .*partition 2, offset 1"):
        next(ops)


def test_records_that_change_no_row_are_no_failures() -> None:
    """As the consumer skips them: a heartbeat (HeartbeatImpl: a lone ts_ms) between changes."""
    failures: list[Failure] = []
    records = [
        record(0, {"ts_ms": 1700000000000}, key=b'{"serverName": "server1"}'),
        record(1, {"after": {"ID": 1}, "op": "c", "source": {}}),
    ]
    ops = list(operations(TABLE, records, failures))
    assert [type(op) for op in ops] == [Upsert]
    assert failures == []
