-- Promotions: basket rules defined in omnistock, and the item categories rules may target.

-- One row per rule. ``rule`` holds the rule's fields as the admin API takes them (canonical JSON,
-- validated by service.domain.promotions before every write). Writers serialise on an advisory
-- lock and stamp ``updated_at`` with clock_timestamp() after taking it, so stamps follow commit
-- order: (count(*), max(updated_at)) then changes with every committed change, which is how
-- each API process notices that its cached rule book is out of date.
CREATE TABLE promotion_rules (
    rule_id     text PRIMARY KEY,
    rule        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT promotion_rules_id_not_blank CHECK (btrim(rule_id) <> ''),
    CONSTRAINT promotion_rules_rule_object CHECK (jsonb_typeof(rule) = 'object')
);

-- Cegid items carry no category we use: omnistock's own, set by the admin API or an import.
CREATE TABLE item_categories (
    sku         text NOT NULL REFERENCES items (sku) ON DELETE CASCADE,
    category    text NOT NULL,
    PRIMARY KEY (sku, category),
    CONSTRAINT item_categories_category_not_blank CHECK (btrim(category) <> '')
);
CREATE INDEX item_categories_category ON item_categories (category);
