"""Identifiers of a sellable item: SKU, barcodes (EAN-13, UPC-A) and the PrestaShop key.

- SKU: the Cegid item id of a sellable variant. Cegid ids are fixed-width and space-padded,
  sometimes with a trailing marker after the padding (``"TSHIRT-BL-M      X"``): ``normalise_sku``
  trims the padding and drops a single capital letter that follows two or more spaces (a single
  space is a word separator, ``"TSHIRT BLUE M"`` keeps its ``M``). Inner spaces are kept because
  they are positional in fixed-width ids.
- Barcodes: EAN-13 (13 digits) and UPC-A (12 digits), both ending with a check digit. A UPC-A is
  the EAN-13 with a leading ``0``; ``normalise_barcode`` returns the EAN-13 form of either.
- PrestaShop key: ``(id_product, id_product_attribute)``; ``id_product_attribute == 0`` means
  "no combination". References are not unique in PrestaShop: ``index_references`` reports
  duplicates and blanks, ``resolve_reference`` never guesses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from service.domain.errors import AmbiguousReference, InvalidIdentifier, UnknownSku

_DIGITS = re.compile(r"[0-9]+")
_SKU_MARKER = re.compile(r"^(?P<body>.*?\S)\s{2,}[A-Z]$")
_SKU_MAX_LENGTH = 64


def _check_digit(payload: str) -> int:
    """GS1 mod-10 check digit: weights 3, 1, 3... from the rightmost payload digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def _require_digits(kind: str, value: str, length: int) -> None:
    if not isinstance(value, str):
        raise InvalidIdentifier(kind, value, "not a string")
    if len(value) != length or not _DIGITS.fullmatch(value):
        raise InvalidIdentifier(kind, value, f"expected {length} digits")


def ean13_check_digit(first12: str) -> int:
    """The check digit completing the 12 given digits into an EAN-13."""
    _require_digits("ean13 payload", first12, 12)
    return _check_digit(first12)


def upca_check_digit(first11: str) -> int:
    """The check digit completing the 11 given digits into a UPC-A."""
    _require_digits("upca payload", first11, 11)
    return _check_digit(first11)


def validate_ean13(code: str) -> str:
    """Return the EAN-13 (surrounding spaces trimmed) or raise ``InvalidIdentifier``."""
    code = code.strip() if isinstance(code, str) else code
    _require_digits("ean13", code, 13)
    expected = _check_digit(code[:12])
    if int(code[12]) != expected:
        raise InvalidIdentifier("ean13", code, f"check digit should be {expected}")
    return code


def validate_upca(code: str) -> str:
    """Return the UPC-A (surrounding spaces trimmed) or raise ``InvalidIdentifier``."""
    code = code.strip() if isinstance(code, str) else code
    _require_digits("upca", code, 12)
    expected = _check_digit(code[:11])
    if int(code[11]) != expected:
        raise InvalidIdentifier("upca", code, f"check digit should be {expected}")
    return code


def is_valid_ean13(code: str) -> bool:
    try:
        validate_ean13(code)
    except InvalidIdentifier:
        return False
    return True


def is_valid_upca(code: str) -> bool:
    try:
        validate_upca(code)
    except InvalidIdentifier:
        return False
    return True


def normalise_barcode(code: str) -> str:
    """The EAN-13 form of a valid EAN-13 or UPC-A; raise ``InvalidIdentifier`` otherwise."""
    trimmed = code.strip() if isinstance(code, str) else code
    if isinstance(trimmed, str) and len(trimmed) == 12:
        return "0" + validate_upca(trimmed)
    return validate_ean13(trimmed)


def normalise_sku(raw: str) -> str:
    """Trim a Cegid item id: padding on both sides and a trailing marker after the padding.

    Raise ``InvalidIdentifier`` when nothing is left, or on control characters or excess length.
    """
    if not isinstance(raw, str):
        raise InvalidIdentifier("sku", raw, "not a string")
    sku = raw.strip()
    marked = _SKU_MARKER.match(sku)
    if marked is not None:
        sku = marked.group("body")
    if not sku:
        raise InvalidIdentifier("sku", raw, "empty")
    if any(not ch.isprintable() for ch in sku):
        raise InvalidIdentifier("sku", raw, "contains control characters")
    if len(sku) > _SKU_MAX_LENGTH:
        raise InvalidIdentifier("sku", raw, f"longer than {_SKU_MAX_LENGTH} characters")
    return sku


@dataclass(frozen=True, slots=True, order=True)
class PrestashopKey:
    """A sellable PrestaShop item: product and combination (0 = no combination)."""

    id_product: int
    id_product_attribute: int = 0

    def __post_init__(self) -> None:
        for name, low in (("id_product", 1), ("id_product_attribute", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidIdentifier("prestashop_key", value, f"{name} must be an integer")
            if value < low:
                raise InvalidIdentifier("prestashop_key", value, f"{name} must be >= {low}")

    @property
    def has_combination(self) -> bool:
        return self.id_product_attribute != 0

    def __str__(self) -> str:
        return f"{self.id_product}:{self.id_product_attribute}"

    @classmethod
    def parse(cls, text: str) -> PrestashopKey:
        """Parse ``"12"``, ``"12:3"`` or ``"12-3"`` (product, combination)."""
        parts = re.split(r"[:-]", text.strip(), maxsplit=1) if isinstance(text, str) else []
        if not parts or not all(_DIGITS.fullmatch(p) for p in parts):
            raise InvalidIdentifier("prestashop_key", text, "expected 'id_product[:id_attr]'")
        return cls(*(int(p) for p in parts))


@dataclass(frozen=True, slots=True)
class ReferenceIndex:
    """PrestaShop references sorted into unique, duplicated and blank ones."""

    unique: Mapping[str, PrestashopKey]
    duplicates: Mapping[str, tuple[PrestashopKey, ...]]
    blank: tuple[PrestashopKey, ...]


def index_references(rows: Iterable[tuple[str | None, PrestashopKey]]) -> ReferenceIndex:
    """Index ``(reference, key)`` rows; references compare trimmed and case-insensitively."""
    seen: dict[str, set[PrestashopKey]] = {}
    blank: set[PrestashopKey] = set()
    for reference, key in rows:
        ref = (reference or "").strip().upper()
        if ref:
            seen.setdefault(ref, set()).add(key)
        else:
            blank.add(key)
    unique = {ref: next(iter(keys)) for ref, keys in seen.items() if len(keys) == 1}
    duplicates = {ref: tuple(sorted(keys)) for ref, keys in seen.items() if len(keys) > 1}
    return ReferenceIndex(unique=unique, duplicates=duplicates, blank=tuple(sorted(blank)))


def resolve_reference(index: ReferenceIndex, reference: str) -> PrestashopKey:
    """The one key with this reference; ``AmbiguousReference`` or ``UnknownSku`` otherwise."""
    ref = reference.strip().upper()
    if ref in index.duplicates:
        raise AmbiguousReference(reference, index.duplicates[ref])
    if ref not in index.unique:
        raise UnknownSku(reference)
    return index.unique[ref]
