"""Static group membership: a stable `group.instance.id` per consumer process (KIP-345).

A restarted member that presents the same instance id gets its partitions back
at once, instead of the group waiting out the dead member's session before it
rebalances. With ``kafka.group_instance_id = "auto"`` the id is derived from the
host name and a slot: the first of ``<host>-0``, ``<host>-1``, … that no other
live process on this host holds. Slots are held by an advisory file lock, which
the kernel releases when the process dies, so a process restarted after
``kill -9`` takes the same slot, and two processes on one host never share an id.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import socket
import tempfile
from pathlib import Path
from typing import IO

MAX_SLOTS = 256
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class StaticMember:
    """The instance id this process uses in `group_id`, and the slot lock that reserves it."""

    def __init__(self, instance_id: str | None, lock: IO[bytes] | None = None) -> None:
        self.instance_id = instance_id
        self._lock = lock

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def static_member(group_id: str, configured: str, lock_dir: Path | None = None) -> StaticMember:
    """Resolve ``kafka.group_instance_id``: "" → dynamic membership, "auto" → host and slot."""
    if configured != "auto":
        return StaticMember(configured or None)
    folder = lock_dir or Path(tempfile.gettempdir()) / "cdc-sync-members"
    folder.mkdir(parents=True, exist_ok=True)
    group = hashlib.sha256(group_id.encode()).hexdigest()[:16]
    host = _UNSAFE.sub("-", socket.gethostname())[:200] or "host"
    for slot in range(MAX_SLOTS):
        handle = open(folder / f"{group}-{slot}.lock", "ab")  # noqa: SIM115 - held while we run
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        return StaticMember(f"{host}-{slot}", handle)
    return StaticMember(None)  # more processes than slots: dynamic membership
