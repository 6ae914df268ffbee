"""Bootstrap when its dependencies fail mid-run: PostgreSQL restarted, the source lost,
Meilisearch lost (briefly, or for good) — while loading or while the table is fenced."""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import meilisearch
import pytest

from cdc_sync.bootstrap.run import staging_uid
from tests.conftest import unique
from tests.faults.proxy import HttpProxy, Request, Rule, TcpProxy
from tests.faults.support import (
    document_count,
    execute,
    index_docs,
    make_table,
    restart,
    source_docs,
)
from tests.integration.cli_support import run_cli, start_cli
from tests.integration.consumer_support import wait_for

ROWS = 20_000
BATCH = "500"
READ_DELAY_S = 0.05
"""Per chunk of bytes through the source proxy: reading takes seconds, not a fraction of one."""


def loading(meili: meilisearch.Client, index_uid: str, rows: int, child: subprocess.Popen[bytes]):
    """Wait until the run has put `rows` documents into its staging index."""

    def far_enough() -> bool:
        assert child.poll() is None, "the bootstrap ended before the fault"
        return document_count(meili, staging_uid(index_uid)) >= rows

    wait_for(far_enough, 120, f"{rows} documents in the staging index", every=0.05)


def finished(child: subprocess.Popen[bytes], log: Path, timeout_s: float = 180) -> int:
    try:
        return child.wait(timeout_s)
    except subprocess.TimeoutExpired:
        child.kill()
        raise AssertionError(f"bootstrap still running:\n{log.read_text()[-3000:]}") from None


def drains(request: Request, index_uid: str) -> bool:
    """Bootstrap's wait for the live index's tasks: the table is fenced by then."""
    return "statuses=enqueued" in request.path and f"indexUids={index_uid}" in request.path


def table_config(name: str, index_uid: str) -> dict[str, object]:
    return {"name": name.upper(), "primary_key": ["ID"], "index": index_uid}


def through(proxy: TcpProxy, url: str) -> str:
    where = urlsplit(url)
    return where._replace(netloc=f"{where.username}@{proxy.address}").geturl()


def cut_at(seed: int) -> int:
    """How many documents the staging index holds when the fault strikes (reading goes on)."""
    return random.Random(seed).randrange(500, 4000)


@pytest.mark.parametrize(
    ("seed", "state"),
    [(1, "sqlite"), (2, "postgresql")],
    ids=["seed=1-state=sqlite", "seed=2-state=postgresql"],
)
def test_bootstrap_survives_a_postgresql_restart(
    seed: int,
    state: str,
    make_config: Callable[..., Path],
    pg_url: str,
    pg_proxy: TcpProxy,
    index_uid: str,
    meili: meilisearch.Client,
    meili_proxy: HttpProxy,
    tmp_path: Path,
) -> None:
    """Invariant: the index equals the source after recovery — PostgreSQL (the source, and for
    one seed the state store too) restarted while the table is being read, and again while
    it is fenced, costs retries only."""
    name = unique("items")
    make_table(pg_url, name, ROWS)
    sections = {"state": {"url": pg_url}} if state == "postgresql" else {}
    config = make_config(
        through(pg_proxy, pg_url),
        tables=[table_config(name, index_uid)],
        meilisearch={"url": f"http://{meili_proxy.address}"},
        **sections,
    )
    draining = meili_proxy.add(Rule("hold", lambda r: drains(r, index_uid), hold_s=4, times=1))
    log = tmp_path / "bootstrap.log"
    pg_proxy.delay(READ_DELAY_S)
    child = start_cli(config, "bootstrap", "--batch-size", BATCH, log=log)
    try:
        loading(meili, index_uid, cut_at(seed), child)
        restart("postgres")
        pg_proxy.flow()
        wait_for(lambda: draining.used > 0, 120, "the table to be fenced", every=0.05)
        restart("postgres")
        assert finished(child, log) == 0, log.read_text()[-3000:]
    finally:
        if child.poll() is None:
            child.kill()
    assert index_docs(meili, index_uid) == source_docs(pg_url, name)
    assert "source query failed" in log.read_text()  # the restart hit the reads


@pytest.mark.parametrize("seed", [1, 2], ids=lambda seed: f"seed={seed}")
def test_bootstrap_fails_cleanly_when_the_source_is_lost(
    seed: int,
    make_config: Callable[..., Path],
    pg_url: str,
    pg_proxy: TcpProxy,
    index_uid: str,
    meili: meilisearch.Client,
    tmp_path: Path,
) -> None:
    """Invariant: the run fails with a clear error and leaves the live index untouched — the
    source gone for good in the middle of the load ends the run with exit 3; the table is
    free at once, and a rerun once the source is back makes the index equal the source."""
    name = unique("items")
    make_table(pg_url, name, ROWS, title="old")
    config = make_config(through(pg_proxy, pg_url), tables=[table_config(name, index_uid)])
    assert run_cli(config, "bootstrap", "--batch-size", "2000").returncode == 0
    before = index_docs(meili, index_uid)
    execute(pg_url, f"UPDATE {name} SET title = 'new', n = n + 1")
    log = tmp_path / "bootstrap.log"
    pg_proxy.delay(READ_DELAY_S)
    child = start_cli(config, "bootstrap", "--batch-size", BATCH, log=log)
    try:
        loading(meili, index_uid, cut_at(seed), child)
        pg_proxy.refuse()
        pg_proxy.reset()
        assert finished(child, log) == 3, log.read_text()[-3000:]
    finally:
        if child.poll() is None:
            child.kill()
    assert "error: source database unavailable while reading" in log.read_text()
    assert index_docs(meili, index_uid) == before
    assert staging_uid(index_uid) not in {i.uid for i in meili.get_indexes()["results"]}
    pg_proxy.heal()
    status = run_cli(config, "status")
    assert f"bootstrap {name.upper()} failed" in status.stdout
    rerun = run_cli(config, "bootstrap", "--batch-size", "2000")
    assert rerun.returncode == 0, rerun.stderr
    assert index_docs(meili, index_uid) == source_docs(pg_url, name)


@pytest.mark.parametrize(
    ("seed", "when", "outage"),
    [(1, "loading", "lost"), (2, "fenced", "lost"), (3, "loading", "brief")],
    ids=["seed=1-loading-lost", "seed=2-fenced-lost", "seed=3-loading-brief"],
)
def test_bootstrap_when_meilisearch_goes_away(
    seed: int,
    when: str,
    outage: str,
    make_config: Callable[..., Path],
    sqlite_url: str,
    index_uid: str,
    meili: meilisearch.Client,
    meili_proxy: HttpProxy,
    tmp_path: Path,
) -> None:
    """Invariants: lost for longer than the retry budget (4 times consumer.retry_max_s), the run
    fails with a clear error (exit 3) and leaves the live index untouched, and a rerun makes the
    index equal the source; back within the budget, the run completes with the index equal to
    the source."""
    name = unique("items")
    make_table(sqlite_url, name, ROWS, title="old")
    config = make_config(
        sqlite_url,
        tables=[table_config(name, index_uid)],
        meilisearch={"url": f"http://{meili_proxy.address}", "timeout_s": 2},
        consumer={"retry_max_s": 1},
    )
    assert run_cli(config, "bootstrap", "--batch-size", "2000").returncode == 0
    before = index_docs(meili, index_uid)
    execute(sqlite_url, f"UPDATE {name} SET title = 'new', n = n + 1")
    draining = meili_proxy.add(Rule("hold", lambda r: drains(r, index_uid), hold_s=2, times=1))
    log = tmp_path / "bootstrap.log"
    child = start_cli(config, "bootstrap", "--batch-size", BATCH, log=log)
    try:
        if when == "loading":
            loading(meili, index_uid, int(ROWS * random.Random(seed).uniform(0.1, 0.6)), child)
        else:
            wait_for(lambda: draining.used > 0, 120, "the table to be fenced", every=0.05)
        meili_proxy.refuse()
        meili_proxy.reset()
        cut = time.monotonic()
        if outage == "brief":
            time.sleep(1.5)
            meili_proxy.heal()
        code = finished(child, log)
    finally:
        if child.poll() is None:
            child.kill()
    meili_proxy.heal()
    if outage == "brief":
        assert code == 0, log.read_text()[-3000:]
    else:
        assert code == 3, log.read_text()[-3000:]
        assert time.monotonic() - cut < 30, "the run outlived its retry budget (4 s) by far"
        assert "error: " in log.read_text() and "meilisearch unreachable" in log.read_text()
        assert index_docs(meili, index_uid) == before
        rerun = run_cli(config, "bootstrap", "--batch-size", "2000")
        assert rerun.returncode == 0, rerun.stderr
    assert index_docs(meili, index_uid) == source_docs(sqlite_url, name)
    assert staging_uid(index_uid) not in {i.uid for i in meili.get_indexes()["results"]}
