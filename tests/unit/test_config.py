from __future__ import annotations

from pathlib import Path

import pytest

from cdc_sync.config import load_settings
from cdc_sync.errors import ConfigError

GOOD = """
[source]
url = "oracle+oracledb://app:${ORACLE_PASSWORD}@db:1521/?service_name=FREEPDB1"

[kafka]
bootstrap_servers = "localhost:9092"

[meilisearch]
url = "http://localhost:7700"
api_key = "${MEILI_API_KEY:-dev-key}"

[[tables]]
name = "CRASIVTTST"
schema = "APP"
primary_key = ["ID"]
index = "crasivttst"
modified_column = "MODIFIED_DATE"
soft_delete = { column = "DEL_YN", value = "Y" }
fields = { CASE_NO = "case_no", TITLE = "title", MODIFIED_DATE = { name = "modified_at", type = "epoch" } }
settings = { filterable = ["status", "modified_at"], sortable = ["modified_at"] }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    return caught.value.problems


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORACLE_PASSWORD", "s3cret-pw")
    for name in list(__import__("os").environ):
        if name.startswith("CDC_SYNC"):
            monkeypatch.delenv(name)


def test_spec_example_loads(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    table = settings.tables[0]
    assert settings.topic_of(table) == "cdc.APP.CRASIVTTST"
    assert table.index_uid == "crasivttst"
    assert settings.meilisearch.api_key is not None
    assert settings.meilisearch.api_key.get_secret_value() == "dev-key"
    specs = table.field_specs()
    assert specs is not None and specs["MODIFIED_DATE"].type == "epoch"
    assert table.settings.as_meilisearch() == {
        "filterableAttributes": ["status", "modified_at"],
        "sortableAttributes": ["modified_at"],
    }


def test_secrets_never_in_repr_or_display(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD))
    assert "s3cret-pw" not in repr(settings)
    assert "s3cret-pw" not in str(settings)
    assert "s3cret-pw" not in settings.source.display_url()
    assert "***" in settings.source.display_url()


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDC_SYNC__KAFKA__BOOTSTRAP_SERVERS", "broker:19092")
    monkeypatch.setenv("CDC_SYNC__KAFKA__PARTITIONS", "12")
    settings = load_settings(write(tmp_path, GOOD))
    assert settings.kafka.bootstrap_servers == "broker:19092"
    assert settings.kafka.partitions == 12


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDC_SYNC_CONFIG", str(write(tmp_path, GOOD)))
    assert load_settings().kafka.group_id == "cdc-sync"


def test_missing_required_key_names_key_and_env(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace('bootstrap_servers = "localhost:9092"', ""))
    assert found == [
        "kafka.bootstrap_servers: required key is missing (set [kafka] bootstrap_servers = ... "
        "in the config file or CDC_SYNC__KAFKA__BOOTSTRAP_SERVERS)"
    ]


def test_unknown_key(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace("[kafka]\n", "[kafka]\nbootstrap_server = 'x'\n"))
    assert found == ["kafka.bootstrap_server: unknown key"]


def test_unknown_env_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDC_SYNC__KAFKA__PARTITONS", "3")
    assert problems(tmp_path, GOOD) == ["kafka.partitons: unknown key"]


def test_wrong_type(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace("[kafka]\n", "[kafka]\npartitions = 'many'\n"))
    assert len(found) == 1 and found[0].startswith("kafka.partitions: ")


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('name = "CRASIVTTST"', 'name = "CRAS; DROP TABLE X"', "tables[0].name"),
        ('primary_key = ["ID"]', 'primary_key = ["ID", "1BAD"]', "tables[0].primary_key[1]"),
        ('schema = "APP"', 'schema = "APP\\"X"', "tables[0].schema"),
        ('column = "DEL_YN"', 'column = "DEL YN"', "tables[0].soft_delete.column"),
    ],
)
def test_bad_identifiers_are_rejected(tmp_path: Path, old: str, new: str, key: str) -> None:
    found = problems(tmp_path, GOOD.replace(old, new))
    assert len(found) == 1 and found[0].startswith(f"{key}: ")
    assert "not a plain SQL identifier" in found[0]


def test_table_without_primary_key(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace('primary_key = ["ID"]', "primary_key = []"))
    assert len(found) == 1 and found[0].startswith("tables[0].primary_key: ")
    found = problems(tmp_path, GOOD.replace('primary_key = ["ID"]\n', ""))
    assert found == [
        "tables[0].primary_key: required key is missing "
        "(set primary_key = ... in that [[tables]] entry)"
    ]


def test_conflicting_tables_on_one_index(tmp_path: Path) -> None:
    other = '\n[[tables]]\nname = "OTHER"\nprimary_key = ["A", "B"]\nindex = "crasivttst"\n'
    found = problems(tmp_path, GOOD + other)
    assert len(found) == 1
    assert "APP.CRASIVTTST and OTHER both write index 'crasivttst'" in found[0]


def test_unset_variable_names_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORACLE_PASSWORD")
    found = problems(tmp_path, GOOD)
    assert found == [
        "source.url: environment variable ORACLE_PASSWORD is not set (used as ${ORACLE_PASSWORD})"
    ]


def test_timestamp_mode_needs_modified_column(tmp_path: Path) -> None:
    text = GOOD.replace('modified_column = "MODIFIED_DATE"\n', 'capture = "timestamp"\n')
    found = problems(tmp_path, text)
    assert found == ["tables[0]: capture = 'timestamp' needs modified_column"]


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    assert problems(tmp_path, "[kafka\n")[0].startswith("--config: ")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "nope.toml")
    assert "does not exist" in caught.value.problems[0]


@pytest.mark.parametrize("name", ["cdc-sync.toml", "cdc-sync-debezium.toml"])
def test_shipped_example_configs_are_valid(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("MEILI_API_KEY", "k" * 20)
    monkeypatch.setenv("STATE_DB_PASSWORD", "s" * 12)
    root = Path(__file__).resolve().parents[2]
    settings = load_settings(root / "examples" / name)
    assert settings.topic_of(settings.tables[0]) == "cdc.APP.CRASIVTTST"


COMPOSED = """
[[tables.children]]
name = "CRASIVTTST_NOTE"
primary_key = ["NOTE_ID"]
parent_key = ["CASE_ID"]
field = "notes"
fields = { NOTE_TEXT = "text", CREATED_AT = { name = "created_at", type = "epoch" } }
order_by = ["CREATED_AT"]
filter = "DEL_YN = 'N'"

[[tables.lookups]]
name = "STATUS_CODE"
key = ["CODE"]
parent_columns = ["STATUS"]
fields = { CODE_NAME = "status_name" }
"""


def test_children_and_lookups_load_with_the_spec_keys(tmp_path: Path) -> None:
    table = load_settings(write(tmp_path, GOOD + COMPOSED)).tables[0]
    assert table.composed
    assert table.children[0].parent_key == ["CASE_ID"]
    assert table.children[0].max_children == 1000
    assert table.lookups[0].label == "STATUS_CODE.STATUS"


def test_debezium_capture_with_children_is_refused_naming_the_reason(tmp_path: Path) -> None:
    text = GOOD.replace('index = "crasivttst"', 'index = "crasivttst"\ncapture = "debezium"')
    [problem] = problems(tmp_path, text + COMPOSED)
    assert problem.startswith("tables[0]: children and lookups need capture = 'trigger' or")


def test_composition_problems_name_the_key(tmp_path: Path) -> None:
    text = GOOD.replace('index = "crasivttst"', 'index = "crasivttst"\ncapture = "timestamp"')
    bad = COMPOSED.replace('parent_key = ["CASE_ID"]', 'parent_key = ["CASE_ID", "X"]')
    bad = bad.replace('fields = { CODE_NAME = "status_name" }', 'fields = { CODE_NAME = "title" }')
    [found] = problems(tmp_path, text + bad)
    assert "children[0].parent_key has 2 columns, the primary key has 1" in found
    assert "children[0].modified_column: needed by timestamp capture" in found
    assert "document field 'title' is produced twice" in found
    assert "lookups[0].modified_column: needed by timestamp capture" in found


def test_sweep_interval_takes_units_and_needs_timestamp_capture(tmp_path: Path) -> None:
    stamped = GOOD.replace('index = "crasivttst"', 'index = "crasivttst"\ncapture = "timestamp"')
    swept = stamped.replace(
        'index = "crasivttst"', 'index = "crasivttst"\ndelete_sweep_interval = "5m"'
    )
    assert load_settings(write(tmp_path, swept)).tables[0].delete_sweep_interval == 300
    triggered = GOOD.replace(
        'index = "crasivttst"', 'index = "crasivttst"\ndelete_sweep_interval = 60'
    )
    [problem] = problems(tmp_path, triggered)
    assert "delete_sweep_interval is for capture = 'timestamp'" in problem


def test_schema_registry_credentials_are_secrets(tmp_path: Path) -> None:
    from cdc_sync.cli.context import secrets_of
    from cdc_sync.kafka.registry import display_url

    in_keys = GOOD.replace(
        'bootstrap_servers = "localhost:9092"',
        'bootstrap_servers = "localhost:9092"\n'
        'schema_registry_url = "http://registry:8081/apis/ccompat/v7"\n'
        'schema_registry_username = "reg-user"\n'
        'schema_registry_password = "reg-pw-123"',
    )
    settings = load_settings(write(tmp_path, in_keys))
    password = settings.kafka.schema_registry_password
    assert password is not None and password.get_secret_value() == "reg-pw-123"
    assert "reg-pw-123" not in repr(settings) and "reg-pw-123" not in str(settings)
    assert "reg-pw-123" in secrets_of(settings)
    in_url = GOOD.replace(
        'bootstrap_servers = "localhost:9092"',
        'bootstrap_servers = "localhost:9092"\n'
        'schema_registry_url = "http://reg-user:url-pw@registry:8081/apis/ccompat/v7"',
    )
    settings = load_settings(write(tmp_path, in_url))
    assert "url-pw" in secrets_of(settings)
    url = display_url(settings.kafka.schema_registry_url or "")
    assert url == "http://***@registry:8081/apis/ccompat/v7"


def test_schema_registry_url_must_be_http(tmp_path: Path) -> None:
    text = GOOD.replace(
        'bootstrap_servers = "localhost:9092"',
        'bootstrap_servers = "localhost:9092"\nschema_registry_url = "registry:8081"',
    )
    (problem,) = problems(tmp_path, text)
    assert problem.startswith("kafka.schema_registry_url:")


def test_schema_registry_credentials_given_twice_are_a_config_error(tmp_path: Path) -> None:
    """The registry client refuses credentials both in the URL and in the two keys: say so
    at start, naming the keys, instead of a traceback at the first Avro record."""
    text = GOOD.replace(
        'bootstrap_servers = "localhost:9092"',
        'bootstrap_servers = "localhost:9092"\n'
        'schema_registry_url = "http://reg-user:url-pw@registry:8081/apis/ccompat/v7"\n'
        'schema_registry_username = "reg-user"\n'
        'schema_registry_password = "reg-pw-123"',
    )
    (problem,) = problems(tmp_path, text)
    assert problem.startswith("kafka: ")
    assert "schema_registry_url" in problem and "schema_registry_username" in problem
    assert "url-pw" not in problem and "reg-pw-123" not in problem


def test_the_fence_warning_threshold_is_five_seconds_unless_set(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, GOOD)).bootstrap.fence_warn_s == 5.0
    custom = load_settings(write(tmp_path, GOOD + "\n[bootstrap]\nfence_warn_s = 1.5\n"))
    assert custom.bootstrap.fence_warn_s == 1.5


@pytest.mark.parametrize("value", ["0", "-1", '"soon"'])
def test_a_fence_warning_threshold_that_is_not_a_positive_number_is_refused(
    tmp_path: Path, value: str
) -> None:
    found = problems(tmp_path, GOOD + f"\n[bootstrap]\nfence_warn_s = {value}\n")
    assert len(found) == 1 and found[0].startswith("bootstrap.fence_warn_s"), found


def test_two_fields_entries_that_produce_one_field_are_refused_naming_the_key(
    tmp_path: Path,
) -> None:
    """One value would be lost; case twins (NAME and "Name") must be named apart."""
    text = GOOD.replace(
        'fields = { CASE_NO = "case_no",',
        'fields = { NAME = "name", Name = "name", CASE_NO = "case_no",',
    )
    [problem] = problems(tmp_path, text)
    assert problem == "tables[0]: fields: NAME and Name both become field 'name'"


@pytest.mark.parametrize(
    "url",
    [
        "oracle://cdc:pw@db:1521/?service_name=FREEPDB1",
        "oracle+oracledb://cdc:pw@db:1521/?service_name=FREEPDB1",
        "mysql://cdc:pw@db/state",
    ],
)
def test_state_store_on_an_unsupported_database_is_refused_naming_the_key(
    tmp_path: Path, url: str
) -> None:
    """The state store runs on PostgreSQL or SQLite only: an Oracle URL is refused at start
    (its tables would need Oracle's identity, CLOB and reserved-word spellings), never
    half-created on the first run."""
    found = problems(tmp_path, GOOD + f'\n[state]\nurl = "{url}"\n')
    assert len(found) == 1 and found[0].startswith("state.url: "), found
    assert "postgresql://" in found[0] and "sqlite:///" in found[0]
    assert "pw" not in found[0]  # the URL's password is not repeated


@pytest.mark.parametrize(
    "url", ["sqlite:///state.db", "postgresql://u:p@db/state", "postgresql+psycopg://u@db/s"]
)
def test_state_store_on_postgresql_or_sqlite_loads(tmp_path: Path, url: str) -> None:
    assert load_settings(write(tmp_path, GOOD + f'\n[state]\nurl = "{url}"\n')).state.url == url


def test_verify_section_and_per_table_overrides(tmp_path: Path) -> None:
    """SPEC §8 `[verify]`: every, rows_per_s, repair; a table overrides them or opts out."""
    settings = load_settings(write(tmp_path, GOOD))
    assert (settings.verify.every, settings.verify.rows_per_s, settings.verify.repair) == (
        3600,
        2000,
        True,
    )
    assert settings.verify.max_lag == 1000
    assert settings.tables[0].verify.enabled
    tuned = GOOD.replace(
        'index = "crasivttst"',
        'index = "crasivttst"\nverify = { every = "15m", rows_per_s = 500, repair = false }',
    )
    tuned += '\n[verify]\nevery = "2h"\nrows_per_s = 100\nmax_lag = 50\n'
    loaded = load_settings(write(tmp_path, tuned))
    assert (loaded.verify.every, loaded.verify.rows_per_s, loaded.verify.max_lag) == (7200, 100, 50)
    table = loaded.tables[0].verify
    assert (table.enabled, table.every, table.rows_per_s, table.repair) == (True, 900, 500, False)
    off = GOOD.replace('index = "crasivttst"', 'index = "crasivttst"\nverify = false')
    assert not load_settings(write(tmp_path, off)).tables[0].verify.enabled


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ('verify = { evry = "1m" }', "tables[0].verify.evry: unknown key"),
        ('verify = { every = "soon" }', "tables[0].verify.every: 'soon' is not a duration"),
        (
            "verify = { rows_per_s = 0 }",
            "tables[0].verify.rows_per_s: Input should be greater than 0",
        ),
        ('verify = "yes"', "tables[0].verify: true, false or { every, rows_per_s, repair }"),
    ],
)
def test_bad_table_verify_settings_name_the_key(
    tmp_path: Path, setting: str, expected: str
) -> None:
    text = GOOD.replace('index = "crasivttst"', f'index = "crasivttst"\n{setting}')
    [problem] = problems(tmp_path, text)
    assert problem.startswith(expected), problem


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("rows_per_s = 0", "verify.rows_per_s: Input should be greater than 0"),
        ('every = "0s"', "verify.every: Input should be greater than 0"),
        ("repair = 3", "verify.repair: Input should be a valid boolean"),
        ("max_lag = -1", "verify.max_lag: Input should be greater than or equal to 0"),
        ("rows = 5", "verify.rows: unknown key"),
    ],
)
def test_bad_verify_section_names_the_key(tmp_path: Path, setting: str, expected: str) -> None:
    [problem] = problems(tmp_path, f"{GOOD}\n[verify]\n{setting}\n")
    assert problem.startswith(expected), problem
