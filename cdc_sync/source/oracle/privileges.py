"""What each command needs on Oracle for the configured layout (pure: facts in, needs out).

The layout decides: where the captured tables (and their children's and lookups')
live, and where the change log lives — in cdc-sync's own schema (the default),
or in a schema of its own (`changelog_schema`). The rules come from the
prerequisites of each statement in the SQL and PL/SQL Language References:

* a table, its identity column's sequence, an index, a comment, in another
  schema: CREATE ANY TABLE, CREATE ANY SEQUENCE, CREATE ANY INDEX, COMMENT ANY
  TABLE; dropping it: DROP ANY TABLE; granting on it: GRANT ANY OBJECT PRIVILEGE;
* a trigger in another schema (or on another user's schema): CREATE ANY
  TRIGGER; enabling it: ALTER ANY TRIGGER; dropping it: DROP ANY TRIGGER;
* reading and deleting rows of another schema's table: SELECT / DELETE on it
  (or the ANY TABLE privileges); the relay's fan-out of a lookup change inserts
  into the change log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

INSTALL = "source install"
UNINSTALL = "source uninstall"
RELAY = "relay"
VERIFIER = "verify --continuous"
READERS = "relay, bootstrap and verify"


@dataclass(frozen=True)
class TableFacts:
    owner: str
    name: str
    capture: str
    grants: frozenset[str]
    all_column_logging: bool | None = None
    """Table-level ``SUPPLEMENTAL LOG DATA (ALL) COLUMNS``; None: not asked (not debezium)."""
    related: bool = False
    """A child or lookup table of a configured one (captured with its parent's mode)."""


@dataclass(frozen=True)
class Facts:
    version: tuple[int, ...]
    user: str
    privileges: frozenset[str]
    changelog_owner: str
    changelog_exists: bool
    tables: Sequence[TableFacts]
    redo: tuple[str, str, str] | None = None
    """V$DATABASE (LOG_MODE, SUPPLEMENTAL_LOG_DATA_MIN, SUPPLEMENTAL_LOG_DATA_ALL); None: unseen."""
    changelog_grants: frozenset[str] = field(default_factory=frozenset)
    changelog_name: str = "CDC_CHANGE_LOG"
    changelog_direct_grants: frozenset[str] = field(default_factory=frozenset)
    """Object privileges on a foreign change log granted to the user itself (what counts
    inside its triggers), not through a role or PUBLIC."""
    changelog_indexed: bool = True
    """Its (TABLE_NAME, ID) index exists (meaningful when the change log does)."""
    lookups: bool = False
    """A trigger-mode table has lookups: the relay inserts into the change log."""
    repairs: bool = False
    """A trigger-mode table is verified with repairs: `verify --continuous` inserts into the
    change log (docs/verify.md)."""


@dataclass(frozen=True)
class Need:
    privilege: str
    """What to grant: a system privilege, or ``<OBJECT PRIVILEGE> on <OWNER.TABLE>``."""
    command: str
    why: str
    met: bool


def needs(facts: Facts) -> list[Need]:
    """Every privilege the configured tables and change log call for, met or not."""
    layout = Layout(facts)
    found = layout.table_reads()
    if layout.triggered:
        found += layout.change_log() + layout.triggers()
    return found


def missing(user: str, found: Sequence[Need]) -> list[str]:
    """One line per privilege lacking, naming every command that needs it and why."""
    lines: dict[str, list[str]] = {}
    for need in found:
        if not need.met:
            lines.setdefault(need.privilege, []).append(f"{need.command}: {need.why}")
    return [f"{user} lacks {privilege} ({'; '.join(uses)})" for privilege, uses in lines.items()]


class Layout:
    """Where the tables and the change log are, relative to the connected user."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.triggered = [t for t in facts.tables if t.capture == "trigger"]
        self.own_log = facts.changelog_owner == facts.user
        self.log = f"{facts.changelog_owner}.{facts.changelog_name}"

    def has(self, *any_of: str) -> bool:
        return any(p in self.facts.privileges for p in any_of)

    def system(self, privilege: str, command: str, why: str, *also: str) -> Need:
        """A system privilege; `also`: others that grant as much."""
        return Need(privilege, command, why, self.has(privilege, *also))

    def table_reads(self) -> list[Need]:
        return [
            Need(
                f"SELECT on {t.owner}.{t.name}",
                READERS,
                "they read its rows",
                bool({"SELECT", "READ"} & t.grants)
                or self.has("SELECT ANY TABLE", "READ ANY TABLE"),
            )
            for t in self.facts.tables
            if t.capture != "debezium" and t.owner != self.facts.user
        ]

    def change_log(self) -> list[Need]:
        facts, found = self.facts, []
        if not facts.changelog_exists:
            found += [
                self._create("CREATE TABLE", f"creates the change log {self.log}"),
                self._create("CREATE SEQUENCE", "the change log's identity column is a sequence"),
            ]
        if self.own_log:
            return found
        if not (facts.changelog_exists and facts.changelog_indexed):
            found.append(self.system("CREATE ANY INDEX", INSTALL, "the change log's index"))
        if not facts.changelog_exists:
            found.append(self.system("COMMENT ANY TABLE", INSTALL, "tags the change log"))
        return found + self._foreign_log()

    def _create(self, privilege: str, why: str) -> Need:
        wider = privilege.replace("CREATE", "CREATE ANY")
        if self.own_log:
            return self.system(privilege, INSTALL, why, wider)
        return self.system(wider, INSTALL, why)

    def _foreign_log(self) -> list[Need]:
        """A change log in a schema that is not cdc-sync's: grants, drops, the relay's rows."""
        facts = self.facts
        found = [self.system("DROP ANY TABLE", UNINSTALL, f"drops {self.log}")]
        writers = sorted({t.owner for t in self.triggered} - {facts.changelog_owner, facts.user})
        if facts.user in {t.owner for t in self.triggered}:
            why = (
                f"the triggers on {facts.user}'s own tables write it, with {facts.user}'s own "
                "privileges (not a role's); nobody can grant themselves: its owner or a DBA "
                "grants it once install created it"
            )
            met = "INSERT" in facts.changelog_direct_grants
            found.append(
                Need(f"INSERT on {self.log} granted to {facts.user} directly", INSTALL, why, met)
            )
        if writers:
            why = f"grants INSERT on {self.log} to {', '.join(writers)}, whose triggers write it"
            found.append(self.system("GRANT ANY OBJECT PRIVILEGE", INSTALL, why))
        wanted = [("SELECT", "reads it", RELAY), ("DELETE", "deletes what it published", RELAY)]
        if facts.lookups:
            wanted.append(("INSERT", "a lookup change logs the parents that use it", RELAY))
        if facts.repairs:
            wanted.append(
                ("INSERT", "repairs of trigger-mode tables are change-log rows", VERIFIER)
            )
        for privilege, why, command in wanted:
            met = privilege in facts.changelog_grants or self.has(f"{privilege} ANY TABLE")
            found.append(Need(f"{privilege} on {self.log}", command, why, met))
        return found

    def triggers(self) -> list[Need]:
        elsewhere = [t for t in self.triggered if t.owner != self.facts.user]
        if not elsewhere:
            return [
                self.system("CREATE TRIGGER", INSTALL, "creates the triggers", "CREATE ANY TRIGGER")
            ]
        where = ", ".join(f"{t.owner}.{t.name}" for t in elsewhere)
        return [
            self.system("CREATE ANY TRIGGER", INSTALL, f"triggers on {where}"),
            self.system("ALTER ANY TRIGGER", INSTALL, "enables them after their check"),
            self.system(
                "DROP ANY TRIGGER",
                INSTALL,
                "drops one that did not compile and a re-install's probe",
            ),
            self.system("DROP ANY TRIGGER", UNINSTALL, f"drops the triggers on {where}"),
        ]
