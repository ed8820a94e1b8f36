"""The catalogue omnistock keeps: the store directory (shops, their hours and services), item
identifiers (SKU, EAN, PrestaShop keys) and the files they are imported from."""
