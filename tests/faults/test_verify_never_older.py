"""Never undo a newer change (docs/verify.md): repairs race a writer and a slowed stream.

A writer changes the same keys at 200/s (titles carry a growing version) while some of
those keys are also changed behind capture's back (trigger: PostgreSQL's replica role;
timestamp: a modified time behind the watermark), drift the verifier must repair, and the
consumer's Meilisearch is slowed by a proxy. Every image each document shows is recorded:
none may go back to an older version, and the index ends equal to the source.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import meilisearch
import pytest
from sqlalchemy import create_engine, text

from cdc_sync.config import load_settings
from cdc_sync.database_url import normalise_url
from tests.faults.proxy import HttpProxy
from tests.integration.cli_support import run_cli, start_cli
from tests.integration.test_bootstrap import all_docs, make_items, table_config
from tests.integration.test_verify_continuous import drift_of_passes
from tests.integration.verify_support import stop_all, verify_pass, wait_for

KEYS = range(1, 41)
COLD = range(21, 41)
"""Keys the writer touches one write in twenty: where drift stays long enough to be
confirmed, so repairs race the writer's changes of the same keys."""
VERSION = re.compile(r"^v(\d+)$")


def version(doc: dict[str, object] | None) -> int | None:
    title = str((doc or {}).get("title", ""))
    match = VERSION.match(title)
    return int(match.group(1)) if match else (0 if title.startswith("item") else None)


@pytest.mark.parametrize("capture", ["trigger", "timestamp"])
def test_no_document_goes_back_to_an_older_image_while_repairs_race_the_stream(
    capture: str,
    pg_url: str,
    make_config: Callable[..., Path],
    meili: meilisearch.Client,
    meili_proxy: HttpProxy,
    index_uid: str,
) -> None:
    engine = create_engine(normalise_url(pg_url))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS items"))
        conn.execute(text("DROP TABLE IF EXISTS cdc_change_log"))
    make_items(pg_url, 300)
    extra: dict[str, object] = {}
    if capture == "timestamp":
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE items ADD COLUMN modified TIMESTAMP DEFAULT now()"))
        extra = {"capture": "timestamp", "modified_column": "MODIFIED"}
    tables = [table_config(index_uid, verify={"every": "1s"}, **extra)]
    config = make_config(pg_url, tables=tables, verify={"rows_per_s": 3000, "max_lag": 100_000})
    kafka = load_settings(config).kafka
    slowed = make_config(
        pg_url,
        tables=tables,
        kafka=kafka.model_dump(mode="json", exclude_none=True),
        meilisearch={"url": f"http://{meili_proxy.address}"},
        consumer={"shutdown_timeout_s": 5},
        state={"url": load_settings(config).state.url},
    )
    if capture == "trigger":
        assert run_cli(config, "source", "install").returncode == 0
    assert run_cli(config, "bootstrap").returncode == 0
    stamp = {False: "", True: ""}
    if capture == "timestamp":  # a change polling sees; drift: one behind its watermark
        stamp = {
            False: ", modified = clock_timestamp()",
            True: ", modified = TIMESTAMP '2000-01-01 00:00:00'",
        }
    versions = iter(range(1, 10**9))
    lock = threading.Lock()
    done = threading.Event()

    def write(bypass: bool) -> None:
        with lock:
            n = next(versions)
        hot = n % 20 != 0
        key = (n % 20 + 1) if hot and not bypass else COLD[(n // 20) % len(COLD)]
        with engine.begin() as conn:
            if bypass and capture == "trigger":  # drift: a change the triggers never see
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(
                text(f"UPDATE items SET title = :t{stamp[bypass]} WHERE id = :i"),
                {"t": f"v{n}", "i": key},
            )

    def writer() -> None:
        while not done.is_set():
            write(bypass=False)
            time.sleep(1 / 200)

    seen: dict[str, list[int]] = {str(k): [] for k in KEYS}

    watched = threading.Event()

    def watch() -> None:
        while not watched.is_set():
            docs = all_docs(meili, index_uid)
            for key, history in seen.items():
                found = version(docs.get(key))
                if found is not None and (not history or history[-1] != found):
                    history.append(found)
            time.sleep(0.02)

    meili_proxy.delay(0.05)
    services = [
        start_cli(slowed, "consume"),
        start_cli(config, "relay"),
        start_cli(config, "verify", "--continuous"),
    ]
    threads = [threading.Thread(target=writer), threading.Thread(target=watch)]
    try:
        for thread in threads:
            thread.start()
        wait_for(lambda: sum(len(h) for h in seen.values()) > 40, 60, "the stream applying")
        for _ in range(16):  # drift on the hot keys, during the passes
            write(bypass=True)
            time.sleep(0.5)
        done.set()
        meili_proxy.delay(0)

        def equal() -> bool:
            with engine.connect() as conn:
                rows = dict(conn.execute(text("SELECT id, title FROM items")).all())
            docs = all_docs(meili, index_uid)
            return all(docs.get(str(i), {}).get("title") == t for i, t in rows.items())

        wait_for(equal, 60, "the index equal to the source")
    finally:
        done.set()
        watched.set()
        for thread in threads:
            thread.join(30)
        engine.dispose()
        stop_all(services)
    went_back = {k: h for k, h in seen.items() if any(b < a for a, b in pairwise(h))}
    assert not went_back, went_back
    assert sum(len(h) for h in seen.values()) > 100  # the watch saw the stream move
    found, repaired = drift_of_passes(config)
    under_way = verify_pass(config, "ITEMS").get("current") or {}
    repaired.update(under_way.get("repaired", {}))
    print(
        f"\nimages seen per key: {sorted(len(h) for h in seen.values())}; drift {found}, repaired {repaired}"
    )
    assert sum(repaired.values()) > 0  # repairs did race the writer
