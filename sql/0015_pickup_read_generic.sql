-- The optimistic pickup creation's read (stores/pickups.py, read_create) as a function, so that
-- PostgreSQL plans it once per connection.
--
-- Sent as a statement, the read (six subqueries) got a custom plan on every call: its generic
-- plan scanned the store's stock rows for "sku = ANY ($2)", so the plan cache judged it dearer
-- than planning anew, and planning cost more than running it (0.67 against 0.27 ms of
-- PostgreSQL CPU a call). Here each stock row is found by a primary-key probe per SKU (a scalar
-- subquery cannot become a scan of the store), and plan_cache_mode = force_generic_plan keeps
-- the one plan: the cost no longer depends on the store's size.
--
-- What it returns, one row in one snapshot and without a lock, is what the statement returned:
-- whether the Idempotency-Key is already stored, an existing pickup for the PrestaShop order
-- id, the store (NULLs when there is none), this store's stock rows of the SKUs (as_of as
-- stored and with the store's last check), their open holds with their ids, the SKU checks and
-- the buffer rows that can apply. The arrays' element types name the members the anonymous
-- rows had, in the same order.

CREATE TYPE omnistock_read_stock AS (
    sku            text,
    erp_available  integer,
    as_of          timestamptz,  -- as stored: what the guarded write compares
    checked_as_of  timestamptz   -- with the store's last check: what the decision uses
);

CREATE TYPE omnistock_read_hold AS (
    id            bigint,
    sku           text,
    qty           integer,
    erp_acked_at  timestamptz
);

CREATE TYPE omnistock_read_check AS (
    sku         text,
    checked_at  timestamptz
);

CREATE TYPE omnistock_read_buffer AS (
    store_id      text,
    sku           text,
    safety_stock  integer,
    low_stock     integer,
    hide_below    integer
);

CREATE FUNCTION omnistock_read_create(
    p_store_id text,
    p_skus text[],
    p_principal text,     -- the Idempotency-Key (NULL: none)
    p_key text,
    p_ps_order_id integer
) RETURNS TABLE (
    key_taken boolean,
    existing_order uuid,
    store_id text,
    timezone text,
    opening_hours text,          -- the JSON as text: parsed in Python only when it changed
    services text[],
    pickup_capacity_per_day integer,
    hold_hours integer,
    active boolean,
    rows omnistock_read_stock[],
    holds omnistock_read_hold[],
    checks omnistock_read_check[],
    buffers omnistock_read_buffer[]
)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT
        EXISTS (SELECT 1 FROM idempotency_keys k
                WHERE k.principal = p_principal AND k.key = p_key),
        (SELECT p.id FROM pickups p WHERE p.ps_order_id = p_ps_order_id),
        st.store_id, st.timezone, st.opening_hours::text, st.services, st.pickup_capacity_per_day,
        st.hold_hours, st.active,
        (SELECT array_agg(x.r) FROM (
            SELECT (SELECT ROW(s.sku, s.erp_available, s.as_of,
                               greatest(s.as_of, (SELECT sc.checked_at FROM stock_store_checks sc
                                                  WHERE sc.store_id = p_store_id))
                           )::omnistock_read_stock
                    FROM stock s WHERE s.store_id = p_store_id AND s.sku = w.sku) AS r
            FROM unnest(p_skus) AS w (sku)
         ) AS x WHERE NOT (x.r IS NULL)),
        (SELECT array_agg(ROW(h.id, h.sku, h.qty, h.erp_acked_at)::omnistock_read_hold)
         FROM stock_holds h
         WHERE h.store_id = p_store_id AND h.sku = ANY (p_skus) AND h.released_at IS NULL),
        (SELECT array_agg(ROW(c.sku, c.checked_at)::omnistock_read_check)
         FROM stock_sku_checks c WHERE c.sku = ANY (p_skus)),
        (SELECT array_agg(ROW(b.store_id, b.sku, b.safety_stock, b.low_stock,
                              b.hide_below)::omnistock_read_buffer)
         FROM stock_buffers b
         WHERE (b.store_id = p_store_id OR b.store_id IS NULL)
           AND (b.sku = ANY (p_skus) OR b.sku IS NULL))
    FROM (SELECT 1) AS one
    LEFT JOIN stores st ON st.store_id = p_store_id;
END
$$;
