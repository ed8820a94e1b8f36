"""The outbox: events written in the transaction of a change (events), posted by the relay to
the ERP, webhooks and PrestaShop (relay, notifications, prestashop_stock), operated (admin) and
purged (retention)."""
