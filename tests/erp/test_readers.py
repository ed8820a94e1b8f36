"""The fast stock readers against a plain by-name reading: same replies, same port values; same
hostile-XML refusals.

``ServiceHandle.decode`` is the code path of every call: one strict parse, then a reader. The
fast stock readers (``readers``: an XSLT flattening, a tree walk) are checked against
``via_names``, an independent reading of the same bytes through ``xmlread.El`` (the way every
other reply is read). zeep was the reference before replies were all read by name: its
positional deserialiser dropped members that followed an unknown one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from html import escape
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.erp.cegid import mapping, readers
from service.erp.cegid.loader import LARGE_REPLY, ServiceHandle, load_services
from service.erp.cegid.transport import build_transport
from service.erp.cegid.xmlread import El, local, result
from service.erp.port import ErpBusinessError, ErpProtocolError, ErpUnavailable, StockLine
from service.erp.simulator import SimulatorState, generate
from service.erp.simulator.faults import malformed_payload, xml_bomb_payload, xxe_payload
from service.erp.simulator.opcontext import OpContext
from service.erp.simulator.ops_inventory import list_by_store
from service.erp.simulator.xmlio import Node, SimFault, cbr_fault, parse_safely, reply
from service.erp.wsdl import NS_ARRAYS, NS_RETAIL, NS_SOAP_ENV, NS_XSI
from service.erp.wsdl.contract import contracts
from tests.erp.conftest import Calls, make_config

LIST = "GetListItemInventoryDetailByStore"
BY_STORE = "GetInventoryDetailByStore"
NIL = object()  # a member written as <X i:nil="true"/>
Members = list[tuple[str, Any]]  # (member name, text | NIL | nested members | None: absent)


@pytest.fixture(scope="module")
def inventory() -> Iterator[ServiceHandle]:
    config = make_config("http://simulator.invalid")
    transport = build_transport(config)
    yield load_services(config, transport)["ItemInventoryWcfService"]
    transport.wsdl_client.close()  # the async client never opened a connection


def _names_reader(root: Any) -> tuple[list[StockLine], int]:
    res = result(root, LIST)
    wrapper = None if res is None else res.child("InventoryDetailsByStore")
    rows = [] if wrapper is None else [El(r) for r in wrapper.el if local(r.tag) == _ROW]
    lines = []
    for row in rows:
        sku = mapping.trim_item_id(row.text("ItemCode"))
        cells = row.child("StoresAvailableQty")
        # a nil cell reads as an empty one, as the fast readers read it
        for cell in [] if cells is None else [El(c) for c in cells.el if local(c.tag) == _CELL]:
            qty = cell.child("AvailableQuantity")
            lines.append(
                StockLine(
                    cell.text("StoreId"),
                    sku,
                    readers.quantity(None if qty is None else qty.el.text),
                    cell.text("StoreName"),
                )
            )
    return lines, len(rows)


_ROW, _CELL = "AvailableQtyByItemByStore", "StoreAvailableQty"


def via_zeep(handle: ServiceHandle, content: bytes, status: int = 200) -> tuple[Any, int]:
    """The reference reading: by name through ``xmlread.El`` (named after the zeep reading it
    replaced, which it agrees with on every reply zeep could read)."""
    lines, count = handle.decode(LIST, status, content, _names_reader)
    return lines, count


def via_fast(handle: ServiceHandle, content: bytes, status: int = 200) -> tuple[Any, int]:
    lines, count = handle.decode(LIST, status, content, readers.stock_lines)
    return lines, count


# ------------------------------------------------------------------------- reply builders
def _xml(members: Members) -> str:
    out = []
    for name, value in members:
        if value is None:
            continue
        if value is NIL:
            out.append(f'<{name} i:nil="true"/>')
        elif isinstance(value, list):
            out.append(f"<{name}>{_xml(value)}</{name}>")
        else:
            out.append(f"<{name}>{escape(str(value), quote=False)}</{name}>")
    return "".join(out)


def envelope(operation: str, result: Members | Any) -> bytes:
    if result is None:
        inner = ""
    elif result is NIL:
        inner = f'<{operation}Result i:nil="true"/>'
    else:
        inner = f"<{operation}Result>{_xml(result)}</{operation}Result>"
    return (
        f'<s:Envelope xmlns:s="{NS_SOAP_ENV}"><s:Body>'
        f'<{operation}Response xmlns="{NS_RETAIL}" xmlns:a="{NS_ARRAYS}" xmlns:i="{NS_XSI}">'
        f"{inner}</{operation}Response></s:Body></s:Envelope>"
    ).encode()


def store(qty: Any = "3", store_id: Any = "S001", name: Any = "Omnistock Paris") -> Members:
    return [("AvailableQuantity", qty), ("StoreId", store_id), ("StoreName", name)]


def item(code: Any, *stores: Any, wrapper: Any = "list") -> Members:
    array: Any = [("StoreAvailableQty", s) for s in stores] if wrapper == "list" else wrapper
    return [("ItemCode", code), ("StoresAvailableQty", array)]


def page(*items: Any, wrapper: Any = "list") -> bytes:
    rows: Any = [("AvailableQtyByItemByStore", i) for i in items] if wrapper == "list" else wrapper
    return envelope(LIST, [("InventoryDetailsByStore", rows)])


def expect_same(handle: ServiceHandle, content: bytes) -> tuple[list[StockLine], int]:
    """The flattening reader, the tree walk and zeep agree."""
    fast = via_fast(handle, content)
    assert fast == via_zeep(handle, content)
    assert fast == handle.decode(LIST, 200, content, readers.walk_stock_lines)
    return fast


# ------------------------------------------------------------------------- hand-written cases
CASES: dict[str, bytes] = {
    "padded ids": page(
        item("SKU123" + " " * 28 + "X", store()),
        item("  BOX  ", store()),
        item("TS001-M   ", store()),
        item("\n  EC00001-NOI-TU                    X\t", store()),
    ),
    "single item, single store": page(item("A", store())),
    "zero and decimal quantities": page(
        item("A", store("0"), store("0.0", "S002"), store("2.75", "S003"), store("-1.5", "S004")),
        item("B", store(" 4 "), store("1E+1", "S002"), store("-0", "S003"), store("+7", "S004")),
    ),
    "missing optional members": page(
        item("A", store(qty=None), store(store_id=None), store(name=None), [], wrapper="list"),
        item(None, store()),
        [("ItemCode", "NO-STORES")],
        [],
    ),
    "nil members": page(
        item("A", store(qty=NIL), store(store_id=NIL), store(name=NIL), NIL),
        item(NIL, store()),
        item("B", wrapper=NIL),
        NIL,
    ),
    "tabs and newlines in values": page(
        item("A\tB", store(name="Lyon\tPart-Dieu"), store(store_id="S\n2")),
        item("C\n0\tX", store()),
        item("D", store(name="Paris\r\nNord"), store(name="&#13;")),
    ),
    "store names": page(
        item("A", store(name="  Saint-Étienne & Fils <Centre>  "), store(name="")),
        item("B", store(name="Omnistock Lyon", store_id="  S002  ")),
    ),
    "empty arrays": page(item("A", wrapper=[])),
    "no rows": page(wrapper=[]),
    "nil rows": page(wrapper=NIL),
    "no InventoryDetailsByStore": envelope(LIST, []),
    "nil result": envelope(LIST, NIL),
    "no result": envelope(LIST, None),
    "unknown trailing members are ignored": page(
        [
            ("ItemCode", "A"),
            (
                "StoresAvailableQty",
                [
                    (
                        "StoreAvailableQty",
                        [
                            ("AvailableQuantity", "5"),
                            ("AvailableSkusQty", [("AvailableSkuQty", [("AvailableQty", "5")])]),
                            ("StoreId", "S001"),
                            ("StoreName", "P"),
                            ("StoreZone", "Nord"),
                        ],
                    )
                ],
            ),
            ("Weight", "1.5"),
        ]
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_reader_matches_zeep(case: str, inventory: ServiceHandle) -> None:
    lines, _ = expect_same(inventory, CASES[case])
    assert all(type(line) is StockLine for line in lines)


def test_hand_written_values(inventory: ServiceHandle) -> None:
    lines, _ = expect_same(inventory, CASES["padded ids"])
    assert [x.sku for x in lines] == ["SKU123", "BOX", "TS001-M", "EC00001-NOI-TU"]
    lines, _ = expect_same(inventory, CASES["zero and decimal quantities"])
    assert [x.available for x in lines] == [0, 0, 2, -1, 4, 10, 0, 7]
    lines, count = expect_same(inventory, CASES["missing optional members"])
    assert count == 4
    assert lines[:3] == [
        StockLine("S001", "A", 0, "Omnistock Paris"),
        StockLine("", "A", 3, "Omnistock Paris"),
        StockLine("S001", "A", 3, ""),
    ]
    lines, _ = expect_same(inventory, CASES["store names"])
    assert lines[0].store_name == "Saint-Étienne & Fils <Centre>"
    assert lines[2].store_id == "S002"
    assert expect_same(inventory, CASES["nil result"]) == ([], 0)


def test_members_after_an_unknown_one_are_kept(inventory: ServiceHandle) -> None:
    """WCF writes members in contract order, so a member a tenant adds can land in the middle:
    zeep's positional reading (strict=False) silently dropped the members after it; the fast
    reader and the by-name reading keep them."""
    members = [("AvailableQuantity", "3"), ("StoreId", "S1"), ("StoreCity", "Lyon")]
    content = page(item("A", [*members, ("StoreName", "N")]))
    assert via_fast(inventory, content) == ([StockLine("S1", "A", 3, "N")], 1)
    assert via_zeep(inventory, content) == ([StockLine("S1", "A", 3, "N")], 1)


def test_normal_pages_are_flattened_and_odd_ones_walked(
    inventory: ServiceHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked: list[int] = []
    walk = readers.walk_stock_lines

    def spy(root: Any) -> tuple[list[StockLine], int]:
        walked.append(1)
        return walk(root)

    monkeypatch.setattr(readers, "walk_stock_lines", spy)
    via_fast(inventory, CASES["zero and decimal quantities"])
    via_fast(inventory, CASES["missing optional members"])
    assert walked == []
    lines, count = via_fast(inventory, CASES["tabs and newlines in values"])
    assert walked == [1] and count == 3
    assert [x.sku for x in lines] == ["A\tB", "A\tB", "C\n0", "D", "D"]  # "\tX": the marker
    assert lines[0].store_name == "Lyon\tPart-Dieu" and lines[1].store_id == "S\n2"


def test_comments_and_processing_instructions_are_not_members(inventory: ServiceHandle) -> None:
    content = page(item("A", store())).replace(b"<StoreId>", b"<!-- x --><StoreId>S<!-- y -->")
    content = content.replace(b"S001", b"<?pi x?>0<?pi y?>01")
    assert expect_same(inventory, content)[0] == [StockLine("S001", "A", 3, "Omnistock Paris")]


# ------------------------------------------------------------------------- generated replies
_chars = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc", "Cn"), include_characters="\t\n\r"
)
_text = st.text(_chars, max_size=12)
_member_text = st.one_of(st.none(), st.just(NIL), _text.map(lambda t: f" {t} "))
_qty = st.one_of(
    st.none(),
    st.just(NIL),
    st.integers(-5, 10**12).map(str),
    st.decimals(-100, 100, places=3, allow_nan=False).map(str),
)
_store = st.builds(store, _qty, _member_text, _member_text)
_code = st.one_of(_member_text, _text.map(lambda t: f"{t.strip()}{' ' * 20}X"))
_item = st.builds(lambda code, stores: item(code, *stores), _code, st.lists(_store, max_size=4))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_item, max_size=6))
def test_generated_pages_match_zeep(inventory: ServiceHandle, items: list[Members]) -> None:
    expect_same(inventory, page(*items))


def test_simulator_pages_match_zeep_small_and_large(inventory: ServiceHandle) -> None:
    state = generate(seed=11, stores=12, products=400)
    state.reserved[("S002", 5)] = 10_000  # available floored at 0
    for size, detail in ((1, "false"), (7, "true"), (400, "false")):
        content = _simulated_page(state, size, detail)
        lines, count = expect_same(inventory, content)
        assert count == size and len(lines) == size * 12
    assert len(content) > LARGE_REPLY  # the size decoded in a worker thread


def _simulated_page(state: SimulatorState, size: int, detail_sku: str) -> bytes:
    request = parse_safely(
        f'<r xmlns="{NS_RETAIL}"><inventoryStoreItemDetailRequest><DetailSku>{detail_sku}'
        f"</DetailSku><Pager><PageIndex>1</PageIndex><PageSize>{size}</PageSize></Pager>"
        "<WithStoreName>true</WithStoreName></inventoryStoreItemDetailRequest></r>".encode()
    )
    ctx = OpContext(state, LIST, "DEMO", "DEMO\\u", "", datetime.now())
    return reply(contracts()["ItemInventoryWcfService"], LIST, list_by_store(ctx, Node(request)))


def test_stock_by_store_matches_zeep(inventory: ServiceHandle) -> None:
    def row(qty: Any, store_id: Any) -> tuple[str, Members]:
        members = [("AvailableQty", qty), ("StoreDescription", "x"), ("StoreId", store_id)]
        return ("AvailableQtyByStore", members)

    contents = [
        envelope(BY_STORE, [row("3", "S001"), row("0", " S002 "), row("2.5", "S003")]),
        envelope(BY_STORE, [row(None, "S001"), row(NIL, NIL)]),
        envelope(BY_STORE, [row("1", "S001")]),
        envelope(BY_STORE, []),
        envelope(BY_STORE, NIL),
    ]

    def by_names(root: Any) -> dict[str, int]:
        res = result(root, BY_STORE)
        rows = [] if res is None else res.children("AvailableQtyByStore")
        return {r.text("StoreId"): mapping.integer(r.text("AvailableQty")) for r in rows}

    for content in contents:
        fast = inventory.decode(BY_STORE, 200, content, readers.stock_by_store)
        assert fast == inventory.decode(BY_STORE, 200, content, by_names)
    assert inventory.decode(BY_STORE, 200, contents[0], readers.stock_by_store) == {
        "S001": 3,
        "S002": 0,
        "S003": 2,
    }


# ------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    "content",
    [
        malformed_payload(LIST),
        xml_bomb_payload(LIST),
        xxe_payload(LIST),
        page(item("A", store())) + b"<trailing/>",
        page(item("A", store()))[:-20],
        b"<html><body>maintenance</body></html>",
        b"",
    ],
    ids=["malformed", "bomb", "xxe", "two roots", "truncated", "html", "empty"],
)
def test_hostile_or_broken_replies_are_protocol_errors(
    content: bytes, inventory: ServiceHandle
) -> None:
    for read in (readers.stock_lines, _names_reader):
        with pytest.raises(ErpProtocolError) as caught:
            inventory.decode(LIST, 200, content, read)
        assert "root:" not in str(caught.value)


@pytest.mark.parametrize("qty", ["abc", "NaN", "Infinity", "1 2", " "])
def test_unreadable_quantity_is_a_protocol_error(qty: str, inventory: ServiceHandle) -> None:
    content = page(item("A", store(qty)))
    with pytest.raises(ErpProtocolError, match="quantity"):
        via_fast(inventory, content)
    with pytest.raises(ErpProtocolError):
        via_zeep(inventory, content)


def test_faults_are_classified_as_before(inventory: ServiceHandle) -> None:
    from service.erp.cegid.faults import classify

    fault = cbr_fault(SimFault("L'article est bloqué", code="CBR_001_0005"), LIST)
    for status in (500, 200):
        with pytest.raises(Exception) as caught:
            via_fast(inventory, fault, status)
        classified = classify(caught.value)  # type: ignore[arg-type]
        assert classified is not None
        error, outcome = classified
        assert isinstance(error, ErpBusinessError) and outcome == "fault"
        assert (error.message, error.code) == ("L'article est bloqué", "CBR_001_0005")
    with pytest.raises(ErpUnavailable):
        via_fast(inventory, b"<html>Server Error</html>", 500)


# ------------------------------------------------------------------------- through the adapter
async def test_adapter_stock_page_faults(sim_url: str, state: SimulatorState) -> None:
    from service.erp.cegid import create

    calls = Calls()
    erp = await create(make_config(sim_url, circuit_failure_threshold=10), on_call=calls)
    try:
        for kind in ("malformed", "xml_bomb", "xxe"):
            state.faults.add({"kind": kind, "operation": LIST, "count": 1})
            with pytest.raises(ErpProtocolError):
                await erp.stock_page(1, 5)
        state.faults.add({"kind": "soap_fault", "operation": LIST, "message": "Bloqué", "count": 1})
        with pytest.raises(ErpBusinessError, match=r"^Bloqué$"):
            await erp.stock_page(1, 5)
        state.faults.add({"kind": "http500", "operation": LIST, "count": 1})
        assert len((await erp.stock_page(1, 5)).lines) == 15  # retried once
    finally:
        await erp.aclose()
    assert calls.outcomes(LIST) == ["protocol"] * 3 + ["fault", "unavailable", "ok"]


def test_rows_in_another_namespace_are_walked_by_local_name(inventory: ServiceHandle) -> None:
    """A tenant whose serializer puts the page's members in another namespace: the stylesheet
    finds no row, the walk finds them all by local name."""
    content = page(item("A", store("3", "S1", "N")), item("B", store("2", "S2", "M")))
    moved = content.replace(
        b"<InventoryDetailsByStore>", b'<InventoryDetailsByStore xmlns="urn:x">'
    )
    assert via_fast(inventory, moved) == (
        [StockLine("S1", "A", 3, "N"), StockLine("S2", "B", 2, "M")],
        2,
    )
