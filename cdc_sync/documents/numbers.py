"""Floats that Meilisearch reads back exactly.

Meilisearch parses a JSON number the way serde_json does without its
``float_roundtrip`` feature: the digits as a 64-bit integer ``m``, converted to
a double, then one multiplication or division by ``10**|e|`` taken from a table
of doubles (exact only up to 10**22). That is correctly rounded when
``m < 2**53`` and ``|e| <= 22``; other spellings may land one unit in the last
place away: ``-957020.5894681823`` comes back as ``-957020.5894681824``, and
``1e-130`` as ``9.999999999999999e-131`` (about one random double in six).

`reads_back` tells whether the shortest spelling (what JSON writers emit) is
read as the same double; for the others, `spelling` finds digits and an
exponent that are, and `Exact` marks such a float so that the document
serialiser writes that spelling. Meilisearch then holds, and returns, the very
same double.
"""

from __future__ import annotations

import math

_POW10 = tuple(float(f"1e{i}") for i in range(309))
_FACTORS = tuple(int(p) for p in _POW10)  # every double of the table is an integer
_MAX_SIGNIFICAND = 2**64  # serde_json reads the digits into a u64
_SAFE_SIGNIFICAND = 2**53


class Exact(float):
    """A float whose shortest spelling Meilisearch would misread (see `spelling`)."""

    __slots__ = ()


def meilisearch_reads(significand: int, exponent: int) -> float:
    """The double Meilisearch makes of the JSON number ``significand`` e ``exponent``."""
    value = float(significand)
    while abs(exponent) >= len(_POW10):
        if value == 0.0:
            return value
        if exponent > 0:
            raise OverflowError("number out of range")
        value /= 1e308
        exponent += 308
    return value * _POW10[exponent] if exponent >= 0 else value / _POW10[-exponent]


def _parse(text: str) -> tuple[int, int]:
    """Significand and exponent of an unsigned JSON number (``"1.5e-10"`` → 15, -11)."""
    mantissa, _, power = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    return int(whole + fraction), int(power or 0) - len(fraction)


def _shortest(value: float) -> tuple[int, int]:
    """Significand and exponent of the shortest spelling of a finite, non-negative float."""
    return _parse(repr(value))


def reads_back(value: float) -> bool:
    """Whether Meilisearch reads the shortest spelling of a finite float as the same double."""
    text = repr(value)
    if len(text) <= 16 and "e" not in text:
        return True  # at most 15 digits in plain notation: |exponent| <= 19, m < 2**53
    significand, exponent = _parse(text.lstrip("-"))
    if significand < _SAFE_SIGNIFICAND and abs(exponent) <= 22:
        return True
    return meilisearch_reads(significand, exponent) == abs(value)


def _factor(power: int) -> int:
    """The integer Meilisearch divides by (or multiplies with) for ``10**power``."""
    rest = abs(power)
    factor = 1
    while rest >= len(_FACTORS):
        factor *= _FACTORS[308]
        rest -= 308
    return factor * _FACTORS[rest]


def _candidates(numerator: int, denominator: int) -> list[int]:
    """Significands whose doubles lie next to numerator/denominator."""
    middle = (2 * numerator + denominator) // (2 * denominator)
    if middle < _SAFE_SIGNIFICAND:
        return [m for m in (middle, middle - 1, middle + 1, middle - 2, middle + 2) if m > 0]
    nearest = numerator / denominator  # correctly rounded
    out = [int(nearest)]
    lower = upper = nearest
    for _ in range(3):
        lower, upper = math.nextafter(lower, 0.0), math.nextafter(upper, math.inf)
        out += [int(lower), int(upper)]
    return [m for m in out if 0 < m < _MAX_SIGNIFICAND]


def spelling(value: float) -> str:
    """A JSON number that Meilisearch reads as exactly `value` (the shortest when it does)."""
    magnitude = abs(value)
    significand, exponent = _shortest(magnitude)
    if meilisearch_reads(significand, exponent) == magnitude:
        return repr(value)
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    top, bottom = magnitude.as_integer_ratio()
    for extra in range(12):  # more digits, as long as they fit the 64-bit significand
        power = exponent - extra
        factor = _factor(power)
        numerator, denominator = (top * factor, bottom) if power < 0 else (top, bottom * factor)
        if numerator >= _MAX_SIGNIFICAND * denominator:
            break
        for candidate in _candidates(numerator, denominator):
            if meilisearch_reads(candidate, power) == magnitude:
                return f"{sign}{candidate}e{power}"
    return repr(value)  # not found: the shortest, as any JSON writer would spell it


def exact(value: float) -> float:
    """`value`, marked as `Exact` when Meilisearch would misread its shortest spelling."""
    return value if reads_back(value) else Exact(value)


def held(value: float) -> float:
    """The double Meilisearch holds for a finite float sent as `spelling` spells it."""
    text = spelling(value).lstrip("-")
    significand, exponent = _parse(text)
    magnitude = meilisearch_reads(significand, exponent)
    return -magnitude if math.copysign(1.0, value) < 0 else magnitude
