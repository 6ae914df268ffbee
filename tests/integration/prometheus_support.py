"""The stack's Prometheus (dev/stack up prometheus) for the alert and dashboard tests: scrape
targets and extra rule files are files it watches or reloads; its HTTP API answers queries."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import stack_up

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "cdc-sync.rules.yml"


@dataclass
class Prometheus:
    url: str
    targets: Path
    rules: Path
    written: list[Path] = field(default_factory=list)

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}{query}", timeout=10) as answer:
            body = json.load(answer)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return list(self.api("query", query=expr)["result"])

    def alerts(self, **labels: str) -> list[dict[str, Any]]:
        found = self.api("alerts")["alerts"]
        return [a for a in found if all(a["labels"].get(k) == v for k, v in labels.items())]

    def scrape(self, name: str, urls: list[str], **labels: str) -> None:
        """Targets for job cdc-sync, in a file of their own (file-based service discovery)."""
        hosts = [urllib.parse.urlsplit(u).netloc for u in urls]
        path = self.targets / f"{name}.json"
        path.write_text(json.dumps([{"targets": hosts, "labels": labels}]))
        self.written.append(path)

    def add_rules(self, name: str, groups: list[dict[str, Any]]) -> None:
        path = self.rules / f"{name}.yml"
        path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
        self.written.append(path)
        self.reload()

    def reload(self) -> None:
        request = urllib.request.Request(f"{self.url}/-/reload", method="POST")
        with urllib.request.urlopen(request, timeout=30):
            pass

    def forget(self) -> None:
        for path in self.written:
            path.unlink(missing_ok=True)
        self.written.clear()
        self.reload()


@contextlib.contextmanager
def prometheus_of_the_stack() -> Iterator[Prometheus]:
    if shutil.which("prometheus") is None:
        pytest.skip("prometheus is not installed (Debian's package; dev/test installs it as root)")
    found = stack_up("prometheus")
    prometheus = Prometheus(
        found["PROMETHEUS_URL"],
        Path(found["PROMETHEUS_TARGETS_DIR"]),
        Path(found["PROMETHEUS_RULES_DIR"]),
    )
    try:
        yield prometheus
    finally:
        prometheus.forget()


def fast_variant(alert: str, threshold: str, faster: str, for_: str) -> dict[str, Any]:
    """A shipped rule with a smaller threshold and `for:`, so a test sees it fire in seconds;
    the expression is otherwise the shipped one."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rule = dict(next(r for g in groups for r in g["rules"] if r["alert"] == alert))
    assert rule["expr"].count(threshold) == 1, rule["expr"]
    rule["expr"] = rule["expr"].replace(threshold, faster)
    rule["for"] = for_
    return rule


def promtool_check_metrics(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )


def endpoint(log: Path, timeout_s: float = 60) -> str:
    """A service's HTTP endpoint, as it logged it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = re.findall(r"http endpoint on (http://[A-Za-z0-9.:\[\]-]+)", log.read_text())
        if found:
            return str(found[-1])
        time.sleep(0.2)
    raise AssertionError(f"no http endpoint logged in {log}")
