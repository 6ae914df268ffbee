"""What a command's start-up imports: a restarted consumer applies its first change sooner
when it does not load libraries only other commands, or only Avro topics, use
(`bench/restart.py` times it)."""

from __future__ import annotations

import subprocess
import sys

NOT_FOR_THE_CONSUMER = (
    "confluent_kafka.schema_registry",  # Avro topics only, with a registry configured
    "authlib",  # the registry client's
    "fastapi",  # the dashboard (`status --serve`)
    "jinja2",
    "oracledb",  # the relay's and bootstrap's source drivers
    "psycopg",
)


def loaded_by(module: str, candidates: tuple[str, ...]) -> list[str]:
    code = f"import sys, {module}\nprint(' '.join(m for m in {candidates!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_the_consumer_starts_without_the_libraries_of_avro_or_other_commands() -> None:
    assert loaded_by("cdc_sync.cli.consume", NOT_FOR_THE_CONSUMER) == []
