"""Pickup codes: short, unguessable, typed by staff at the counter, attempts limited.

A code is 8 characters from a 32-symbol alphabet without look-alikes (no 0/O, no 1/I): 40 bits
from ``secrets``. Staff may type it in lower case, with spaces or a dash (``abcd-efgh``).

Only a salted PBKDF2-SHA256 hash is stored, as ``pbkdf2_sha256$<iterations>$<hex digest>`` so the
cost can be raised later without breaking stored codes. Verification compares in constant time.
After ``max_attempts`` wrong codes the pickup is locked (``PickupCodeLocked``) and needs staff.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from service.domain.errors import PickupCodeLocked

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
DEFAULT_ITERATIONS = 100_000
_SCHEME = "pbkdf2_sha256"


def new_pickup_code(length: int = CODE_LENGTH) -> str:
    """A fresh random code (``length * 5`` bits of entropy)."""
    if length < 6:
        raise ValueError(f"a pickup code needs at least 6 characters, got {length}")
    # one read of the system's randomness: 256 is a multiple of the 32 symbols, so ``b % 32``
    # is uniform (the low 5 bits of each random byte)
    return "".join(CODE_ALPHABET[b % 32] for b in secrets.token_bytes(length))


def new_code_salt() -> bytes:
    return secrets.token_bytes(16)


def normalise_pickup_code(text: str) -> str:
    """Upper-case the code and drop spaces and dashes, as staff may type them."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")


def format_pickup_code(code: str) -> str:
    """``ABCDEFGH`` -> ``ABCD-EFGH`` for display and printing."""
    code = normalise_pickup_code(code)
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def hash_pickup_code(code: str, salt: bytes, *, iterations: int = DEFAULT_ITERATIONS) -> str:
    """The string to store for ``code``; ``salt`` is per pickup (see ``new_code_salt``)."""
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    if len(salt) < 8:
        raise ValueError("salt must be at least 8 bytes")
    digest = hashlib.pbkdf2_hmac(
        "sha256", normalise_pickup_code(code).encode("utf-8"), salt, iterations
    )
    return f"{_SCHEME}${iterations}${digest.hex()}"


def verify_pickup_code(code: str, salt: bytes, stored: str) -> bool:
    """Whether ``code`` matches the stored hash (constant-time comparison).

    Raise ``ValueError`` when ``stored`` is not a hash this module wrote.
    """
    scheme, _, rest = stored.partition("$")
    iterations, _, _digest = rest.partition("$")
    if scheme != _SCHEME or not iterations.isdigit():
        raise ValueError("stored pickup code hash has an unknown format")
    candidate = hash_pickup_code(code, salt, iterations=int(iterations))
    return hmac.compare_digest(candidate.encode("ascii"), stored.encode("ascii"))


@dataclass(frozen=True, slots=True)
class CodeAttempts:
    """Wrong codes typed so far for one pickup; locked at ``max_attempts``."""

    failures: int = 0
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.failures < 0:
            raise ValueError("max_attempts must be >= 1 and failures >= 0")

    @property
    def locked(self) -> bool:
        return self.failures >= self.max_attempts

    @property
    def remaining(self) -> int:
        return max(0, self.max_attempts - self.failures)

    def after_failure(self) -> CodeAttempts:
        return CodeAttempts(self.failures + 1, self.max_attempts)


def check_pickup_code(
    code: str, salt: bytes, stored: str, attempts: CodeAttempts
) -> tuple[bool, CodeAttempts]:
    """Verify a typed code under the attempt policy; returns (match, attempts after this one).

    Raise ``PickupCodeLocked`` without checking anything when the pickup is already locked.
    """
    if attempts.locked:
        raise PickupCodeLocked(attempts.failures)
    if verify_pickup_code(code, salt, stored):
        return True, attempts
    return False, attempts.after_failure()
