"""ItemInventoryWcfService operations: GetListItemInventoryDetailByStore (paged),
GetAvailableQty, GetInventoryDetailByStore."""

from __future__ import annotations

from typing import Any

from service.erp.simulator.opcontext import Handler, OpContext, hello_world
from service.erp.simulator.state import SimulatorState
from service.erp.simulator.xmlio import Markup, Node, SimFault, element, escape

MAX_PAGE_SIZE = 1000
NIL_SKUS = '<AvailableSkusQty i:nil="true"/>'
NIL_NAME = '<StoreName i:nil="true"/>'


def _item_of(state: SimulatorState, item_id: str, identifier: Node | None) -> int:
    ref = item_id or (identifier.text("Id") or identifier.text("Reference") if identifier else "")
    item = state.find_item(ref)
    if item is None:
        raise SimFault(f"The item '{ref}' does not exist", code="CBR_001_0005")
    return item


def _selected_items(state: SimulatorState, request: Node) -> list[int]:
    identifiers = request.child("ItemIdentifiers")
    if identifiers is None:
        return list(range(len(state.items)))
    found: dict[int, None] = {}
    for ident in identifiers.children("ItemIdentifier"):
        item = state.find_item(ident.text("Id") or ident.text("Reference"))
        if item is not None:
            found[item] = None
    return list(found)


def _store_row(
    state: SimulatorState, store: str, item: int, flags: tuple[bool, bool]
) -> dict[str, Any]:
    with_name, detail_sku = flags
    qty = state.available(store, item)
    row: dict[str, Any] = {"AvailableQuantity": qty, "StoreId": store}
    if with_name:
        row["StoreName"] = state.stores[store].name
    if detail_sku:
        record = state.items[item]
        dims = {"AvailableQty": qty, "Dimension1": record.size, "Dimension2": record.colour}
        row["AvailableSkusQty"] = {"AvailableSkuQty": [dims]}
    return row


def list_by_store(ctx: OpContext, request: Node) -> Any:
    """One page of items (1-based); each item lists the requested stores (all when none)."""
    state = ctx.state
    detail = request.child("inventoryStoreItemDetailRequest") or Node.empty()
    pager = detail.child("Pager")
    page_index = pager.int("PageIndex", 1) if pager else 1
    page_size = pager.int("PageSize", 100) if pager else 100
    if page_index < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise SimFault(f"Invalid pager: PageIndex >= 1 and 1 <= PageSize <= {MAX_PAGE_SIZE}")
    requested = detail.strings("StoreIds")
    stores = [s for s in requested if s in state.stores] if requested else list(state.stores)
    flags = (detail.bool("WithStoreName"), detail.bool("DetailSku"))
    only_available = detail.bool("OnlyAvailableStock")
    items = _selected_items(state, detail)
    if only_available:
        items = [i for i in items if any(state.available(s, i) > 0 for s in stores)]
    page = items[(page_index - 1) * page_size : page_index * page_size]
    if not flags[1]:
        return written_page(state, page, stores, flags[0], only_available)
    return page_rows(state, page, stores, flags, only_available)


def page_rows(
    state: SimulatorState, items: list[int], stores: list[str], flags: tuple[bool, bool], only: bool
) -> dict[str, Any]:
    """The Result of a page, for ``reply``: each item with its stores' quantities."""
    rows = []
    for item in items:
        per_store = [
            _store_row(state, store, item, flags)
            for store in stores
            if not only or state.available(store, item) > 0
        ]
        rows.append(
            {
                "ItemCode": state.items[item].item_id,
                "StoresAvailableQty": {"StoreAvailableQty": per_store},
            }
        )
    return {"InventoryDetailsByStore": {"AvailableQtyByItemByStore": rows}}


def written_page(
    state: SimulatorState, items: list[int], stores: list[str], with_name: bool, only: bool
) -> Markup:
    """``page_rows`` without DetailSku, written directly as XML: the bytes ``reply`` would write
    (tests/erp/test_simulator.py checks) about 20 times faster, so that the simulator keeps up
    with a full stock sync benchmark."""
    cells = []
    for store in stores:
        name = state.stores[store].name
        tail = f"<StoreName>{escape(name)}</StoreName>" if with_name else NIL_NAME
        tail = f"</AvailableQuantity>{NIL_SKUS}<StoreId>{escape(store)}</StoreId>{tail}"
        tail += "</StoreAvailableQty>"
        cells.append((state.stock[store], store, tail))
    head, reserved, rows = "<StoreAvailableQty><AvailableQuantity>", state.reserved, []
    for item in items:
        per_store = []
        for on_hand, store, tail in cells:
            qty = on_hand[item] - reserved.get((store, item), 0) if reserved else on_hand[item]
            if qty > 0 or not only:
                per_store.append(f"{head}{max(qty, 0)}{tail}")
        code = escape(state.items[item].item_id)
        stores_xml = element("StoresAvailableQty", "".join(per_store))
        rows.append(f"<AvailableQtyByItemByStore><ItemCode>{code}</ItemCode>{stores_xml}")
        rows.append("</AvailableQtyByItemByStore>")
    return Markup(element("InventoryDetailsByStore", "".join(rows)))


def available_qty(ctx: OpContext, request: Node) -> Any:
    state = ctx.state
    item = _item_of(state, request.text("itemId"), request.child("itemIdentifier"))
    store = request.text("storeId")
    warehouse = request.text("warehouseId")
    if store not in state.stores:
        return {"AvailableQty": 0, "QueryStatus": "StoreNotFound"}
    if warehouse and warehouse != store:
        return {"AvailableQty": 0, "QueryStatus": "IncorrectWarehouseId"}
    return {"AvailableQty": state.available(store, item), "QueryStatus": "Ok"}


def inventory_by_store(ctx: OpContext, request: Node) -> Any:
    state = ctx.state
    item = _item_of(state, request.text("itemId"), request.child("itemIdentifier"))
    rows = [
        {"AvailableQty": state.available(code, item), "StoreDescription": s.name, "StoreId": code}
        for code, s in state.stores.items()
    ]
    return {"AvailableQtyByStore": rows}


HANDLERS: dict[str, Handler] = {
    "HelloWorld": hello_world,
    "GetListItemInventoryDetailByStore": list_by_store,
    "GetAvailableQty": available_qty,
    "GetInventoryDetailByStore": inventory_by_store,
}
