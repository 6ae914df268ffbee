"""What an operator sees of a live pipeline: `cdc-sync status` from a process of its own, and
the dashboard in a real browser (headless Chromium)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import meilisearch
import pytest

from tests.integration.cli_support import run_cli
from tests.integration.consumer_support import wait_for
from tests.integration.live_pipeline import LivePipeline, live_pipeline

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / ".stack" / "artifacts" / "dashboard.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory,
    stack: dict[str, str],
    pg_url: str,
    meili: meilisearch.Client,
) -> Iterator[LivePipeline]:
    with live_pipeline(tmp_path_factory.mktemp("live"), stack, pg_url, meili) as pipeline:
        yield pipeline


def _table(status: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in status["tables"] if t["table"] == name)


def test_status_shows_each_table_from_a_separate_process(
    live: LivePipeline, tmp_path: Path
) -> None:
    """Every per-table number reaches `status`, which shares no memory with the services:
    the relay backlog from the change log, the watermark and the consumer's reports from the
    state store, lag from Kafka, documents from Meilisearch, bootstrap and verify runs."""
    waiting = _table(live.status(), "ITEMS")
    assert waiting["capture"] == "trigger"
    assert waiting["backlog"]["rows"] == 5 and waiting["backlog"]["oldest_age_s"] >= 0
    assert _table(live.status(), "NOTES")["watermark"] is None  # the relay has not run

    live.start_relay(tmp_path / "relay.log")
    wait_for(lambda: live.documents("ITEMS") == 5 and live.documents("NOTES") == 3, 180, "sync")
    verified = run_cli(live.config, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    loaded = run_cli(live.config, "bootstrap", "--table", "ITEMS")
    assert loaded.returncode == 0, loaded.stderr

    def reported() -> bool:  # each service reports every 5 s, counted from its own start
        status = live.status()
        return all(
            t["latency"] and t["last_applied_at"] and t["last_published_at"]
            for t in status["tables"]
        )

    wait_for(reported, 90, "the relay's and the consumer's reports in the state store", every=1)
    status = live.status()
    items, notes = _table(status, "ITEMS"), _table(status, "NOTES")
    assert status["unavailable"] == {}
    assert items["documents"] == 5 and notes["documents"] == 3
    assert items["backlog"]["rows"] == 0 and notes["backlog"] is None
    assert notes["capture"] == "timestamp" and notes["watermark"]["age_s"] is not None
    for table in (items, notes):
        assert table["lag"] == 0 and len(table["partitions"]) == 3
        assert table["last_published_at"] is not None
        latency = table["latency"]
        assert 0 <= latency["p50_ms"] <= latency["p99_ms"] and latency["changes"] >= 3
        assert table["verify"]["summary"] == "in sync" and table["verify"]["differences"] == 0
    assert items["bootstrap"]["status"] == "succeeded"
    fence_s = items["bootstrap"]["fence_s"]
    assert 0 < fence_s < 5
    assert items["bootstrap"]["summary"] == (
        f"5 documents (swap); the fence held live changes {fence_s:.2f}s"
    )

    shown = run_cli(live.config, "status")
    assert shown.returncode == 0
    print(shown.stdout)  # the closing note quotes a live run
    for text in ("ITEMS  (trigger", "NOTES  (timestamp", "change → searchable p50", "watermark"):
        assert text in shown.stdout, text


def _browser_ready() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: install Debian's chromium (dev/test does, as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.mark.skipif(_browser_ready() is not None, reason=str(_browser_ready()))
def test_dashboard_in_a_real_browser(live: LivePipeline, tmp_path: Path) -> None:
    """The page loads without console errors, shows both tables with their document counts
    after a sync, updates on its own after another change, and draws its charts."""
    from playwright.sync_api import sync_playwright

    if live.relay is None:
        live.start_relay(tmp_path / "relay.log")
    wait_for(lambda: live.documents("ITEMS") >= 5 and live.documents("NOTES") >= 3, 180, "sync")
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1360, "height": 1000},
        )
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(live.url)
            items = page.locator('#tables tr[data-table="ITEMS"] td.documents')
            notes = page.locator('#tables tr[data-table="NOTES"] td.documents')
            assert items.text_content() == str(live.documents("ITEMS"))
            assert int(notes.text_content() or 0) >= 3

            before = live.documents("ITEMS")
            live.sql("INSERT INTO items VALUES (100, 'added while the page is open')")
            deadline = time.monotonic() + 120
            while items.text_content() != str(before + 1):  # the page refreshes itself
                assert time.monotonic() < deadline, "the page never showed the new document"
                time.sleep(0.5)
            wait_for(lambda: page.locator("svg polyline").count() >= 2, 30, "charts drawn")
            time.sleep(0.5)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            print(f"screenshot: {SCREENSHOT}")
        finally:
            browser.close()
    assert errors == []
