"""`cdc-sync replay --since TIME`: move the consumer group back to a point in time."""

from __future__ import annotations

import datetime as dt
import json

import click

from cdc_sync.cli.context import AppContext
from cdc_sync.errors import ConfigError
from cdc_sync.kafka.groups import GroupActive, GroupOffsets
from cdc_sync.ops.rewind import BadTime, Move, parse_since, plan


@click.command()
@click.option(
    "--since",
    "since_text",
    required=True,
    metavar="TIME",
    help="ISO-8601 time (naive = local time) or a duration ago: 30m, 2h, 1d, 1h30m.",
)
@click.option("--dry-run", is_flag=True, help="Print the offset moves without committing them.")
@click.option("--json", "as_json", is_flag=True, help="Print the moves as JSON.")
@click.pass_obj
def replay(app: AppContext, since_text: str, dry_run: bool, as_json: bool) -> None:
    """Re-apply events from TIME on: commit the group's offsets for that time.

    Offsets only move back. The consumers of the group must be stopped: Kafka
    refuses offset changes for a group with active members.
    """
    settings = app.settings
    try:
        since = parse_since(since_text, dt.datetime.now(dt.UTC))
    except BadTime as exc:
        raise ConfigError([str(exc)]) from None
    group = settings.kafka.group_id
    topics = settings.topics()
    offsets = GroupOffsets(settings.kafka)
    partitions = offsets.partitions(topics)
    if not partitions:
        raise ConfigError([f"tables: none of the topics {', '.join(topics)} exists in Kafka"])
    if not dry_run and (members := offsets.members(group)):
        raise GroupActive(group, members)
    moves = plan(
        offsets.committed(group, partitions),
        offsets.offsets_for_time(partitions, int(since.timestamp() * 1000)),
    )
    changes = {m.partition: m.new for m in moves if m.changes and m.new is not None}
    if changes and not dry_run:
        offsets.commit(group, changes)
    if as_json:
        click.echo(json.dumps(_json(group, since, moves, dry_run), indent=2))
        return
    click.echo(f"group {group}, since {since.astimezone(dt.UTC).isoformat(timespec='seconds')}:")
    for move in moves:
        click.echo(f"  {move.describe()}")
    verb = "would move" if dry_run else "moved"
    total = sum((m.old or 0) - (m.new or 0) for m in moves if m.changes)
    click.echo(f"{verb} {len(changes)} partition(s) back; {total} record(s) to re-apply")


def _json(group: str, since: dt.datetime, moves: list[Move], dry_run: bool) -> dict[str, object]:
    return {
        "group": group,
        "since": since.astimezone(dt.UTC).isoformat(),
        "dry_run": dry_run,
        "partitions": [
            {
                "topic": m.partition.topic,
                "partition": m.partition.partition,
                "old": m.old,
                "target": m.target,
                "new": m.new,
                "changed": m.changes,
            }
            for m in moves
        ],
    }


COMMANDS = [replay]
