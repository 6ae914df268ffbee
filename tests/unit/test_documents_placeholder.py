"""Debezium's unavailable-value placeholder, in every encoding and as configured.

An unchanged LOB arrives as the placeholder (oracle.adoc, "Binary and Character LOB
types", the NOTE under the table; OracleClobDataTypeIT.java:1176). For a BLOB the
connector first turns the placeholder into its bytes and then encodes them by
``binary.handling.mode`` (OracleValueConverters.java:405-409, JdbcValueConverters.java:
889-1010): raw bytes (base64 in JSON), base64, URL-safe base64 or lower-case hex. The
placeholder itself is the connector property ``unavailable.value.placeholder``
(oracle.adoc, its row in the property table; default ``__debezium_unavailable_value``,
RelationalDatabaseConnectorConfig.java:64), whose bytes are ``String.getBytes()``
(RelationalDatabaseConnectorConfig.java:668-670). Whatever the spelling, the document
keeps the field it has (a partial update), never the placeholder.
"""

from __future__ import annotations

import base64
import itertools
from pathlib import Path
from typing import Any

import pytest

from cdc_sync.config import TableSettings, load_settings
from cdc_sync.documents.mapping import Upsert, operation_for_event
from cdc_sync.errors import ConfigError
from cdc_sync.events.avro import AvroReader
from cdc_sync.events.decode import decode_record
from cdc_sync.events.model import ChangeEvent
from tests.unit.connect_converters import Publisher
from tests.unit.debezium_oracle import (
    BINARY_MODES,
    CONVERTERS,
    DEFAULT_PLACEHOLDER,
    Connector,
)

CUSTOM = "??unchanged??"  # base64 "Pz91bmNoYW5nZWQ/Pw==", URL-safe "Pz91bmNoYW5nZWQ_Pw=="
PLACEHOLDERS = (DEFAULT_PLACEHOLDER, CUSTOM)


def table(**settings: Any) -> TableSettings:
    config = {
        "name": "TYPE_ALL",
        "schema": "DEBEZIUM",
        "primary_key": ["ID"],
        "capture": "debezium",
        "fields": {
            "VAL_CLOB": "val_clob",
            "VAL_BLOB": {"name": "val_blob", "type": "base64"},
            "VAL_RAW": {"name": "val_raw", "type": "base64"},
        },
        **settings,
    }
    return TableSettings.model_validate(config)


def operations(connector: Connector, settings: TableSettings) -> dict[str, Any]:
    publisher = Publisher(connector)
    avro = AvroReader(publisher.registry.lookup)
    found = {}
    for name, record in publisher.events():
        event = decode_record(record.key, record.value, avro=avro)
        found[name] = operation_for_event(settings, event)
    return found


@pytest.mark.parametrize(
    ("binary", "converter", "flattened", "placeholder"),
    list(itertools.product(BINARY_MODES, CONVERTERS, (False, True), PLACEHOLDERS)),
)
def test_an_unchanged_lob_keeps_the_indexed_value(
    binary: Any, converter: Any, flattened: bool, placeholder: str
) -> None:
    connector = Connector(
        binary=binary, converter=converter, flattened=flattened, placeholder=placeholder
    )
    ops = operations(connector, table(unavailable_value_placeholder=placeholder))
    created, updated = ops["create"], ops["update"]
    assert isinstance(created, Upsert) and not created.partial
    # OracleBinaryModeIT.java:60-89: HEXTORAW('010203') is bytes {1,2,3}, "AQID" or "010203"
    assert created.document["val_blob"] == ("010203" if binary == "hex" else "AQID")
    assert created.document["val_clob"] == "TestClob123"
    assert isinstance(updated, Upsert) and updated.partial
    assert "val_blob" not in updated.document and "val_clob" not in updated.document
    assert updated.document["val_raw"] == created.document["val_raw"]  # a RAW is never a LOB


def _spellings(placeholder: str) -> list[Any]:
    raw = placeholder.encode()
    return [
        placeholder,
        raw,  # bytes mode through Avro, or decoded from a schema's bytes field
        base64.b64encode(raw).decode(),  # bytes mode as JSON; base64 mode
        base64.urlsafe_b64encode(raw).decode(),  # base64-url-safe mode
        raw.hex(),  # hex mode: HexConverter writes lower-case
    ]


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_every_spelling_of_the_placeholder_is_unavailable(placeholder: str) -> None:
    settings = table(unavailable_value_placeholder=placeholder)
    for value in _spellings(placeholder):
        event = ChangeEvent("u", {"ID": 1}, after={"ID": 1, "VAL_BLOB": value, "VAL_CLOB": "x"})
        op = operation_for_event(settings, event)
        assert op == Upsert("1", {"val_clob": "x", "id": "1"}, partial=True), value


def test_another_placeholder_is_data() -> None:
    """With a custom placeholder, Debezium's default is an ordinary value (and the reverse)."""
    custom = table(unavailable_value_placeholder=CUSTOM)
    for value in _spellings(DEFAULT_PLACEHOLDER)[2:]:
        event = ChangeEvent("u", {"ID": 1}, after={"ID": 1, "VAL_CLOB": value})
        assert operation_for_event(custom, event) == Upsert("1", {"val_clob": value, "id": "1"})
    event = ChangeEvent("u", {"ID": 1}, after={"ID": 1, "VAL_CLOB": CUSTOM})
    assert operation_for_event(table(), event) == Upsert("1", {"val_clob": CUSTOM, "id": "1"})


def test_near_spellings_are_data() -> None:
    raw = DEFAULT_PLACEHOLDER.encode()
    for value in (raw.hex().upper(), base64.b64encode(raw).decode().rstrip("="), raw + b"\x00"):
        event = ChangeEvent("u", {"ID": 1}, after={"ID": 1, "VAL_BLOB": value})
        op = operation_for_event(table(), event)
        assert isinstance(op, Upsert) and not op.partial and "val_blob" in op.document


@pytest.mark.parametrize("capture", ["trigger", "timestamp"])
def test_our_own_capture_indexes_a_placeholder_like_value_as_it_is(capture: str) -> None:
    """Only Debezium sends placeholders: a source value that looks like one is data."""
    settings = table(capture=capture, modified_column="AT", unavailable_value_placeholder=CUSTOM)
    event = ChangeEvent("u", {"ID": 1}, after={"ID": 1, "VAL_CLOB": CUSTOM})
    assert operation_for_event(settings, event) == Upsert("1", {"val_clob": CUSTOM, "id": "1"})


CONFIG = """
[source]
url = "sqlite:///x.db"
[kafka]
bootstrap_servers = "k:9092"
{kafka}
[meilisearch]
url = "http://m:7700"
[[tables]]
name = "A"
primary_key = ["ID"]
capture = "debezium"
[[tables]]
name = "B"
primary_key = ["ID"]
capture = "debezium"
{table}
"""


def _load(tmp_path: Path, kafka: str = "", table: str = "") -> Any:
    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(kafka=kafka, table=table))
    return load_settings(path)


def test_the_placeholder_is_debeziums_default_unless_configured(tmp_path: Path) -> None:
    settings = _load(tmp_path)
    assert settings.kafka.unavailable_value_placeholder == DEFAULT_PLACEHOLDER
    assert [t.unavailable_value_placeholder for t in settings.tables] == [DEFAULT_PLACEHOLDER] * 2


def test_the_kafka_setting_is_every_tables_unless_a_table_sets_its_own(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        kafka='unavailable_value_placeholder = "??unchanged??"',
        table='unavailable_value_placeholder = "<lob>"',
    )
    assert [t.unavailable_value_placeholder for t in settings.tables] == [CUSTOM, "<lob>"]


def test_the_kafka_setting_can_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDC_SYNC__KAFKA__UNAVAILABLE_VALUE_PLACEHOLDER", CUSTOM)
    assert [t.unavailable_value_placeholder for t in _load(tmp_path).tables] == [CUSTOM] * 2


@pytest.mark.parametrize(
    ("kafka", "table", "problem"),
    [
        ('unavailable_value_placeholder = ""', "", "kafka.unavailable_value_placeholder: "),
        ("", 'unavailable_value_placeholder = ""', "tables[1].unavailable_value_placeholder: "),
        ("", "unavailable_value_placeholder = 5", "tables[1].unavailable_value_placeholder: "),
    ],
)
def test_an_empty_placeholder_is_refused_naming_the_key(
    tmp_path: Path, kafka: str, table: str, problem: str
) -> None:
    """An empty placeholder would make every empty value "unavailable"."""
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, kafka=kafka, table=table)
    (found,) = caught.value.problems
    assert found.startswith(problem) and "unknown key" not in found, found
