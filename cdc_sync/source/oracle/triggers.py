"""Install Oracle triggers so that none is ever enabled while it does not compile.

Oracle creates a trigger with compilation errors all the same (python-oracledb
reports it as a warning), and "a trigger that fails on execution effectively
blocks all triggering DML statements until it is disabled, replaced by a version
without compilation errors, or dropped" (PL/SQL Language Reference, CREATE
TRIGGER). A disabled trigger does not fire. So:

* a new trigger is created ``DISABLE``'d, its status read (``ALL_OBJECTS``,
  ``ALL_ERRORS``), and only a valid one is enabled (``ALTER TRIGGER … ENABLE``).
  An invalid one is dropped again; where the drop is refused (a trigger in
  another schema needs DROP ANY TRIGGER) it stays disabled and blocks nothing;
* a trigger that exists (a re-install, an upgrade) goes on capturing while its
  replacement is proven: the new text is compiled first under a probe name,
  disabled, and dropped; only when it compiled does ``CREATE OR REPLACE`` swap it
  in, enabled, in one statement. Replacing it with a disabled trigger and
  enabling that would miss the table's writes in between.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from cdc_sync.database_errors import reason
from cdc_sync.source.oracle import dictionary

log = logging.getLogger(__name__)

CREATE = "CREATE OR REPLACE TRIGGER "
DISABLED = "\nDISABLE\n"


@dataclass(frozen=True)
class Trigger:
    owner: str
    """The schema it lives in, as the dictionary stores it."""
    name: str
    """Its name as the dictionary stores it."""
    ddl_name: str
    """Its name as DDL writes it (schema-qualified, quoted where needed)."""
    on: str
    """The table (or schema) it is on, for messages."""
    create: str
    """``CREATE OR REPLACE TRIGGER <ddl_name> … DISABLE …``."""

    @property
    def full(self) -> str:
        return f"{self.owner}.{self.name}"

    def enabled(self) -> str:
        """The same text, created enabled."""
        assert DISABLED in self.create, self.create
        return self.create.replace(DISABLED, "\n", 1)


def altered(ddl_name: str, state: str) -> str:
    """``ALTER TRIGGER <ddl_name> ENABLE`` (or ``DISABLE``)."""
    return f"ALTER TRIGGER {ddl_name} {state}"


def dropped(ddl_name: str) -> str:
    return f"DROP TRIGGER {ddl_name}"


def renamed(create: str, ddl_name: str) -> str:
    """A trigger's creating text under another name."""
    head, rest = create.split("\n", 1)
    assert head.startswith(CREATE), head
    return f"{CREATE}{ddl_name}\n{rest}"


def install(conn: Connection, trigger: Trigger, probe: Trigger) -> list[str]:
    """Create or replace `trigger`; what went wrong, one line each (nothing: it is capturing)."""
    if dictionary.trigger_rows(conn, trigger.owner, trigger.name):
        return _replace(conn, trigger, probe)
    return _create(conn, trigger)


def _create(conn: Connection, trigger: Trigger) -> list[str]:
    conn.exec_driver_sql(trigger.create)
    errors = _errors(conn, trigger)
    if errors is not None:
        return [_drop_invalid(conn, trigger, "did not compile"), *errors]
    try:
        conn.exec_driver_sql(altered(trigger.ddl_name, "ENABLE"))
    except DBAPIError as exc:
        return [
            f"trigger {trigger.full} on {trigger.on} was created but not enabled "
            f"({reason(exc)}; a trigger in another schema needs ALTER ANY TRIGGER): the "
            f"table's changes are not captured until ALTER TRIGGER {trigger.ddl_name} ENABLE"
        ]
    return []


def _replace(conn: Connection, trigger: Trigger, probe: Trigger) -> list[str]:
    conn.exec_driver_sql(probe.create)
    errors = _errors(conn, probe)
    refused = _drop(conn, probe)
    if errors is not None:
        left = f"; the probe is left disabled ({refused}): drop it" if refused else ""
        return [
            f"the new text of trigger {trigger.full} on {trigger.on} did not compile (tried "
            f"as {probe.full}{left}); the installed trigger is left as it was, still capturing:",
            *errors,
        ]
    if refused:
        log.warning("probe trigger %s is left disabled (%s): drop it", probe.full, refused)
    conn.exec_driver_sql(trigger.enabled())
    errors = _errors(conn, trigger)
    if errors is None:
        return []
    try:  # compiled as the probe a moment ago: only a concurrent change gets here
        conn.exec_driver_sql(altered(trigger.ddl_name, "DISABLE"))
    except DBAPIError as exc:
        return [
            f"trigger {trigger.full} on {trigger.on} is ENABLED AND INVALID ({reason(exc)}): "
            f"the table's writes fail with ORA-04098 until ALTER TRIGGER {trigger.ddl_name} "
            "DISABLE",
            *errors,
        ]
    return [_drop_invalid(conn, trigger, "was replaced but did not compile"), *errors]


def _errors(conn: Connection, trigger: Trigger) -> list[str] | None:
    found = dictionary.compile_errors(conn, trigger.owner, trigger.name, "TRIGGER")
    return None if found is None else [f"  {e}" for e in found]


def _drop(conn: Connection, trigger: Trigger) -> str | None:
    """Drop it; None when done, else why not."""
    try:
        conn.exec_driver_sql(dropped(trigger.ddl_name))
    except DBAPIError as exc:
        return f"{reason(exc)}; a trigger in another schema needs DROP ANY TRIGGER"
    return None


def _drop_invalid(conn: Connection, trigger: Trigger, what: str) -> str:
    refused = _drop(conn, trigger)
    if refused is None:
        return (
            f"trigger {trigger.full} on {trigger.on} {what} and was dropped again (enabled, "
            "it would fail the table's writes with ORA-04098):"
        )
    return (
        f"trigger {trigger.full} on {trigger.on} {what}; it is left DISABLED, which blocks "
        f"no write, because dropping it was refused ({refused}): drop it with "
        f"DROP TRIGGER {trigger.ddl_name}; Oracle's errors:"
    )
