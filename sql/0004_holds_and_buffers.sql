-- Buffers in tiers: a row with store_id and sku NULL is the global default; store only, SKU only,
-- or both narrow it. A NULL value means "not set at this tier" (the next tier decides).
CREATE TABLE stock_buffers (
    id            bigserial PRIMARY KEY,
    store_id      text,
    sku           text,
    safety_stock  integer,
    low_stock     integer,
    hide_below    integer,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stock_buffers_tier_unique UNIQUE NULLS NOT DISTINCT (store_id, sku),
    CONSTRAINT stock_buffers_non_negative CHECK (
        coalesce(safety_stock, 0) >= 0 AND coalesce(low_stock, 0) >= 0
        AND coalesce(hide_below, 0) >= 0)
);
INSERT INTO stock_buffers (store_id, sku, safety_stock, low_stock, hide_below)
VALUES (NULL, NULL, 0, 2, 1);

-- Units we hold for pickups. A hold counts against ERP stock until the ERP has booked its
-- document (erp_acked_at) AND a stock snapshot taken after that has been applied; released_at
-- ends it (collected, cancelled, expired, no-show).
CREATE TABLE stock_holds (
    id            bigserial PRIMARY KEY,
    pickup_id     uuid,
    store_id      text NOT NULL,
    sku           text NOT NULL,
    qty           integer NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    erp_acked_at  timestamptz,
    released_at   timestamptz,
    CONSTRAINT stock_holds_qty_positive CHECK (qty > 0)
);
CREATE INDEX stock_holds_open ON stock_holds (sku, store_id) WHERE released_at IS NULL;
CREATE INDEX stock_holds_pickup ON stock_holds (pickup_id);
