"""Bounds that inputs must respect before they reach PostgreSQL."""

from __future__ import annotations

# PostgreSQL ``integer`` columns (PrestaShop's id_product, id_product_attribute and id_order are
# INT(10) UNSIGNED in MySQL, but no shop comes near 2^31): a larger value is refused with 422.
PG_INT_MAX = 2_147_483_647
