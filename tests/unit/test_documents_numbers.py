"""How Meilisearch reads JSON numbers (the model is checked against the real one in
tests/integration/test_numbers_end_to_end.py) and spellings it reads back exactly."""

from __future__ import annotations

import random
import struct

import pytest

from cdc_sync.documents.numbers import Exact, exact, held, meilisearch_reads, reads_back, spelling
from cdc_sync.documents.serialise import dumps


def read(text: str) -> float:
    """The double the model makes of a JSON number's text."""
    negative = text.startswith("-")
    mantissa, _, power = text.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    value = meilisearch_reads(int(whole + fraction), int(power or 0) - len(fraction))
    return -value if negative else value


def random_doubles(count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    out: list[float] = []
    while len(out) < count:
        roll = rng.random()
        if roll < 0.4:
            value = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        elif roll < 0.8:
            value = rng.uniform(-1e6, 1e6)
        else:
            value = rng.random() * 10 ** rng.randint(-320, 300)
        if value == value and abs(value) != float("inf"):
            out.append(value)
    return out


@pytest.mark.parametrize(
    ("value", "misread_as"),
    [
        (-957020.5894681823, -957020.5894681824),
        (1e-130, 9.999999999999999e-131),
        (2.550690257394217e206, 2.5506902573942173e206),
    ],
)
def test_shortest_spellings_meilisearch_misreads(value: float, misread_as: float) -> None:
    assert read(repr(value)) == misread_as
    assert not reads_back(value)
    assert read(spelling(value)) == value
    assert held(value) == value


@pytest.mark.parametrize("value", [0.0, -0.0, 0.1, 12.25, -3.14159265358979, 1.5e-10, 1e22, 5e-324])
def test_short_floats_are_read_back_as_they_are(value: float) -> None:
    assert reads_back(value)
    assert spelling(value) == repr(value)
    assert exact(value).__class__ is float


def test_reads_back_agrees_with_the_model_and_spellings_are_read_back() -> None:
    values = random_doubles(20_000, seed=8)
    unreachable = 0
    for value in values:
        assert reads_back(value) == (read(repr(value)) == value), value
        if read(spelling(value)) != value:
            unreachable += 1  # no 64-bit significand and power of ten lands there
            assert spelling(value) == repr(value)
        assert held(value) == read(spelling(value))
    assert unreachable < len(values) // 200  # about 0.2%: Meilisearch holds the next double


def test_documents_spell_exact_floats_for_meilisearch() -> None:
    body = dumps({"a": Exact(-957020.5894681823), "b": 0.1, "c": [1, "x"]})
    spelled = body.split(b",")[0].removeprefix(b'{"a":').decode()
    assert spelled != repr(-957020.5894681823)
    assert read(spelled) == -957020.5894681823
    assert body.endswith(b',"b":0.1,"c":[1,"x"]}')
