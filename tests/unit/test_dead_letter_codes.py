"""Dead-letter codes are set where the error is defined, not derived from class names.

The values are visible outside: the `cdc.error.code` header of dead letters (docs/consumer.md)
and the `code` label of cdc_sync_events_dead_lettered_total, which alert rules and dashboards
select on (tests/prometheus/cdc-sync.rules.test.yml names mapping_error; the integration test
test_consumer_service.py::test_poison_records_go_to_the_dead_letter_topic_with_reasons names
decode_error, invalid_key, mapping_error and max_fields_limit_exceeded). Every value they had
before stays.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import cdc_sync
from cdc_sync.bootstrap.catchup import TruncatedDuringLoad
from cdc_sync.consumer.writer import EnqueueRejected
from cdc_sync.documents.fields import MappingError
from cdc_sync.documents.ids import InvalidKey
from cdc_sync.errors import TerminalError
from cdc_sync.events.avro import AvroError, UnknownSchema
from cdc_sync.events.debezium import SchemaValueError
from cdc_sync.events.decode import DecodeError, NotARowChange
from cdc_sync.kafka.errors import KafkaRefused
from cdc_sync.sink.http import ApiRejected
from cdc_sync.sink.validate import InvalidDocument


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (DecodeError("bad bytes"), "decode_error"),
        (NotARowChange("heartbeat"), "not_a_row_change"),
        (MappingError("bad row"), "mapping_error"),
        (InvalidKey("null key"), "invalid_key"),
        (InvalidDocument("max_fields_limit_exceeded", "wide"), "max_fields_limit_exceeded"),
        (SchemaValueError("bad value"), "schema_value_error"),
        (UnknownSchema("id 7"), "unknown_schema"),
        (AvroError("bad body"), "avro_error"),
        (KafkaRefused("denied"), "kafka_refused"),
        (TruncatedDuringLoad("truncated"), "truncated_during_load"),
        (EnqueueRejected("invalid_document_id", "bad id"), "invalid_document_id"),
        (ApiRejected(400, "invalid_document_id", "bad id"), "invalid_document_id"),
        (TerminalError("anything else"), "terminal_error"),
    ],
)
def test_each_terminal_error_carries_its_code(error: TerminalError, code: str) -> None:
    assert error.code == code


def test_every_terminal_error_names_its_own_code() -> None:
    """A new kind of terminal error must choose its code, not inherit its parent's."""
    for module in pkgutil.walk_packages(cdc_sync.__path__, "cdc_sync."):
        if not module.name.endswith("__main__"):  # that one runs the command line
            importlib.import_module(module.name)
    kinds, pending = set(), [TerminalError]
    while pending:
        kinds.add(kind := pending.pop())
        pending += kind.__subclasses__()
    for kind in kinds:
        own = "code" in vars(kind) or "code" in inspect.signature(kind.__init__).parameters
        assert own, f"{kind.__module__}.{kind.__name__} does not name its dead-letter code"
