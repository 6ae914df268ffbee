"""Running the real command line in a child process, as users do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path


def run_cli(
    config: Path, *args: str, timeout_s: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`cdc-sync --config … ARGS`, `env` added to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "cdc_sync", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, **(env or {})},
    )


def stop(processes: Iterable[subprocess.Popen[bytes]], timeout_s: float = 30) -> None:
    """SIGTERM to each process still running, then wait for each; killed past `timeout_s`."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
