"""Oracle: all of cdc-sync's Oracle-specific SQL and PL/SQL lives in this package.

* `ddl`: the change log, the row trigger and uninstall (what `source print` shows);
* `triggers`: install's create-disabled, check, enable (and prove-then-replace) steps;
* `driver`: python-oracledb and SQLAlchemy settings (types, fetch sizes, session,
  reserved words);
* `types`: column types read and bound through SQL of cdc-sync's own (zoned
  timestamps as UTC, BINARY_FLOAT, INTERVAL YEAR TO MONTH);
* `dictionary`: data-dictionary reads before and after install (column types, triggers);
* `preflight`: what `cdc-sync check` asks Oracle (version, privileges, redo settings).
"""

from cdc_sync.source.oracle.ddl import OracleDialect
from cdc_sync.source.oracle.driver import (
    PREFETCH_OPTION,
    binary_collation,
    exact_numbers,
    prefetch,
    prepare_driver,
    prepare_engine,
)

__all__ = [
    "PREFETCH_OPTION",
    "OracleDialect",
    "binary_collation",
    "exact_numbers",
    "prefetch",
    "prepare_driver",
    "prepare_engine",
]
