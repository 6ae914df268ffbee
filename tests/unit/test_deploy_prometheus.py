"""The alert rules in deploy/prometheus, checked and unit-tested by promtool (Debian's
prometheus package; dev/test installs it as root, and these skip with the reason elsewhere)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "cdc-sync.rules.yml"
RULE_TESTS = ROOT / "tests" / "prometheus" / "cdc-sync.rules.test.yml"

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool is not installed (Debian's prometheus package; dev/test installs it as root)",
)


def _promtool(*args: str) -> str:
    done = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    print(output)  # the closing note quotes it
    assert done.returncode == 0, output
    return output


@needs_promtool
def test_promtool_checks_the_rules() -> None:
    assert "SUCCESS: 13 rules found" in _promtool("check", "rules", str(RULES))


@needs_promtool
def test_every_rule_has_a_promtool_unit_test() -> None:
    assert "SUCCESS" in _promtool("test", "rules", str(RULE_TESTS))
    tested = {
        t["alertname"] for case in _load(RULE_TESTS)["tests"] for t in case["alert_rule_test"]
    }
    assert tested == set(alerts())


def _load(path: Path) -> dict[str, object]:
    return dict(yaml.safe_load(path.read_text()))


def alerts() -> dict[str, dict[str, object]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {r["alert"]: r for g in groups for r in g["rules"]}


def test_each_alert_says_what_to_do_and_where_the_docs_say_more() -> None:
    docs = (ROOT / "docs" / "operations.md").read_text()
    for name, rule in alerts().items():
        annotations = rule["annotations"]
        assert isinstance(annotations, dict)
        assert rule["labels"] == {"severity": rule["labels"]["severity"]}  # type: ignore[index]
        assert rule["labels"]["severity"] in {"critical", "warning"}  # type: ignore[index]
        anchor = f"docs/operations.md#{name.lower()}"
        assert annotations["runbook_url"].startswith("docs/operations.md#"), name
        assert annotations["runbook_url"] in annotations["description"], name
        assert annotations["summary"] and annotations["description"], name
        section = annotations["runbook_url"].split("#")[1]
        assert f"### {section}" in docs.lower(), f"docs/operations.md has no section for {name}"
        assert anchor == annotations["runbook_url"] or name == "CdcSyncVerifyDifferences"
