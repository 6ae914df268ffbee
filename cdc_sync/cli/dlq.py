"""`cdc-sync dlq list` / `dlq replay`: inspect and re-apply dead-lettered records."""

from __future__ import annotations

import json

import click

from cdc_sync.cli.context import AppContext
from cdc_sync.config import Settings
from cdc_sync.kafka.producer import Producer
from cdc_sync.kafka.reader import Offsets, read_range, watermarks
from cdc_sync.kafka.registry import avro_reader
from cdc_sync.ops.dlq import (
    WATERMARK_PREFIX,
    DeadLetterView,
    Mark,
    Resend,
    letter_kind,
    replay_start,
    superseded,
    winners,
)
from cdc_sync.state.store import StateStore, process_name


@click.group()
def dlq() -> None:
    """Inspect and re-apply dead-lettered records (topic: kafka.dead_letter_topic)."""


@dlq.command("list")
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def list_(app: AppContext, limit: int, as_json: bool) -> None:
    """Show dead letters, oldest first: origin, error code and reason, key."""
    topic = app.settings.kafka.dead_letter_topic
    low, high = watermarks(app.settings.kafka, topic, settle_s=0)
    total = sum(high[p] - low[p] for p in high)
    shown = 0
    for record in read_range(app.settings.kafka, topic, low, high):
        view = DeadLetterView.of(record)
        click.echo(json.dumps(view.as_json()) if as_json else view.line())
        shown += 1
        if shown >= limit:
            break
    if not as_json:
        more = f" (use --limit to see more of {total})" if total > shown else ""
        click.echo(f"{shown} dead letter(s) shown from {topic}{more}", err=True)


@dlq.command()
@click.option(
    "--since-offset",
    type=click.IntRange(0),
    default=None,
    help="Replay from this offset in every partition of the dead-letter topic "
    "(default: after what the last replay sent; 0 replays everything).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be replayed; send nothing.")
@click.pass_obj
def replay(app: AppContext, since_offset: int | None, dry_run: bool) -> None:
    """Re-publish dead letters (key and value unchanged) to their original topics.

    Per original topic and key, only the dead letters from its last full image or delete
    on are re-sent (the earlier ones it supersedes are not), each original record once.

    \b
    Caveat: a replayed record lands after every newer event of the same key, and
    events carry full row images, so it can put an older image back in the index
    until the row changes again. Run `cdc-sync verify --repair` afterwards (see
    docs/operations.md).
    """
    settings = app.settings
    store = StateStore(settings.state.url)
    try:
        sent, skipped, superseded = _replay(settings, store, since_offset, dry_run)
    finally:
        store.close()
    verb = "would replay" if dry_run else "replayed"
    click.echo(
        f"{verb} {sent} dead letter(s); {skipped} without an original topic skipped; "
        f"{superseded} superseded by a later dead letter of the same key (or sent twice)"
    )
    if sent and not dry_run:
        click.echo("then check the index: cdc-sync verify --repair", err=True)


def _winners(settings: Settings, start: Offsets, end: Offsets) -> dict[Mark, int]:
    """The first pass: which dead letter of each key wins over the earlier ones."""
    kafka = settings.kafka
    tables = {settings.topic_of(t): t for t in settings.tables}
    avro = avro_reader(kafka)
    views = (DeadLetterView.of(r) for r in read_range(kafka, kafka.dead_letter_topic, start, end))
    return winners((view, letter_kind(view, tables, avro)) for view in views)


def _replay(
    settings: Settings, store: StateStore, since_offset: int | None, dry_run: bool
) -> tuple[int, int, int]:
    topic = settings.kafka.dead_letter_topic
    name = WATERMARK_PREFIX + topic
    low, high = watermarks(settings.kafka, topic, settle_s=0)
    start = replay_start(store.get_watermark(name), since_offset, sorted(high))
    start = {p: max(o, low[p]) for p, o in start.items()}
    won, once = _winners(settings, start, high), Resend()
    producer = None if dry_run else Producer(settings.kafka)
    run_id = None if dry_run else store.start_run("dlq-replay", None, process_name())
    sent = skipped = passed_over = 0
    try:
        for record in read_range(settings.kafka, topic, start, high):
            view = DeadLetterView.of(record)
            if view.topic is None:
                skipped += 1
                continue
            if superseded(view, won) or not once.first(view):
                passed_over += 1
                continue
            click.echo(("would replay " if dry_run else "replay ") + view.line())
            if producer is not None:
                producer.send(view.topic, record.key, record.value, _trace(view))
            sent += 1
        if producer is not None and run_id is not None:
            producer.flush()
            store.set_watermark(name, {str(p): o for p, o in high.items()})
            details = {"skipped": skipped, "superseded": passed_over}
            store.finish_run(run_id, "succeeded", sent, details=details)
    except Exception as exc:
        if run_id is not None:
            store.finish_run(run_id, "failed", sent, error=str(exc)[:500])
        raise
    return sent, skipped, passed_over


def _trace(view: DeadLetterView) -> list[tuple[str, str | bytes | None]]:
    r = view.record
    return [("cdc.replayed.from", f"{r.topic}[{r.partition}]@{r.offset}")]


COMMANDS = [dlq]
