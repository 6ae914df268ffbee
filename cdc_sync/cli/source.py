"""`cdc-sync source print|install|uninstall`: change capture objects in the source database."""

from __future__ import annotations

import click

from cdc_sync.cli.context import AppContext
from cdc_sync.source import install as capture
from cdc_sync.source import removal
from cdc_sync.source.database import create_source_engine


@click.group()
def source() -> None:
    """Change-log table and triggers for the tables with capture = "trigger"."""


@source.command(name="print")
@click.pass_obj
def print_ddl(app: AppContext) -> None:
    """Print the DDL `install` would run, for review (nothing is changed)."""
    engine = create_source_engine(app.settings.source)
    try:
        with engine.connect() as conn:
            plan = capture.plan(conn, app.settings)
    finally:
        engine.dispose()
    click.echo(capture.script(plan.dialect, plan.install_statements(for_review=True)), nl=False)


@source.command()
@click.pass_obj
def install(app: AppContext) -> None:
    """Create the change log and the triggers (idempotent)."""
    engine = create_source_engine(app.settings.source)
    try:
        plan = capture.install(engine, app.settings)
    finally:
        engine.dispose()
    names = ", ".join(t.name for t in plan.tables) or "no tables"
    click.echo(f"installed change capture on {names} (change log {plan.changelog.fullname})")


@source.command()
@click.option("--force", is_flag=True, help="Drop unpublished changes too.")
@click.option(
    "--table",
    "tables",
    multiple=True,
    metavar="T",
    help="Only this table (repeatable): drop its triggers and purge its change-log rows, "
    "also when it is no longer configured (as SCHEMA.TABLE).",
)
@click.pass_obj
def uninstall(app: AppContext, force: bool, tables: tuple[str, ...]) -> None:
    """Remove the triggers and the change log that `install` created.

    With --table, only those tables' triggers and change-log rows; the change log and
    the other tables stay. A configured table with unpublished changes is refused
    without --force.
    """
    engine = create_source_engine(app.settings.source)
    try:
        if tables:
            removed = removal.uninstall_tables(engine, app.settings, tables, force=force)
            click.echo(f"removed change capture from {_described(removed)}")
            return
        plan = capture.uninstall(engine, app.settings, force=force)
    finally:
        engine.dispose()
    names = ", ".join(t.name for t in plan.tables) or "no tables"
    click.echo(f"removed change capture from {names}")


def _described(removed: list[removal.Removed]) -> str:
    return ", ".join(
        f"{r.name} (its change-log rows purged; "
        + ("triggers dropped)" if r.triggers else "no table of that name, no trigger to drop)")
        for r in removed
    )


COMMANDS = [source]
