"""Which Cegid customer a web shopper is: resolved by the relay on a pickup's first post.

The stored link (``customers``, by normalised e-mail), else ``SearchCustomerIds`` by e-mail (one
match: linked; several: the one the shopper's PrestaShop id is already linked to, else the most
recently updated, the ambiguity recorded), else ``AddNewCustomer`` (unless creation is off). Names
and phone that changed since the link was made are sent with ``UpdateCustomer``.

Exactly one Cegid customer per shopper: the resolution runs under a transaction-scoped advisory
lock on the e-mail (the relay's row transaction), so two relays resolving one e-mail take turns and
the second finds the first one's link. ``AddNewCustomer`` is never sent twice for one attempt: when
its answer is lost (the ERP dropped the connection, a timeout), the e-mail is looked up before
anything else, and a customer the ERP did create is linked, not created again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

from service.erp.port import (
    Customer,
    ErpBusinessError,
    ErpError,
    ErpPort,
    ErpUnavailable,
    NewCustomer,
)
from stores import customers as repo
from stores.customers import CustomerLink

log = logging.getLogger("omnistock.customers")
T = TypeVar("T")
SEARCH_LIMIT = 10


def normalise_email(value: object) -> str:
    return str(value or "").strip().lower()


@dataclass(frozen=True, slots=True)
class Resolved:
    customer_id: str  # '' when none (creation off, no e-mail, no default)
    how: str  # given | linked | found | ambiguous | created | refused | default | none


@dataclass(frozen=True, slots=True)
class Shopper:
    email: str
    first_name: str
    last_name: str
    phone: str
    ps_customer_id: int | None

    @classmethod
    def of(cls, customer: Mapping[str, Any]) -> Shopper:
        ps_id = customer.get("ps_customer_id")
        return cls(
            email=normalise_email(customer.get("email")),
            first_name=str(customer.get("first_name") or "").strip(),
            last_name=str(customer.get("last_name") or "").strip(),
            phone=str(customer.get("phone") or "").strip(),
            ps_customer_id=ps_id if isinstance(ps_id, int) and ps_id > 0 else None,
        )


async def _bounded(call: Awaitable[T], timeout_s: float) -> T:
    async with asyncio.timeout(timeout_s):
        return await call


def _most_recent(matches: Sequence[Customer]) -> Customer:
    """The most recently updated customer (one without a date counts as oldest), then the
    highest id: the same choice on every run."""
    return max(
        matches,
        key=lambda c: (c.updated_at.timestamp() if c.updated_at else float("-inf"), c.customer_id),
    )


async def _choose(
    conn: asyncpg.Connection, shopper: Shopper, matches: Sequence[Customer]
) -> tuple[Customer, str]:
    if len(matches) == 1:
        return matches[0], "found"
    if shopper.ps_customer_id is not None:
        ids = {c.customer_id: c for c in matches}
        for link in await repo.by_ps_customer(conn, shopper.ps_customer_id):
            if link.erp_customer_id in ids:
                return ids[link.erp_customer_id], "ambiguous"
    return _most_recent(matches), "ambiguous"


def _changes(shopper: Shopper, first: str, last: str, phone: str) -> NewCustomer | None:
    """The shopper's names and phone when one given differs from what Cegid was last told."""
    wanted = (shopper.first_name or first, shopper.last_name or last, shopper.phone or phone)
    if wanted == (first, last, phone):
        return None
    return NewCustomer(shopper.email, *wanted)


async def _update(erp: ErpPort, customer_id: str, changes: NewCustomer, timeout_s: float) -> bool:
    """UpdateCustomer; a refusal or an ERP outage is logged, never blocks the document."""
    try:
        await _bounded(erp.update_customer(customer_id, changes), timeout_s)
    except (ErpError, TimeoutError) as exc:
        log.warning(
            "UpdateCustomer %s failed, sent again with a later pickup: %s", customer_id, exc
        )
        return False
    return True


async def resolve_customer(
    conn: asyncpg.Connection,
    erp: ErpPort,
    customer: Mapping[str, Any],
    *,
    store_id: str,
    create: bool,
    default_customer_id: str = "",
    timeout_s: float = 60.0,
) -> Resolved:
    """The Cegid customer of a pickup's shopper (run inside the relay's row transaction)."""
    given = str(customer.get("erp_customer_id") or "").strip()
    shopper = Shopper.of(customer)
    if given:
        if shopper.email:  # remembered for the customer endpoints, unless already linked
            await _bounded(repo.lock(conn, shopper.email), timeout_s)
            if await repo.get(conn, shopper.email) is None:
                await _save(conn, shopper, given, store_id, "given", (), shopper)
        return Resolved(given, "given")
    if not shopper.email:
        return Resolved(default_customer_id, "default" if default_customer_id else "none")
    await _bounded(repo.lock(conn, shopper.email), timeout_s)
    link = await repo.get(conn, shopper.email)
    if link is not None:
        return Resolved(await _refresh(conn, erp, shopper, link, timeout_s), "linked")
    matches = await _bounded(erp.search_customers(shopper.email, SEARCH_LIMIT), timeout_s)
    how = ""
    if not matches:
        if not create:
            return Resolved(default_customer_id, "default" if default_customer_id else "none")
        try:
            created = await _create(erp, shopper, store_id, timeout_s)
        except ErpBusinessError as exc:  # e.g. no name: the document goes without a customer
            log.warning("AddNewCustomer %s refused: %s", shopper.email, exc.message)
            return Resolved(default_customer_id, "refused")
        if isinstance(created, str):
            await _save(conn, shopper, created, store_id, "created", (), shopper)
            return Resolved(created, "created")
        matches, how = created, "created"
    chosen, choice = await _choose(conn, shopper, matches)
    how = how or choice
    candidates = tuple(c.customer_id for c in matches) if len(matches) > 1 else ()
    if candidates:
        log.warning(
            "%d Cegid customers share e-mail %s: linked %s",
            len(matches),
            shopper.email,
            chosen.customer_id,
            extra={"customer_id": chosen.customer_id, "candidates": list(candidates)},
        )
        how = "ambiguous"
    known = Shopper(shopper.email, chosen.first_name, chosen.last_name, chosen.phone, None)
    changes = _changes(shopper, known.first_name, known.last_name, known.phone)
    if changes is not None and await _update(erp, chosen.customer_id, changes, timeout_s):
        known = Shopper(shopper.email, changes.first_name, changes.last_name, changes.phone, None)
    await _save(conn, shopper, chosen.customer_id, chosen.usual_store_id, how, candidates, known)
    return Resolved(chosen.customer_id, how)


async def _create(
    erp: ErpPort, shopper: Shopper, store_id: str, timeout_s: float
) -> str | list[Customer]:
    """AddNewCustomer: the new id; when its answer was lost, the customers the e-mail finds
    afterwards (the one the ERP did create), or the error again when it finds none."""
    new = NewCustomer(shopper.email, shopper.first_name, shopper.last_name, shopper.phone, store_id)
    try:
        return await _bounded(erp.add_customer(new), timeout_s)
    except (ErpUnavailable, TimeoutError) as exc:
        found = await _bounded(erp.search_customers(shopper.email, SEARCH_LIMIT), timeout_s)
        if not found:
            raise
        log.warning(
            "AddNewCustomer %s: answer lost (%s), the ERP has it: linked", shopper.email, exc
        )
        return found


async def _save(
    conn: asyncpg.Connection,
    shopper: Shopper,
    customer_id: str,
    usual_store_id: str,
    how: str,
    candidates: Sequence[str],
    known: Shopper,
) -> CustomerLink:
    return await repo.save(
        conn,
        email=shopper.email,
        ps_customer_id=shopper.ps_customer_id,
        erp_customer_id=customer_id,
        first_name=known.first_name,
        last_name=known.last_name,
        phone=known.phone,
        usual_store_id=usual_store_id,
        linked_by="found" if how == "linked" else how,
        candidates=candidates,
    )


async def _refresh(
    conn: asyncpg.Connection, erp: ErpPort, shopper: Shopper, link: CustomerLink, timeout_s: float
) -> str:
    """A linked shopper: changed names or phone sent to Cegid, the PrestaShop id recorded."""
    changes = _changes(shopper, link.first_name, link.last_name, link.phone)
    first, last, phone = link.first_name, link.last_name, link.phone
    if changes is not None and await _update(erp, link.erp_customer_id, changes, timeout_s):
        first, last, phone = changes.first_name, changes.last_name, changes.phone
    ps_changed = shopper.ps_customer_id not in (None, link.ps_customer_id)
    if (first, last, phone) != (link.first_name, link.last_name, link.phone) or ps_changed:
        await repo.update_details(conn, shopper.email, first, last, phone, shopper.ps_customer_id)
    return link.erp_customer_id
