"""Running the real command line in a child process, as users do: the one way tests do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from tests.conftest import ROOT


def cli_command(config: Path | None, *args: str) -> list[str]:
    """The argv of `cdc-sync [--config CONFIG] ARGS` (`python -m cdc_sync`, this interpreter)."""
    chosen = ["--config", str(config)] if config is not None else []
    return [sys.executable, "-m", "cdc_sync", *chosen, *args]


def run_cli(
    config: Path | None, *args: str, timeout_s: float = 180, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`cdc-sync --config … ARGS` to its end, output captured as text; `env` added to this
    process's environment."""
    return subprocess.run(
        cli_command(config, *args),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, **(env or {})},
    )


def start_cli(config: Path, *args: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    """`cdc-sync --config … ARGS` in the background, its output discarded but for stderr: to
    `log` as JSON lines when given, else a pipe."""
    if log is None:
        return subprocess.Popen(
            cli_command(config, *args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT
        )
    return subprocess.Popen(
        cli_command(config, *args),
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env={**os.environ, "CDC_SYNC__LOGGING__FORMAT": "json"},
        cwd=ROOT,
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
