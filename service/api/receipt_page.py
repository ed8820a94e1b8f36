"""The printable page of one receipt: self-contained HTML (inline CSS, no script, no external
asset), every value escaped."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

_TYPES = {"Receipt": "Ticket de caisse", "CustomerOrder": "Commande web"}
_CSS = """
body{font-family:Helvetica,Arial,sans-serif;color:#111;margin:0;background:#f4f4f4}
main{max-width:640px;margin:24px auto;background:#fff;padding:32px 36px;border:1px solid #ddd}
h1{font-size:20px;margin:0 0 4px}h2{font-size:14px;font-weight:normal;color:#555;margin:0}
.store{margin-bottom:20px}.meta{display:flex;justify-content:space-between;font-size:13px;
color:#333;border-top:1px dashed #999;border-bottom:1px dashed #999;padding:8px 0;margin:16px 0}
table{width:100%;border-collapse:collapse;font-size:13px}th{text-align:left;border-bottom:1px
solid #333;padding:6px 4px}td{padding:6px 4px;border-bottom:1px solid #eee;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}.sku{color:#777;font-size:11px}
.totals{margin-top:16px;font-size:14px}.totals div{display:flex;justify-content:space-between;
padding:2px 0}.grand{font-weight:bold;font-size:17px;border-top:1px solid #333;padding-top:6px}
.card,.stale{margin-top:18px;font-size:12px;padding:8px;border:1px solid #ccc}
.stale{border-color:#c60;color:#a40}footer{margin-top:24px;font-size:11px;color:#777;
text-align:center}@media print{body{background:#fff}main{border:0;margin:0}}
"""


def _money(amount: Any, currency: str) -> str:
    if amount is None:
        return ""
    return f"{escape(str(amount)).replace('.', ',')} {escape(currency)}"


def _when(value: Any, tz: ZoneInfo) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(str(value))
    return moment.astimezone(tz).strftime("%d/%m/%Y %H:%M")


def render_receipt(r: dict[str, Any], tz: ZoneInfo) -> str:
    """The page of a receipt as the JSON answer gives it (``model_dump(mode='json')``)."""
    store, currency = r["store"], r["currency"]
    rows = []
    for line in r["lines"]:
        keys = " · ".join(escape(str(v)) for v in (line.get("sku"), line.get("ean")) if v)
        rows.append(
            "<tr>"
            f"<td>{escape(line['label'])}<div class='sku'>{keys}</div></td>"
            f"<td class='n'>{escape(line['quantity'])}</td>"
            f"<td class='n'>{_money(line['net_unit_price'] or line['unit_price'], currency)}</td>"
            f"<td class='n'>{_money(line['amount'], currency)}</td>"
            "</tr>"
        )
    payments = "".join(
        f"<div><span>{escape(p['label'] or p['code'])}</span>"
        f"<span>{_money(p['amount'], p['currency'] or currency)}</span></div>"
        for p in r["payments"]
    )
    card = r.get("loyalty_card")
    card_html = (
        f"<div class='card'>Carte fidélité {escape(card['card_id'])} — "
        f"{escape(card['program_label'])}</div>"
        if card
        else ""
    )
    stale = (
        "<div class='stale'>Cegid est indisponible : document tel que lu le "
        f"{escape(_when(r['as_of'], tz))}.</div>"
        if r.get("stale")
        else ""
    )
    address = ", ".join(
        escape(x) for x in (store["address"], store["postcode"], store["city"]) if x
    )
    title = _TYPES.get(r["type"], r["type"])
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} {escape(r["key"])}</title>
<style>{_CSS}</style></head>
<body><main>
<div class="store"><h1>{escape(store["name"] or store["id"])}</h1><h2>{address}</h2></div>
<div class="meta"><span>{escape(title)} n° {escape(r["key"])}</span>
<span>{escape(_when(r["date"], tz))}</span></div>
<table><thead><tr><th>Article</th><th class="n">Qté</th><th class="n">Prix</th>
<th class="n">Montant</th></tr></thead><tbody>{"".join(rows)}</tbody></table>
<div class="totals">
<div><span>Total HT</span><span>{_money(r["total_excl_tax"], currency)}</span></div>
<div class="grand"><span>Total TTC</span><span>{_money(r["total_incl_tax"], currency)}</span></div>
{payments}</div>
{card_html}{stale}
<footer>Client {escape(r["customer_id"])} · {escape(r["total_quantity"])} article(s)</footer>
</main></body></html>
"""
