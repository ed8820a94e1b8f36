"""The active rule book, cached in process so pricing a basket never reads the rules.

Every ``refresh_s`` seconds (at most once, however many baskets are priced meanwhile), the cache
asks the database for the rules' signature, ``(count, max(updated_at))``; only when it changed
are the rules read again and the ``RuleBook`` rebuilt, and the in-process ``version`` goes up.
A write made through this process calls ``invalidate`` so the next basket sees it at once;
writes made by other processes are seen within ``refresh_s``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import asyncpg
from pydantic import ValidationError

from service.domain.errors import InvalidRule
from service.domain.promotions import Rule, RuleBook, validate_rule
from service.usecases.promotions.model import RuleEntry
from stores import promotions as repo
from stores.promotions import Signature, StoredRule

log = logging.getLogger("omnistock.promotions")
DEFAULT_REFRESH_S = 3.0


@dataclass(frozen=True, slots=True)
class LoadedRules:
    """Every stored rule, as the engine's ``RuleBook`` and as entered (by id)."""

    book: RuleBook
    entries: Mapping[str, RuleEntry]
    version: int
    signature: Signature
    unreadable: tuple[str, ...] = field(default=())


def _parse(stored: StoredRule) -> tuple[RuleEntry, Rule] | None:
    """A stored rule as entry and domain rule; None (logged) when it no longer validates."""
    try:
        entry = RuleEntry.model_validate({**stored.rule, "id": stored.rule_id})
        rule = entry.to_rule(entry.id)
        validate_rule(rule)
    except (ValidationError, InvalidRule) as exc:
        log.error(
            "unreadable promotion rule skipped", extra={"rule_id": stored.rule_id, "err": exc}
        )
        return None
    return entry, rule


def build_rules(stored: list[StoredRule], version: int) -> LoadedRules:
    parsed = {s.rule_id: _parse(s) for s in stored}
    good = {rule_id: pair for rule_id, pair in parsed.items() if pair is not None}
    return LoadedRules(
        book=RuleBook(rule for _, rule in good.values()),
        entries=MappingProxyType({rule_id: entry for rule_id, (entry, _) in good.items()}),
        version=version,
        signature=repo.signature_of(stored),
        unreadable=tuple(sorted(set(parsed) - set(good))),
    )


class RuleCache:
    """See the module docstring. One per process (the app holds it)."""

    def __init__(
        self, refresh_s: float = DEFAULT_REFRESH_S, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.refresh_s = refresh_s
        self._clock = clock
        self._loaded: LoadedRules | None = None
        self._generation = 0  # bumped by invalidate
        self._checked: tuple[float, int] = (0.0, -1)  # (when, generation) of the last check
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Check the signature on the next use (a rule was written through this process)."""
        self._generation += 1

    def _fresh(self) -> bool:
        when, generation = self._checked
        return (
            self._loaded is not None
            and generation == self._generation
            and self._clock() - when < self.refresh_s
        )

    async def current(self, pool: asyncpg.Pool) -> LoadedRules:
        """The rules, re-read only when their signature changed since the last check."""
        if self._fresh():
            assert self._loaded is not None
            return self._loaded
        async with self._lock:  # one check at a time; the others wait for its answer
            if not self._fresh():
                checked = (self._clock(), self._generation)
                async with pool.acquire() as conn:
                    self._loaded = await self._reload_if_changed(conn)
                self._checked = checked
        assert self._loaded is not None
        return self._loaded

    async def _reload_if_changed(self, conn: asyncpg.Connection) -> LoadedRules:
        loaded = self._loaded
        if loaded is not None and await repo.signature(conn) == loaded.signature:
            return loaded
        version = loaded.version + 1 if loaded else 1
        rules = build_rules(await repo.all_rules(conn), version)
        log.info(
            "promotion rules loaded",
            extra={"rules": len(rules.book), "version": version, "skipped": len(rules.unreadable)},
        )
        return rules
