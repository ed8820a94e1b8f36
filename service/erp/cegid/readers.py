"""Fast readers of the large stock replies: port values straight from the parsed envelope.

zeep deserialises a 500-item x 50-store ``GetListItemInventoryDetailByStore`` page at about 20k
rows/s. ``stock_lines`` reads the same page from the tree ``transport.check_reply`` already
parsed (the only parse) at about 330k rows/s on one core, parse included, and holds the GIL for
only about a third of that time. It gives the values a by-name reading gives
(tests/erp/test_readers.py compares the paths on the same replies): item ids trimmed, strings
stripped, a missing or nil member is "" or 0, a quantity is an ``xs:decimal`` truncated to an
int, a missing array is empty, unknown members are ignored. Members are found by name in any
order, so, unlike zeep, a member that follows an unknown one is not lost; a page whose rows are
not in the Retail namespace the stylesheet expects is walked by local names.
A quantity that is not a number raises ``ErpProtocolError``.
"""

from __future__ import annotations

import functools
import itertools
import threading
from decimal import Decimal

from lxml import etree

from service.erp.cegid.mapping import trim_item_id
from service.erp.cegid.xmlread import local, result
from service.erp.port import ErpProtocolError, StockLine
from service.erp.wsdl import NS_RETAIL, NS_SOAP_ENV

_ROW = "AvailableQtyByItemByStore"
_ITEM_CODE = "ItemCode"
_STORES = "StoresAvailableQty"
_STORE = "StoreAvailableQty"
_QUANTITY = "AvailableQuantity"
_STORE_ID = "StoreId"
_STORE_NAME = "StoreName"
_BY_STORE = "AvailableQtyByStore"
_LIST = "GetListItemInventoryDetailByStore"
_QTY = "AvailableQty"
# StockLine from a (store_id, sku, available, store_name) tuple without a Python-level call:
# the flattened path builds a million of them per full pass.
_line = functools.partial(tuple.__new__, StockLine)


def quantity(text: str | None) -> int:
    """An ``xs:decimal`` member as ``mapping`` reads it: ``int(Decimal(text))``, None is 0."""
    if text is None:
        return 0
    try:
        return int(text)  # the common case: an integer, no Decimal needed
    except ValueError:
        pass
    try:
        return int(Decimal(text.strip()))
    except (ArithmeticError, ValueError) as exc:  # InvalidOperation, NaN, Infinity
        raise ErpProtocolError(f"unexpected reply shape: quantity {text!r}") from exc


def _stripped(text: str | None) -> str:
    return "" if text is None else text.strip()


def stock_lines(root: etree._Element) -> tuple[list[StockLine], int]:
    """(lines, number of items in the page) of a GetListItemInventoryDetailByStore reply.

    libxslt flattens the page to tab-separated text without holding the GIL (walking a 25k-row
    tree through lxml proxies holds it about 2.5 times longer than building the lines from that
    text); the text is checked to have exactly the shape the stylesheet writes (a value holding
    a tab or a newline would break it) and, if it does not, ``walk_stock_lines`` reads the page.
    """
    text = str(_flattener()(root))
    lines = _flattened_lines(text)
    if lines is None or not lines[1]:  # odd values, or no row in the Retail namespace: walk
        return walk_stock_lines(root)
    return lines


_FLATTEN = f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:s="{NS_SOAP_ENV}" xmlns:r="{NS_RETAIL}">
  <xsl:output method="text" encoding="utf-8"/>
  <xsl:variable name="rows" select="/s:Envelope/s:Body/r:{_LIST}Response/r:{_LIST}Result
      /r:InventoryDetailsByStore/r:AvailableQtyByItemByStore"/>
  <xsl:template match="/">
    <xsl:value-of select="count($rows)"/>
    <xsl:for-each select="$rows">
      <xsl:variable name="stores" select="r:StoresAvailableQty/r:StoreAvailableQty"/>
      <xsl:text>&#10;</xsl:text>
      <xsl:value-of select="count($stores)"/>
      <xsl:text>&#9;</xsl:text>
      <xsl:value-of select="r:ItemCode"/>
      <xsl:for-each select="$stores">
        <xsl:text>&#9;</xsl:text>
        <xsl:value-of select="r:AvailableQuantity"/>
        <xsl:text>&#9;</xsl:text>
        <xsl:value-of select="r:StoreId"/>
        <xsl:text>&#9;</xsl:text>
        <xsl:value-of select="r:StoreName"/>
      </xsl:for-each>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>"""
_xslt = threading.local()  # compiled per thread, with that thread's parser dictionary


def _flattener() -> etree.XSLT:
    """'items' then one line per item: 'stores<TAB>ItemCode' and, per store, '<TAB>quantity
    <TAB>StoreId<TAB>StoreName' (string values: '' when missing or nil)."""
    flatten: etree.XSLT | None = getattr(_xslt, "flatten", None)
    if flatten is None:
        sheet = etree.fromstring(_FLATTEN.encode(), etree.XMLParser(resolve_entities=False))
        flatten = etree.XSLT(sheet, access_control=etree.XSLTAccessControl.DENY_ALL)
        _xslt.flatten = flatten
    return flatten


def _flattened_lines(text: str) -> tuple[list[StockLine], int] | None:
    """The lines of a flattened page, or None when the text does not have the expected shape.

    A value with a newline adds a line (the item count then differs); one with a tab adds a
    field (the line then has more than 2 + 3 x stores fields): nothing else can add either.
    """
    lines: list[StockLine] = []
    extend, strip = lines.extend, str.strip
    rows = text.split("\n")  # not splitlines(): a value may hold a lone CR
    count = rows[0]
    if not count.isdigit() or int(count) != len(rows) - 1:
        return None
    for row in itertools.islice(rows, 1, None):
        fields = row.split("\t")
        stores = fields[0]
        if not stores.isdigit() or len(fields) != 2 + 3 * int(stores):
            return None
        sku, quantities = trim_item_id(fields[1]), fields[2::3]
        try:
            available = list(map(int, quantities))
        except ValueError:  # a decimal, a missing or unreadable quantity
            available = [quantity(q or None) for q in quantities]
        ids, names = map(strip, fields[3::3]), map(strip, fields[4::3])
        extend(map(_line, zip(ids, itertools.repeat(sku), available, names)))
    return lines, len(rows) - 1


def walk_stock_lines(root: etree._Element) -> tuple[list[StockLine], int]:
    """``stock_lines`` by walking the tree (the fallback, and the reference of the tests).
    Members are matched by local name, whatever their namespace."""
    found = result(root, _LIST)
    rows = found.child("InventoryDetailsByStore") if found is not None else None
    lines: list[StockLine] = []
    if rows is None:
        return lines, 0
    append, count = lines.append, 0
    for row in rows.el:
        if local(row.tag) != _ROW:
            continue
        count += 1
        sku, stores = "", None
        for member in row:
            tag = local(member.tag)
            if tag == _ITEM_CODE:
                sku = trim_item_id(member.text)
            elif tag == _STORES:
                stores = member
        if stores is None:
            continue
        for store in stores:
            if local(store.tag) != _STORE:
                continue
            store_id = name = ""
            available = 0
            for field in store:
                tag = local(field.tag)
                if tag == _QUANTITY:
                    available = quantity(field.text)
                elif tag == _STORE_ID:
                    store_id = _stripped(field.text)
                elif tag == _STORE_NAME:
                    name = _stripped(field.text)
            append(StockLine(store_id, sku, available, name))
    return lines, count


def stock_by_store(root: etree._Element) -> dict[str, int]:
    """{store id: available quantity} of a GetInventoryDetailByStore reply."""
    found = result(root, "GetInventoryDetailByStore")
    rows = [] if found is None else found.children(_BY_STORE)
    return {row.text(_STORE_ID): quantity(row.text(_QTY) or None) for row in rows}
