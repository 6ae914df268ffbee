"""Oracle install never leaves an enabled trigger that does not compile (no database here).

What Oracle does is taken from its documentation (PL/SQL Language Reference, CREATE
TRIGGER, ALTER TRIGGER and DROP TRIGGER statements):

- a trigger with compilation errors "is still created, but it fails on execution", and
  "a trigger that fails on execution effectively blocks all triggering DML statements
  until it is disabled, replaced by a version without compilation errors, or dropped";
- ``DISABLE`` creates it disabled, and a disabled trigger does not fire;
- ``ALTER TRIGGER`` of a trigger in another schema needs ALTER ANY TRIGGER, ``DROP
  TRIGGER`` needs DROP ANY TRIGGER.

`FakeOracle` keeps such a dictionary of triggers (ALL_TRIGGERS, ALL_OBJECTS' status,
ALL_ERRORS) and records its state after every statement, so the tests check what the
table's writers would have met at each moment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.dialects import oracle
from sqlalchemy.exc import DBAPIError

from cdc_sync.config import SourceSettings, TableSettings
from cdc_sync.source.changelog import changelog_table
from cdc_sync.source.dialect import dialect_for
from cdc_sync.source.oracle import dictionary
from cdc_sync.source.schema import CapturedTable

BROKEN = "NO_SUCH_LOG"
"""A trigger whose text names this does not compile (ORA-00942 in ALL_ERRORS)."""


@dataclass
class Trigger:
    table: str
    body: str
    enabled: bool
    valid: bool


@dataclass
class FakeOracle:
    """The data dictionary of triggers, and the statements install ran against it."""

    triggers: dict[str, Trigger] = field(default_factory=dict)
    refuse: tuple[str, ...] = ()
    """Statement prefixes refused with ORA-01031 (a privilege the installer lacks)."""
    ran: list[str] = field(default_factory=list)
    states: list[dict[str, tuple[bool, bool]]] = field(default_factory=list)
    """(enabled, valid) of every trigger after each statement."""
    dialect: Any = field(default_factory=oracle.dialect)

    def __post_init__(self) -> None:
        self.dialect.default_schema_name = "cdc_sync"

    def exec_driver_sql(self, statement: str) -> None:
        self.ran.append(statement)
        if statement.startswith(self.refuse):
            raise DBAPIError(statement, None, Exception("ORA-01031: insufficient privileges"))
        head = statement.splitlines()[0]
        if head.startswith("CREATE OR REPLACE TRIGGER "):
            name = head.removeprefix("CREATE OR REPLACE TRIGGER ")
            table = re.search(r" ON (\S+)\n", statement)
            assert table, statement
            enabled = "\nDISABLE\n" not in statement
            self.triggers[name] = Trigger(table[1], statement, enabled, BROKEN not in statement)
        elif head.startswith("ALTER TRIGGER "):
            name, state = head.removeprefix("ALTER TRIGGER ").split()
            self.triggers[name].enabled = state == "ENABLE"
        elif head.startswith("DROP TRIGGER "):
            del self.triggers[head.removeprefix("DROP TRIGGER ")]
        else:
            raise AssertionError(statement)
        self.states.append({n: (t.enabled, t.valid) for n, t in self.triggers.items()})

    def execute(self, statement: Any, params: dict[str, Any]) -> Answer:
        found = self.triggers.get(f"{params['owner']}.{params['name']}")
        if statement is dictionary.TRIGGER_OWNERSHIP:
            if found is None:
                return Answer([])
            owner, table = found.table.split(".")
            return Answer([(owner, None if table == "SCHEMA" else table, found.body)])
        if statement is dictionary.OBJECT_STATUS:
            status = None if found is None else ("VALID" if found.valid else "INVALID")
            return Answer([(status,)] if status else [])
        if statement is dictionary.OBJECT_ERRORS:
            return Answer([(9, 5, "PL/SQL: ORA-00942: table or view does not exist")])
        raise AssertionError(statement)

    def rollback(self) -> None:
        pass


class Answer:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def all(self) -> list[tuple[Any, ...]]:
        return self.rows

    def scalar_one_or_none(self) -> Any:
        return self.rows[0][0] if self.rows else None


DIALECT = dialect_for(oracle.dialect())
TRIGGER = "APP.CDC_ITEMS_TRG"
TRUNCATE = "APP.CDC_ITEMS_TRUNC"
"""The schema trigger that logs the table's truncates, installed the same way."""


def items() -> CapturedTable:
    table = Table(
        "items",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("name", String(9)),
        schema="app",
    )
    settings = TableSettings(name="ITEMS", schema="APP", primary_key=["ID"])
    names = {c.name: c.name.upper() for c in table.c}
    return CapturedTable(settings, table, list(table.primary_key.columns), names)


def changelog(name: str = "CDC_CHANGE_LOG") -> Table:
    source = SourceSettings(url="oracle://x", changelog_table=name)  # type: ignore[arg-type]
    return changelog_table(source, home="cdc_sync")


def install(db: FakeOracle, log: Table | None = None) -> list[str]:
    return DIALECT.install_triggers(db, items(), log if log is not None else changelog())  # type: ignore[arg-type]


def heads(statements: list[str], name: str = TRIGGER) -> list[str]:
    """First lines of the statements about the table's own trigger (and its probe)."""
    return [s.splitlines()[0] for s in statements if name in s.splitlines()[0]]


def never_enabled_and_invalid(db: FakeOracle) -> None:
    for state in db.states:
        assert not any(enabled and not valid for enabled, valid in state.values()), state


def test_a_new_trigger_is_created_disabled_checked_then_enabled() -> None:
    db = FakeOracle()
    assert install(db) == []
    for name in (TRIGGER, TRUNCATE):
        assert heads(db.ran, name) == [
            f"CREATE OR REPLACE TRIGGER {name}",
            f"ALTER TRIGGER {name} ENABLE",
        ]
        assert db.triggers[name].enabled and db.triggers[name].valid
    assert db.states[0] == {TRIGGER: (False, True)}  # nothing fired before the check


def test_a_new_trigger_that_does_not_compile_is_dropped_and_never_enabled() -> None:
    db = FakeOracle()
    failed = install(db, changelog(BROKEN))
    assert failed[0].startswith(f"trigger {TRIGGER} on items did not compile and was dropped")
    assert "ORA-00942" in failed[1]
    assert db.triggers == {} and not any(s.startswith("ALTER") for s in db.ran)
    never_enabled_and_invalid(db)


def test_without_drop_any_trigger_the_invalid_trigger_stays_disabled_and_blocks_nothing() -> None:
    """The outage this prevents: an invalid trigger nobody may drop, failing every write
    with ORA-04098. Disabled, it does not fire; install says how to drop it."""
    db = FakeOracle(refuse=("DROP TRIGGER",))
    failed = install(db, changelog(BROKEN))
    assert db.triggers[TRIGGER].enabled is False
    assert "left DISABLED" in failed[0] and "DROP ANY TRIGGER" in failed[0]
    assert f"DROP TRIGGER {TRIGGER}" in failed[0]
    never_enabled_and_invalid(db)


def test_without_alter_any_trigger_install_fails_naming_the_privilege() -> None:
    db = FakeOracle(refuse=("ALTER TRIGGER",))
    failed = install(db)
    assert db.triggers[TRIGGER].enabled is False  # valid, but not capturing: said loudly
    assert "not enabled" in failed[0] and "ALTER ANY TRIGGER" in failed[0]


def test_a_reinstall_proves_the_new_text_under_a_probe_name_and_never_stops_capturing() -> None:
    """Replacing an enabled trigger with a disabled one would miss the table's writes until
    ENABLE; the new text compiles under a probe name first, then replaces the old in one
    CREATE OR REPLACE, enabled."""
    db = FakeOracle()
    assert install(db) == []
    first = len(db.states)
    assert install(db) == []
    probe = "APP.CDC_ITEMS_TRG_CHK"
    again = db.ran[first:]
    assert heads(again) == [
        f"CREATE OR REPLACE TRIGGER {probe}",
        f"DROP TRIGGER {probe}",
        f"CREATE OR REPLACE TRIGGER {TRIGGER}",
    ]
    creates = [s for s in again if s.startswith("CREATE") and TRIGGER in s.splitlines()[0]]
    assert "\nDISABLE\n" in creates[0] and "\nDISABLE\n" not in creates[1]
    for state in db.states[first:]:
        assert state[TRIGGER] == (True, True)  # the table's writes were captured throughout
        assert state[TRUNCATE] == (True, True)  # and its truncates
    assert set(db.triggers) == {TRIGGER, TRUNCATE}


def test_a_reinstall_whose_new_text_does_not_compile_keeps_the_installed_trigger() -> None:
    db = FakeOracle()
    assert install(db) == []
    before = db.triggers[TRIGGER].body
    failed = install(db, changelog(BROKEN))
    assert "did not compile" in failed[0] and "left as it was" in failed[0]
    assert db.triggers[TRIGGER].body == before and db.triggers[TRIGGER].enabled
    assert set(db.triggers) == {TRIGGER, TRUNCATE}  # the probes were dropped
    never_enabled_and_invalid(db)


@pytest.mark.parametrize("refused", ["DROP TRIGGER", "ALTER TRIGGER"])
def test_every_failure_leaves_no_enabled_invalid_trigger(refused: str) -> None:
    for log in (changelog(), changelog(BROKEN)):
        db = FakeOracle(refuse=(refused,))
        install(db, log)
        install(db, changelog(BROKEN))
        never_enabled_and_invalid(db)
