"""Read store directory and item mapping files into plain entries for the import use cases.

Store files: a JSON list of our store shape; a CSV with columns ``store_id, name, address, city,
postcode, country, latitude, longitude, timezone, hours`` (hours as
``mon=09:30-19:00;tue=09:30-12:00,14:00-19:00``; an empty cell means "not given"); or the
PrestaShop webservice JSON of ``stores``; or the Cegid simulator's directory
(``GET /_sim/stores``: ``code``, ``lat``, ``lng``, ``hours``). CSV, PrestaShop and simulator
sources carry only some fields: an existing store keeps the others. Mapping files: a CSV with
columns ``sku, ean, id_product, id_product_attribute, reference`` or a JSON list of such
objects.

Readers never write and never guess: a file that cannot be read raises ``SourceError``; a bad
value is left for validation or recorded in ``Source.errors`` (``loc`` = entry index, field).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.domain.hours import parse_prestashop_hours
from service.usecases.catalog.store_model import DAYS, HoursJson, hours_from_json, hours_to_json

STORE_COLUMNS = (
    "store_id",
    "name",
    "address",
    "city",
    "postcode",
    "country",
    "latitude",
    "longitude",
    "timezone",
    "hours",
)
MAPPING_COLUMNS = ("sku", "ean", "id_product", "id_product_attribute", "reference")
CLOSED = {"", "closed"}


class SourceError(ValueError):
    """The file cannot be read at all (encoding, syntax, shape)."""


@dataclass
class Source:
    entries: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # how messages name each entry
    warnings: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    partial: bool = False  # entries carry some fields only: existing stores keep the others

    def add(self, entry: dict[str, Any], label: str) -> int:
        self.entries.append(entry)
        self.labels.append(label)
        return len(self.entries) - 1

    def label(self, loc: list[Any]) -> str:
        """``"line 3: latitude"`` for an error ``loc`` of ``[index, "latitude"]``."""
        head, rest = (loc[0], loc[1:]) if loc and isinstance(loc[0], int) else (None, loc)
        where = self.labels[head] if head is not None and head < len(self.labels) else "file"
        path = ".".join(str(part) for part in rest)
        return f"{where}: {path}" if path else where


@dataclass(frozen=True, slots=True)
class PrestashopOptions:
    """Store codes for PrestaShop stores (``codes[id_store]``, else prefix + id), and what
    PrestaShop does not say: the time zone and the country (it only has ``id_country``)."""

    code_prefix: str = "PS"
    codes: Mapping[str, str] = field(default_factory=dict)
    timezone: str = "Europe/Paris"
    country: str = "FR"


# --------------------------------------------------------------------------- common
def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SourceError(f"{path}: cannot read JSON: {exc}") from None


def _csv_rows(
    path: Path, known: tuple[str, ...], source: Source
) -> tuple[list[str], list[tuple[int, dict[str, str | None]]]]:
    """The header, and (line number, row) pairs of the known columns; others are warned of."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            reader.fieldnames = header
            rows = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"{path}: cannot read CSV: {exc}") from None
    ignored = [h for h in header if h not in known]
    if ignored:
        source.warnings.append(f"ignored column(s): {', '.join(ignored)}")
    return header, [(line, {k: row.get(k) for k in known if k in header}) for line, row in rows]


def _format(path: Path, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    return "csv" if path.suffix.lower() == ".csv" else "json"


def read_code_map(path: Path) -> dict[str, str]:
    """PrestaShop ``id_store`` -> store code, from a JSON object or a CSV ``id_store,code``."""
    if path.suffix.lower() == ".csv":
        header, rows = _csv_rows(path, ("id_store", "code"), Source())
        if not {"id_store", "code"} <= set(header):
            raise SourceError(f"{path}: needs columns id_store and code")
        return {str(r["id_store"]).strip(): str(r["code"]).strip() for _, r in rows}
    data = _load_json(path)
    if not isinstance(data, dict):
        raise SourceError(f"{path}: expected a JSON object {{id_store: code}}")
    return {str(k).strip(): str(v).strip() for k, v in data.items()}


# --------------------------------------------------------------------------- stores
def parse_hours_text(text: str) -> HoursJson:
    """``"mon=09:30-19:00;tue=09:30-12:00,14:00-19:00;sun=closed"`` as our JSON hours (days not
    named are closed). Raises ``ValueError``; times are checked by the store validation."""
    hours: HoursJson = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        day, sep, spans = (s.strip() for s in part.partition("="))
        day = day.lower()
        if not sep or day not in DAYS:
            raise ValueError(f"expected 'day=HH:MM-HH:MM' with a day in {','.join(DAYS)}: {part!r}")
        if day in hours:
            raise ValueError(f"{day} is given twice")
        hours[day] = []
        if spans.lower() in CLOSED:
            continue
        for span in (s.strip() for s in spans.split(",")):
            opens, dash, closes = span.partition("-")
            if not dash:
                raise ValueError(f"{day}: expected HH:MM-HH:MM, got {span!r}")
            hours[day].append([opens.strip(), closes.strip()])
    return hours


def _stores_csv(path: Path) -> Source:
    source = Source(partial=True)
    header, rows = _csv_rows(path, STORE_COLUMNS, source)
    if "store_id" not in header:
        raise SourceError(f"{path}: needs a store_id column (columns: {', '.join(STORE_COLUMNS)})")
    for line, row in rows:
        cells: dict[str, Any] = {
            k: v.strip() for k, v in row.items() if v is not None and v.strip()
        }
        hours = cells.pop("hours", None)
        index = source.add(cells, f"line {line}")
        if hours is not None:
            try:
                cells["opening_hours"] = parse_hours_text(hours)
            except ValueError as exc:
                source.errors.append({"loc": [index, "hours"], "msg": str(exc), "type": "hours"})
    return source


def _text(value: Any) -> str:
    """A PrestaShop value as text; a multilingual value ([{id, value}]) gives its first text."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return _text(value.get("value"))
    if isinstance(value, list):
        return next((t for t in (_text(v) for v in value if isinstance(v, dict)) if t), "")
    return str(value).strip()


def _ps_hours(raw: Any) -> tuple[HoursJson, list[str]]:
    """PrestaShop hours (a JSON string or a list of 7 days), read defensively: never raises."""
    if isinstance(raw, list) and raw and all(isinstance(v, dict) for v in raw):
        raw = _text(raw)
    if isinstance(raw, str):
        if not raw.strip():
            return hours_to_json(hours_from_json({})), ["no opening hours: closed all week"]
        try:
            raw = json.loads(raw)
        except ValueError:
            return hours_to_json(hours_from_json({})), [
                f"opening hours are not JSON ({raw[:40]!r}): closed all week"
            ]
    hours, warnings = parse_prestashop_hours(raw)
    return hours_to_json(hours), warnings


def _is_zero(text: str) -> bool:
    try:
        return float(text) == 0
    except ValueError:
        return False


def _ps_store(ps: dict[str, Any], opts: PrestashopOptions) -> tuple[dict[str, Any], list[str]]:
    ps_id = _text(ps.get("id"))
    hours, warnings = _ps_hours(ps.get("hours"))
    address = (_text(ps.get("address1")), _text(ps.get("address2")))
    entry: dict[str, Any] = {
        "store_id": opts.codes.get(ps_id) or f"{opts.code_prefix}{ps_id}",
        "name": _text(ps.get("name")),
        "address": ", ".join(a for a in address if a),
        "city": _text(ps.get("city")),
        "postcode": _text(ps.get("postcode")),
        "country": opts.country,
        "timezone": opts.timezone,
        "opening_hours": hours,
    }
    lat, lng = _text(ps.get("latitude")), _text(ps.get("longitude"))
    if _is_zero(lat) and _is_zero(lng):
        warnings.append("coordinates 0,0 mean 'unknown': the store has none")
    else:
        entry.update({k: v for k, v in (("latitude", lat), ("longitude", lng)) if v})
    if "active" in ps:
        entry["active"] = _text(ps["active"])
    return entry, warnings


def _prestashop(data: dict[str, Any], opts: PrestashopOptions) -> Source:
    stores = data.get("stores", data.get("store"))
    stores = [stores] if isinstance(stores, dict) else stores
    if not isinstance(stores, list) or not all(isinstance(s, dict) for s in stores):
        raise SourceError("expected the PrestaShop webservice shape {'stores': [{...}, ...]}")
    source = Source(partial=True)
    for ps in stores:
        entry, warnings = _ps_store(ps, opts)
        ps_id = _text(ps.get("id"))
        index = source.add(entry, f"PrestaShop store {ps_id or '?'} ({entry['store_id']})")
        source.warnings += [f"{entry['store_id']}: {w}" for w in warnings]
        if not ps_id:
            source.errors.append({"loc": [index, "id"], "msg": "no id_store", "type": "missing"})
    return source


def read_store_file(
    path: Path, fmt: str = "auto", prestashop: PrestashopOptions | None = None
) -> Source:
    """Entries of a store file (``fmt``: auto, json, csv or prestashop)."""
    if _format(path, fmt) == "csv":
        return _stores_csv(path)
    data = _load_json(path)
    if isinstance(data, dict) and fmt in ("auto", "prestashop"):
        return _prestashop(data, prestashop or PrestashopOptions())
    if not isinstance(data, list) or fmt == "prestashop":
        raise SourceError(f"{path}: expected a list of stores or PrestaShop's {{'stores': []}}")
    source = Source()
    if data and all(_is_simulator_store(entry) for entry in data):
        source.partial = True  # no services, capacity or hold time: existing stores keep theirs
        data = [from_simulator(entry) for entry in data]
    for number, entry in enumerate(data, start=1):
        source.add(entry, f"entry {number}")
    return source


# The Cegid simulator's store directory (GET /_sim/stores; Cegid has no store service), as the
# demo imports it: code, name, address, city, postcode, country, lat, lng, timezone and hours
# as {"mon": ["10:00", "19:00"] or null, ...}.
_SIMULATOR_KEYS = {"code", "lat", "lng", "hours"}
_SIMULATOR_ONLY = _SIMULATOR_KEYS | {"ecommerce"}


def _is_simulator_store(entry: Any) -> bool:
    return isinstance(entry, dict) and "store_id" not in entry and set(entry) >= _SIMULATOR_KEYS


def from_simulator(store: Mapping[str, Any]) -> dict[str, Any]:
    """A simulator store as an entry of our store shape (validated like any other). The
    e-commerce store is listed for its stock and price list, with no services and no position:
    it is never near a shopper, and a pickup there is refused."""
    entry = {k: v for k, v in store.items() if k not in _SIMULATOR_ONLY}
    entry["store_id"] = store["code"]
    entry["latitude"], entry["longitude"] = store["lat"], store["lng"]
    hours = store["hours"]
    if isinstance(hours, dict):
        hours = {day: [list(span)] if span else [] for day, span in hours.items()}
    entry["opening_hours"] = hours
    if store.get("ecommerce"):
        entry |= {"services": [], "opening_hours": {}, "pickup_capacity_per_day": None}
    return entry


# --------------------------------------------------------------------------- mapping
def read_mapping_file(path: Path, fmt: str = "auto") -> Source:
    """Rows of a mapping file (``fmt``: auto, csv or json)."""
    source = Source()
    if _format(path, fmt) == "csv":
        header, rows = _csv_rows(path, MAPPING_COLUMNS, source)
        if "id_product" not in header or not {"sku", "ean"} & set(header):
            raise SourceError(f"{path}: needs columns id_product and sku or ean")
        for line, row in rows:
            source.add(row, f"line {line}")
        return source
    data = _load_json(path)
    if not isinstance(data, list):
        raise SourceError(f"{path}: expected a JSON list of mapping rows")
    for number, row in enumerate(data, start=1):
        source.add(row, f"entry {number}")
    return source
