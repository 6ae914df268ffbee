"""Builds each table's pass from the settings: the verifier's composition (called by the
service once it runs, so a configuration problem is found before any pass starts)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from cdc_sync.bootstrap.reader import SourceReader
from cdc_sync.bootstrap.writes import Target
from cdc_sync.config import Settings, TableSettings
from cdc_sync.kafka.groups import GroupOffsets
from cdc_sync.sink.http import SinkHttp
from cdc_sync.sink.meili import meili_client
from cdc_sync.source.changelog import changelog_table
from cdc_sync.source.database import create_source_engine
from cdc_sync.source.dialect import dialect_for
from cdc_sync.source.schema import CapturedTable, reflect_tables
from cdc_sync.state.verify import VerifyLog
from cdc_sync.verify.bucket import Pacer, TokenBucket
from cdc_sync.verify.passes import Parts, TablePass
from cdc_sync.verify.repair import ChangeLogRepair, FencedRepair, RelayRepair, Repairer
from cdc_sync.verify.stream import StreamWatch

if TYPE_CHECKING:
    from cdc_sync.verify.service import ContinuousVerifier


@dataclass(frozen=True)
class Plan:
    """A table's effective verify settings: its own where it sets them, else `[verify]`'s."""

    every_s: float
    rows_per_s: float | None
    """The table's own budget (None: the service's alone)."""
    repair: bool
    max_lag: int


def plan_for(settings: Settings, table: TableSettings) -> Plan:
    own, service = table.verify, settings.verify
    return Plan(
        own.every or service.every,
        own.rows_per_s,
        service.repair if own.repair is None else own.repair,
        service.max_lag,
    )


def build_passes(
    verifier: ContinuousVerifier, tables: Sequence[TableSettings]
) -> list[tuple[TablePass, Plan]]:
    settings = verifier.settings
    engine = create_source_engine(settings.source)
    client = meili_client(settings.meilisearch)
    http = SinkHttp(settings.meilisearch)
    offsets = GroupOffsets(settings.kafka, timeout_s=10)
    source_budget = TokenBucket(settings.verify.rows_per_s)
    index_budget = TokenBucket(settings.verify.rows_per_s)
    captured = _reflect(engine, settings, tables)
    built = []
    for table in captured:
        plan = plan_for(settings, table.settings)
        own = plan.rows_per_s
        parts = Parts(
            table=table,
            reader=SourceReader(engine, table.settings, time_zone=settings.source.time_zone),
            client=client,
            target=Target(client, http, table.settings.index_uid, table.settings.id_field),
            stream=StreamWatch(
                offsets,
                settings.kafka.group_id,
                settings.topic_of(table.settings),
            ),
            source_pace=Pacer(source_budget, TokenBucket(own) if own else None),
            index_pace=Pacer(index_budget, TokenBucket(own) if own else None),
            repairer=None,
            store=verifier.store,
            cursors=VerifyLog(verifier.store),
            holder=verifier.holder,
            stopping=verifier.stopping,
        )
        run = TablePass(parts)
        if plan.repair:
            run.p = dataclasses.replace(parts, repairer=_repairer(verifier, engine, run))
        built.append((run, plan))
    return built


def _reflect(
    engine: Engine, settings: Settings, tables: Sequence[TableSettings]
) -> list[CapturedTable]:
    from cdc_sync.source.zone import resolve_zone

    indexed = [(settings.tables.index(t), t) for t in tables]
    with engine.connect() as conn:
        zone = resolve_zone(conn, settings.source.time_zone)
        return reflect_tables(conn, indexed, zone=zone)


def _repairer(verifier: ContinuousVerifier, engine: Engine, run: TablePass) -> Repairer:
    settings, table = verifier.settings, run.p.table
    capture = table.settings.capture
    if capture == "trigger":
        dialect = dialect_for(engine.dialect)
        with engine.connect() as conn:
            changelog = changelog_table(settings.source, home=dialect.changelog_home(conn))
        return ChangeLogRepair(engine, dialect, changelog, table)
    if capture == "timestamp":
        return RelayRepair(VerifyLog(verifier.store), table.settings.qualified_name)
    return FencedRepair(
        verifier.store,
        table.settings.qualified_name,
        verifier.holder,
        settings.state.lease_ttl_s,
        run.p.target,
        run.p.client,
        run.documents,
        run.index_documents,
    )
