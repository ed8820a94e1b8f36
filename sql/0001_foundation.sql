-- API keys: only a SHA-256 of each key is kept; the key itself is shown once at creation.
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key_hash    bytea NOT NULL,
    prefix      text NOT NULL,
    role        text NOT NULL,
    stores      text[] NOT NULL DEFAULT '{}',
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CONSTRAINT api_keys_hash_unique UNIQUE (key_hash),
    CONSTRAINT api_keys_role_check CHECK (role IN ('storefront', 'staff', 'admin')),
    CONSTRAINT api_keys_staff_has_stores CHECK (role <> 'staff' OR cardinality(stores) > 0)
);
