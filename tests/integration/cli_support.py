"""Running the real command line in a child process, as users do: the one way tests do."""

from __future__ import annotations

import os
import subprocess
import sys
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
