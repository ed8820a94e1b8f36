-- Store directory and PrestaShop item keys: the invariants omnistock owns.

-- Opening hours written by an early store upsert were double-encoded (a JSON string holding the
-- JSON object): decode them in place.
UPDATE stores SET opening_hours = (opening_hours #>> '{}')::jsonb
WHERE jsonb_typeof(opening_hours) = 'string';

ALTER TABLE stores
    ADD CONSTRAINT stores_services_known
        CHECK (services <@ ARRAY['click_and_collect', 'reservation']::text[]),
    ADD CONSTRAINT stores_opening_hours_object CHECK (jsonb_typeof(opening_hours) = 'object'),
    ADD CONSTRAINT stores_coordinates_paired CHECK ((latitude IS NULL) = (longitude IS NULL));

-- A PrestaShop key (id_product, id_product_attribute) names one sellable item; 0 = no combination.
ALTER TABLE items
    ADD CONSTRAINT items_ps_key_complete
        CHECK ((ps_product_id IS NULL) = (ps_attribute_id IS NULL)),
    ADD CONSTRAINT items_ps_key_range
        CHECK (ps_product_id IS NULL OR (ps_product_id >= 1 AND ps_attribute_id >= 0)),
    ADD CONSTRAINT items_ps_key_unique UNIQUE (ps_product_id, ps_attribute_id);

-- References are not unique in PrestaShop and compare trimmed and case-insensitively.
CREATE INDEX items_ps_reference_folded ON items (upper(btrim(ps_reference)))
    WHERE ps_reference IS NOT NULL;
