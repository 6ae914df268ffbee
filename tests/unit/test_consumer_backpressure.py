from cdc_sync.config import ConsumerSettings
from cdc_sync.consumer.backpressure import (
    BACKLOG_HOLD_S,
    DRAINING_TASK_POLL_S,
    LIGHT_TASK_POLL_S,
    MAX_TASK_POLL_S,
    can_send,
    partitions_to_pause,
    task_poll_interval,
    waits_to_fill,
)
from cdc_sync.kafka.types import Partition

LIMITS = ConsumerSettings(max_tasks_in_flight=2, max_buffered_bytes=10_000)
A, B, C = (Partition("t", i) for i in range(3))


def test_sending_stops_at_either_bound() -> None:
    assert can_send(1, 9_999, LIMITS)
    assert not can_send(2, 0, LIMITS)
    assert not can_send(0, 10_000, LIMITS)


def test_only_partitions_with_waiting_batches_pause() -> None:
    assert partitions_to_pause({A, B, C}, {B}, 100, LIMITS) == {B}
    assert partitions_to_pause({A, C}, {B}, 100, LIMITS) == set()  # B was revoked


def test_a_full_buffer_pauses_everything() -> None:
    assert partitions_to_pause({A, B, C}, set(), 10_000, LIMITS) == {A, B, C}


def test_task_polls_back_off_only_while_heavy_traffic_finishes_nothing() -> None:
    interval = LIGHT_TASK_POLL_S
    seen = []
    for _ in range(6):
        interval = task_poll_interval(interval, light=False, finished=0)
        seen.append(interval)
    assert seen == [0.02, 0.04, 0.08, 0.16, MAX_TASK_POLL_S, MAX_TASK_POLL_S]
    assert task_poll_interval(MAX_TASK_POLL_S, light=False, finished=3) == LIGHT_TASK_POLL_S
    assert task_poll_interval(MAX_TASK_POLL_S, light=True, finished=0) == LIGHT_TASK_POLL_S


def test_a_batch_waits_to_fill_only_while_its_backlog_can_fill_it() -> None:
    """Task sizing at a backlog: a partly filled batch is not sent as a piece while records
    enough to fill it already wait in Kafka and Meilisearch has our tasks to work on; light
    traffic (no such backlog), an idle sink, a paused partition (nothing more arrives) or a
    batch held past BACKLOG_HOLD_S go as before."""
    assert waits_to_fill(behind=4_000, room=3_000, paused=False, age_s=0.0, sink_busy=True)
    assert not waits_to_fill(behind=2_999, room=3_000, paused=False, age_s=0.0, sink_busy=True)
    assert not waits_to_fill(behind=0, room=1, paused=False, age_s=0.0, sink_busy=True)
    assert not waits_to_fill(behind=4_000, room=3_000, paused=False, age_s=0.0, sink_busy=False)
    assert not waits_to_fill(behind=4_000, room=3_000, paused=True, age_s=0.0, sink_busy=True)
    hold = BACKLOG_HOLD_S
    assert not waits_to_fill(behind=4_000, room=3_000, paused=False, age_s=hold, sink_busy=True)


def test_task_polls_back_off_less_while_everything_read_is_in_flight() -> None:
    """Draining (nothing left to send): the end of the tasks in flight is all the consumer
    waits for, so polls back off to DRAINING_TASK_POLL_S only."""
    assert task_poll_interval(0.04, light=False, finished=0, draining=True) == DRAINING_TASK_POLL_S
    assert task_poll_interval(0.02, light=False, finished=0, draining=True) == 0.04
    assert task_poll_interval(0.04, light=False, finished=0, draining=False) == 0.08
