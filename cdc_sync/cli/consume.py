"""`cdc-sync consume [--until-caught-up]`: the consumer service."""

from __future__ import annotations

import gc
import logging
import signal
from types import FrameType

import click

from cdc_sync import metrics
from cdc_sync.cli.context import AppContext, secrets_of
from cdc_sync.config import Settings
from cdc_sync.consumer.dlq import DeadLetterQueue, DlqLimitExceeded
from cdc_sync.consumer.service import ConsumerService
from cdc_sync.consumer.writer import Writer
from cdc_sync.kafka.admin import ensure_topics
from cdc_sync.kafka.consumer import KafkaConsumer
from cdc_sync.kafka.membership import static_member
from cdc_sync.kafka.producer import Producer
from cdc_sync.kafka.reader import PartitionReads
from cdc_sync.kafka.registry import avro_reader
from cdc_sync.ops.reporter import Reporter
from cdc_sync.sink.http import SinkHttp
from cdc_sync.sink.indexes import ensure_index
from cdc_sync.sink.meili import meili_client
from cdc_sync.state.guard_trips import record_trip
from cdc_sync.state.store import StateStore, process_name
from cdc_sync.state.truncates import TruncateLog

log = logging.getLogger(__name__)


@click.command()
@click.option(
    "--until-caught-up",
    is_flag=True,
    help="Exit 0 once the group's committed offsets reach the end offsets seen at start.",
)
@click.pass_obj
def consume(app: AppContext, until_caught_up: bool) -> None:
    """Apply change events from Kafka to Meilisearch until SIGTERM/SIGINT."""
    settings = app.settings
    if not settings.tables:
        raise click.UsageError("no [[tables]] configured: nothing to consume")
    service = build_service(settings)

    def on_signal(signum: int, _: FrameType | None) -> None:
        log.info("%s received: finishing in-flight work", signal.Signals(signum).name)
        service.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    http = None
    if not until_caught_up:  # a drain is a job, not a service: no endpoint, no port to clash
        from cdc_sync.ops.http import start_endpoint  # FastAPI costs every command 0.2 s to import

        http = start_endpoint(
            settings,
            "consumer",
            ready=lambda: service.stats.ready,
            throughput=metrics.APPLIED_RATE.rate,
            activity=metrics.APPLIED_ACTIVITY,
            details=lambda: _details(service),
            secrets=secrets_of(settings),
        )
    reporter = Reporter(
        settings.state.url, "consumer", process_name(), metrics.APPLIED_ACTIVITY
    ).start()
    try:
        prepare(settings)
        gc.freeze()  # what start-up created lives on: keep it out of the collector's full passes
        service.run(until_caught_up=until_caught_up)
    except DlqLimitExceeded as exc:
        _note_trip(settings, str(exc))
        raise
    finally:
        reporter.stop()
        if http is not None:
            http.stop()
    stats = service.stats
    log.info(
        "consume finished: %d received, %d applied, %d deleted, %d dead-lettered, %d skipped, "
        "%d retries",
        stats.received,
        stats.applied,
        stats.deleted,
        stats.dead_lettered,
        stats.skipped,
        stats.retries,
    )


def build_service(settings: Settings) -> ConsumerService:
    """The consumer loop with its real collaborators (the composition root)."""
    state = StateStore(settings.state.url)  # waits for the store at start, then:
    state.retry_s = 0.0  # the loop holds every table while the store is away
    member = static_member(settings.kafka.group_id, settings.kafka.group_instance_id)
    producer = Producer(settings.kafka)
    dead_letters = DeadLetterQueue(producer, settings.kafka.dead_letter_topic, settings.consumer)
    return ConsumerService(
        settings,
        new_consumer=lambda: KafkaConsumer(settings.kafka, instance_id=member.instance_id),
        writer=Writer(SinkHttp(settings.meilisearch), settings.consumer),
        dead_letters=dead_letters,
        state=state,
        truncates=TruncateLog(state, settings.kafka.group_id),
        reads=PartitionReads(settings.kafka),
        member=member,
        avro=avro_reader(settings.kafka),
    )


def prepare(settings: Settings) -> None:
    """Indexes with their primary key and settings, and the topics, exist before we start."""
    client = meili_client(settings.meilisearch)
    for table in settings.tables:
        ensure_index(client, table.index_uid, table, settings.consumer.retry_max_s * 4)
    topics = [settings.topic_of(t) for t in settings.tables]
    ensure_topics(settings.kafka, [*topics, settings.kafka.dead_letter_topic])


def _note_trip(settings: Settings, message: str) -> None:
    """Kept in the state store: this process and its metrics are about to go."""
    try:
        store = StateStore(settings.state.url, retry_s=5.0)
        try:
            record_trip(store, settings.kafka.group_id, message)
        finally:
            store.close()
    except Exception as exc:  # the exit itself must not be hidden by this
        log.warning("cannot keep the dead-letter guard's trip in the state store: %s", exc)


def _details(service: ConsumerService) -> dict[str, object]:
    s = service.stats
    return {
        "received": s.received,
        "applied": s.applied,
        "deleted": s.deleted,
        "dead-lettered": s.dead_lettered,
        "skipped": s.skipped,
        "retries": s.retries,
        "tasks in flight": s.in_flight_tasks,
        "paused partitions": s.paused_partitions,
    }


COMMANDS = [consume]
