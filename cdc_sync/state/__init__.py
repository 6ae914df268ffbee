"""Durable state shared by all cdc-sync processes: runs, leases, fences, watermarks.

It lives in the database named by ``[state] url`` (a local SQLite file by
default; point it at a shared database when processes run on several hosts).
"""

from cdc_sync.state.records import Lease, Run
from cdc_sync.state.store import LeaseHeld, StateStore

__all__ = ["Lease", "LeaseHeld", "Run", "StateStore"]
