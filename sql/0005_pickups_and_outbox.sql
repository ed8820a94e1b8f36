-- Pickups: e-reservations (held in store, paid there) and click-and-collect orders (paid online).
CREATE TABLE pickups (
    id                 uuid PRIMARY KEY,
    kind               text NOT NULL,
    state              text NOT NULL,
    store_id           text NOT NULL REFERENCES stores (store_id),
    customer           jsonb NOT NULL,
    ps_order_id        integer,
    ps_order_reference text,
    payment_status     text NOT NULL DEFAULT 'pending',
    currency           text NOT NULL DEFAULT 'EUR',
    code_hash          bytea NOT NULL,
    code_salt          bytea NOT NULL,
    code_failures      integer NOT NULL DEFAULT 0,
    code_locked_at     timestamptz,
    deadline           timestamptz NOT NULL,
    ready_by           timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    erp_document       jsonb,
    erp_acked_at       timestamptz,
    CONSTRAINT pickups_kind_check CHECK (kind IN ('reservation', 'order')),
    CONSTRAINT pickups_state_check
        CHECK (state IN ('confirmed', 'ready', 'collected', 'cancelled', 'expired', 'no_show')),
    CONSTRAINT pickups_payment_check CHECK (payment_status IN ('pending', 'paid')),
    CONSTRAINT pickups_ps_order_unique UNIQUE (ps_order_id)
);
CREATE INDEX pickups_store_state ON pickups (store_id, state, created_at, id);
CREATE INDEX pickups_open_deadline ON pickups (deadline) WHERE state IN ('confirmed', 'ready');

CREATE TABLE pickup_lines (
    pickup_id   uuid NOT NULL REFERENCES pickups (id),
    line_no     integer NOT NULL,
    sku         text NOT NULL,
    ean         text,
    quantity    integer NOT NULL,
    unit_price  numeric(12, 2),
    label       text NOT NULL DEFAULT '',
    PRIMARY KEY (pickup_id, line_no),
    CONSTRAINT pickup_lines_quantity_positive CHECK (quantity > 0),
    CONSTRAINT pickup_lines_price_non_negative CHECK (unit_price IS NULL OR unit_price >= 0)
);

ALTER TABLE stock_holds
    ADD CONSTRAINT stock_holds_pickup_fk FOREIGN KEY (pickup_id) REFERENCES pickups (id);

-- Every transition, who made it and when.
CREATE TABLE pickup_history (
    id          bigserial PRIMARY KEY,
    pickup_id   uuid NOT NULL REFERENCES pickups (id),
    from_state  text,
    to_state    text NOT NULL,
    event       text NOT NULL,
    actor_kind  text NOT NULL,
    actor_id    text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now(),
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT pickup_history_actor_check CHECK (actor_kind IN ('storefront', 'staff', 'system', 'admin'))
);
CREATE INDEX pickup_history_pickup ON pickup_history (pickup_id, id);

-- The outbox: written in the same transaction as the change it reports; posted to the ERP by
-- the relay in order per aggregate, at least once, made idempotent by the ERP reference.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    aggregate       text NOT NULL,
    aggregate_id    text NOT NULL,
    kind            text NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending',
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    result          jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz,
    CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'done', 'dead'))
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_aggregate ON outbox (aggregate, aggregate_id, id);
CREATE INDEX outbox_dead ON outbox (id) WHERE status = 'dead';

-- Idempotency keys of POST requests: same key and body replays the stored answer.
CREATE TABLE idempotency_keys (
    principal     text NOT NULL,
    key           text NOT NULL,
    operation     text NOT NULL,
    request_hash  bytea NOT NULL,
    status        integer,
    response      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
