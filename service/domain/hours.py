"""Store opening hours: our structured model and a defensive reader of PrestaShop's free text.

``OpeningHours.days[0]`` is Monday. Each day holds sorted, non-overlapping ``Period`` s in the
store's local wall time; a period is open from ``opens`` (included) to ``closes`` (excluded).
``closes == END_OF_DAY`` (written ``24:00``, or ``00:00`` as a closing time) means midnight at the
end of that day. Periods never cross midnight.

``parse_prestashop_hours`` never raises: a day it cannot read is closed and produces a warning,
so a typo in the back office never makes omnistock promise a time when the store is shut.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

END_OF_DAY = time.max
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_CLOSED_WORDS = {"", "-", "closed", "close", "ferme", "fermé", "none", "n/a"}
_TIME = re.compile(
    r"^(?P<h>\d{1,2})(?:\s*[:hH.]\s*(?P<m>\d{2})?)?\s*(?:(?P<ampm>[aApP])\.?\s*[mM]?\.?)?$"
)
_RANGE = re.compile(r"^(?P<a>.+?)\s*(?:[-\u2013\u2014]|\s+(?:to|à)\s+)\s*(?P<b>.+)$", re.I)
_SEGMENTS = re.compile(r"[,;/&|]|\s+and\s+|\s+et\s+", re.I)


@dataclass(frozen=True, slots=True)
class Period:
    opens: time
    closes: time

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opening hours are local wall times: no tzinfo")
        if not self.opens < self.closes:
            raise ValueError(f"a period must open before it closes: {self}")

    def __str__(self) -> str:
        closes = "24:00" if self.closes == END_OF_DAY else self.closes.strftime("%H:%M")
        return f"{self.opens:%H:%M}-{closes}"


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Weekly opening hours; ``days[0]`` is Monday. Raises ``ValueError`` when malformed."""

    days: tuple[tuple[Period, ...], ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError(f"expected 7 days of opening hours, got {len(self.days)}")
        for weekday, periods in enumerate(self.days):
            for before, after in pairwise(periods):
                if after.opens < before.closes:
                    raise ValueError(
                        f"{WEEKDAYS[weekday]}: {before}, {after} unsorted or overlapping"
                    )

    @classmethod
    def weekly(cls, spec: dict[int, Sequence[tuple[str, str]]]) -> OpeningHours:
        """Build from ``{weekday: [("09:00", "19:00"), ...]}``; missing weekdays are closed."""
        days = tuple(
            tuple(Period(_hhmm(a), _hhmm(b, closing=True)) for a, b in spec.get(day, ()))
            for day in range(7)
        )
        return cls(days)

    @property
    def ever_open(self) -> bool:
        return any(self.days)

    def is_open_at(self, moment: datetime, tz: str) -> bool:
        """Whether the store is open at an aware ``moment``."""
        return any(start <= moment < end for start, end in periods_from(self, moment, tz, days=1))


CLOSED_ALL_WEEK = OpeningHours(((),) * 7)


def _hhmm(text: str, *, closing: bool = False) -> time:
    if closing and text in ("24:00", "00:00"):
        return END_OF_DAY
    return time.fromisoformat(text)


def periods_from(
    hours: OpeningHours, moment: datetime, tz: str, *, days: int | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Opening periods as UTC ``(start, end)`` ending at or after ``moment``, in time order.

    Walks forward from the local day of ``moment``; endless unless ``days`` bounds it (a store
    that never opens yields nothing).
    """
    if moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")
    if not hours.ever_open:
        return
    zone = ZoneInfo(tz)
    day = moment.astimezone(zone).date()
    stop = None if days is None else day + timedelta(days=days)
    while stop is None or day < stop:
        for period in hours.days[day.weekday()]:
            start, end = _period_utc(day, period, zone)
            if end >= moment:
                yield start, end
        day += timedelta(days=1)


@lru_cache(maxsize=4096)  # pure; a few periods a store a day: every pickup asks for the same
def _period_utc(day: date, period: Period, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, period.opens, tzinfo=zone)
    if period.closes == END_OF_DAY:
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    else:
        end = datetime.combine(day, period.closes, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_day(moment: datetime, tz: str) -> date:
    """The store's calendar day at ``moment`` (what a per-day pickup capacity counts)."""
    if moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(ZoneInfo(tz)).date()


# --------------------------------------------------------------------------- PrestaShop text
def _parse_time(text: str, *, closing: bool) -> time | None:
    match = _TIME.match(text.strip())
    if match is None:
        return None
    hour, minute = int(match["h"]), int(match["m"] or 0)
    ampm = (match["ampm"] or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "p" else 0)
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    if closing and (hour == 24 or (hour == 0 and minute == 0)):
        return END_OF_DAY
    return None if hour == 24 else time(hour, minute)


def _parse_day(text: str) -> tuple[Period, ...] | None:
    """Periods of one day, ``()`` when closed, None when unreadable."""
    if text.strip().lower() in _CLOSED_WORDS:
        return ()
    periods: list[Period] = []
    for segment in _SEGMENTS.split(text):
        if not segment.strip():
            continue
        match = _RANGE.match(segment.strip())
        if match is None:
            return None
        opens = _parse_time(match["a"], closing=False)
        closes = _parse_time(match["b"], closing=True)
        if opens is None or closes is None or not opens < closes:
            return None
        periods.append(Period(opens, closes))
    periods.sort(key=lambda p: p.opens)
    overlapping = any(b.opens < a.closes for a, b in pairwise(periods))
    return None if overlapping or not periods else tuple(periods)


def _day_text(raw: object) -> str | None:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list | tuple) and all(isinstance(x, str) for x in raw):
        return ", ".join(x for x in raw if x.strip())
    return None


def parse_prestashop_hours(days: Sequence[object]) -> tuple[OpeningHours, list[str]]:
    """Read PrestaShop's 7 free-text day strings (Monday first); never raises.

    Accepts ``"09:00AM - 07:00PM"``, ``"9:00 - 19:00"``, ``"10:00-12:30, 14:00-19:00"``,
    ``"9h-19h"``; ``"Closed"`` or ``""`` is closed. Each day may also be a list of strings (the
    shape PrestaShop stores). Unreadable days are closed and listed in the warnings.
    """
    warnings: list[str] = []
    if isinstance(days, str | bytes) or not isinstance(days, Sequence):
        return CLOSED_ALL_WEEK, [f"expected a list of 7 day strings, got {type(days).__name__}"]
    if len(days) != 7:
        warnings.append(f"expected 7 days, got {len(days)}: missing days are closed")
    parsed: list[tuple[Period, ...]] = []
    for weekday, name in enumerate(WEEKDAYS):
        raw = days[weekday] if weekday < len(days) else ""
        text = _day_text(raw)
        periods = None if text is None else _parse_day(text)
        if periods is None:
            warnings.append(f"{name}: could not read {raw!r}, treated as closed")
            periods = ()
        parsed.append(periods)
    return OpeningHours(tuple(parsed)), warnings
