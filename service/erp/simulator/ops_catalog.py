"""RetailSalesPriceEngine2Service and ProductMerchandiseItemsService ``GetListDetail`` (newer
style: ``Request`` and ``Context`` parameters)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from service.erp.simulator.opcontext import Handler, OpContext, hello_world
from service.erp.simulator.xmlio import Node, SimFault

MAX_IDS = 1000
_CENT = Decimal("0.01")


def _request(request: Node) -> Node:
    found = request.child("Request")
    if found is None:
        raise SimFault("Request is mandatory")
    return found


def price_list(ctx: OpContext, request: Node) -> Any:
    """Store prices of the given barcodes: base, current (after markdown), discount %."""
    query = _request(request)
    store = query.text("StoreId")
    if store not in ctx.state.stores and store not in ctx.state.web_store_ids:
        raise SimFault(f"The store '{store}' does not exist")
    barcodes = query.strings("Barcodes")
    if len(barcodes) > MAX_IDS:
        raise SimFault(f"At most {MAX_IDS} barcodes per call")
    prices = []
    for barcode in barcodes:
        item = ctx.state.ean_index.get(barcode)
        if item is None or store not in ctx.state.stores:
            continue
        base, current, reason = ctx.state.price(store, item)
        discount = ((base - current) * 100 / base).quantize(_CENT) if base else Decimal(0)
        unit = {
            "Base": base,
            "Current": current,
            "DiscountPercent": discount,
            "MarkdownReasonId": reason,
        }
        prices.append(
            {
                "Barcode": barcode,
                "ItemId": ctx.state.items[item].item_id,
                "PeriodId": "P-MD" if reason else "",
                "PriceListTypeId": "TTC",
                "UnitPrice": unit,
            }
        )
    return {"CurrencyId": ctx.state.currency, "Prices": {"Price": prices}}


def item_list(ctx: OpContext, request: Node) -> Any:
    """Items by barcodes or ids, or the whole catalogue page by page (1-based)."""
    query = _request(request)
    state = ctx.state
    wanted = query.strings("Barcodes") + query.strings("Ids")
    if len(wanted) > MAX_IDS:
        raise SimFault(f"At most {MAX_IDS} ids per call")
    if wanted:
        found = (state.find_item(ref) for ref in wanted)
        selected = list(dict.fromkeys(i for i in found if i is not None))
    elif state.lists_items_without_ids:
        selected = list(range(len(state.items)))
    else:
        selected = []
    paging = query.child("Paging")
    page_index = paging.int("PageIndex", 1) if paging else 1
    page_size = paging.int("PageSize", MAX_IDS) if paging else MAX_IDS
    if page_index < 1 or not 1 <= page_size <= MAX_IDS:
        raise SimFault(f"Invalid paging: PageIndex >= 1 and 1 <= PageSize <= {MAX_IDS}")
    start = (page_index - 1) * page_size
    items = [
        {
            "Closed": False,
            "Description": it.description,
            "Identification": {"Identifier": {"Barcode": it.ean or None, "Id": it.item_id}},
            "Status": "Active",
        }
        for it in (state.items[i] for i in selected[start : start + page_size])
    ]
    # Pagination/Count: the items of this page, as the public client reads it
    return {"MerchandiseItems": {"MerchandiseItem": items}, "Pagination": {"Count": len(items)}}


PRICE_HANDLERS: dict[str, Handler] = {"HelloWorld": hello_world, "GetListDetail": price_list}
ITEM_HANDLERS: dict[str, Handler] = {"HelloWorld": hello_world, "GetListDetail": item_list}
