"""The dashboard page: one Jinja2 template, rendered from a status snapshot."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from cdc_sync import __version__
from cdc_sync.ops.status import StatusSnapshot


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("cdc_sync.ops", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """`value` (JSON-like) with every occurrence of a secret replaced by ``***``."""
    secrets = [s for s in secrets if s]
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return {k: redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, secrets) for v in value]
    return value


def public_status(snapshot: StatusSnapshot, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """The snapshot as JSON-ready data, secrets masked: what /status and the page show."""
    return dict(redact(snapshot.as_json(), list(secrets)))


def render_dashboard(
    snapshot: StatusSnapshot, secrets: Iterable[str] = (), refresh_s: int = 5
) -> str:
    template = _environment().get_template("dashboard.html")
    return template.render(
        s=public_status(snapshot, secrets), refresh_s=refresh_s, version=__version__
    )
