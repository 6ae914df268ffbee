"""The continuous verifier in tests: the services as real processes, drift, the index."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.integration.relay_helpers import cli


def start(config: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cdc_sync", "--config", str(config), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop(process: subprocess.Popen[bytes], timeout_s: float = 30) -> int:
    """SIGTERM and wait; killed (and TimeoutExpired raised) when it does not exit in time."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        raise


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop every process still running, even when one of them does not stop in time."""
    late = []
    for process in processes:
        if process.poll() is None:
            try:
                stop(process)
            except subprocess.TimeoutExpired as exc:
                late.append(exc)
    if late:
        raise late[0]


@contextmanager
def pipeline(config: Path, verifiers: int = 1) -> Iterator[list[subprocess.Popen[bytes]]]:
    """relay, consume and `verify --continuous` (`verifiers` of them) as services."""
    started = [start(config, "relay"), start(config, "consume")]
    started += [start(config, "verify", "--continuous") for _ in range(verifiers)]
    try:
        yield started
    finally:
        stop_all(started)


def verify_pass(config: Path, table: str) -> dict[str, Any]:
    status = json.loads(cli(config, "status", "--json").stdout)
    (found,) = [t for t in status["tables"] if t["table"] == table]
    return found["verify_pass"] or {}


def wait_for(check: Any, timeout_s: float, what: str, every_s: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s}s")
        time.sleep(every_s)
