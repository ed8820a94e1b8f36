"""Loyalty balances: who a customer reference names, their cards as the ERP last reported them,
and the unified balance (ERP points - open redemption holds), per card, per program and in total.

Reads go memory (a short TTL per process) -> PostgreSQL (the last reading of any replica, within
the same TTL) -> the ERP (GetCustomerCards). Concurrent reads of one customer share one ERP call;
a read waits at most ``deadline_s`` for it, then answers from the last stored reading flagged
``stale`` (``source: fallback``) while the call goes on for later readers; with no reading at all,
503. Holds are never cached: they are read from PostgreSQL on every answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import asyncpg

from service.erp.lazy import ErpSource
from service.erp.port import ErpError
from service.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from service.usecases.clock import utcnow
from service.usecases.loyalty.model import CustomerRef, LoyaltySettings, Reading, balance_view
from service.usecases.single_flight import SingleFlight
from service.usecases.ttl_cache import TtlCache
from stores import loyalty as repo
from stores.loyalty import CardRow

_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# --------------------------------------------------------------------------- the reader
class LoyaltyReader:
    def __init__(
        self,
        pool: asyncpg.Pool,
        erp: ErpSource,
        settings: LoyaltySettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.pool, self.settings, self.clock = pool, settings, clock
        self.erp = erp  # the app's one client, built on first use (service.erp.lazy)
        self._readings: TtlCache[Reading] = TtlCache(settings.ttl_s)
        self._emails: TtlCache[list[str]] = TtlCache(settings.ttl_s)
        self._calls: SingleFlight[Reading] = SingleFlight()

    async def aclose(self) -> None:
        await self._calls.aclose()

    # ------------------------------------------------------------------ who
    async def resolve(self, ref: str) -> CustomerRef:
        """An ERP customer id, an e-mail (SearchCustomerIds) or a known loyalty card number."""
        ref = ref.strip()
        if "@" in ref:
            return await self._by_email(ref.lower())
        if not _REF.match(ref):
            raise InvalidInput(
                "the customer reference is neither an e-mail, a customer id nor a card number",
                [{"loc": ["path", "customer_ref"], "msg": "malformed", "type": "value_error"}],
            )
        async with self.pool.acquire() as conn:
            owner = await repo.card_owner(conn, ref)
            if owner is not None:
                return CustomerRef(owner, "card", ref)
            if await repo.account_exists(conn, ref):
                return CustomerRef(ref, "customer_id")
        try:
            customer = await (await self.erp()).customer(ref)
        except ErpError as exc:
            raise ServiceUnavailable(f"the ERP is unavailable: {exc}") from None
        if customer is None:
            raise NotFound(f"no customer or known loyalty card {ref!r}")
        async with self.pool.acquire() as conn:
            await repo.ensure_account(conn, ref, customer.email)
        return CustomerRef(ref, "customer_id")

    async def _by_email(self, email: str) -> CustomerRef:
        if not _EMAIL.match(email) or len(email) > 254:
            raise InvalidInput(
                "the e-mail is malformed",
                [{"loc": ["path", "customer_ref"], "msg": "not an e-mail", "type": "value_error"}],
            )
        ids = self._emails.get(email)
        if ids is None:
            try:
                ids = await (await self.erp()).find_customers_by_email(email, 5)
            except ErpError as exc:
                async with self.pool.acquire() as conn:
                    ids = await repo.customers_by_email(conn, email)
                if not ids:
                    raise ServiceUnavailable(f"the ERP is unavailable: {exc}") from None
            self._emails.put(email, ids)
        if not ids:
            raise NotFound(f"no customer with e-mail {email!r}")
        if len(ids) > 1:
            raise Conflict(f"{len(ids)} customers share e-mail {email!r}", candidates=ids)
        async with self.pool.acquire() as conn:
            await repo.ensure_account(conn, ids[0], email)
        return CustomerRef(ids[0], "email")

    # ------------------------------------------------------------------ readings
    async def read(self, customer_id: str) -> Reading:
        """The customer's cards: cached, stored or read now; the last stored when the ERP fails."""
        cached = self._readings.get(customer_id)
        if cached is not None:
            return replace(cached, source="cache")
        refresh = partial(self._refresh, customer_id)
        try:
            return await self._calls.run(customer_id, refresh, self.settings.deadline_s)
        except (ErpError, TimeoutError) as exc:
            async with self.pool.acquire() as conn:
                stored = await repo.snapshot(conn, customer_id)
            if stored is None:
                raise ServiceUnavailable(
                    f"the ERP is unavailable and no balance of {customer_id} is known: {exc}"
                ) from None
            return Reading(customer_id, stored.as_of, stored.cards, "fallback")

    async def _refresh(self, customer_id: str) -> Reading:
        now = self.clock()
        async with self.pool.acquire() as conn:
            stored = await repo.snapshot(conn, customer_id)
        if stored is not None and now - stored.as_of < timedelta(seconds=self.settings.ttl_s):
            reading = Reading(customer_id, stored.as_of, stored.cards, "cache")
        else:
            cards = await (await self.erp()).loyalty_cards(customer_id)
            rows = tuple(
                CardRow(c.card_id, c.program_id, c.program_label, c.active,
                        c.available_points, c.expires_on, c.store_id)
                for c in cards
            )  # fmt: skip
            async with self.pool.acquire() as conn, conn.transaction():
                await repo.save_snapshot(conn, customer_id, now, rows)
            reading = Reading(customer_id, now, rows, "erp")
        self._readings.put(customer_id, reading)
        return reading

    # ------------------------------------------------------------------ the answer
    async def balance(self, ref: str) -> dict[str, Any]:
        who = await self.resolve(ref)
        reading = await self.read(who.customer_id)
        async with self.pool.acquire() as conn:
            holds = await repo.open_holds(conn, who.customer_id, reading.as_of)
        return balance_view(who, reading, holds, self.settings, self.clock())
