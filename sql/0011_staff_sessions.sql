-- Sessions of the staff pickup console (/staff/): a staff key signed in once on a store device.
-- The browser holds only a random session token (HttpOnly cookie); we keep its SHA-256. Shared by
-- every replica. A session ends at sign-out, after an idle delay, after a maximum age, or when
-- its key is revoked (the lookup joins the key, and revoking also ends the rows).
CREATE TABLE staff_sessions (
    token_hash   bytea PRIMARY KEY,
    key_id       uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    ended_at     timestamptz,
    CONSTRAINT staff_sessions_hash_length CHECK (octet_length(token_hash) = 32)
);
CREATE INDEX staff_sessions_key ON staff_sessions (key_id) WHERE ended_at IS NULL;
CREATE INDEX staff_sessions_last_seen ON staff_sessions (last_seen_at);
