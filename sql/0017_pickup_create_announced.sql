-- A pickup creation no longer NOTIFYs its SKUs inside its transaction (sql/0014 did): the
-- creating process drops them from its own cache once the creation has committed, and announces
-- them to the other replicas in batches, one NOTIFY for every change of a few milliseconds
-- (service/usecases/stock/announce.py, which says why and what it costs). PostgreSQL serialises
-- the commits of notifying transactions, so every creation waited for the one before it to
-- commit; and each listening connection was sent one message per creation.
--
-- The function is sql/0014's, word for word, less its last statement (the pg_notify).

CREATE OR REPLACE FUNCTION omnistock_create_pickup(
    p_guarded boolean,           -- true: optimistic (see above); false: locked
    p_id uuid,
    p_kind text,
    p_store_id text,
    p_customer jsonb,
    p_ps_order_id integer,
    p_ps_order_reference text,
    p_payment_status text,
    p_currency text,
    p_code_hash bytea,
    p_code_salt bytea,
    p_deadline timestamptz,
    p_ready_by timestamptz,
    p_at timestamptz,
    p_lines omnistock_pickup_line[],
    p_holds omnistock_pickup_hold[],
    p_seen_holds bigint[],       -- guarded: ids of the open holds on these rows, as read
    p_actor_kind text,
    p_actor_id text,
    p_actor_name text,           -- the person at the till, if named (pickup_history.actor_name)
    p_outbox jsonb,
    p_principal text,            -- the Idempotency-Key (NULL: none) ...
    p_key text,
    p_operation text,
    p_request_hash bytea,
    p_answer jsonb,              -- ... and the answer stored under it
    p_capacity integer,          -- the store's pickups a day at most; NULL: no cap
    p_day date,                  -- the store's local day of p_at
    p_day_start timestamptz,     -- and its bounds
    p_day_end timestamptz
) RETURNS text
LANGUAGE plpgsql
-- every statement below finds its rows by primary key or index equality, so one generic plan
-- per statement serves every call; without this, PostgreSQL may plan some of them anew each time
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    moved text;
    v_count integer;
BEGIN
    IF p_guarded THEN
        -- the check below relies on each statement seeing what committed before it began
        IF current_setting('transaction_isolation') <> 'read committed' THEN
            RAISE EXCEPTION 'omnistock_create_pickup needs READ COMMITTED, not %',
                current_setting('transaction_isolation')
                USING ERRCODE = 'feature_not_supported';
        END IF;
        IF p_key IS NOT NULL THEN
            INSERT INTO idempotency_keys (principal, key, operation, request_hash, status,
                                          response)
            VALUES (p_principal, p_key, p_operation, p_request_hash, 201, p_answer)
            ON CONFLICT (principal, key) DO NOTHING;
            IF NOT FOUND THEN
                RETURN 'replay';
            END IF;
        END IF;

        PERFORM FROM omnistock_lock_stock(p_store_id,
                                          ARRAY(SELECT w.sku FROM unnest(p_holds) AS w));

        -- scalar subqueries, one index probe per SKU whatever the plan (a join may scan the
        -- store); NOT IN (SELECT ...) is a hashed subplan: "<> ALL (array)" would compare every
        -- open hold with every seen one under a generic plan (23 ms against 1 ms with 3,000
        -- holds on a SKU)
        SELECT w.sku INTO moved
        FROM unnest(p_holds) AS w
        WHERE w.erp_available IS NULL
           OR (SELECT ROW(s.erp_available, s.as_of) FROM stock s
               WHERE s.store_id = p_store_id AND s.sku = w.sku)
              IS DISTINCT FROM ROW(w.erp_available, w.as_of)
           OR (SELECT coalesce(sum(h.qty), 0) FROM stock_holds h
               WHERE h.store_id = p_store_id AND h.sku = w.sku AND h.released_at IS NULL
                 AND h.id NOT IN (SELECT unnest(p_seen_holds))) > w.headroom
        LIMIT 1;
        IF moved IS NOT NULL THEN
            RAISE EXCEPTION
                'the stock of % at store % changed while the pickup was being created',
                moved, p_store_id
                USING ERRCODE = 'serialization_failure';
        END IF;
    ELSIF p_key IS NOT NULL THEN
        UPDATE idempotency_keys SET status = 201, response = p_answer
        WHERE principal = p_principal AND key = p_key;
    END IF;

    -- a capped store: count this creation on its day row, locked until commit (after the stock
    -- rows); over the capacity, everything is rolled back
    IF p_capacity IS NOT NULL THEN
        INSERT INTO pickup_day_counts AS c (store_id, day, created)
        VALUES (p_store_id, p_day,
                1 + (SELECT count(*) FROM pickups
                     WHERE store_id = p_store_id AND created_at >= p_day_start
                       AND created_at < p_day_end))
        ON CONFLICT (store_id, day) DO UPDATE SET created = c.created + 1
        RETURNING created INTO v_count;
        IF v_count > p_capacity THEN
            RAISE EXCEPTION 'store % takes no more pickups on % (capacity %)',
                p_store_id, p_day, p_capacity
                USING ERRCODE = 'OMCAP';
        END IF;
    END IF;

    INSERT INTO pickups (id, kind, state, store_id, customer, ps_order_id, ps_order_reference,
                         payment_status, currency, code_hash, code_salt, deadline, ready_by,
                         created_at, updated_at)
    VALUES (p_id, p_kind, 'confirmed', p_store_id, p_customer, p_ps_order_id,
            p_ps_order_reference, p_payment_status, p_currency, p_code_hash, p_code_salt,
            p_deadline, p_ready_by, p_at, p_at);
    INSERT INTO pickup_lines (pickup_id, line_no, sku, ean, quantity, unit_price, label)
    SELECT p_id, x.n, x.sku, x.ean, x.quantity, x.unit_price, x.label
    FROM unnest(p_lines) WITH ORDINALITY AS x (sku, ean, quantity, unit_price, label, n);
    INSERT INTO stock_holds (pickup_id, store_id, sku, qty, created_at)
    SELECT p_id, p_store_id, y.sku, y.qty, p_at FROM unnest(p_holds) AS y;
    INSERT INTO pickup_history (pickup_id, from_state, to_state, event, actor_kind, actor_id, at,
                                actor_name)
    VALUES (p_id, NULL, 'confirmed', 'create', p_actor_kind, p_actor_id, p_at, p_actor_name);
    INSERT INTO outbox (aggregate, aggregate_id, kind, payload)
    VALUES ('pickup', p_id::text, 'pickup.created', p_outbox);
    RETURN 'created';
END
$$;
