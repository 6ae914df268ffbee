from cdc_sync.kafka.reader import Record
from cdc_sync.ops.dlq import DeadLetterView, Resend, replay_start, superseded, winners

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


def letter(offset: int, key: bytes | None, topic: str | None = "cdc.APP.T") -> DeadLetterView:
    headers = {**HEADERS, "cdc.original.offset": str(offset)}
    if topic is None:
        headers = {}
    else:
        headers["cdc.original.topic"] = topic
    return DeadLetterView.of(Record("dlq", 0, offset, key, b"{}", None, headers))


def test_a_full_image_or_a_delete_supersedes_the_earlier_dead_letters_of_its_key() -> None:
    """The rule of documents.compact: a full image or a delete wins over everything before it;
    a partial update or a record that cannot be read now wins over nothing."""
    letters = [
        (letter(10, b"1"), "replace"),
        (letter(11, b"1"), "update"),
        (letter(12, b"1"), "delete"),
        (letter(14, b"1"), "replace"),
        (letter(15, b"1"), "update"),
        (letter(30, b"3"), None),
        (letter(31, b"3"), "replace"),
        (letter(40, b"4"), "replace"),
        (letter(41, b"4"), None),
        (letter(50, b"1", topic="cdc.APP.OTHER"), "update"),
        (letter(60, None, topic=None), None),
    ]
    won = winners(letters)
    resent = [view.offset for view, _ in letters if not superseded(view, won)]
    assert resent == [14, 15, 31, 40, 41, 50, None]


def test_the_same_dead_letter_twice_is_sent_once() -> None:
    once = Resend()
    assert [once.first(letter(20, b"2")), once.first(letter(20, b"2"))] == [True, False]
    assert once.first(letter(20, b"2", topic="cdc.APP.OTHER"))
