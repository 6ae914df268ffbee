"""`cdc-sync check` and config errors, through the real command line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdc_sync", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def make_table(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE CRASIVTTST (ID INTEGER PRIMARY KEY, TITLE TEXT)"))
    engine.dispose()


def test_check_all_ok(make_config: Callable[..., Path], sqlite_url: str) -> None:
    make_table(sqlite_url)
    config = make_config(sqlite_url, tables=[{"name": "CRASIVTTST", "primary_key": ["ID"]}])
    done = run_cli("--config", str(config), "check")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["source", "ok"],
        ["kafka", "ok"],
        ["meilisearch", "ok"],
    ]


def test_check_reports_each_broken_component(
    make_config: Callable[..., Path], sqlite_url: str
) -> None:
    make_table(sqlite_url)
    config = make_config(
        sqlite_url,
        tables=[{"name": "MISSING_TABLE", "primary_key": ["ID"]}],
        meilisearch={"api_key": "wrong-key-0123456789"},
    )
    done = run_cli("--config", str(config), "check", "--json")
    assert done.returncode == 3, done.stdout + done.stderr
    import json

    outcome = {o["component"]: o for o in json.loads(done.stdout)}
    assert outcome["kafka"]["ok"] is True
    assert outcome["source"]["ok"] is False
    assert "MISSING_TABLE" in outcome["source"]["detail"]
    assert outcome["meilisearch"]["ok"] is False
    assert "wrong-key" not in done.stdout + done.stderr


def test_unreachable_kafka_fails_with_exit_3(
    make_config: Callable[..., Path], sqlite_url: str
) -> None:
    make_table(sqlite_url)
    config = make_config(sqlite_url, kafka={"bootstrap_servers": "127.0.0.1:1"})
    done = run_cli("--config", str(config), "check")
    assert done.returncode == 3
    assert "kafka" in done.stdout and "FAIL" in done.stdout


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[source]\nurl = "sqlite:///x.db"\n[kafka]\nbootstrap_servers = "x:1"\npartitions = "six"\n'
        '[meilisearch]\nurl = "http://x"\n[[tables]]\nname = "A B"\nprimary_key = ["ID"]\n'
    )
    done = run_cli("--config", str(config), "check")
    assert done.returncode == 2
    assert "error: kafka.partitions:" in done.stderr
    assert "error: tables[0].name: 'A B' is not a plain SQL identifier" in done.stderr
    assert "Traceback" not in done.stderr


def test_secret_in_url_never_printed(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[source]\nurl = "postgresql://u:hunter2-secret@127.0.0.1:1/db"\n'
        '[kafka]\nbootstrap_servers = "127.0.0.1:1"\n'
        '[meilisearch]\nurl = "http://127.0.0.1:1"\napi_key = "meili-secret-key"\n'
    )
    done = run_cli("--config", str(config), "check")
    assert done.returncode == 3
    output = done.stdout + done.stderr
    assert "hunter2-secret" not in output and "meili-secret-key" not in output


def test_help_lists_commands() -> None:
    done = run_cli("--help")
    assert done.returncode == 0
    assert "check" in done.stdout


def test_missing_sqlite_file_is_reported_not_created(
    make_config: Callable[..., Path], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.db"
    config = make_config(f"sqlite:///{missing}")
    done = run_cli("--config", str(config), "check")
    assert done.returncode == 3
    assert "does not exist" in done.stdout
    assert not missing.exists()


def test_check_tells_flattened_debezium_topics_and_the_registry(
    make_config: Callable[..., Path], sqlite_url: str, schema_registry: str
) -> None:
    """Per Debezium table: the topic it expects, whether it exists, and what it holds (a
    flattened topic, ExtractNewRecordState's, never carries truncates), in JSON and text."""
    import json

    from cdc_sync.config import load_settings
    from cdc_sync.kafka.admin import ensure_topics
    from tests.integration.consumer_support import produce_raw

    make_table(sqlite_url)
    tables = [
        {"name": name, "primary_key": ["ID"], "capture": "debezium"}
        for name in ("FLAT", "ENVELOPED", "QUIET", "BEATING")
    ]
    config = make_config(sqlite_url, tables=tables, kafka={"schema_registry_url": schema_registry})
    settings = load_settings(config)
    topics = {t.name: settings.topic_of(t) for t in settings.tables}
    ensure_topics(settings.kafka, [topics["FLAT"], topics["ENVELOPED"], topics["BEATING"]])
    envelope = {"before": None, "after": {"ID": 1}, "source": {}, "op": "c"}
    produce_raw(
        settings.kafka.bootstrap_servers,
        [
            (topics["FLAT"], b'{"ID": 1}', json.dumps({"ID": 1, "__deleted": "false"}).encode()),
            (topics["FLAT"], b'{"ID": 2}', None),
            (topics["ENVELOPED"], b'{"ID": 1}', json.dumps(envelope).encode()),
            (topics["BEATING"], b'{"serverName": "x"}', b'{"ts_ms": 1700000000000}'),
        ],
    )
    done = run_cli("--config", str(config), "check", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    outcome = {o["component"]: o for o in json.loads(done.stdout)}
    assert outcome["registry"]["ok"] is True
    listed = {t["table"]: t for t in outcome["topics"]["topics"]}
    assert listed == {
        "FLAT": {"table": "FLAT", "topic": topics["FLAT"], "exists": True, "holds": "flattened"},
        "ENVELOPED": {
            "table": "ENVELOPED",
            "topic": topics["ENVELOPED"],
            "exists": True,
            "holds": "envelopes",
        },
        "QUIET": {"table": "QUIET", "topic": topics["QUIET"], "exists": False, "holds": None},
        "BEATING": {
            "table": "BEATING",
            "topic": topics["BEATING"],
            "exists": True,
            "holds": "no row changes",
        },
    }
    done = run_cli("--config", str(config), "check")
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout
    assert f"FLAT: topic {topics['FLAT']} exists: flattened rows (ExtractNewRecordState)" in text
    assert "truncates never reach this topic" in text
    assert f"ENVELOPED: topic {topics['ENVELOPED']} exists: change envelopes" in text
    assert f"QUIET: topic {topics['QUIET']} does not exist yet" in text
    assert f"BEATING: topic {topics['BEATING']} exists: only records that change no row" in text


def test_check_names_a_topic_that_differs_from_the_expected_one_only_in_case(
    make_config: Callable[..., Path], sqlite_url: str
) -> None:
    """PostgreSQL folds unquoted names to lower case, so Debezium writes cdc.public.items for a
    table configured as ITEMS: check points at the topic that exists."""
    import json

    from cdc_sync.config import load_settings
    from cdc_sync.kafka.admin import ensure_topics

    make_table(sqlite_url)
    config = make_config(
        sqlite_url,
        tables=[
            {"name": "ITEMS", "schema": "public", "primary_key": ["ID"], "capture": "debezium"}
        ],
    )
    settings = load_settings(config)
    expected = settings.topic_of(settings.tables[0])
    actual = f"{settings.kafka.topic_prefix}.public.items"
    ensure_topics(settings.kafka, [actual])
    done = run_cli("--config", str(config), "check", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    [listed] = {o["component"]: o for o in json.loads(done.stdout)}["topics"]["topics"]
    assert listed == {
        "table": "public.ITEMS",
        "topic": expected,
        "exists": False,
        "holds": None,
        "similar": [actual],
    }
    done = run_cli("--config", str(config), "check")
    assert f"does not exist yet, but {actual} does" in done.stdout
    assert f'topic = "{actual}"' in done.stdout


def test_check_finds_a_postgresql_table_named_in_capitals(
    make_config: Callable[..., Path], pg_url: str
) -> None:
    """PostgreSQL folds unquoted names to lower case; install and the relay find the table
    as configured (`CRASIVTTST`), so must check."""
    make_table(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    config = make_config(pg_url, tables=[{"name": "CRASIVTTST", "primary_key": ["ID"]}])
    done = run_cli("--config", str(config), "check")
    assert done.returncode == 0, done.stdout + done.stderr
