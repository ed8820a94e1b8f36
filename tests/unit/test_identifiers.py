from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.errors import AmbiguousReference, InvalidIdentifier, UnknownSku
from service.domain.identifiers import (
    PrestashopKey,
    ean13_check_digit,
    index_references,
    is_valid_ean13,
    is_valid_upca,
    normalise_barcode,
    normalise_sku,
    resolve_reference,
    upca_check_digit,
    validate_ean13,
    validate_upca,
)

# Published barcodes: a Stabilo pen (EAN-13), Wrigley's gum (UPC-A), a French ISBN-13.
KNOWN_EAN13 = ["4006381333931", "9782070612758", "0036000291452", "3017620422003"]
KNOWN_UPCA = ["036000291452", "012345678905"]


@pytest.mark.parametrize("code", KNOWN_EAN13)
def test_published_ean13_codes_are_valid(code: str) -> None:
    assert is_valid_ean13(code)
    assert ean13_check_digit(code[:12]) == int(code[12])


@pytest.mark.parametrize("code", KNOWN_UPCA)
def test_published_upca_codes_are_valid(code: str) -> None:
    assert is_valid_upca(code)
    assert upca_check_digit(code[:11]) == int(code[11])


def test_wrong_check_digit_is_refused_with_the_expected_digit() -> None:
    with pytest.raises(InvalidIdentifier, match="check digit should be 1") as caught:
        validate_ean13("4006381333932")
    assert caught.value.kind == "ean13"
    assert caught.value.value == "4006381333932"


@pytest.mark.parametrize(
    "code",
    [
        "",
        "400638133393",
        "40063813339311",
        "400638133393A",
        "4006381333931".translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}),  # full-width
        None,
    ],
)
def test_malformed_ean13_is_refused(code: str) -> None:
    assert not is_valid_ean13(code)
    with pytest.raises(InvalidIdentifier):
        validate_ean13(code)


def test_surrounding_spaces_are_trimmed() -> None:
    assert validate_ean13(" 4006381333931 ") == "4006381333931"
    assert validate_upca("036000291452\n") == "036000291452"


def test_upca_is_normalised_to_its_ean13_form() -> None:
    assert normalise_barcode("036000291452") == "0036000291452"
    assert normalise_barcode("4006381333931") == "4006381333931"
    with pytest.raises(InvalidIdentifier):
        normalise_barcode("036000291453")


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_appending_the_check_digit_makes_a_valid_ean13(payload: str) -> None:
    assert is_valid_ean13(payload + str(ean13_check_digit(payload)))


@given(
    st.text(alphabet="0123456789", min_size=12, max_size=12),
    st.integers(0, 12),
    st.integers(1, 9),
)
def test_any_single_digit_error_is_detected(payload: str, position: int, shift: int) -> None:
    code = payload + str(ean13_check_digit(payload))
    wrong = code[:position] + str((int(code[position]) + shift) % 10) + code[position + 1 :]
    assert not is_valid_ean13(wrong)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_upca_check_digit_matches_ean13_with_a_leading_zero(payload: str) -> None:
    assert upca_check_digit(payload) == ean13_check_digit("0" + payload)


@pytest.mark.parametrize(
    ("raw", "sku"),
    [
        ("ITEM001           X", "ITEM001"),
        ("ITEM001           ", "ITEM001"),
        ("   ITEM001", "ITEM001"),
        ("TSHIRT BLUE M", "TSHIRT BLUE M"),
        ("TSHIRT  BLU       X", "TSHIRT  BLU"),
        ("BOX", "BOX"),
    ],
)
def test_cegid_item_ids_are_trimmed(raw: str, sku: str) -> None:
    assert normalise_sku(raw) == sku


@pytest.mark.parametrize("raw", ["", "    ", "A\x00B", "A" * 65])
def test_unusable_skus_are_refused(raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_sku(raw)
    assert caught.value.kind == "sku"


def test_prestashop_key_parses_and_prints() -> None:
    assert PrestashopKey.parse("12") == PrestashopKey(12, 0)
    assert PrestashopKey.parse("12:3") == PrestashopKey(12, 3)
    assert PrestashopKey.parse(" 12-3 ") == PrestashopKey(12, 3)
    assert str(PrestashopKey(12, 3)) == "12:3"
    assert PrestashopKey(12, 3).has_combination
    assert not PrestashopKey(12).has_combination


@pytest.mark.parametrize("text", ["", "abc", "12:", "12:3:4", "-1", "0"])
def test_bad_prestashop_keys_are_refused(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        PrestashopKey.parse(text)


@pytest.mark.parametrize(("product", "attribute"), [(0, 0), (1, -1), (True, 0), (1, 1.5)])
def test_prestashop_key_rejects_impossible_ids(product: object, attribute: object) -> None:
    with pytest.raises(InvalidIdentifier):
        PrestashopKey(product, attribute)  # type: ignore[arg-type]


def test_duplicate_and_blank_references_are_reported_not_guessed() -> None:
    index = index_references(
        [
            ("REF-1", PrestashopKey(1)),
            ("ref-1 ", PrestashopKey(2, 5)),
            ("REF-2", PrestashopKey(3)),
            ("", PrestashopKey(4, 1)),
            (None, PrestashopKey(4, 2)),
        ]
    )
    assert index.unique == {"REF-2": PrestashopKey(3)}
    assert index.duplicates == {"REF-1": (PrestashopKey(1), PrestashopKey(2, 5))}
    assert index.blank == (PrestashopKey(4, 1), PrestashopKey(4, 2))
    assert resolve_reference(index, "ref-2") == PrestashopKey(3)
    with pytest.raises(AmbiguousReference) as caught:
        resolve_reference(index, "REF-1")
    assert caught.value.candidates == (PrestashopKey(1), PrestashopKey(2, 5))
    with pytest.raises(UnknownSku):
        resolve_reference(index, "REF-9")
