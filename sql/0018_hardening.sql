-- Pickups created per store and local day, for stores with a daily capacity. A creation at a
-- capped store increments its row in the creating transaction (ON CONFLICT DO UPDATE locks the
-- row until commit), so creations at that store take turns on it whatever SKUs they hold and
-- whichever replica serves them: the capacity holds exactly. A refused or failed creation rolls
-- its increment back. The first creation of a day counts the pickups already made that day.
CREATE TABLE pickup_day_counts (
    store_id text NOT NULL REFERENCES stores (store_id) ON DELETE CASCADE,
    day      date NOT NULL,
    created  integer NOT NULL,
    PRIMARY KEY (store_id, day)
);

-- Who did it, as a person: the name a staff till sends (X-Staff-Id), cleaned, beside the key id
-- (actor_id), which is recorded always and cannot be chosen by the caller.
ALTER TABLE pickup_history ADD COLUMN actor_name text NOT NULL DEFAULT '';

-- Stored creation answers held the pickup code in plain text; they now hold it sealed
-- (service/usecases/code_seal.py). Those stored before are scrubbed: a replay of one answers
-- with a null code, as for an order created before.
UPDATE idempotency_keys SET response = jsonb_set(response, '{pickup_code}', 'null')
WHERE operation = 'create_pickup' AND jsonb_typeof(response -> 'pickup_code') = 'string';
