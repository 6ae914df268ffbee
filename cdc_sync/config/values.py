"""Validated value types shared by the config sections: identifiers, index uids, time
zones, durations."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

DEBEZIUM_PLACEHOLDER = "__debezium_unavailable_value"
"""Debezium's default ``unavailable.value.placeholder`` (an unchanged LOB or TOASTed value)."""
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_$#]{0,127}$")
_INDEX_UID = re.compile(r"^[A-Za-z0-9_-]{1,400}$")
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def _sql_identifier(value: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a plain SQL identifier "
            "(a letter, then letters, digits, _, $ or #; at most 128 characters)"
        )
    return value


def time_zone_of(name: str) -> dt.tzinfo:
    """An IANA zone (``Asia/Seoul``), ``UTC``, or a fixed offset (``+09:00``)."""
    match = _OFFSET.fullmatch(name)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        hours, minutes = int(match.group(2)), int(match.group(3))
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a time zone (an IANA name like 'Asia/Seoul', 'UTC', or '+09:00')"
        ) from None


def _time_zone(value: str) -> str:
    time_zone_of(value)
    return value


def _index_uid(value: str) -> str:
    if not _INDEX_UID.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid Meilisearch index uid ([A-Za-z0-9_-])")
    return value


Identifier = Annotated[str, AfterValidator(_sql_identifier)]
IndexUid = Annotated[str, AfterValidator(_index_uid)]
TimeZone = Annotated[str, AfterValidator(_time_zone)]


class Section(BaseModel):
    """A config section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration_s(value: Any) -> Any:
    """Seconds from a number or a text such as ``"300"``, ``"90s"``, ``"5m"``, ``"1h"``."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", value)
        if not match:
            raise ValueError(f"{value!r} is not a duration (seconds, or a number with s, m or h)")
        return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    return value


Duration = Annotated[float, BeforeValidator(_duration_s), Field(gt=0)]
