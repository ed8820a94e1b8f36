"""Pickup codes: short, unguessable, typed by staff at the counter, attempts limited.

A code is 8 characters from a 32-symbol alphabet without look-alikes (no 0/O, no 1/I): 40 bits
from ``secrets``. Staff may type it in lower case, with spaces or a dash (``abcd-efgh``).

Only a salted hash is stored. ``CodeHasher`` writes one of two schemes and reads both:

- ``hmac_sha256$<key id>$<hex digest>``: HMAC-SHA256 of the salt and the code under a key that is
  not in the database (derived from ``OMNISTOCK_REPLAY_KEY``, a Kubernetes Secret). Used whenever
  such a key is shared by every process. A dump of the database alone then shows nothing to try
  codes against: the 40 bits of a code are out of reach without the key, however fast the
  hardware (PBKDF2 at 1,000 rounds, the former scheme, left a GPU about a day per code). The key
  id names the key, so a rotated key still verifies the codes written before it (former keys in
  ``OMNISTOCK_REPLAY_KEY_PREVIOUS``). It costs 7 us (with the code and salt drawn) where PBKDF2
  cost 0.33-0.61 ms of the event loop on every pickup created (a quarter of the server CPU of
  a pickup answer under ``bench/pickups.py``).
- ``pbkdf2_sha256$<iterations>$<hex digest>``: salted PBKDF2-SHA256, written only when no shared
  key exists (a process whose key would be its own: a code it hashed with that key could not be
  checked by any other replica, nor after a restart), and read forever (older pickups).

Verification compares in constant time. After ``max_attempts`` wrong codes the pickup is locked
(``PickupCodeLocked``) and needs staff.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from service.domain.errors import PickupCodeLocked

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
DEFAULT_ITERATIONS = 100_000
_SCHEME = "pbkdf2_sha256"
_KEYED = "hmac_sha256"
_KEY_LABEL = b"omnistock pickup-code hash v1\x00"


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
    _check_salt(salt)
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


class UnknownCodeKey(LookupError):
    """A code stored under a key this process does not have (rotated without keeping it)."""

    def __init__(self, key_id: str) -> None:
        super().__init__(
            f"this pickup's code was stored under pickup-code key {key_id}, which this server "
            "does not have: add the former OMNISTOCK_REPLAY_KEY to OMNISTOCK_REPLAY_KEY_PREVIOUS"
        )
        self.key_id = key_id


def code_key(secret: bytes) -> bytes:
    """The HMAC key of stored codes, from a shared secret (used for nothing else)."""
    if not secret:
        raise ValueError("an empty secret")
    return hashlib.sha256(_KEY_LABEL + secret).digest()


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"key id\x00" + key).hexdigest()[:12]


class CodeHasher:
    """Stores and checks pickup codes (module docstring). ``secret``: the shared secret of this
    deployment, or None when there is none (then PBKDF2 at ``iterations``); ``previous``: former
    secrets, still accepted when checking codes stored under them."""

    def __init__(
        self,
        secret: bytes | None,
        *,
        previous: Iterable[bytes] = (),
        iterations: int = DEFAULT_ITERATIONS,
    ) -> None:
        if iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        self.iterations = iterations
        self._keys: dict[str, bytes] = {}
        self._current: tuple[str, bytes] | None = None
        for n, s in enumerate([secret, *previous]):
            if not s:
                continue
            key = code_key(s)
            key_id = _key_id(key)
            self._keys.setdefault(key_id, key)
            if n == 0:
                self._current = (key_id, key)

    @property
    def keyed(self) -> bool:
        return self._current is not None

    def hash(self, code: str, salt: bytes) -> str:
        """The string to store for ``code``; ``salt`` is per pickup (see ``new_code_salt``)."""
        if self._current is None:
            return hash_pickup_code(code, salt, iterations=self.iterations)
        _check_salt(salt)
        key_id, key = self._current
        return f"{_KEYED}${key_id}${_keyed_digest(key, code, salt)}"

    def verify(self, code: str, salt: bytes, stored: str) -> bool:
        """Whether ``code`` matches ``stored`` (either scheme; constant-time comparison).

        Raise ``UnknownCodeKey`` for a key this hasher was not given, ``ValueError`` when
        ``stored`` is not a hash this module wrote."""
        scheme, _, rest = stored.partition("$")
        if scheme != _KEYED:
            return verify_pickup_code(code, salt, stored)
        key_id, _, digest = rest.partition("$")
        key = self._keys.get(key_id)
        if key is None:
            raise UnknownCodeKey(key_id)
        _check_salt(salt)
        candidate = _keyed_digest(key, code, salt)
        return hmac.compare_digest(candidate.encode("ascii"), digest.encode("ascii"))


def _keyed_digest(key: bytes, code: str, salt: bytes) -> str:
    message = salt + normalise_pickup_code(code).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _check_salt(salt: bytes) -> None:
    if len(salt) < 8:
        raise ValueError("salt must be at least 8 bytes")


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
    code: str, salt: bytes, stored: str, attempts: CodeAttempts, hasher: CodeHasher
) -> tuple[bool, CodeAttempts]:
    """Verify a typed code under the attempt policy; returns (match, attempts after this one).

    Raise ``PickupCodeLocked`` without checking anything when the pickup is already locked.
    """
    if attempts.locked:
        raise PickupCodeLocked(attempts.failures)
    if hasher.verify(code, salt, stored):
        return True, attempts
    return False, attempts.after_failure()
