"""Errors that decide how the process ends (SPEC §7 exit codes)."""

from __future__ import annotations


class CdcSyncError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    exit_code = 1


class ConfigError(CdcSyncError):
    """Configuration or usage error: each problem names the key it is about."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class DependencyUnavailable(CdcSyncError):
    """A dependency (database, Kafka, Meilisearch) stayed unreachable."""

    exit_code = 3


class TransientError(CdcSyncError):
    """Worth retrying: connection loss, HTTP 5xx/429, timeouts."""


class TerminalError(CdcSyncError):
    """Retrying will not help: invalid documents, auth, bad primary keys.

    `code` names the kind of error where it is defined: a dead letter's `cdc.error.code`
    header and the `code` label of its metric (docs/consumer.md).
    """

    code = "terminal_error"
