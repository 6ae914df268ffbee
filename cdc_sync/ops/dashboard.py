"""The dashboard page: one Jinja2 template, rendered from a status snapshot.

Charts are inline SVG polylines whose coordinates are computed here, so the
page needs no script and no external asset.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from cdc_sync import __version__
from cdc_sync.ops import format as fmt
from cdc_sync.ops.redact import redact
from cdc_sync.ops.status import StatusSnapshot

PALETTE = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2")
CHART_W, CHART_H = 320, 96


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("cdc_sync.ops", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        count=fmt.count,
        duration=fmt.duration,
        millis=fmt.millis,
        ago=fmt.ago,
        notes=fmt.notes,
        kinds=fmt.kinds,
    )
    return env


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    color: str
    segments: list[str]
    """SVG polyline point lists; a gap in the data starts a new segment."""
    dots: list[tuple[str, str]]
    """Points with no neighbour (a line of one point would not show)."""
    last: str


@dataclass(frozen=True, slots=True)
class ChartView:
    title: str
    unit: str
    top: str
    """The value at the top of the chart."""
    span: str
    lines: list[Line]


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least `value` (at least 1)."""
    if value <= 1:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1.0, 2.0, 5.0, 10.0) if step * power >= value)


def chart_view(chart: dict[str, Any], slot_s: int) -> ChartView:
    series = chart["series"]
    values = [v for s in series for v in s["points"] if v is not None]
    top = nice_ceiling(max(values, default=0.0))
    lines = []
    for i, s in enumerate(series):
        points = s["points"]
        step = CHART_W / max(len(points) - 1, 1)
        segments: list[list[str]] = [[]]
        for j, value in enumerate(points):
            if value is None:
                if segments[-1]:
                    segments.append([])
                continue
            y = CHART_H - (value / top) * CHART_H
            segments[-1].append(f"{j * step:.1f},{y:.1f}")
        last = next((v for v in reversed(points) if v is not None), None)
        shown = "-" if last is None else _value(last, chart["unit"])
        color = PALETTE[i % len(PALETTE)]
        lines.append(
            Line(
                s["name"],
                color,
                [" ".join(p) for p in segments if len(p) > 1],
                [(p[0].split(",")[0], p[0].split(",")[1]) for p in segments if len(p) == 1],
                shown,
            )
        )
    span = fmt.duration(len(series[0]["points"]) * slot_s) if series else ""
    return ChartView(chart["title"], chart["unit"], _value(top, chart["unit"]), span, lines)


def _value(value: float, unit: str) -> str:
    if unit == "ms":
        return fmt.millis(value)
    return f"{value:,.1f}" if value < 10 and value != int(value) else f"{value:,.0f}"


def public_status(snapshot: StatusSnapshot, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """The snapshot as JSON-ready data, secrets masked: what /status and the page show."""
    return dict(redact(snapshot.as_json(), list(secrets)))


def render_dashboard(
    snapshot: StatusSnapshot, secrets: Iterable[str] = (), refresh_s: int = 5
) -> str:
    data = public_status(snapshot, secrets)
    history = data.get("history") or {}
    charts = [chart_view(c, history["slot_s"]) for c in history.get("charts", [])]
    template = _environment().get_template("dashboard.html")
    return template.render(s=data, charts=charts, refresh_s=refresh_s, version=__version__)
