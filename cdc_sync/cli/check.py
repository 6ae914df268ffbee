"""`cdc-sync check`: can we reach the source, Kafka and Meilisearch?"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from sqlalchemy import Connection, literal, select

from cdc_sync.cli.context import AppContext
from cdc_sync.config import Settings
from cdc_sync.kafka.admin import cluster_id
from cdc_sync.sink.meili import meili_client
from cdc_sync.source.database import create_source_engine, missing_sqlite_file
from cdc_sync.source.schema import locate


@dataclass
class Outcome:
    component: str
    ok: bool
    detail: str
    lines: list[str] | None = None
    """Details, one a line (text output)."""
    topics: list[dict[str, Any]] | None = None
    """Per Debezium table: its topic, whether it exists, what it holds (JSON output)."""

    def as_dict(self) -> dict[str, Any]:
        found = {"component": self.component, "ok": self.ok, "detail": self.detail}
        return found if self.topics is None else {**found, "topics": self.topics}


@dataclass(frozen=True)
class Checked:
    """A check's answer with more than one line to it."""

    detail: str
    lines: list[str]
    topics: list[dict[str, Any]]


def check_source(settings: Settings) -> str:
    missing_file = missing_sqlite_file(settings.source)
    if missing_file:
        raise RuntimeError(missing_file)
    engine = create_source_engine(settings.source)
    notes: list[str] = []
    try:
        with engine.connect() as conn:
            conn.execute(select(literal(1))).scalar_one()
            missing = [
                t.qualified_name
                for t in settings.tables
                if t.capture != "debezium" and locate(conn, t) is None
            ]
            if conn.dialect.name == "oracle":
                notes = oracle_findings(conn, settings)
    finally:
        engine.dispose()
    if missing:
        raise RuntimeError(f"configured tables not found: {', '.join(missing)}")
    detail = f"{settings.source.display_url()} ({len(settings.tables)} tables configured)"
    return "; ".join([detail, *notes])


def oracle_findings(conn: Connection, settings: Settings) -> list[str]:
    """Version, privileges and redo settings; RuntimeError listing every problem."""
    from cdc_sync.source.changelog import changelog_table
    from cdc_sync.source.install import changelog_exists, changelog_index_exists
    from cdc_sync.source.oracle.preflight import gather, judge

    log = changelog_table(settings.source)
    has_log = changelog_exists(conn, log)
    indexed = not has_log or changelog_index_exists(conn, log)
    found = judge(gather(conn, settings, has_log, indexed))
    if found.problems:
        raise RuntimeError("; ".join(found.problems))
    return found.facts + [f"not checked: {u}" for u in found.unchecked]


def check_kafka(settings: Settings) -> str:
    return f"{settings.kafka.bootstrap_servers} (cluster {cluster_id(settings.kafka)})"


def check_meilisearch(settings: Settings) -> str:
    client = meili_client(settings.meilisearch)
    health = client.health()
    client.get_indexes({"limit": 1})  # proves the API key is accepted
    version = client.get_version().get("pkgVersion", "?")
    return f"{settings.meilisearch.url} ({health.get('status')}, version {version})"


def check_schema_registry(settings: Settings) -> str:
    from cdc_sync.kafka.registry import SchemaRegistry

    registry = SchemaRegistry(settings.kafka)
    return f"{registry.url} ({registry.subject_count()} subjects)"


def check_debezium_topics(settings: Settings) -> Checked:
    from cdc_sync.cli.topics import topic_states

    states = topic_states(settings)
    found = sum(1 for state in states if state.exists)
    return Checked(
        f"{len(states)} Debezium tables, {found} of their topics exist",
        [state.sentence() for state in states],
        [state.as_dict() for state in states],
    )


Check = Callable[[Settings], str | Checked]
CHECKS: list[tuple[str, Check, str]] = [
    ("source", check_source, "check [source] url, the network path and the credentials"),
    ("kafka", check_kafka, "check [kafka] bootstrap_servers and that the broker is running"),
    ("meilisearch", check_meilisearch, "check [meilisearch] url and api_key"),
]


def checks_for(settings: Settings) -> list[tuple[str, Check, str]]:
    """The checks that apply: the schema registry and Debezium topics only where configured."""
    found = list(CHECKS)
    if settings.kafka.schema_registry_url:
        hint = "check [kafka] schema_registry_url and its credentials"
        found.append(("registry", check_schema_registry, hint))
    if any(t.capture == "debezium" for t in settings.tables):
        hint = "check [kafka] bootstrap_servers (and the schema registry for Avro topics)"
        found.append(("topics", check_debezium_topics, hint))
    return found


def run_checks(settings: Settings) -> list[Outcome]:
    outcomes = []
    for name, check, hint in checks_for(settings):
        try:
            found = check(settings)
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            outcomes.append(Outcome(name, False, f"{reason} — {hint}"))
            continue
        if isinstance(found, Checked):
            outcomes.append(Outcome(name, True, found.detail, found.lines, found.topics))
        else:
            outcomes.append(Outcome(name, True, found))
    return outcomes


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_obj
def check(app: AppContext, as_json: bool) -> None:
    """Check the config and connectivity of source, Kafka and Meilisearch.

    Also the schema registry when one is configured, and, for each Debezium table,
    the topic it expects, whether it exists, and whether it holds flattened rows (which
    never carry truncates).
    Exits 0 when all answer, 3 when any does not.
    """
    outcomes = run_checks(app.settings)
    if as_json:
        click.echo(json.dumps([o.as_dict() for o in outcomes], indent=2))
    else:
        for o in outcomes:
            mark = click.style("ok  ", fg="green") if o.ok else click.style("FAIL", fg="red")
            click.echo(f"{o.component:<12} {mark} {o.detail}")
            for line in o.lines or ():
                click.echo(f"{'':<17} {line}")
    if not all(o.ok for o in outcomes):
        raise SystemExit(3)


COMMANDS = [check]
