"""API keys and who holds them: roles, store scoping, the key format and its hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

Role = Literal["storefront", "staff", "admin"]
ROLES: tuple[Role, ...] = ("storefront", "staff", "admin")
KEY_PREFIX = "osk_"


def new_api_key() -> str:
    """A new random key: ``osk_`` + 43 URL-safe characters (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> bytes:
    """SHA-256 of the key. Keys are 256-bit random strings, so a fast hash is enough."""
    return hashlib.sha256(key.encode()).digest()


def display_prefix(key: str) -> str:
    """The part of a key safe to show in listings and logs."""
    return key[: len(KEY_PREFIX) + 6]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the API key's id, role and (for staff) the stores it may act on."""

    key_id: str
    role: Role
    stores: frozenset[str] = frozenset()
    label: str = ""

    def may_act_on_store(self, store_id: str) -> bool:
        if self.role == "staff":
            return store_id in self.stores
        return True
