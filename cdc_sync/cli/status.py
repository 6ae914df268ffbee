"""`cdc-sync status`: runs with their failures, leases held, fences, recent errors, counts."""

from __future__ import annotations

import json
from typing import Any

import click

from cdc_sync.cli.context import AppContext
from cdc_sync.config import Settings
from cdc_sync.sink.meili import meili_client
from cdc_sync.state.store import Run, StateStore


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


def index_counts(settings: Settings) -> dict[str, Any]:
    """Documents per configured index; the error text when Meilisearch does not answer."""
    try:
        stats = meili_client(settings.meilisearch).get_all_stats().get("indexes", {})
    except Exception as exc:
        return {"error": f"meilisearch: {type(exc).__name__}"}
    uids = sorted({t.index_uid for t in settings.tables})
    return {uid: stats.get(uid, {}).get("numberOfDocuments") for uid in uids}


def gather(settings: Settings, limit: int) -> dict[str, Any]:
    store = StateStore(settings.state.url)
    try:
        return {
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
            "documents": index_counts(settings),
        }
    finally:
        store.close()


def render(state: dict[str, Any]) -> list[str]:
    lines = ["documents:"]
    lines += [f"  {uid}: {count}" for uid, count in state["documents"].items()]
    lines.append("runs:")
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
    """Recent runs (with failures), leases held, fenced tables, recent errors, document counts."""
    state = gather(app.settings, limit)
    if as_json:
        click.echo(json.dumps(state, indent=2, default=str))
    else:
        click.echo("\n".join(render(state)))


COMMANDS = [status]
