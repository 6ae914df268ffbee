"""`cdc-sync check`'s look at the Debezium tables' topics: per table the topic it expects
(Debezium's naming, `Settings.topic_of`), whether it exists, and what its latest records are.

A flattened topic (ExtractNewRecordState) never carries truncates; a topic holding only
records that change no row is likely not the table's; a missing topic next to one that
differs only in case is most likely a name spelled otherwise than the database stores it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from cdc_sync.config import Settings, TableSettings

Holds = Literal["flattened", "envelopes", "no row changes", "no row events"]

_SAYS: dict[Holds, str] = {
    "flattened": (
        "flattened rows (ExtractNewRecordState): truncates never reach this topic; after a "
        "TRUNCATE run `cdc-sync verify --repair`"
    ),
    "envelopes": "change envelopes (truncates arrive and are applied in order)",
    "no row changes": (
        "only records that change no row (heartbeats, transaction metadata, schema changes), "
        "which the consumer skips: is it the table's topic?"
    ),
    "no row events": "no row events yet (cannot tell whether it is flattened)",
}


@dataclass(frozen=True)
class TopicState:
    table: str
    topic: str
    exists: bool
    holds: Holds | None
    """What its latest records are; None when the topic does not exist."""
    similar: list[str] = field(default_factory=list)
    """Existing topics whose names differ from `topic` only in case."""

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        if not self.similar:
            del found["similar"]
        return found

    def sentence(self) -> str:
        where = f"{self.table}: topic {self.topic}"
        if self.holds is not None:
            return f"{where} exists: {_SAYS[self.holds]}"
        if self.similar:
            other = self.similar[0]
            return (
                f"{where} does not exist yet, but {other} does: if that is the table's topic, "
                f'set topic = "{other}" in its [[tables]] entry, or its name and schema as the '
                "database stores them"
            )
        return (
            f"{where} does not exist yet (Debezium creates it with the table's first event; "
            "else compare the connector's topic.prefix and the table's schema and name)"
        )


def topic_states(settings: Settings) -> list[TopicState]:
    """Every Debezium table's topic, read as it stands."""
    from cdc_sync.kafka.admin import topic_names

    existing = topic_names(settings.kafka)
    tables = [t for t in settings.tables if t.capture == "debezium"]
    return [_state(settings, table, existing) for table in tables]


def _state(settings: Settings, table: TableSettings, existing: set[str]) -> TopicState:
    topic = settings.topic_of(table)
    if topic not in existing:
        similar = sorted(t for t in existing if t.lower() == topic.lower())
        return TopicState(table.qualified_name, topic, False, None, similar)
    return TopicState(table.qualified_name, topic, True, _holds(settings, topic))


def _holds(settings: Settings, topic: str) -> Holds:
    from cdc_sync.events.decode import record_shape
    from cdc_sync.kafka.reader import latest_records
    from cdc_sync.kafka.registry import avro_reader

    avro = avro_reader(settings.kafka)
    shapes = {record_shape(r.value, avro=avro) for r in latest_records(settings.kafka, topic)}
    if "flattened" in shapes:
        return "flattened"
    if "envelope" in shapes:
        return "envelopes"
    return "no row changes" if "not a row change" in shapes else "no row events"
