"""`cdc-sync relay [--once]`: publish captured changes to Kafka."""

from __future__ import annotations

import signal
import time
from types import FrameType

import click

from cdc_sync import metrics
from cdc_sync.cli.context import AppContext, secrets_of
from cdc_sync.ops.reporter import Reporter
from cdc_sync.source.service import RelayService
from cdc_sync.state.store import StateStore, process_name


@click.command()
@click.option("--once", is_flag=True, help="Drain the change log (and timestamp tables) and exit.")
@click.pass_obj
def relay(app: AppContext, once: bool) -> None:
    """Relay changes of trigger- and timestamp-mode tables to Kafka.

    Several relays may run at once on Oracle and PostgreSQL; run one per SQLite file.
    """
    settings = app.settings
    state = StateStore(settings.state.url)  # waits for the store at start, then:
    state.retry_s = 0.0  # the relay's own retries cover it (watermarks, errors)
    service = RelayService(settings, state, once=once)

    def stop(signum: int, frame: FrameType | None) -> None:
        service.stopping.set()

    previous = signal.signal(signal.SIGTERM, stop)
    started = time.monotonic()
    http = None
    if not once:  # a drain is a job, not a service: no endpoint, no port to clash
        from cdc_sync.ops.http import start_endpoint  # FastAPI costs every command 0.2 s to import

        http = start_endpoint(
            settings,
            "relay",
            ready=lambda: service.producer is not None and not service.stopping.is_set(),
            throughput=metrics.PUBLISHED_RATE.rate,
            activity=metrics.PUBLISHED_ACTIVITY,
            details=lambda: {"published": service.published},
            secrets=secrets_of(settings),
        )
    reporter = Reporter(
        settings.state.url, "relay", process_name(), metrics.PUBLISHED_ACTIVITY
    ).start()
    try:
        published = service.run()
    finally:
        reporter.stop()
        if http is not None:
            http.stop()
        signal.signal(signal.SIGTERM, previous)
        state.close()
    if once:
        elapsed = time.monotonic() - started
        click.echo(f"published {published} events in {elapsed:.1f}s")


COMMANDS = [relay]
