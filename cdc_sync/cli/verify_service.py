"""`cdc-sync verify --continuous`: the verifier service (docs/verify.md)."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from cdc_sync.cli.context import AppContext, secrets_of
from cdc_sync.ops import metrics
from cdc_sync.state.store import StateStore, process_name
from cdc_sync.verify.service import ContinuousVerifier

log = logging.getLogger(__name__)


def run_continuous(app: AppContext) -> None:
    settings = app.settings
    store = StateStore(settings.state.url)
    service = ContinuousVerifier(settings, store, process_name())

    def on_signal(signum: int, _: FrameType | None) -> None:
        log.info("%s received: finishing the chunk under way", signal.Signals(signum).name)
        service.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    http = None
    if settings.http.enabled:
        from cdc_sync.ops.http import start_endpoint  # FastAPI only for the service

        http = start_endpoint(
            settings,
            "verifier",
            ready=lambda: service.started and not service.stopping.is_set(),
            throughput=metrics.VERIFY_RATE.rate,
            details=service.details,
            secrets=secrets_of(settings),
        )
    try:
        service.run()
    finally:
        if http is not None:
            http.stop()
        store.close()
