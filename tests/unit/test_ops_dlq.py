from cdc_sync.kafka.reader import Record
from cdc_sync.ops.dlq import DeadLetterView, replay_start

HEADERS = {
    "cdc.error.code": "mapping",
    "cdc.error.reason": "column PRICE: not a number",
    "cdc.original.topic": "cdc.APP.T",
    "cdc.original.partition": "2",
    "cdc.original.offset": "17",
    "cdc.original.timestamp": "1714564800000",
}


def test_view_reads_the_headers() -> None:
    view = DeadLetterView.of(Record("dlq", 0, 5, b'{"ID":1}', b"{}", 1714564900000, HEADERS))
    assert (view.topic, view.partition, view.offset, view.code) == ("cdc.APP.T", 2, 17, "mapping")
    assert view.replayable
    assert "cdc.APP.T[2]@17" in view.line() and 'key={"ID":1}' in view.line()
    data = view.as_json()
    assert data["original"]["timestamp"] == "2024-05-01T12:00:00.000+00:00"
    assert data["reason"] == "column PRICE: not a number"


def test_records_without_headers_are_not_replayable() -> None:
    view = DeadLetterView.of(Record("dlq", 0, 5, None, b"x", None, {}))
    assert not view.replayable
    assert view.code == "?" and "unknown origin" in view.line()


def test_replay_start() -> None:
    assert replay_start(None, None, [0, 1]) == {0: 0, 1: 0}
    assert replay_start({"0": 7}, None, [0, 1]) == {0: 7, 1: 0}
    assert replay_start({"0": 7}, 3, [0, 1]) == {0: 3, 1: 3}
