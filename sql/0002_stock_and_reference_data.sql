-- Store directory. Cegid has no store-listing service: stores are ours, keyed by Cegid store code.
CREATE TABLE stores (
    store_id        text PRIMARY KEY,
    name            text NOT NULL DEFAULT '',
    address         text NOT NULL DEFAULT '',
    city            text NOT NULL DEFAULT '',
    postcode        text NOT NULL DEFAULT '',
    country         text NOT NULL DEFAULT 'FR',
    latitude        double precision,
    longitude       double precision,
    timezone        text NOT NULL DEFAULT 'Europe/Paris',
    opening_hours   jsonb NOT NULL DEFAULT '{}'::jsonb,
    services        text[] NOT NULL DEFAULT '{click_and_collect,reservation}',
    pickup_capacity_per_day integer,
    hold_hours      integer NOT NULL DEFAULT 48,
    warehouse_id    text NOT NULL DEFAULT '',
    active          boolean NOT NULL DEFAULT true,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stores_latitude_range CHECK (latitude BETWEEN -90 AND 90),
    CONSTRAINT stores_longitude_range CHECK (longitude BETWEEN -180 AND 180),
    CONSTRAINT stores_capacity_positive CHECK (pickup_capacity_per_day IS NULL OR pickup_capacity_per_day >= 0),
    CONSTRAINT stores_hold_hours_positive CHECK (hold_hours > 0)
);

-- Sellable variants (Cegid item id, trimmed) and their barcode and PrestaShop keys.
CREATE TABLE items (
    sku             text PRIMARY KEY,
    ean             text,
    description     text NOT NULL DEFAULT '',
    ps_product_id   integer,
    ps_attribute_id integer,
    ps_reference    text,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX items_ean ON items (ean) WHERE ean IS NOT NULL;
CREATE INDEX items_ps_key ON items (ps_product_id, ps_attribute_id) WHERE ps_product_id IS NOT NULL;
CREATE INDEX items_ps_reference ON items (ps_reference) WHERE ps_reference IS NOT NULL;

-- ERP stock snapshot: one row per store and SKU, written only when the value changes.
-- as_of is the ERP read time of the value; freshness of unchanged values is kept per store
-- (full passes) and per SKU (hot passes) below, so an unchanged row is never rewritten.
CREATE TABLE stock (
    store_id        text NOT NULL,
    sku             text NOT NULL,
    erp_available   integer NOT NULL,
    as_of           timestamptz NOT NULL,
    PRIMARY KEY (store_id, sku)
);
CREATE INDEX stock_sku ON stock (sku);

CREATE TABLE stock_store_checks (
    store_id        text PRIMARY KEY,
    checked_at      timestamptz NOT NULL
);

CREATE TABLE stock_sku_checks (
    sku             text PRIMARY KEY,
    checked_at      timestamptz NOT NULL
);

-- SKUs somebody looked at or held recently: pulled often by the hot pass.
CREATE TABLE hot_skus (
    sku             text PRIMARY KEY,
    wanted_at       timestamptz NOT NULL
);
CREATE INDEX hot_skus_wanted_at ON hot_skus (wanted_at DESC);

-- Store prices from Cegid's price engine: base vs current (a markdown when current < base).
CREATE TABLE store_prices (
    store_id        text NOT NULL,
    sku             text NOT NULL,
    barcode         text NOT NULL,
    currency        text NOT NULL,
    base_price      numeric(12, 2) NOT NULL,
    current_price   numeric(12, 2) NOT NULL,
    discount_percent numeric(7, 3) NOT NULL DEFAULT 0,
    markdown_reason text NOT NULL DEFAULT '',
    as_of           timestamptz NOT NULL,
    PRIMARY KEY (store_id, sku),
    CONSTRAINT store_prices_non_negative CHECK (base_price >= 0 AND current_price >= 0)
);

-- One row per sync job: when it last succeeded, what it did (for lag metrics and /v1 status).
CREATE TABLE sync_runs (
    job             text PRIMARY KEY,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    rows_seen       bigint NOT NULL,
    rows_changed    bigint NOT NULL,
    detail          jsonb NOT NULL DEFAULT '{}'::jsonb
);
