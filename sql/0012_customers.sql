-- Web customers known to Cegid, and the customer documents (receipts, web orders) read from it.

-- One row per shopper (normalised e-mail: trimmed, lower case): the Cegid customer the relay
-- linked (found by SearchCustomerIds or created by AddNewCustomer) and the details last sent.
-- The relay resolves a shopper under an advisory lock on the e-mail: one Cegid customer each.
CREATE TABLE customers (
    email            text PRIMARY KEY,
    ps_customer_id   bigint,
    erp_customer_id  text NOT NULL,
    first_name       text NOT NULL DEFAULT '',
    last_name        text NOT NULL DEFAULT '',
    phone            text NOT NULL DEFAULT '',
    usual_store_id   text NOT NULL DEFAULT '',
    -- how the link was made: given (by the storefront), found (one e-mail match), ambiguous
    -- (several matches: ``candidates`` lists them), created (AddNewCustomer)
    linked_by        text NOT NULL,
    candidates       text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customers_email_normalised CHECK (email = lower(btrim(email)) AND email <> ''),
    CONSTRAINT customers_erp_id_not_blank CHECK (btrim(erp_customer_id) <> ''),
    CONSTRAINT customers_ps_id_positive CHECK (ps_customer_id IS NULL OR ps_customer_id > 0),
    CONSTRAINT customers_linked_by_check
        CHECK (linked_by IN ('given', 'found', 'ambiguous', 'created'))
);
CREATE INDEX customers_erp_customer ON customers (erp_customer_id);
CREATE INDEX customers_ps_customer ON customers (ps_customer_id) WHERE ps_customer_id IS NOT NULL;

-- A customer's sale documents as Cegid last listed them (GetHeaderList) and, once read, with
-- their lines (GetByKey): answered, flagged stale, when the ERP is down.
CREATE TABLE customer_documents (
    erp_customer_id  text NOT NULL,
    doc_key          text NOT NULL,            -- Type:Stump:Number
    doc_type         text NOT NULL,
    store_id         text NOT NULL DEFAULT '',
    doc_date         timestamptz,
    currency         text NOT NULL DEFAULT '',
    total_incl_tax   numeric(14, 2) NOT NULL DEFAULT 0,
    total_excl_tax   numeric(14, 2) NOT NULL DEFAULT 0,
    total_quantity   numeric(14, 3) NOT NULL DEFAULT 0,
    internal_reference text NOT NULL DEFAULT '',
    origin           text NOT NULL DEFAULT '',
    status           text NOT NULL DEFAULT '',
    detail           jsonb,                    -- lines and payments, once read (GetByKey)
    listed_at        timestamptz NOT NULL,     -- when a list last showed it
    detail_at        timestamptz,              -- when its lines were read
    PRIMARY KEY (erp_customer_id, doc_key)
);
CREATE INDEX customer_documents_newest ON customer_documents (erp_customer_id, doc_date DESC, doc_key DESC);

-- When a customer's document list was last read from Cegid, per date window.
CREATE TABLE customer_document_reads (
    erp_customer_id  text NOT NULL,
    window_key       text NOT NULL,            -- 'since|until' as asked ('' for open ends)
    as_of            timestamptz NOT NULL,
    PRIMARY KEY (erp_customer_id, window_key)
);
