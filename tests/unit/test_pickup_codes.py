from __future__ import annotations

import math

import pytest

from service.domain.errors import PickupCodeLocked
from service.domain.pickup_codes import (
    CODE_ALPHABET,
    DEFAULT_ITERATIONS,
    CodeAttempts,
    CodeHasher,
    UnknownCodeKey,
    check_pickup_code,
    format_pickup_code,
    hash_pickup_code,
    new_code_salt,
    new_pickup_code,
    normalise_pickup_code,
    verify_pickup_code,
)

SALT = b"0123456789abcdef"
FAST = 1_000  # iterations for tests that are not about the cost
PBKDF2 = CodeHasher(None, iterations=FAST)


def test_codes_use_an_unambiguous_alphabet_with_about_40_bits() -> None:
    assert len(CODE_ALPHABET) == len(set(CODE_ALPHABET)) == 32
    assert not set("0O1I") & set(CODE_ALPHABET)
    code = new_pickup_code()
    assert len(code) == 8
    assert set(code) <= set(CODE_ALPHABET)
    assert len(code) * math.log2(len(CODE_ALPHABET)) == 40


def test_codes_are_random() -> None:
    codes = {new_pickup_code() for _ in range(500)}
    assert len(codes) == 500
    used = set("".join(codes))
    assert used == set(CODE_ALPHABET)  # 4000 draws from 32 symbols reach every one
    with pytest.raises(ValueError):
        new_pickup_code(4)


def test_typing_variants_are_normalised() -> None:
    assert normalise_pickup_code(" abcd-efgh ") == "ABCDEFGH"
    assert format_pickup_code("abcdefgh") == "ABCD-EFGH"


def test_hash_and_verify() -> None:
    stored = hash_pickup_code("K7MP-Q2XZ", SALT, iterations=FAST)
    assert stored.startswith(f"pbkdf2_sha256${FAST}$")
    assert "K7MPQ2XZ" not in stored
    assert verify_pickup_code("k7mp q2xz", SALT, stored)
    assert not verify_pickup_code("K7MPQ2XY", SALT, stored)
    assert not verify_pickup_code("K7MPQ2XZ", b"another-salt-123", stored)


def test_default_cost_round_trips() -> None:
    salt = new_code_salt()
    assert len(salt) == 16 and salt != new_code_salt()
    stored = hash_pickup_code("ABCDEFGH", salt)
    assert stored.split("$")[1] == str(DEFAULT_ITERATIONS)
    assert verify_pickup_code("ABCDEFGH", salt, stored)


def test_same_code_different_salts_give_different_hashes() -> None:
    assert hash_pickup_code("ABCDEFGH", SALT, iterations=FAST) != hash_pickup_code(
        "ABCDEFGH", SALT[::-1], iterations=FAST
    )


def test_bad_stored_hash_or_salt_is_an_error() -> None:
    with pytest.raises(ValueError):
        verify_pickup_code("ABCDEFGH", SALT, "md5$abc")
    with pytest.raises(ValueError):
        hash_pickup_code("ABCDEFGH", b"short")
    with pytest.raises(ValueError):
        hash_pickup_code("ABCDEFGH", SALT, iterations=0)


def test_attempts_lock_after_max_failures() -> None:
    stored = hash_pickup_code("ABCDEFGH", SALT, iterations=FAST)
    attempts = CodeAttempts(max_attempts=3)
    for expected_failures in (1, 2, 3):
        ok, attempts = check_pickup_code("WRONG123", SALT, stored, attempts, PBKDF2)
        assert not ok
        assert attempts.failures == expected_failures
    assert attempts.locked and attempts.remaining == 0
    with pytest.raises(PickupCodeLocked) as caught:
        check_pickup_code("ABCDEFGH", SALT, stored, attempts, PBKDF2)  # even the right code
    assert caught.value.failures == 3


def test_right_code_does_not_count_as_a_failure() -> None:
    stored = hash_pickup_code("ABCDEFGH", SALT, iterations=FAST)
    ok, attempts = check_pickup_code("abcd-efgh", SALT, stored, CodeAttempts(failures=4), PBKDF2)
    assert ok
    assert attempts == CodeAttempts(failures=4)
    assert attempts.remaining == 1


def test_attempt_policy_is_validated() -> None:
    assert CodeAttempts().max_attempts == 5
    with pytest.raises(ValueError):
        CodeAttempts(max_attempts=0)
    with pytest.raises(ValueError):
        CodeAttempts(failures=-1)


# ------------------------------------------------------------------ keyed hashes (CodeHasher)
def test_a_keyed_hash_needs_the_key_and_names_it() -> None:
    hasher = CodeHasher(b"deployment secret")
    stored = hasher.hash("K7MP-Q2XZ", SALT)
    scheme, key_id, digest = stored.split("$")
    assert scheme == "hmac_sha256" and len(key_id) == 12 and len(digest) == 64
    assert "K7MPQ2XZ" not in stored and hasher.keyed
    assert hasher.verify("k7mp q2xz", SALT, stored)
    assert not hasher.verify("K7MPQ2XY", SALT, stored)
    assert not hasher.verify("K7MPQ2XZ", b"another-salt-123", stored)
    # the same code and salt under another secret: another key id, another digest
    other = CodeHasher(b"another secret").hash("K7MPQ2XZ", SALT)
    assert other.split("$")[1] != key_id and other.split("$")[2] != digest
    with pytest.raises(UnknownCodeKey) as caught:
        CodeHasher(b"another secret").verify("K7MPQ2XZ", SALT, stored)
    assert caught.value.key_id == key_id and "OMNISTOCK_REPLAY_KEY_PREVIOUS" in str(caught.value)


def test_a_rotated_key_still_checks_the_codes_stored_before() -> None:
    before = CodeHasher(b"old secret").hash("ABCDEFGH", SALT)
    rotated = CodeHasher(b"new secret", previous=[b"old secret"])
    assert rotated.verify("ABCDEFGH", SALT, before)
    assert not rotated.verify("ABCDEFGX", SALT, before)
    after = rotated.hash("ABCDEFGH", SALT)  # new codes: the new key
    assert after.split("$")[1] != before.split("$")[1]
    assert CodeHasher(b"new secret").verify("ABCDEFGH", SALT, after)


def test_without_a_shared_key_codes_are_pbkdf2_and_older_hashes_still_check() -> None:
    plain = CodeHasher(None, iterations=FAST)
    stored = plain.hash("ABCDEFGH", SALT)
    assert stored.startswith(f"pbkdf2_sha256${FAST}$") and not plain.keyed
    # a keyed hasher reads the PBKDF2 hashes of pickups made before it
    assert CodeHasher(b"secret").verify("ABCDEFGH", SALT, stored)
    assert not CodeHasher(b"secret").verify("ABCDEFGX", SALT, stored)
    with pytest.raises(ValueError):
        CodeHasher(b"secret").verify("ABCDEFGH", SALT, "md5$abc")
    with pytest.raises(ValueError):
        CodeHasher(b"secret").hash("ABCDEFGH", b"short")
