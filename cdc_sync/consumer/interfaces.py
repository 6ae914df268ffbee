"""What the consumer loop is handed: the narrow interfaces of its collaborators.

The composition root (`cli/consume.py`) builds the real adapters — confluent-kafka's
consumer and producer, the Meilisearch HTTP client, the state store — and passes
them in; unit tests pass small in-memory fakes of the same interfaces. Each method
says whether it may block and what it raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from cdc_sync.events.position import Position
from cdc_sync.kafka.producer import Headers
from cdc_sync.kafka.reader import Record
from cdc_sync.kafka.types import Partition, Received
from cdc_sync.sink.http import TaskOutcome
from cdc_sync.state.truncates import Barrier


class OnPartitions(Protocol):
    def __call__(self, partitions: list[Partition], /) -> None: ...


class GroupConsumer(Protocol):
    """A member of the consumer group that commits only the offsets it is given.

    Rebalance callbacks run inside `consume`. Calls that ask the broker raise
    `TransientError` when it does not answer; `consume` raises `MemberFenced` when
    another member took our group.instance.id and `DependencyUnavailable` on a
    fatal client error.
    """

    def subscribe(
        self, topics: list[str], on_assign: OnPartitions, on_revoke: OnPartitions
    ) -> None: ...

    def consume(self, num: int, timeout_s: float) -> list[Received]:
        """Up to `num` records already fetched, else waits up to `timeout_s` for one."""
        ...

    def pause(self, partitions: Iterable[Partition]) -> None: ...

    def resume(self, partitions: Iterable[Partition]) -> None: ...

    def seek(self, partition: Partition, offset: int) -> None: ...

    def commit(self, offsets: dict[Partition, int]) -> None:
        """Synchronous: returns once the broker stored the offsets."""
        ...

    def committed(self, partitions: Iterable[Partition]) -> dict[Partition, int | None]: ...

    def watermarks(self, partitions: Iterable[Partition]) -> dict[Partition, tuple[int, int]]:
        """(first stored offset, end offset) per partition; asks the broker."""
        ...

    def fetched_high(self, partition: Partition) -> int | None:
        """The end offset last seen in fetch responses (never blocks)."""
        ...

    def partitions_of(self, topics: Iterable[str]) -> list[Partition]: ...

    def close(self) -> None: ...


class PartitionReading(Protocol):
    """One partition read from any offset, outside the group (nothing is committed)."""

    def read(self, offset: int, end: int) -> list[Record]:
        """The next records from `offset` before `end`; empty only when none is left."""
        ...

    def close(self) -> None: ...


class RecordReads(Protocol):
    """Records read again outside the group: rejected documents, truncate positions."""

    def records_at(self, partition: Partition, offsets: Iterable[int]) -> dict[int, Record]:
        """The records at `offsets` that Kafka still holds, by offset (blocks)."""
        ...

    def reader(self, partition: Partition) -> PartitionReading: ...


class RecordProducer(Protocol):
    """Sends records; nothing counts as delivered until `flush` returned."""

    def send(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Headers | None = None
    ) -> None:
        """Queues one record; blocks only while the local queue is full."""
        ...

    def flush(self) -> None:
        """Waits for every queued record; raises `DeliveryFailed` if any was not stored."""
        ...

    def close(self) -> None: ...


class SinkApi(Protocol):
    """Meilisearch's document and task calls. Each enqueue returns the task's uid.

    Raises `TransientError` (unreachable, 5xx, 429, timeouts) or `ApiRejected`.
    """

    def add_documents(
        self, index: str, payload: bytes, primary_key: str, *, replace: bool
    ) -> int: ...

    def delete_documents(self, index: str, ids: Iterable[str | int]) -> int: ...

    def delete_all_documents(self, index: str) -> int: ...

    def finished_tasks(self, uids: Iterable[int]) -> list[TaskOutcome]:
        """The given tasks that have finished (succeeded, failed or canceled)."""
        ...

    def close(self) -> None: ...


class ConsumerState(Protocol):
    """The shared state store as the consumer uses it.

    Raises `StateStoreUnavailable` when the store does not answer.
    """

    def fenced_tables(self) -> set[str]:
        """Tables a bootstrap holds: their writes wait."""
        ...

    def record_error(self, component: str, message: str) -> None: ...


class TruncateStore(Protocol):
    """The truncate barriers of one consumer group (`state/truncates.py`).

    Raises the database's own errors; the consumer's view of the barriers decides
    what they mean.
    """

    def announce(self, table: str, position: Position, partitions: int) -> Barrier: ...

    def mark_enqueued(self, table: str, position: Position) -> None: ...

    def ack(self, table: str, partition: int, position: Position) -> None: ...

    def barriers(self) -> dict[str, Barrier]: ...


class GroupIdentity(Protocol):
    """This process's static group membership (`kafka/membership.py`)."""

    @property
    def instance_id(self) -> str | None: ...

    def release(self) -> None: ...
