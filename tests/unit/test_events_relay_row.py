"""`relay_row` (the consumer's fast read of our relay's row images) agrees with
`decode_record` on every record it accepts, and leaves every other record to it."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest

from cdc_sync.events.decode import DecodeError, decode_record, relay_row
from cdc_sync.events.encode import encode_key, encode_value
from cdc_sync.events.model import ChangeEvent

KEY = encode_key({"ID": 42})
ROW = {"ID": 42, "NAME": "Ada", "PRICE": 12.5, "NOTE": None}
SOURCE = {"connector": "cdc-sync", "table": "SHOP.ITEMS", "ts_ms": 1000}


def _json(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def _value(**fields: Any) -> bytes:
    return _json({"before": None, "after": ROW, "source": SOURCE, "op": "c", "ts_ms": 5} | fields)


ACCEPTED = [
    pytest.param(KEY, encode_value(ChangeEvent("c", {"ID": 42}, ROW, table="T"), 9), id="encoded"),
    pytest.param(KEY, _value(op="u", before=ROW), id="update-with-before"),
    pytest.param(KEY, _value(op="r"), id="snapshot-read"),
    pytest.param(KEY, _value(source={"connector": "cdc-sync"}), id="ts-from-envelope"),
    pytest.param(KEY, _value(source={"connector": "cdc-sync", "ts_ms": True}), id="bool-ts"),
    pytest.param(b'{"ID": 123456789012345678901234}', _value(), id="long-key-number"),
]


@pytest.mark.parametrize(("key", "value"), ACCEPTED)
def test_an_accepted_record_reads_as_decode_record_reads_it(key: bytes, value: bytes) -> None:
    """Invariant: the fast read returns decode_record's ``after`` and ``ts_ms``."""
    found = relay_row(key, value)
    event = decode_record(key, value)
    assert found is not None
    assert event.op in ("c", "u", "r")
    assert found == (event.after, event.ts_ms)


LEFT = [
    pytest.param(KEY, None, id="tombstone"),
    pytest.param(None, _value(), id="no-key"),
    pytest.param(b"null", _value(), id="null-key"),
    pytest.param(b"[42]", _value(), id="array-key"),
    pytest.param(b"{not json", _value(), id="broken-key"),
    pytest.param(_json({"schema": {}, "payload": 42}), _value(), id="schema-envelope-key"),
    pytest.param(KEY, b"\x00\x00\x00\x00\x01", id="avro-value"),
    pytest.param(KEY, b"[1]", id="array-value"),
    pytest.param(KEY, b"{broken", id="broken-value"),
    pytest.param(KEY, _value(op="d", after=None, before=ROW), id="delete"),
    pytest.param(KEY, _value(op="t", after=None), id="truncate"),
    pytest.param(KEY, _value(op=["c"]), id="op-not-a-string"),
    pytest.param(KEY, _value(op="x"), id="unknown-op"),
    pytest.param(KEY, _value(after=None), id="no-after"),
    pytest.param(KEY, _value(after=[1]), id="after-not-an-object"),
    pytest.param(KEY, _value(before=[1]), id="before-not-an-object"),
    pytest.param(KEY, _value(source={"connector": "oracle"}), id="debezium"),
    pytest.param(KEY, _value(source="cdc-sync"), id="source-not-an-object"),
    pytest.param(KEY, _json({"schema": {}, "payload": {}}), id="schema-envelope-value"),
    pytest.param(KEY, _json({"ID": 42, "__op": "c"}), id="flattened"),
    # a flattened row whose jsonb columns happen to look like our envelope: a row, not ours
    pytest.param(KEY, _value(ID=42), id="flattened-row-with-envelope-named-columns"),
]


@pytest.mark.parametrize(("key", "value"), LEFT)
def test_any_other_record_is_left_to_decode_record(key: bytes | None, value: bytes | None) -> None:
    """Invariant: what the fast read does not accept, it does not judge either (None)."""
    assert relay_row(key, value) is None
    with contextlib.suppress(DecodeError):  # the general reader dead-letters it with its reason
        decode_record(key, value)
