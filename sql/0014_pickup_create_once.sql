-- Pickup creation written once (service/usecases/pickups/create.py, stores/pickups.py).
--
-- Both creation paths now write through ONE function, omnistock_create_pickup, and lock the
-- stock rows through ONE function, omnistock_lock_stock:
-- - optimistic ("guarded", p_guarded = true): the caller read without a lock and decided ATP in
--   Python (service/domain/atp.py, the only place the formula lives), knowing each SKU's
--   "headroom": how many more held units the decision tolerates. In one implicit transaction,
--   the function
--     1. stores the Idempotency-Key with its answer (201); when the key is already taken
--        (another request with it committed meanwhile: the insert waits for it), returns
--        'replay' having written nothing, and the caller replays the stored answer;
--     2. locks the stock rows (omnistock_lock_stock);
--     3. in a NEW statement, hence a new snapshot that sees every transaction its lock waited
--        for, checks that nothing the decision rested on moved: each stock row still exists
--        with the same erp_available and as_of, and the open holds on it that the caller did
--        not see add up to no more than its headroom. Holds created since are counted whole,
--        whatever their ERP acknowledgement (counting a hold that no longer counts can only
--        refuse, never oversell). Otherwise it raises serialization_failure (SQLSTATE 40001):
--        everything is rolled back and the caller reads again. Released holds, later
--        acknowledgements and fresher store/SKU checks can only make more stock available, so
--        they are not reasons to read again;
-- - locked (p_guarded = false): the caller's transaction already claimed the key and locked the
--   rows (omnistock_lock_stock, in stores/pickups.py's _PREPARE), then read the holds and
--   decided: nothing can have moved, so steps 1 and 3 are skipped and the claimed key's row
--   gets the answer (201) instead.
-- Then, on both paths: a capped store counts this creation on its day row (sql/0013), locked
-- until commit and after the stock rows, so the capacity holds exactly (over it: SQLSTATE
-- OMCAP, everything rolled back); then the pickup, its lines, holds, first history row and
-- outbox row are written and the SKUs NOTIFYed.
--
-- The lines travel as one array of omnistock_pickup_line and the SKUs as one array of
-- omnistock_pickup_hold (what is held, and what the optimistic read saw): 30 parameters where
-- sql/0013's function took 38 and the locked path's statement 29 more.

CREATE TYPE omnistock_pickup_line AS (
    sku         text,
    ean         text,
    quantity    integer,
    unit_price  numeric,
    label       text
);

CREATE TYPE omnistock_pickup_hold AS (
    sku            text,         -- distinct within a call
    qty            integer,      -- units held
    erp_available  integer,      -- guarded: the stock row's erp_available as read (NULL: none)
    as_of          timestamptz,  -- guarded: its as_of as read
    headroom       integer       -- guarded: more held units the decision tolerates
);

-- The one place the stock lock order is written: this store's rows of the SKUs, one
-- primary-key probe per SKU (a generic plan of "sku = ANY (...)" may scan the store's rows), in
-- the order of the database's collation. Every creation locks through here, so two creations
-- never wait for each other in opposite orders (no deadlock). Returns the locked rows as they
-- are after the lock (FOR UPDATE reads the latest committed version).
CREATE FUNCTION omnistock_lock_stock(p_store_id text, p_skus text[])
RETURNS TABLE (sku text, erp_available integer, as_of timestamptz)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
    v_sku text;
BEGIN
    FOR v_sku IN SELECT DISTINCT x.sku FROM unnest(p_skus) AS x (sku) ORDER BY x.sku LOOP
        RETURN QUERY
            SELECT s.sku, s.erp_available, s.as_of FROM stock s
            WHERE s.store_id = p_store_id AND s.sku = v_sku
            FOR UPDATE;
    END LOOP;
END
$$;

DROP FUNCTION omnistock_create_pickup(
    uuid, text, text, jsonb, integer, text, text, text, bytea, bytea, timestamptz, timestamptz,
    timestamptz, text[], text[], integer[], numeric[], text[], text[], integer[], integer[],
    timestamptz[], integer[], bigint[], text, text, jsonb, text, text, text, text, bytea, jsonb,
    integer, date, timestamptz, timestamptz, text
);

CREATE FUNCTION omnistock_create_pickup(
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
    PERFORM pg_notify('omnistock_stock',
                      array_to_json(ARRAY(SELECT y.sku FROM unnest(p_holds) AS y))::text);
    RETURN 'created';
END
$$;
