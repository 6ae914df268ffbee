"""Running the real command line in a child process, as users do."""

from __future__ import annotations

import os
import subprocess
import sys
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
