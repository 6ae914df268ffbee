"""A relay told to stop while it waits out a source that does not answer."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

from cdc_sync.database_url import normalise_url
from tests.conftest import unique
from tests.faults.proxy import TcpProxy
from tests.faults.support import execute, make_table
from tests.faults.test_bootstrap_faults import through
from tests.integration.cli_support import run_cli, start_cli
from tests.integration.verify_support import wait_for

STOP_WITHIN_S = 5


def unpublished(url: str, table: str) -> int:
    """Change-log rows of `table` the relay has not published (it deletes what it did)."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            query = text("SELECT count(*) FROM cdc_change_log WHERE upper(table_name) = :t")
            return int(conn.execute(query, {"t": table.upper()}).scalar_one())
    finally:
        engine.dispose()


def test_sigterm_ends_the_retries_of_a_lost_source(
    make_config: Callable[..., Path],
    pg_url: str,
    pg_proxy: TcpProxy,
    index_uid: str,
    tmp_path: Path,
) -> None:
    """Invariant: SIGTERM ends a relay within STOP_WITHIN_S seconds, exit 0, even while it
    retries a source that does not answer (its retries wait up to 30 s each and go on
    until the source is back): an orchestrator's grace period is not spent on waits whose
    outcome nobody will use, and nothing is lost (the change log keeps what was not
    published)."""
    name = unique("stop")
    make_table(pg_url, name, 10)
    config = make_config(
        through(pg_proxy, pg_url),
        tables=[{"name": name.upper(), "primary_key": ["ID"], "index": index_uid}],
    )
    assert run_cli(config, "source", "install").returncode == 0
    log = tmp_path / "relay.log"
    relay = start_cli(config, "relay", log=log)
    try:
        execute(pg_url, f"UPDATE {name} SET title = 'changed' WHERE id = 1")
        wait_for(lambda: unpublished(pg_url, name) == 0, 60, "the relay publishing")
        pg_proxy.refuse()
        pg_proxy.reset()
        wait_for(lambda: "failed (attempt 3)" in log.read_text(), 60, "the relay retrying")
        asked = time.monotonic()
        relay.send_signal(signal.SIGTERM)
        code = relay.wait(60)
        took = time.monotonic() - asked
    finally:
        relay.kill()
        pg_proxy.refuse(False)
    assert code == 0, log.read_text()[-2000:]
    assert took < STOP_WITHIN_S, took
