"""`cdc-sync verify`: compare source and index; `--repair` re-writes the differences."""

from __future__ import annotations

import json

import click

from cdc_sync.bootstrap.reader import SourceReader
from cdc_sync.cli.bootstrap import chosen_tables
from cdc_sync.cli.context import AppContext
from cdc_sync.sink.http import SinkHttp
from cdc_sync.sink.meili import meili_client
from cdc_sync.source.database import create_source_engine
from cdc_sync.verify.compare import Report, Verifier


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
@click.pass_obj
def verify(
    app: AppContext, tables: tuple[str, ...], repair: bool, as_json: bool, chunk: int
) -> None:
    """Compare source rows and index documents by key ranges and content hashes.

    Reports missing, extra and differing documents with examples. Exits 0 when
    every table is in sync (after --repair: when the repair made it so), 1 when not.
    """
    settings = app.settings
    engine = create_source_engine(settings.source)
    client = meili_client(settings.meilisearch)
    http = SinkHttp(settings.meilisearch)
    reports = []
    try:
        for table in chosen_tables(settings, tables):
            reader = SourceReader(engine, table, time_zone=settings.source.time_zone)
            verifier = Verifier(reader, client, http, table, chunk)
            report, wanted = verifier.compare(keep=repair)
            if repair and not report.diff.in_sync:
                failures = verifier.repair(report, wanted)
                for key, reason in failures[:10]:
                    click.echo(f"  repair failed for {key or '?'}: {reason}", err=True)
                after, _ = verifier.compare()
                report.repaired = after.diff.in_sync
            reports.append(report)
    finally:
        engine.dispose()
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
