"""`cdc-sync verify [--repair]` finds changes made behind the product's back and repairs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import meilisearch

from tests.integration.cli_support import run_cli
from tests.integration.test_bootstrap import make_items, table_config


def test_verify_finds_deleted_changed_and_extra_and_repair_fixes_them(
    make_config: Callable[..., Path], sqlite_url: str, index_uid: str, meili: meilisearch.Client
) -> None:
    make_items(sqlite_url, 3000)
    config = make_config(sqlite_url, tables=[table_config(index_uid)])
    assert run_cli(config, "bootstrap").returncode == 0
    index = meili.index(index_uid)
    for task in (
        index.delete_document("17"),
        index.update_documents([{"id": "42", "title": "tampered"}]),
        index.add_documents([{"id": "999999", "title": "stray"}]),
    ):
        assert meili.wait_for_task(task.task_uid).status == "succeeded"

    found = run_cli(config, "verify", "--json")
    assert found.returncode == 1, found.stderr
    (report,) = json.loads(found.stdout)
    assert report["missing"] == {"count": 1, "examples": ["17"]}
    assert report["differing"] == {"count": 1, "examples": ["42"]}
    assert report["extra"] == {"count": 1, "examples": ["999999"]}
    assert report["index_documents"] == 3000 and report["source_rows"] == 3000

    repaired = run_cli(config, "verify", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "repaired: now in sync" in repaired.stdout
    assert index.get_document("42").title == "item 42"
    assert index.get_document("17").title == "item 17"

    again = run_cli(config, "verify")
    assert again.returncode == 0 and "in sync" in again.stdout
