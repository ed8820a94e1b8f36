"""``CegidErp``: the ERP port over Cegid Retail Y2 SOAP services (zeep AsyncClient + httpx).

Every call: ``clientContext``/``Context`` with our DatabaseId, bounded concurrency, a per-attempt
timeout, retries with exponential backoff and full jitter on transport errors, timeouts and 5xx
that are not SOAP faults (operations that are not idempotent only when the request was surely not
processed), and a circuit breaker per service that fails fast while open.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from service.erp.cegid import mapping, payloads, readers
from service.erp.cegid.config import CallHook, CegidConfig
from service.erp.cegid.faults import (
    classify,
    is_already_cancelled,
    is_duplicate_document,
    is_unknown_customer,
)
from service.erp.cegid.loader import Reader, ServiceHandle, load_services
from service.erp.cegid.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    backoff_delay,
    gather_all,
)
from service.erp.cegid.transport import CegidTransport, RequestNotSent, build_transport
from service.erp.cegid.xmlread import result
from service.erp.port import (
    CreateResult,
    Customer,
    DocumentInfo,
    DocumentKey,
    ErpAuthError,
    ErpBusinessError,
    ErpProtocolError,
    ErpUnavailable,
    FollowUpStatus,
    Item,
    ItemPage,
    LoyaltyCard,
    NewCustomer,
    PickupDocument,
    SaleDocument,
    SaleHeader,
    StockLine,
    StockPage,
    StorePrice,
)
from service.erp.wsdl import CUSTOMERS, INVENTORY, ITEMS, LOYALTY, PRICES, SALE_DOCUMENTS, SERVICES
from service.erp.wsdl import ServiceInfo as Svc

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ITEMS_PAGE = 1000
MAX_ID_PAGES = 10  # pages of one batch of ids: more means the ERP ignores the ids we send
_FAILURES = frozenset({"unavailable", "timeout", "protocol"})
_MAPPING_ERRORS = (AttributeError, TypeError, ValueError, ArithmeticError, KeyError)


def _void(root: Any) -> None:
    """The reader of void replies: nothing to read."""
    return None


def _map(fn: Callable[..., T], *args: Any) -> T:
    try:
        return fn(*args)
    except _MAPPING_ERRORS as exc:
        raise ErpProtocolError(f"unexpected reply shape: {exc!r}") from exc


def _reading(operation: str, fn: Callable[..., T], *args: Any) -> Reader:
    """A reader of ``operation``'s reply: ``fn(Result element, *args)``, shape errors mapped."""

    def read(root: Any) -> T:
        return _map(fn, result(root, operation), *args)

    return read


class CegidErp:
    """Implements ``service.erp.port.ErpPort``. Build it with ``await create(config)``."""

    def __init__(
        self,
        config: CegidConfig,
        transport: CegidTransport,
        services: dict[str, ServiceHandle],
        *,
        on_call: CallHook | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._config = config
        self._transport = transport
        self._services = services
        self._on_call = on_call
        self._rng = rng or random.Random()
        self._semaphore = asyncio.Semaphore(config.max_concurrency)
        self._attempt_timeout = config.timeout_s + config.connect_timeout_s
        self._tz = ZoneInfo(config.erp_timezone)
        self._breakers = {
            name: CircuitBreaker(config.circuit_failure_threshold, config.circuit_reset_s)
            for name in SERVICES
        }

    @classmethod
    async def create(cls, config: CegidConfig, *, on_call: CallHook | None = None) -> CegidErp:
        """Build the adapter; the WSDLs are loaded once, in a thread (zeep loads synchronously)."""
        transport = build_transport(config)
        try:
            services = await asyncio.to_thread(load_services, config, transport)
        except BaseException:
            await transport.aclose()
            raise
        return cls(config, transport, services, on_call=on_call)

    def circuit_states(self) -> dict[str, str]:
        """Circuit state per service: 'closed', 'open' or 'half_open' (for health and metrics)."""
        return {name: breaker.state for name, breaker in self._breakers.items()}

    # ------------------------------------------------------------------------ calling
    async def _call(
        self,
        svc: Svc,
        operation: str,
        params: dict[str, Any],
        *,
        idempotent: bool = True,
        read: Reader,
    ) -> Any:
        """What ``read`` makes of the operation's parsed reply envelope."""
        context = {"DatabaseId": self._config.database_id}
        params = {**params, svc.context_param_for(operation): context}
        attempt, auth_retried = 0, False
        while True:
            try:
                return await self._attempt(svc, operation, params, read)
            except ErpAuthError:
                if auth_retried:
                    raise
                auth_retried = True  # a stale CbrAuth cookie: drop it, authenticate again
                self._transport.client.cookies.clear()
            except ErpUnavailable as exc:
                retryable = idempotent or isinstance(exc, RequestNotSent)
                if isinstance(exc, CircuitOpenError) or not retryable:
                    raise
                if attempt >= self._config.retries:
                    raise
                delay = backoff_delay(
                    attempt, self._config.backoff_base_s, self._config.backoff_max_s, self._rng
                )
                log.warning("%s.%s failed (%s), retry in %.2fs", svc.name, operation, exc, delay)
                attempt += 1
                await asyncio.sleep(delay)

    async def _attempt(self, svc: Svc, operation: str, params: dict[str, Any], read: Reader) -> Any:
        breaker = self._breakers[svc.name]
        try:
            breaker.before_call(f"{svc.name}.{operation}")
        except CircuitOpenError:
            self._report(svc, operation, 0.0, "circuit_open")
            raise
        started = time.perf_counter()
        try:
            async with self._semaphore, asyncio.timeout(self._attempt_timeout):
                result = await self._services[svc.name].call(operation, params, read)
        except asyncio.CancelledError:
            breaker.record_abandoned()
            raise
        except Exception as exc:
            classified = classify(exc)
            if classified is None:
                breaker.record_abandoned()
                raise
            error, outcome = classified
            if outcome in _FAILURES:
                breaker.record_failure()
            else:
                breaker.record_success()
            self._report(svc, operation, time.perf_counter() - started, outcome)
            raise error from exc
        breaker.record_success()
        self._report(svc, operation, time.perf_counter() - started, "ok")
        return result

    def _report(self, svc: Svc, operation: str, seconds: float, outcome: str) -> None:
        if self._on_call is None:
            return
        try:
            self._on_call(svc.name, operation, seconds, outcome)
        except Exception:  # a metrics hook must never break an ERP call
            log.exception("on_call hook failed")

    # ------------------------------------------------------------------------ port
    async def hello(self, text: str = "omnistock") -> str:
        read = _reading("HelloWorld", mapping.text)
        text_: str = await self._call(INVENTORY, "HelloWorld", {"text": text}, read=read)
        return text_

    async def stock_page(
        self,
        page_index: int,
        page_size: int,
        *,
        store_ids: Sequence[str] | None = None,
        barcodes: Sequence[str] | None = None,
    ) -> StockPage:
        params = payloads.inventory_request(page_index, page_size, store_ids, barcodes)
        lines, item_count = await self._call(
            INVENTORY, "GetListItemInventoryDetailByStore", params, read=readers.stock_lines
        )
        return StockPage(tuple(lines), page_index, last_page=item_count < page_size)

    async def stock_for_items(
        self, barcodes: Sequence[str], store_ids: Sequence[str] | None = None
    ) -> list[StockLine]:
        unique = list(dict.fromkeys(b for b in barcodes if b))
        size = self._config.stock_batch_size
        batches = [unique[i : i + size] for i in range(0, len(unique), size)]
        pages = await gather_all(
            [self.stock_page(1, len(b), store_ids=store_ids, barcodes=b) for b in batches]
        )
        return [line for page in pages for line in page.lines]

    async def available_qty(self, barcode: str, store_id: str) -> int:
        params = {"itemIdentifier": payloads.item_identifier(barcode), "storeId": store_id}
        read = _reading("GetAvailableQty", mapping.available_qty)
        found: int = await self._call(INVENTORY, "GetAvailableQty", params, read=read)
        return found

    async def stock_by_store(self, barcode: str) -> dict[str, int]:
        """Available quantity of one item (EAN) in every store (GetInventoryDetailByStore)."""
        params = {"itemIdentifier": payloads.item_identifier(barcode)}
        found: dict[str, int] = await self._call(
            INVENTORY, "GetInventoryDetailByStore", params, read=readers.stock_by_store
        )
        return found

    async def items_page(self, page_index: int, page_size: int) -> ItemPage:
        if not 1 <= page_size <= MAX_ITEMS_PAGE:
            raise ValueError(f"page_size must be within 1..{MAX_ITEMS_PAGE}")
        params = payloads.items_request(page_index, page_size)
        read = _reading("GetListDetail", mapping.item_page, page_index, page_size)
        page: ItemPage = await self._call(ITEMS, "GetListDetail", params, read=read)
        return page

    async def items_by_ids(self, ids: Sequence[str]) -> list[Item]:
        """Items ``GetListDetail`` with ``Ids`` (at most 1000 a call, as the public client sends
        them), each batch paged until a page comes back shorter than its size."""
        unique = list(dict.fromkeys(i for i in ids if i))
        batches = [unique[i : i + MAX_ITEMS_PAGE] for i in range(0, len(unique), MAX_ITEMS_PAGE)]

        async def batch_items(batch: list[str]) -> list[Item]:
            found: list[Item] = []
            for page_index in range(1, MAX_ID_PAGES + 1):
                params = payloads.items_request(page_index, MAX_ITEMS_PAGE, batch)
                read = _reading("GetListDetail", mapping.item_page, page_index, MAX_ITEMS_PAGE)
                page: ItemPage = await self._call(ITEMS, "GetListDetail", params, read=read)
                found.extend(page.items)
                if page.last_page:
                    break
            return found

        pages: list[list[Item]] = await gather_all([batch_items(b) for b in batches])
        return [item for page in pages for item in page]

    async def store_prices(
        self, store_id: str, barcodes: Sequence[str], on: date | None = None
    ) -> list[StorePrice]:
        unique = list(dict.fromkeys(b for b in barcodes if b))
        size = self._config.price_batch_size
        read = _reading("GetListDetail", mapping.store_prices, store_id)
        calls = [
            self._call(
                PRICES, "GetListDetail", payloads.price_request(store_id, batch, on), read=read
            )
            for batch in (unique[i : i + size] for i in range(0, len(unique), size))
        ]
        results: list[list[StorePrice]] = await gather_all(calls)
        return [price for r in results for price in r]

    async def find_customers_by_email(self, email: str, limit: int = 5) -> list[str]:
        params = payloads.customer_search(email, limit)
        read = _reading("SearchCustomerIds", mapping.customer_ids)
        found: list[str] = await self._call(CUSTOMERS, "SearchCustomerIds", params, read=read)
        return found

    async def customer(self, customer_id: str) -> Customer | None:
        params = {"customerId": customer_id}
        read = _reading("GetCustomerDetail", mapping.customer)
        try:
            found: Customer | None = await self._call(
                CUSTOMERS, "GetCustomerDetail", params, read=read
            )
        except ErpBusinessError as exc:
            if is_unknown_customer(exc):
                return None
            raise
        return found

    async def search_customers(self, email: str, limit: int = 5) -> list[Customer]:
        params = payloads.customer_search(email, limit)
        read = _reading("SearchCustomerIds", mapping.customers, self._tz)
        found: list[Customer] = await self._call(CUSTOMERS, "SearchCustomerIds", params, read=read)
        return found

    async def add_customer(self, new: NewCustomer) -> str:
        """AddNewCustomer, never retried once sent (it is not idempotent): a lost answer is
        settled by the caller looking the e-mail up."""
        read = _reading("AddNewCustomer", mapping.text)
        params = payloads.customer_insert(new)
        customer_id: str = await self._call(
            CUSTOMERS, "AddNewCustomer", params, idempotent=False, read=read
        )
        if not customer_id:
            raise ErpProtocolError("AddNewCustomer answered no customer id")
        return customer_id

    async def update_customer(self, customer_id: str, changes: NewCustomer) -> None:
        read = _reading("UpdateCustomer", mapping.text)
        params = payloads.customer_update(customer_id, changes)
        await self._call(CUSTOMERS, "UpdateCustomer", params, read=read)

    async def customer_id_by_reference(self, reference: str) -> str:
        read = _reading("GetCustomerIdByReference", mapping.text)
        params = {"customerReference": reference}
        try:
            found: str = await self._call(CUSTOMERS, "GetCustomerIdByReference", params, read=read)
        except ErpBusinessError as exc:
            if is_unknown_customer(exc):
                return ""
            raise
        return found

    async def loyalty_cards(self, customer_id: str) -> list[LoyaltyCard]:
        params = {"customerCardsRequest": {"CustomerId": customer_id}}
        read = _reading("GetCustomerCards", mapping.loyalty_cards)
        cards: list[LoyaltyCard] = await self._call(LOYALTY, "GetCustomerCards", params, read=read)
        return cards

    async def customer_points(self, customer_id: str) -> Decimal:
        params = {"customerReference": customer_id}
        read = _reading("GetCustomerAvailableLoyaltyPoints", mapping.points)
        found: Decimal = await self._call(
            LOYALTY, "GetCustomerAvailableLoyaltyPoints", params, read=read
        )
        return found

    async def update_points(
        self,
        card_id: str,
        program_id: str,
        points: Decimal,
        *,
        store_id: str,
        comment: str,
        when: datetime,
    ) -> None:
        stamp = payloads.erp_datetime(when, self._tz)
        params = payloads.points_update(card_id, program_id, points, store_id, comment, stamp)
        read = _reading("UpdatePoints", mapping.text)
        await self._call(LOYALTY, "UpdatePoints", params, idempotent=False, read=read)

    async def create_pickup_document(self, doc: PickupDocument) -> CreateResult:
        operation, params = payloads.pickup_request(doc, self._tz, self._config.payment_method_id)
        read = _reading(operation, mapping.document_key)
        try:
            key: DocumentKey = await self._call(SALE_DOCUMENTS, operation, params, read=read)
        except ErpBusinessError as exc:
            if not is_duplicate_document(exc):
                raise
            existing = await self._find_created(doc)
            if existing is None:
                raise
            log.info("%s %s already in the ERP as %s", operation, doc.reference, existing.key)
            return CreateResult(existing.key, already_existed=True)
        return CreateResult(key, already_existed=False)

    async def _by_reference(self, reference: str, doc_type: str = "") -> DocumentInfo | None:
        """GetByReference; a fault ("Failed to identify document") is "not found"."""
        read = _reading("GetByReference", mapping.document)
        params = payloads.by_reference(reference, doc_type)
        try:
            found: DocumentInfo | None = await self._call(
                SALE_DOCUMENTS, "GetByReference", params, read=read
            )
        except ErpBusinessError as exc:
            log.info("GetByReference %s: %s (taken as not found)", reference, exc.message)
            return None
        return found

    async def _by_external_reference(
        self, reference: str, doc_type: str = ""
    ) -> list[DocumentInfo]:
        read = _reading("GetByExternalReference", mapping.documents)
        params = payloads.by_external_reference(reference, doc_type)
        try:
            found: list[DocumentInfo] = await self._call(
                SALE_DOCUMENTS, "GetByExternalReference", params, read=read
            )
        except ErpBusinessError as exc:
            log.info("GetByExternalReference %s: %s (taken as none)", reference, exc.message)
            return []
        return found

    async def _find_created(self, doc: PickupDocument) -> DocumentInfo | None:
        doc_type = payloads.document_type(doc)
        found = await self._by_reference(doc.reference, doc_type)
        if found is not None:
            return found
        external = doc.external_reference or doc.reference
        matches = await self._by_external_reference(external, doc_type)
        return next((d for d in matches if d.internal_reference == doc.reference), None)

    async def find_document(self, reference: str) -> DocumentInfo | None:
        found = await self._by_reference(reference)
        if found is not None:
            return found
        return next(iter(await self._by_external_reference(reference)), None)

    async def sale_headers(
        self,
        customer_id: str,
        *,
        document_types: Sequence[str],
        begin: datetime | None,
        end: datetime | None,
        page_index: int,
        page_size: int,
    ) -> list[SaleHeader]:
        params = payloads.header_list(
            customer_id,
            document_types,
            None if begin is None else payloads.erp_datetime(begin, self._tz),
            None if end is None else payloads.erp_datetime(end, self._tz),
            page_index,
            page_size,
        )
        read = _reading("GetHeaderList", mapping.sale_headers, self._tz)
        found: list[SaleHeader] = await self._call(
            SALE_DOCUMENTS, "GetHeaderList", params, read=read
        )
        return found

    async def sale_document(self, key: DocumentKey) -> SaleDocument | None:
        """GetByKey; a fault ("Failed to identify document") is "not found"."""
        read = _reading("GetByKey", mapping.sale_document, self._tz)
        try:
            found: SaleDocument | None = await self._call(
                SALE_DOCUMENTS, "GetByKey", payloads.by_key(key), read=read
            )
        except ErpBusinessError as exc:
            log.info("GetByKey %s: %s (taken as not found)", key, exc.message)
            return None
        return found

    async def set_follow_up_status(self, key: DocumentKey, status: FollowUpStatus) -> None:
        params = payloads.update_follow_up(key, status)
        await self._call(SALE_DOCUMENTS, "UpdateHeader", params, read=_void)

    async def cancel_document(self, key: DocumentKey, reason_id: str = "") -> None:
        """Cancel; a document Cegid already cancelled ("Order cancelled. No processing
        authorised") is done, not an error: the relay may post a cancel twice."""
        try:
            await self._call(SALE_DOCUMENTS, "Cancel", payloads.cancel(key, reason_id), read=_void)
        except ErpBusinessError as exc:
            if not is_already_cancelled(exc):
                raise
            log.info("Cancel %s: already cancelled in the ERP (%s)", key, exc.message)

    async def aclose(self) -> None:
        await self._transport.aclose()
