-- Loyalty: the last points balance read from Cegid per customer, and redemption holds.

-- One row per ERP customer omnistock has met (confirmed by the ERP). Holds lock this row
-- (SELECT ... FOR UPDATE) so that two redemptions of one customer take turns: no double spending.
CREATE TABLE loyalty_accounts (
    customer_id text PRIMARY KEY,
    email       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT loyalty_accounts_id_not_blank CHECK (btrim(customer_id) <> '')
);
CREATE INDEX loyalty_accounts_email ON loyalty_accounts (lower(email));

-- The last ERP reading of a customer's cards (GetCustomerCards): served, flagged stale, when the
-- ERP is down. ``as_of`` is when that ERP call started; a reading never replaces a newer one.
CREATE TABLE loyalty_snapshots (
    customer_id text PRIMARY KEY REFERENCES loyalty_accounts (customer_id),
    as_of       timestamptz NOT NULL
);

CREATE TABLE loyalty_cards (
    card_id        text PRIMARY KEY,
    customer_id    text NOT NULL REFERENCES loyalty_accounts (customer_id),
    program_id     text NOT NULL,
    program_label  text NOT NULL DEFAULT '',
    active         boolean NOT NULL,
    points         numeric(14, 2) NOT NULL,
    expires_on     date,
    store_id       text NOT NULL DEFAULT '',
    as_of          timestamptz NOT NULL
);
CREATE INDEX loyalty_cards_customer ON loyalty_cards (customer_id);

-- Redemption holds: held (TTL) -> committed (posted to the ERP through the outbox as
-- UpdatePoints) | released | expired. A committed hold counts until the ERP acknowledged the
-- post AND a later reading of the card was taken. ``post_started_at`` is stamped (and committed)
-- before UpdatePoints is sent: UpdatePoints is not idempotent, so a hold whose post started but
-- was never acknowledged is never sent again without a person deciding (see the relay).
CREATE TABLE loyalty_holds (
    id               uuid PRIMARY KEY,
    customer_id      text NOT NULL REFERENCES loyalty_accounts (customer_id),
    card_id          text NOT NULL,
    program_id       text NOT NULL,
    points           integer NOT NULL,
    state            text NOT NULL DEFAULT 'held',
    reference        text NOT NULL DEFAULT '',
    store_id         text NOT NULL,
    created_by       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    committed_at     timestamptz,
    closed_at        timestamptz,
    post_started_at  timestamptz,
    erp_acked_at     timestamptz,
    CONSTRAINT loyalty_holds_points_positive CHECK (points > 0),
    CONSTRAINT loyalty_holds_state_check
        CHECK (state IN ('held', 'committed', 'released', 'expired')),
    CONSTRAINT loyalty_holds_acked_only_committed CHECK (erp_acked_at IS NULL OR state = 'committed')
);
CREATE INDEX loyalty_holds_open ON loyalty_holds (customer_id)
    WHERE state IN ('held', 'committed');
CREATE INDEX loyalty_holds_due ON loyalty_holds (expires_at) WHERE state = 'held';
