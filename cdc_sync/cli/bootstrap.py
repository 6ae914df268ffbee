"""`cdc-sync bootstrap`: full load of the configured tables (SPEC §6, §7)."""

from __future__ import annotations

import signal
from types import FrameType

import click

from cdc_sync.bootstrap.outcome import Outcome
from cdc_sync.bootstrap.run import Options, TableBootstrap
from cdc_sync.cli.context import AppContext
from cdc_sync.config import Settings, TableSettings
from cdc_sync.errors import ConfigError
from cdc_sync.sink.meili import meili_client
from cdc_sync.source.database import create_source_engine
from cdc_sync.state.store import StateStore, process_name


def chosen_tables(settings: Settings, names: tuple[str, ...]) -> list[TableSettings]:
    tables = [settings.table(n) for n in names] if names else list(settings.tables)
    if not tables:
        raise ConfigError(["tables: no tables are configured (add a [[tables]] section)"])
    return tables


def summary(outcome: Outcome) -> str:
    return (
        f"{outcome.table} → {outcome.index}: {outcome.rows} rows, {outcome.documents} documents, "
        f"{outcome.replayed} changes replayed, {len(outcome.failures)} failures "
        f"(run {outcome.run_id}); catch-up {outcome.catch_up_s or 0:.1f}s in "
        f"{len(outcome.rounds)} round(s), {outcome.catch_up_tasks} tasks; "
        f"the fence held live changes {outcome.fence_s or 0:.2f}s"
    )


@click.command()
@click.option("--table", "tables", multiple=True, help="Only this table (repeatable).")
@click.option("--in-place", is_flag=True, help="Write into the live index instead of swapping.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=5000,
    show_default=True,
    help="Rows per source query and per Meilisearch task.",
)
@click.pass_obj
def bootstrap(app: AppContext, tables: tuple[str, ...], in_place: bool, batch_size: int) -> None:
    """Full load: read each table in primary-key chunks into a new index, then swap it in.

    Safe while the relay and consumer run: changes made during the load are
    replayed from Kafka before the swap. A second bootstrap of the same table
    refuses (exit 1); the source or Meilisearch going away ends it with exit 3
    and the live index untouched.
    """
    settings = app.settings
    chosen = chosen_tables(settings, tables)
    store = StateStore(settings.state.url)
    engine = create_source_engine(settings.source)
    client = meili_client(settings.meilisearch)
    options = Options(batch_size=batch_size, in_place=in_place)
    # SIGTERM (docker stop, systemd, Kubernetes) ends the run like Ctrl-C does: failed, staging
    # index dropped, lease and fence released at once instead of lapsing after their TTL.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        for table in chosen:
            job = TableBootstrap(settings, table, store, engine, client, process_name(), options)
            outcome = job.run()
            click.echo(summary(outcome))
            for key, reason in outcome.failures[:10]:
                click.echo(f"  failed {key or '?'}: {reason}", err=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        engine.dispose()
        store.close()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


COMMANDS = [bootstrap]
