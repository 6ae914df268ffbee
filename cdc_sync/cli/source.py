"""`cdc-sync source print|install|uninstall`: change capture objects in the source database."""

from __future__ import annotations

import click

from cdc_sync.cli.context import AppContext
from cdc_sync.source import install as capture
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
@click.option("--force", is_flag=True, help="Drop the change log even if it holds changes.")
@click.pass_obj
def uninstall(app: AppContext, force: bool) -> None:
    """Remove the triggers and the change log that `install` created."""
    engine = create_source_engine(app.settings.source)
    try:
        plan = capture.uninstall(engine, app.settings, force=force)
    finally:
        engine.dispose()
    names = ", ".join(t.name for t in plan.tables) or "no tables"
    click.echo(f"removed change capture from {names}")


COMMANDS = [source]
