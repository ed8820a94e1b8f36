"""Import the PrestaShop mapping of our items: (id_product, id_product_attribute, reference).

A row names one of our items by SKU, or by barcode when the SKU is blank, and gives its
PrestaShop key and reference. All or nothing: any invalid row (malformed SKU or barcode, a barcode
that is not the item's, an item we do not know, the same item or PrestaShop key twice, a key held
by another item) fails the whole import with a per-row report and writes nothing.

Items come from Cegid (the items sync): an unknown SKU is an error, never created here.
References are not unique in PrestaShop: duplicated and blank references are reported, not
refused (resolving such a reference later answers 409, never a guess).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Self

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from service.domain.identifiers import (
    PrestashopKey,
    index_references,
    normalise_barcode,
    normalise_sku,
)
from service.domain.limits import PG_INT_MAX
from service.errors import Conflict, InvalidInput
from service.usecases.catalog.identifiers import ean_forms
from stores import items as items_repo
from stores.items import ItemKeys, KeyLookups


class MappingRow(BaseModel):
    """One item's PrestaShop mapping. Blank cells count as absent."""

    model_config = ConfigDict(extra="forbid")

    sku: str | None = Field(default=None, description="Our SKU (Cegid item id).")
    ean: str | None = Field(default=None, description="EAN-13 or UPC-A; names the item if no SKU.")
    id_product: Annotated[int, Field(ge=1, le=PG_INT_MAX)]
    id_product_attribute: Annotated[int, Field(ge=0, le=PG_INT_MAX)] = 0
    reference: Annotated[str | None, Field(max_length=64)] = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("id_product_attribute", mode="before")
    @classmethod
    def _no_combination(cls, value: Any) -> Any:
        blank = value is None or (isinstance(value, str) and not value.strip())
        return 0 if blank else value

    @field_validator("sku")
    @classmethod
    def _sku(cls, value: str | None) -> str | None:
        return None if value is None else normalise_sku(value)

    @field_validator("ean")
    @classmethod
    def _ean(cls, value: str | None) -> str | None:
        return None if value is None else normalise_barcode(value)

    @model_validator(mode="after")
    def _names_an_item(self) -> Self:
        if self.sku is None and self.ean is None:
            raise ValueError("give the item's sku or ean")
        return self

    @property
    def key(self) -> PrestashopKey:
        return PrestashopKey(self.id_product, self.id_product_attribute)


@dataclass(frozen=True, slots=True)
class DuplicateReference:
    reference: str
    skus: list[str]


@dataclass(frozen=True, slots=True)
class MappingReport:
    updated: list[str]
    unchanged: int
    duplicate_references: list[DuplicateReference] = field(default_factory=list)
    blank_references: list[str] = field(default_factory=list)


def _err(row: int, name: str, msg: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"loc": [row, name], "msg": msg, "type": kind, **extra}


def _validate_rows(raw: Sequence[Mapping[str, Any]]) -> tuple[dict[int, MappingRow], list[dict]]:
    """Valid rows by their index, and the field errors of the others."""
    rows: dict[int, MappingRow] = {}
    errors: list[dict[str, Any]] = []
    for index, data in enumerate(raw):
        try:
            rows[index] = MappingRow.model_validate(data)
        except ValidationError as exc:
            errors += [
                {"loc": [index, *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors()
            ]
    return rows, errors


@dataclass(frozen=True, slots=True)
class _Found:
    """What the items table holds for the rows (keys are row indexes)."""

    by_sku: dict[int, ItemKeys]
    by_ean: dict[int, list[ItemKeys]]
    key_holders: dict[int, ItemKeys]
    same_reference: list[ItemKeys]


async def _find(conn: asyncpg.Connection, rows: dict[int, MappingRow]) -> _Found:
    async def find(lookups: KeyLookups) -> list[tuple[int, ItemKeys]]:
        return await items_repo.find_keys(conn, lookups)

    skus = [(i, r.sku) for i, r in rows.items() if r.sku is not None]
    eans = [(i, e) for i, r in rows.items() if r.sku is None for e in ean_forms(r.ean or "")]
    keys = [(i, r.id_product, r.id_product_attribute) for i, r in rows.items()]
    refs = [(i, r.reference.upper()) for i, r in rows.items() if r.reference]
    by_ean: dict[int, list[ItemKeys]] = {}
    for index, item in await find(KeyLookups(eans=eans)):
        by_ean.setdefault(index, []).append(item)
    same_reference = {item.sku: item for _, item in await find(KeyLookups(references=refs))}
    return _Found(
        by_sku=dict(await find(KeyLookups(skus=skus))),
        by_ean=by_ean,
        key_holders=dict(await find(KeyLookups(ps_keys=keys))),
        same_reference=list(same_reference.values()),
    )


def _target(index: int, row: MappingRow, found: _Found) -> ItemKeys | dict[str, Any]:
    """The item a row names, or the error saying why it names none."""
    if row.sku is not None:
        item = found.by_sku.get(index)
        if item is None:
            return _err(index, "sku", f"unknown sku {row.sku!r} (not created)", "unknown_sku")
        if row.ean is not None and item.ean is not None and item.ean not in ean_forms(row.ean):
            msg = f"ean {row.ean} is not the barcode of sku {row.sku!r} ({item.ean})"
            return _err(index, "ean", msg, "ean_mismatch")
        return item
    candidates = found.by_ean.get(index, [])
    if len(candidates) != 1:
        skus = ", ".join(i.sku for i in candidates)
        why = f"is shared by {skus}: give the sku" if candidates else "names no item"
        return _err(index, "ean", f"ean {row.ean} {why}", "unknown_ean")
    return candidates[0]


def _check_repeats(rows: dict[int, MappingRow], targets: dict[int, ItemKeys]) -> list[dict]:
    errors = []
    first_sku: dict[str, int] = {}
    first_key: dict[PrestashopKey, int] = {}
    for index, item in targets.items():
        seen = first_sku.setdefault(item.sku, index)
        if seen != index:
            msg = f"sku {item.sku!r} is also row {seen}"
            errors.append(_err(index, "sku", msg, "duplicate", other=seen))
        key = rows[index].key
        seen = first_key.setdefault(key, index)
        if seen != index:
            msg = f"PrestaShop key {key} is also row {seen}"
            errors.append(_err(index, "id_product", msg, "duplicate_key", other=seen))
    return errors


def _check(
    rows: dict[int, MappingRow], found: _Found
) -> tuple[dict[int, ItemKeys], list[dict[str, Any]]]:
    """Each row's target item, and every error: unknown items, repeats, keys held elsewhere."""
    targets: dict[int, ItemKeys] = {}
    errors: list[dict[str, Any]] = []
    for index, row in rows.items():
        target = _target(index, row, found)
        if isinstance(target, dict):
            errors.append(target)
        else:
            targets[index] = target
    errors += _check_repeats(rows, targets)
    moving = {t.sku for t in targets.values()}
    for index, holder in found.key_holders.items():
        if holder.sku not in moving:
            msg = f"PrestaShop key {rows[index].key} belongs to sku {holder.sku!r}: remap it too"
            errors.append(_err(index, "id_product", msg, "key_taken"))
    return targets, errors


def _reference_report(
    rows: dict[int, MappingRow], targets: dict[int, ItemKeys], found: _Found
) -> tuple[list[DuplicateReference], list[str]]:
    """Duplicated references among the items after the import, and this import's blank ones."""
    sku_of = {rows[i].key: t.sku for i, t in targets.items()}
    pairs = [(rows[i].reference, rows[i].key) for i in targets]
    moving = set(sku_of.values())
    for item in found.same_reference:
        if item.sku in moving or item.ps_product_id is None or item.ps_attribute_id is None:
            continue
        key = PrestashopKey(item.ps_product_id, item.ps_attribute_id)
        sku_of[key] = item.sku
        pairs.append((item.ps_reference, key))
    index = index_references(pairs)
    duplicates = [
        DuplicateReference(ref, sorted(sku_of[k] for k in keys))
        for ref, keys in sorted(index.duplicates.items())
    ]
    blanks = sorted(t.sku for i, t in targets.items() if not rows[i].reference)
    return duplicates, blanks


def _invalid(errors: list[dict[str, Any]]) -> InvalidInput:
    errors.sort(key=lambda e: e["loc"][0])
    count = len({e["loc"][0] for e in errors})
    return InvalidInput(f"{count} invalid row(s): nothing was imported", errors)


async def import_mapping(pool: asyncpg.Pool, raw: Sequence[Mapping[str, Any]]) -> MappingReport:
    """Validate every row, then set the PrestaShop keys in one transaction; 422 lists every bad
    row (``loc`` starts with the row's index) and nothing is written."""
    rows, errors = _validate_rows(raw)
    async with pool.acquire() as conn, conn.transaction():
        found = await _find(conn, rows)
        targets, more = _check(rows, found)
        if errors or more:
            raise _invalid(errors + more)
        writes = [
            (targets[i].sku, r.id_product, r.id_product_attribute, r.reference)
            for i, r in rows.items()
        ]
        try:
            updated = await items_repo.set_prestashop_keys(conn, writes)
        except asyncpg.UniqueViolationError:
            raise Conflict("another import changed the same PrestaShop keys; retry") from None
    duplicates, blanks = _reference_report(rows, targets, found)
    return MappingReport(sorted(updated), len(rows) - len(updated), duplicates, blanks)
