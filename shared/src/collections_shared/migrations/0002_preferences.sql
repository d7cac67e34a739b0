-- Per-user preferences. No row means every default (GPS locations are not kept).
CREATE TABLE preferences (
    user_id    text PRIMARY KEY,
    keep_gps   boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE preferences ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON preferences
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON preferences TO collections_app;

-- Items with a stored location, per user: what the preferences page counts.
CREATE INDEX items_with_location ON items (user_id) WHERE gps_latitude IS NOT NULL;
