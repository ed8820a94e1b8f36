"""Pickup codes in stored Idempotency-Key answers, sealed.

A creation's answer is stored under its Idempotency-Key for a replay (7 days) and holds the
pickup code, which ``pickups`` keeps only as a salted hash. The stored copy holds the code
sealed with AES-256-GCM instead, bound to its principal and key (a sealed code moved to another
row does not open), with a key from ``OMNISTOCK_REPLAY_KEY`` (a Kubernetes Secret in
production): a database dump or a read through SQL alone no longer shows any code, while a
replay to the storefront that made the pickup still returns it. A code that does not open
(another key, a rotated one) is replayed as null, as for an order already created.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger("omnistock")
SEALED = "pickup_code_sealed"  # the member of a stored answer that holds the sealed code
_VERSION = "v1."
_KEY_FILE = "replay.key"


class CodeSealer:
    """Seals with ``secret``; opens with it or any of ``previous`` (former keys, for a rotation:
    answers stored before it still replay their code)."""

    def __init__(self, secret: bytes, previous: Iterable[bytes] = ()) -> None:
        if not secret:
            raise ValueError("an empty replay key")
        self._aead = _aead(secret)
        self._readers = [self._aead, *(_aead(p) for p in previous if p)]

    def seal(self, code: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, code.encode(), context.encode())
        return _VERSION + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, context: str) -> str | None:
        if not sealed.startswith(_VERSION):
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed[len(_VERSION) :])
        except ValueError:
            return None
        for aead in self._readers:
            try:
                return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
            except (InvalidTag, ValueError):
                continue
        return None


def _aead(secret: bytes) -> AESGCM:
    return AESGCM(hashlib.sha256(b"omnistock pickup-code replay v1\x00" + secret).digest())


def parse_previous_keys(text: str) -> list[bytes]:
    """``OMNISTOCK_REPLAY_KEY_PREVIOUS``: former keys, comma-separated."""
    return [k.strip().encode() for k in text.split(",") if k.strip()]


def context_of(principal: str, key: str) -> str:
    return f"{principal}\n{key}"


def stored_answer(
    body: Mapping[str, Any], sealer: CodeSealer | None, context: str
) -> dict[str, Any]:
    """The answer as stored for replays: its pickup code sealed (dropped without a sealer)."""
    stored = dict(body)
    code = stored.get("pickup_code")
    stored["pickup_code"] = None
    if code and sealer is not None:
        stored[SEALED] = sealer.seal(code, context)
    return stored


def replayed_answer(body: Any, sealer: CodeSealer | None, context: str) -> Any:
    """A stored answer as replayed: its pickup code opened (null when it does not open)."""
    if not isinstance(body, dict) or SEALED not in body:
        return body
    replay = dict(body)
    sealed = replay.pop(SEALED)
    replay["pickup_code"] = sealer.open(sealed, context) if sealer is not None else None
    return replay


def shared_replay_secret(configured: str, data_dir: Path) -> tuple[bytes, bool]:
    """``OMNISTOCK_REPLAY_KEY`` when set; else a random key kept in ``data_dir`` (shared by the
    processes of one machine: the demo, tests), created on first use; else, when that folder
    cannot be written, a key of this process alone (replays elsewhere then show no code).
    With it, whether other processes have it too (False: this process's own,
    which must not key anything another replica or a restart has to read back)."""
    if configured:
        return configured.encode(), True
    path = data_dir / _KEY_FILE
    try:
        return path.read_bytes().strip() or _new_key_file(path), True
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("cannot read %s (%s): replay key of this process only", path, exc)
        return secrets.token_bytes(32), False
    try:
        return _new_key_file(path), True
    except FileExistsError:
        return path.read_bytes().strip(), True
    except OSError as exc:
        log.warning("cannot write %s (%s): replay key of this process only", path, exc)
        return secrets.token_bytes(32), False


def _new_key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = base64.urlsafe_b64encode(secrets.token_bytes(32))
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    try:
        os.link(tmp, path)  # atomic, and fails when another process made it first
    finally:
        tmp.unlink()
    return key
