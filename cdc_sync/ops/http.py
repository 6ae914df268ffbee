"""The services' HTTP endpoint (SPEC §7): /healthz, /readyz, /metrics, /status and the dashboard.

``create_app`` builds the FastAPI app around a status provider;
``serve_in_background`` runs it with uvicorn in a daemon thread, so the
service's own loop stays in the main thread and keeps its signal handlers.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from cdc_sync.config import HttpSettings, Settings
from cdc_sync.errors import ConfigError, DependencyUnavailable
from cdc_sync.ops.activity import Activity
from cdc_sync.ops.dashboard import public_status, render_dashboard
from cdc_sync.ops.service_metrics import ServiceCollector
from cdc_sync.ops.status import StatusProvider, provider_for
from cdc_sync.ops.table_metrics import TableCollector

log = logging.getLogger(__name__)


def create_app(
    provider: StatusProvider, secrets: Iterable[str] = (), activity: Activity | None = None
) -> FastAPI:
    """Endpoints are plain functions: FastAPI runs them in its thread pool, off the event loop."""
    masked = [s for s in secrets if s]
    app = FastAPI(title="cdc-sync", docs_url=None, redoc_url=None, openapi_url=None)
    per_table = CollectorRegistry(auto_describe=False)
    per_table.register(TableCollector(lambda: provider().tables, activity))
    per_table.register(ServiceCollector(provider))

    @app.get("/healthz", response_class=PlainTextResponse)
    def healthz() -> str:
        return "ok"

    @app.get("/readyz", response_class=PlainTextResponse)
    def readyz() -> Response:
        ready = provider().ready
        return PlainTextResponse("ready" if ready else "not ready", 200 if ready else 503)

    @app.get("/metrics")
    def metrics() -> Response:
        body = generate_latest() + generate_latest(per_table)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @app.get("/status")
    def status() -> JSONResponse:
        return JSONResponse(public_status(provider(), masked))

    @app.get("/", response_class=HTMLResponse)
    def dashboard() -> str:
        return render_dashboard(provider(), masked)

    return app


class HttpHandle:
    """A running server: its address, and `stop()` to shut it down."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, host: str, port: int):
        self._server = server
        self._thread = thread
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout_s: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout_s)


def _bind(settings: HttpSettings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            [f"http.port: cannot listen on {settings.host}:{settings.port}: {exc.strerror}"]
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve_in_background(
    settings: HttpSettings, app: FastAPI, start_timeout_s: float = 10.0
) -> HttpHandle:
    """Serve `app` on settings.host:port (port 0: a free port, see `handle.port`)."""
    sock = _bind(settings)
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="cdc-sync-http", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise DependencyUnavailable(f"http: server on {settings.host}:{port} did not start")
        time.sleep(0.02)
    log.info("http endpoint on http://%s:%d", settings.host, port)
    return HttpHandle(server, thread, settings.host, port)


def start_endpoint(
    settings: Settings,
    component: str,
    *,
    ready: Callable[[], bool],
    throughput: Callable[[], float],
    activity: Activity | None = None,
    details: Callable[[], dict[str, Any]] = dict,
    secrets: Iterable[str] = (),
) -> HttpHandle | None:
    """What a service calls at start: the endpoint per ``[http]``, or None when disabled."""
    if not settings.http.enabled:
        return None
    provider = provider_for(
        component, settings, ready=ready, throughput=throughput, activity=activity, details=details
    )
    return serve_in_background(settings.http, create_app(provider, secrets, activity))
