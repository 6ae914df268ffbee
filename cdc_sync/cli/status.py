"""`cdc-sync status`: per-table state, runs with their failures, leases, fences, recent errors.

It runs as a process of its own: each number is read where it is kept (see
``cdc_sync.ops.tables``), never from another process's memory.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from cdc_sync.cli.context import AppContext, secrets_of
from cdc_sync.config import Settings
from cdc_sync.ops import format as fmt
from cdc_sync.ops.redact import redact
from cdc_sync.ops.table_reader import TableStatusReader
from cdc_sync.ops.tables import TablesView
from cdc_sync.state.records import Run
from cdc_sync.state.store import StateStore


def _run(store: StateStore, run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "kind": run.kind,
        "table": run.table_name,
        "holder": run.holder,
        "status": run.status,
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "ended_at": run.ended_at.isoformat(timespec="seconds") if run.ended_at else None,
        "rows": run.rows,
        "failure_count": run.failures,
        "failures": [{"key": k, "reason": r} for k, r in store.failures(run.id, limit=5)]
        if run.failures
        else [],
        "error": run.error,
        "details": run.details,
    }


def gather(settings: Settings, limit: int) -> dict[str, Any]:
    reader = TableStatusReader(settings)
    try:
        view = reader.read()
    finally:
        reader.close()
    store = StateStore(settings.state.url)
    try:
        state = {
            "tables": [dataclasses.asdict(t) for t in view.tables],
            "unavailable": view.unavailable,
            "runs": [_run(store, r) for r in store.recent_runs(limit)],
            "leases": [
                {
                    "name": lease.name,
                    "holder": lease.holder,
                    "run_id": lease.run_id,
                    "expires_at": lease.expires_at.isoformat(timespec="seconds"),
                }
                for lease in store.active_leases()
            ],
            "fenced_tables": sorted(store.fenced_tables()),
            "errors": store.recent_errors(limit),
            "documents": documents(view),
        }
    finally:
        store.close()
    return dict(redact(state, secrets_of(settings)))


def documents(view: TablesView) -> dict[str, Any]:
    """Documents per configured index; the reason when Meilisearch does not answer."""
    if "meilisearch" in view.unavailable:
        return {"error": f"meilisearch: {view.unavailable['meilisearch']}"}
    return {t.index: t.documents for t in sorted(view.tables, key=lambda t: t.index)}


def render_table(t: dict[str, Any]) -> list[str]:
    lines = [f"  {t['table']}  ({t['capture']} → index {t['index']}, topic {t['topic']})"]
    facts = [f"documents {fmt.count(t['documents'])}"]
    if t["backlog"] is not None:
        b = t["backlog"]
        rows = ("≥ " if b["capped"] else "") + fmt.count(b["rows"])
        oldest = f", oldest {fmt.duration(b['oldest_age_s'])} old" if b["rows"] else ""
        facts.append(f"relay backlog {rows}{oldest}")
    if t["watermark"] is not None:
        w = t["watermark"]
        age = f" ({fmt.duration(w['age_s'])} old)" if w["age_s"] is not None else ""
        facts.append(f"watermark {w['value']}{age}, moved {fmt.ago(w['moved_at'])}")
    partitions = len(t["partitions"])
    facts.append(f"consumer lag {fmt.count(t['lag'])} on {partitions} partition(s)")
    lines.append("    " + " · ".join(facts))
    activity = [f"last applied {fmt.ago(t['last_applied_at'])}"]
    if t["capture"] != "debezium":
        activity.insert(0, f"last published {fmt.ago(t['last_published_at'])}")
    lines.append("    " + " · ".join(activity))
    if t["latency"]:
        lat = t["latency"]
        lines.append(
            f"    change → searchable p50 {fmt.millis(lat['p50_ms'])} · p90 "
            f"{fmt.millis(lat['p90_ms'])} · p99 {fmt.millis(lat['p99_ms'])} "
            f"({fmt.count(lat['changes'])} changes, last {fmt.duration(lat['window_s'])})"
        )
    for kind in ("bootstrap", "verify"):
        run = t[kind]
        if run:
            error = f" — {run['error']}" if run["error"] else ""
            lines.append(
                f"    {kind} #{run['id']} {run['status']} {run['at']}: {run['summary']}{error}"
            )
    lines += verify_pass_lines(t.get("verify_pass"))
    for component, values in t["extra"].items():
        lines.append(f"    {component}: {fmt.notes(values)}")
    return lines


def verify_pass_lines(found: dict[str, Any] | None) -> list[str]:
    """Continuous verification: the pass under way and the last complete one."""
    if not found:
        return []
    lines = []
    if found["current"]:
        c = found["current"]
        waiting = f" — waiting: {c['waiting']}" if c["waiting"] else ""
        lines.append(
            f"    verify pass {c['progress']:.0%} ({c['phase']}, {fmt.count(c['rows_read'])} rows"
            f" and {fmt.count(c['ids_read'])} ids read, {c['rows_per_s']:,.0f}/s, at "
            f"{c['position'] or '-'}): drift {fmt.kinds(c['found'])}{waiting}"
        )
    if found["last"]:
        last = found["last"]
        lines.append(
            f"    last verify pass {last['ended_at']} ({fmt.duration(last['seconds'])}, "
            f"{fmt.count(last['rows_read'])} rows): drift {fmt.kinds(last['found'])}; "
            f"repaired {fmt.kinds(last['repaired'])}"
        )
    return lines


def render(state: dict[str, Any]) -> list[str]:
    lines = ["tables:" if state["tables"] else "tables: none configured"]
    for table in state["tables"]:
        lines += render_table(table)
    for part, reason in state["unavailable"].items():
        lines.append(f"  ({part} unavailable: {reason})")
    lines.append("runs:" if state["runs"] else "runs: none")
    for run in state["runs"]:
        lines.append(
            f"  #{run['id']} {run['kind']} {run['table'] or '-'} {run['status']} "
            f"rows={run['rows']} failures={run['failure_count']} "
            f"{run['started_at']} → {run['ended_at'] or '…'} ({run['holder']})"
        )
        if run["error"]:
            lines.append(f"      error: {run['error']}")
        lines += [f"      failed {f['key'] or '?'}: {f['reason']}" for f in run["failures"]]
    lines.append("leases:" if state["leases"] else "leases: none")
    lines += [
        f"  {x['name']} held by {x['holder']} (run {x['run_id']}) until {x['expires_at']}"
        for x in state["leases"]
    ]
    if state["fenced_tables"]:
        lines.append(f"fenced: {', '.join(state['fenced_tables'])}")
    lines.append("recent errors:" if state["errors"] else "recent errors: none")
    lines += [f"  {e['at']} {e['component']}: {e['message']}" for e in state["errors"]]
    return lines


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.pass_obj
def status(app: AppContext, as_json: bool, limit: int) -> None:
    """Per table: documents, relay backlog or watermark, consumer lag, last change applied,
    change → searchable latency, latest bootstrap and verify. Then recent runs (with
    failures), leases held, fenced tables and recent errors."""
    state = gather(app.settings, limit)
    if as_json:
        click.echo(json.dumps(state, indent=2, default=str))
    else:
        click.echo("\n".join(render(state)))


COMMANDS = [status]
