"""Resolve what a caller names an item by (SKU, EAN/UPC, PrestaShop key or reference) to our SKU.

Exactly one kind of identifier per lookup. Answers echo which kind resolved the item. Malformed
identifiers are 422, unknown ones 404, and an identifier shared by several items (a PrestaShop
reference, or a barcode carried by two SKUs) is 409 with the candidates: never a guess.
``resolve_items`` resolves many lines (a cart) in one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import asyncpg

from service.domain.errors import AmbiguousReference, InvalidIdentifier, UnknownSku
from service.domain.identifiers import (
    PrestashopKey,
    index_references,
    normalise_barcode,
    normalise_sku,
    resolve_reference,
)
from service.errors import Conflict, InvalidInput, NotFound
from stores import items as items_repo
from stores.items import ItemKeys, KeyLookups

ResolvedBy = Literal["sku", "ean", "ps_key", "reference"]
_KINDS = ("sku", "ean", "ps_product", "reference")


class ItemLookup(NamedTuple):
    """What a caller gave for one line: exactly one of sku, ean, (ps_product[, ps_attribute]),
    reference. A named tuple: made per line of every matrix and basket, it is made faster than a
    frozen dataclass, and hashes and compares by its values the same way (a cache key)."""

    sku: str | None = None
    ean: str | None = None
    ps_product: int | None = None
    ps_attribute: int | None = None
    reference: str | None = None


# No __slots__: an answer writes one per line, and orjson encodes a dataclass from its
# __dict__ about six times faster than from slots.
@dataclass(frozen=True)
class ResolvedItem:
    sku: str
    ean: str | None
    ps_product_id: int | None
    ps_attribute_id: int | None
    reference: str | None
    resolved_by: ResolvedBy

    @classmethod
    def of(cls, item: ItemKeys, resolved_by: ResolvedBy) -> ResolvedItem:
        return cls(
            item.sku,
            item.ean,
            item.ps_product_id,
            item.ps_attribute_id,
            item.ps_reference,
            resolved_by,
        )


@dataclass(frozen=True, slots=True)
class _Key:
    kind: ResolvedBy
    value: Any  # str, or PrestashopKey for ps_key
    shown: str  # as the caller gave it, for messages


def ean_forms(ean13: str) -> list[str]:
    """How a barcode may be stored: as its EAN-13, or a UPC-A as its own 12 digits."""
    return [ean13, ean13[1:]] if ean13.startswith("0") else [ean13]


def _error(loc: list[str | int], msg: str, kind: str = "invalid_identifier") -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind}


def _parse(lookup: ItemLookup) -> _Key:
    """The one identifier of a lookup, normalised; ``InvalidInput`` (loc without line) else."""
    given = [k for k in _KINDS if getattr(lookup, k) is not None]
    if lookup.ps_attribute is not None and lookup.ps_product is None:
        raise InvalidInput("", [_error(["ps_attribute"], "ps_attribute needs ps_product")])
    if len(given) != 1:
        got = f" (got {', '.join(given)})" if given else ""
        msg = f"give exactly one of sku, ean, ps_product, reference{got}"
        raise InvalidInput("", [_error([], msg, "one_identifier")])
    kind = given[0]
    raw = getattr(lookup, kind)
    try:
        if kind == "sku":
            return _Key("sku", normalise_sku(raw), repr(raw))
        if kind == "ean":
            return _Key("ean", normalise_barcode(raw), repr(raw))
        if kind == "ps_product":
            key = PrestashopKey(raw, lookup.ps_attribute or 0)
            return _Key("ps_key", key, f"{key.id_product}:{key.id_product_attribute}")
    except InvalidIdentifier as exc:
        raise InvalidInput("", [_error([kind], f"{exc.kind} {exc.reason}")]) from None
    reference = str(raw).strip()
    if not reference:
        raise InvalidInput("", [_error(["reference"], "reference is blank")])
    return _Key("reference", reference, repr(raw))


def _lookups(keys: Sequence[_Key]) -> KeyLookups:
    skus, eans, ps_keys, refs = [], [], [], []
    for line, key in enumerate(keys):
        if key.kind == "sku":
            skus.append((line, key.value))
        elif key.kind == "ean":
            eans += [(line, form) for form in ean_forms(key.value)]
        elif key.kind == "ps_key":
            ps_keys.append((line, key.value.id_product, key.value.id_product_attribute))
        else:
            refs.append((line, key.value.upper()))
    return KeyLookups(skus=skus, eans=eans, ps_keys=ps_keys, references=refs)


def _candidate(item: ItemKeys) -> dict[str, Any]:
    return {
        "sku": item.sku,
        "ean": item.ean,
        "ps_product_id": item.ps_product_id,
        "ps_attribute_id": item.ps_attribute_id,
        "reference": item.ps_reference,
    }


def _pick(key: _Key, found: list[ItemKeys]) -> ItemKeys:
    """The one item a key names; ``UnknownSku`` or ``AmbiguousReference`` otherwise."""
    if key.kind != "reference":
        if not found:
            raise UnknownSku(key.shown)
        if len(found) > 1:
            raise AmbiguousReference(key.shown, [i.sku for i in found])
        return found[0]
    by_key = {
        PrestashopKey(i.ps_product_id, i.ps_attribute_id): i
        for i in found
        if i.ps_product_id is not None and i.ps_attribute_id is not None
    }
    index = index_references((item.ps_reference, k) for k, item in by_key.items())
    return by_key[resolve_reference(index, key.value)]


def _describe(key: _Key) -> str:
    kind = "PrestaShop key" if key.kind == "ps_key" else key.kind
    return f"{kind} {key.shown}"


async def resolve_items(
    conn: asyncpg.Connection, lookups: Sequence[ItemLookup]
) -> list[ResolvedItem]:
    """Resolve every line in one query, or fail as a whole: 422 lists every malformed line, then
    404 every unknown one (``unknown``), then 409 every ambiguous one (``ambiguous``)."""
    keys: list[_Key] = []
    errors: list[dict[str, Any]] = []
    for line, lookup in enumerate(lookups):
        try:
            keys.append(_parse(lookup))
        except InvalidInput as exc:
            errors += [{**e, "loc": [line, *e["loc"]]} for e in exc.extra["errors"]]
    if errors:
        raise InvalidInput("some lines do not name an item properly", errors)
    found: dict[int, list[ItemKeys]] = {line: [] for line in range(len(keys))}
    for line, item in await items_repo.find_keys(conn, _lookups(keys)):
        found[line].append(item)
    resolved: list[ResolvedItem] = []
    unknown: list[dict[str, Any]] = []
    ambiguous: list[dict[str, Any]] = []
    for line, key in enumerate(keys):
        try:
            resolved.append(ResolvedItem.of(_pick(key, found[line]), key.kind))
        except UnknownSku:
            unknown.append({"line": line, "kind": key.kind, "value": key.shown})
        except AmbiguousReference:
            candidates = [_candidate(i) for i in found[line]]
            ambiguous.append({"line": line, "value": key.shown, "candidates": candidates})
    if unknown:
        names = "; ".join(f"line {u['line']}: {u['kind']} {u['value']}" for u in unknown)
        raise NotFound(f"no item for {names}", unknown=unknown)
    if ambiguous:
        names = "; ".join(f"line {a['line']}: {a['value']}" for a in ambiguous)
        raise Conflict(f"several items match {names}", ambiguous=ambiguous)
    return resolved


async def resolve_item(
    conn: asyncpg.Connection,
    *,
    sku: str | None = None,
    ean: str | None = None,
    ps_product: int | None = None,
    ps_attribute: int | None = None,
    reference: str | None = None,
) -> ResolvedItem:
    """The one item named by exactly one identifier (422, 404 or 409 otherwise)."""
    lookup = ItemLookup(sku, ean, ps_product, ps_attribute, reference)
    try:
        key = _parse(lookup)
    except InvalidInput as exc:
        raise InvalidInput("the item identifier is invalid", exc.extra["errors"]) from None
    found = [item for _, item in await items_repo.find_keys(conn, _lookups([key]))]
    try:
        return ResolvedItem.of(_pick(key, found), key.kind)
    except UnknownSku:
        raise NotFound(f"no item with {_describe(key)}") from None
    except AmbiguousReference as exc:
        detail = f"{_describe(key)} matches {len(found)} items; name one by SKU or PrestaShop key"
        raise Conflict(detail, candidates=[_candidate(i) for i in found]) from exc
