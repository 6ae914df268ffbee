"""Oracle: all of cdc-sync's Oracle-specific SQL and PL/SQL lives in this package.

* `ddl`: the change log, the row trigger and uninstall (what `source print` shows);
* `driver`: python-oracledb and SQLAlchemy settings (types, fetch sizes, session).
"""

from cdc_sync.source.oracle.ddl import OracleDialect
from cdc_sync.source.oracle.driver import PREFETCH_OPTION, exact_numbers, prefetch, prepare_driver

__all__ = ["PREFETCH_OPTION", "OracleDialect", "exact_numbers", "prefetch", "prepare_driver"]
