"""The command line: the one composition root (SPEC §7)."""

from __future__ import annotations

import sys
from importlib import import_module

import click

from cdc_sync import __version__
from cdc_sync.cli.context import AppContext
from cdc_sync.errors import CdcSyncError

COMMAND_MODULES = {
    name: f"cdc_sync.cli.{name}"
    for name in (
        "check",
        "source",
        "relay",
        "bootstrap",
        "verify",
        "status",
        "dlq",
        "replay",
        "consume",
        "lag",
    )
}
"""Each command's module, imported only when that command runs (or help lists them all):
a command's start-up does not pay for the libraries only the others use."""


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is None:
            return None
        commands = getattr(import_module(module), "COMMANDS", [])
        return next((c for c in commands if c.name == cmd_name), None)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="CDC_SYNC_CONFIG",
    help="TOML config file (default: $CDC_SYNC_CONFIG). Every key can be overridden "
    "by CDC_SYNC__SECTION__KEY environment variables.",
)
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default=None)
@click.version_option(__version__, prog_name="cdc-sync")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, log_level: str | None) -> None:
    """Keep Meilisearch indexes in step with database tables through Kafka.

    \b
    Typical use:
      cdc-sync check                       # can we reach source, Kafka, Meilisearch?
      cdc-sync source install              # change-log table and triggers
      cdc-sync bootstrap                   # full load into fresh indexes
      cdc-sync relay  &  cdc-sync consume  # the long-running services
    """
    ctx.obj = AppContext(config_path, log_level)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except CdcSyncError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            click.echo(f"error: {line}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(0)
