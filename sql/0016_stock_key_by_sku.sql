-- One index on stock instead of two: the primary key leads with the SKU.
--
-- Every read of `stock` names its SKUs: availability (sku = ANY, optionally with the stores
-- asked), the sync's read-before-write (the rows of a batch's SKUs), the pickup creation and its
-- guard (one store and SKU), the items without a description (a scan either way). None reads a
-- store's rows without SKUs. So (sku, store_id) serves them all, and the separate `stock_sku`
-- index only cost: a second btree insert per new row (the first full pass into an empty table
-- spent 13-20 us of PostgreSQL CPU per row maintaining both indexes) and index bytes (bench/
-- scale.py: 74.8 a row with both, 62-69 with this one).
-- ON CONFLICT (store_id, sku) still infers this key: arbiter inference compares column sets.
ALTER TABLE stock DROP CONSTRAINT stock_pkey;
ALTER TABLE stock ADD PRIMARY KEY (sku, store_id);
DROP INDEX stock_sku;
