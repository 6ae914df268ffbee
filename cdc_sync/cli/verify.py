"""`cdc-sync verify`: compare source and index; `--repair` re-writes the differences."""

from __future__ import annotations

import json
import logging
from typing import Any

import click

from cdc_sync.bootstrap.reader import SourceReader
from cdc_sync.cli.bootstrap import chosen_tables
from cdc_sync.cli.context import AppContext
from cdc_sync.sink.http import SinkHttp
from cdc_sync.sink.meili import meili_client
from cdc_sync.source.database import create_source_engine
from cdc_sync.state.store import StateStore, process_name
from cdc_sync.verify.compare import Report, Verifier

log = logging.getLogger(__name__)


def outcome(report: Report) -> dict[str, Any]:
    """What status shows of a verify run."""
    return {
        "index": report.index,
        "documents": report.index_documents,
        "in_sync": report.diff.in_sync,
        "missing": len(report.diff.missing),
        "extra": len(report.diff.extra),
        "differing": len(report.diff.differing),
        "unmappable": len(report.unmappable),
        "repaired": report.repaired,
    }


class RunHistory:
    """Verify runs in the state store, for status; best effort (verify works without it)."""

    def __init__(self, url: str) -> None:
        try:
            self.store: StateStore | None = StateStore(url)
        except Exception as exc:
            log.warning("verify runs are not recorded: state store unavailable: %s", exc)
            self.store = None

    def start(self, table: str) -> int | None:
        if self.store is None:
            return None
        try:
            return self.store.start_run("verify", table, process_name())
        except Exception as exc:
            log.warning("verify run of %s not recorded: %s", table, exc)
            return None

    def finish(
        self,
        run_id: int | None,
        status: str,
        rows: int,
        error: str | None,
        details: dict[str, Any] | None = None,
    ) -> None:
        if self.store is None or run_id is None:
            return
        try:
            self.store.finish_run(run_id, status, rows, error=error, details=details)
        except Exception as exc:
            log.warning("verify run %d not recorded: %s", run_id, exc)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def describe(report: Report) -> list[str]:
    state = "in sync" if report.diff.in_sync else "NOT in sync"
    lines = [
        f"{report.table} → {report.index}: {state} "
        f"({report.source_rows} source rows, {report.index_documents} documents)"
    ]
    for kind, found in report.diff.summary().items():
        if found["count"]:
            lines.append(f"  {kind}: {found['count']} (e.g. {', '.join(found['examples'])})")
    if report.unmappable:
        lines.append(f"  rows that cannot be mapped: {len(report.unmappable)}")
    return lines


@click.command()
@click.option("--table", "tables", multiple=True, help="Only this table (repeatable).")
@click.option("--repair", is_flag=True, help="Re-write exactly the differing documents.")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option("--chunk", type=click.IntRange(1, 10_000), default=1000, show_default=True)
@click.option(
    "--continuous",
    is_flag=True,
    help="Run as a service: verify every table in passes, on [verify]'s budget and schedule, "
    "repairing drift through the stream (docs/verify.md); SIGTERM stops after the chunk under way.",
)
@click.pass_obj
def verify(
    app: AppContext,
    tables: tuple[str, ...],
    repair: bool,
    as_json: bool,
    chunk: int,
    continuous: bool,
) -> None:
    """Compare source rows and index documents by key ranges and content hashes.

    Reports missing, extra and differing documents with examples. Exits 0 when
    every table is in sync (after --repair: when the repair made it so), 1 when not.
    """
    if continuous:
        if tables or repair or as_json:
            raise click.UsageError(
                "--continuous takes its tables and repair from the config ([verify], verify = …)"
            )
        from cdc_sync.cli.verify_service import run_continuous

        run_continuous(app)
        return
    settings = app.settings
    engine = create_source_engine(settings.source)
    client = meili_client(settings.meilisearch)
    http = SinkHttp(settings.meilisearch)
    reports = []
    history = RunHistory(settings.state.url)
    try:
        for table in chosen_tables(settings, tables):
            run_id = history.start(table.qualified_name)
            try:
                reader = SourceReader(engine, table, time_zone=settings.source.time_zone)
                verifier = Verifier(reader, client, http, table, chunk)
                report, wanted = verifier.compare(keep=repair)
                if repair and not report.diff.in_sync:
                    failures = verifier.repair(report, wanted)
                    for key, reason in failures[:10]:
                        click.echo(f"  repair failed for {key or '?'}: {reason}", err=True)
                    after, _ = verifier.compare()
                    report.repaired = after.diff.in_sync
            except BaseException as exc:
                history.finish(run_id, "failed", 0, str(exc) or type(exc).__name__)
                raise
            history.finish(run_id, "succeeded", report.source_rows, None, outcome(report))
            reports.append(report)
    finally:
        engine.dispose()
        history.close()
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in reports], indent=2, default=str))
    else:
        for report in reports:
            for line in describe(report):
                click.echo(line)
            if report.repaired:
                click.echo("  repaired: now in sync")
    if not all(r.diff.in_sync or r.repaired for r in reports):
        raise SystemExit(1)


COMMANDS = [verify]
