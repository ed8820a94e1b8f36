"""The store directory's input shape, validated once for the admin API and the CLI imports.

Opening hours are kept as JSON ``{"mon": [["09:30", "19:00"]], ..., "sun": []}``: keys ``mon``
to ``sun``, each a list of ``[open, close]`` local ``HH:MM`` times (``24:00`` closes at midnight).
``hours_from_json`` / ``hours_to_json`` convert to and from the domain's ``OpeningHours``, which
checks that each period opens before it closes and that periods do not overlap.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from service.domain.hours import END_OF_DAY, OpeningHours, Period
from service.errors import InvalidInput

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Service = Literal["click_and_collect", "reservation"]
SERVICES: tuple[Service, ...] = ("click_and_collect", "reservation")
HoursJson = dict[str, list[list[str]]]

StoreCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
    ),
    Field(description="Cegid store code (letters, digits, '_', '.', '-').", examples=["S001"]),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
HHMM = Annotated[str, StringConstraints(pattern=r"^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$")]
STORE_CODE: TypeAdapter[str] = TypeAdapter(StoreCode)


def hours_from_json(data: Mapping[str, Sequence[Sequence[str]]]) -> OpeningHours:
    """Our JSON hours as ``OpeningHours``; missing days are closed. Raises ``ValueError``."""
    unknown = set(data) - set(DAYS)
    if unknown:
        raise ValueError(f"unknown day(s) {', '.join(sorted(unknown))}; use {', '.join(DAYS)}")
    spec: dict[int, Sequence[tuple[str, str]]] = {}
    for index, day in enumerate(DAYS):
        periods = [(str(p[0]), str(p[1])) for p in data.get(day, ())]
        if any(opens == "24:00" for opens, _ in periods):
            raise ValueError(f"{day}: a period cannot open at 24:00")
        spec[index] = sorted(periods)
    return OpeningHours.weekly(spec)


def _hhmm(period: Period) -> list[str]:
    closes = "24:00" if period.closes == END_OF_DAY else f"{period.closes:%H:%M}"
    return [f"{period.opens:%H:%M}", closes]


def hours_to_json(hours: OpeningHours) -> HoursJson:
    """``OpeningHours`` as our JSON, every day present, periods in time order."""
    return {day: [_hhmm(p) for p in periods] for day, periods in zip(DAYS, hours.days, strict=True)}


def _check_period(period: tuple[str, str]) -> tuple[str, str]:
    if period[0] == "24:00":
        raise ValueError("a period cannot open at 24:00")
    OpeningHours.weekly({0: [period]})  # raises unless it opens before it closes
    return period


def _normalise_hours(data: Mapping[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
    """Every day present, periods sorted; raises when periods overlap."""
    normal = hours_to_json(hours_from_json(data))
    return {day: [(p[0], p[1]) for p in periods] for day, periods in normal.items()}


def _check_timezone(name: str) -> str:
    if name not in _timezones():
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as 'Europe/Paris'")
    return name


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _known_services(services: list[Service]) -> list[Service]:
    return [s for s in SERVICES if s in services]


OpenPeriod = Annotated[tuple[HHMM, HHMM], AfterValidator(_check_period)]
Hours = Annotated[
    dict[Day, list[OpenPeriod]],
    AfterValidator(_normalise_hours),
    Field(
        description="Local opening periods per day, e.g. {'mon': [['09:30', '19:00']]}; "
        "a missing day is closed.",
    ),
]


class StoreFields(BaseModel):
    """A store of the directory (create/replace). ``store_id`` is optional here: the path names
    the store, and a ``store_id`` in the body must agree with it."""

    model_config = ConfigDict(extra="forbid")

    store_id: StoreCode | None = None
    name: Annotated[Text, StringConstraints(min_length=1)]
    address: Text = ""
    city: Text = ""
    postcode: Annotated[Text, StringConstraints(max_length=16)] = ""
    country: Annotated[
        str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")
    ] = Field(default="FR", description="ISO 3166-1 alpha-2 country code.")
    latitude: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    timezone: Annotated[str, AfterValidator(_check_timezone)] = Field(
        default="Europe/Paris", description="IANA time zone of the store's opening hours."
    )
    opening_hours: Hours = Field(default_factory=dict, validate_default=True)
    services: Annotated[list[Service], AfterValidator(_known_services)] = Field(
        default_factory=lambda: list(SERVICES)
    )
    pickup_capacity_per_day: int | None = Field(
        default=None, ge=0, le=100_000, description="Pickups a day at most; null: no cap."
    )
    hold_hours: int = Field(default=48, ge=1, le=720, description="How long a pickup is held.")
    warehouse_id: Annotated[Text, StringConstraints(max_length=32)] = ""
    active: bool = True

    @model_validator(mode="after")
    def _coordinates_paired(self) -> Self:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self

    def columns(self) -> dict[str, Any]:
        """The fields as the repository's column values."""
        return self.model_dump(mode="json")


class StoreEntry(StoreFields):
    """A store in an import: ``store_id`` is required."""

    store_id: StoreCode


_ENTRIES: TypeAdapter[list[StoreEntry]] = TypeAdapter(list[StoreEntry])


def field_errors(exc: ValidationError, prefix: Sequence[str | int] = ()) -> list[dict[str, Any]]:
    return [
        {"loc": [*prefix, *err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]


def check_unique_codes(entries: Sequence[StoreEntry]) -> None:
    """422 when two entries name the same store (which one would win is a guess)."""
    first: dict[str, int] = {}
    errors = []
    for index, entry in enumerate(entries):
        seen = first.setdefault(entry.store_id, index)
        if seen != index:
            msg = f"store {entry.store_id!r} is also entry {seen}"
            err = {"loc": [index, "store_id"], "msg": msg, "type": "duplicate", "other": seen}
            errors.append(err)
    if errors:
        raise InvalidInput("the import names a store twice", errors)


def validate_entries(raw: Sequence[Mapping[str, Any]]) -> list[StoreEntry]:
    """Validate every entry (all errors at once, ``loc`` starting with the entry's index)."""
    try:
        entries = _ENTRIES.validate_python(list(raw))
    except ValidationError as exc:
        raise InvalidInput("the store import is invalid", field_errors(exc)) from None
    check_unique_codes(entries)
    return entries
