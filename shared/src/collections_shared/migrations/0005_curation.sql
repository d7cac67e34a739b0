-- Curation: favourites, albums, read-only album links, and the timeline's sort key.

-- A favourite is a timestamp, not a flag: when it was starred is worth keeping.
ALTER TABLE items ADD COLUMN favorited_at timestamptz;

-- The timeline sorts by when a photo was taken, else when it was uploaded (per tenant, so a
-- page is a range scan however many items the table holds).
CREATE INDEX items_user_taken ON items (user_id, (coalesce(taken_at, created_at)) DESC, id DESC);
CREATE INDEX items_user_favorite_taken ON items (user_id, (coalesce(taken_at, created_at)) DESC, id DESC)
    WHERE favorited_at IS NOT NULL;
CREATE INDEX items_user_favorite_created ON items (user_id, created_at DESC, id DESC)
    WHERE favorited_at IS NOT NULL;

CREATE TABLE albums (
    id            uuid PRIMARY KEY,
    user_id       text NOT NULL,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description   text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    cover_item_id uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX albums_user ON albums (user_id, created_at DESC);

-- Membership carries copies of the item's two sort keys so that an album page is one range
-- scan of this table (not a sort of every member); a trigger on items keeps taken_key current.
CREATE TABLE album_items (
    album_id     uuid NOT NULL REFERENCES albums (id) ON DELETE CASCADE,
    item_id      uuid NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    user_id      text NOT NULL,
    added_at     timestamptz NOT NULL DEFAULT now(),
    taken_key    timestamptz NOT NULL,
    uploaded_key timestamptz NOT NULL,
    PRIMARY KEY (album_id, item_id)
);
CREATE INDEX album_items_taken ON album_items (album_id, taken_key DESC, item_id DESC);
CREATE INDEX album_items_uploaded ON album_items (album_id, uploaded_key DESC, item_id DESC);
CREATE INDEX album_items_added ON album_items (album_id, added_at DESC);
CREATE INDEX album_items_item ON album_items (item_id);

-- Runs as the caller (ingest, in the owner's tenant transaction): RLS applies as to any write.
CREATE FUNCTION collections_album_items_taken_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE album_items SET taken_key = coalesce(NEW.taken_at, NEW.created_at)
     WHERE item_id = NEW.id;
    RETURN NEW;
END
$$;
CREATE TRIGGER items_album_taken_key AFTER UPDATE OF taken_at ON items
    FOR EACH ROW WHEN (OLD.taken_at IS DISTINCT FROM NEW.taken_at)
    EXECUTE FUNCTION collections_album_items_taken_key();

-- One live link per album. Only the SHA-256 of the token is stored: the database alone cannot
-- open an album. Revoking deletes the row; sharing again replaces the token.
CREATE TABLE album_shares (
    album_id         uuid PRIMARY KEY REFERENCES albums (id) ON DELETE CASCADE,
    user_id          text NOT NULL,
    token_hash       bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    include_analysis boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL
);

ALTER TABLE albums ENABLE ROW LEVEL SECURITY;
ALTER TABLE album_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE album_shares ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON albums
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));
CREATE POLICY tenant_isolation ON album_items
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));
CREATE POLICY tenant_isolation ON album_shares
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON albums, album_items, album_shares TO collections_app;

-- A visitor with a link has no tenant. These functions are all a link can read: the album's
-- name and description, and its current members that have derivatives, only while the link is
-- live. No user id, no original key, no EXIF or position; the latest analysis's summary and
-- tags only if the owner opted in.
CREATE FUNCTION collections_shared_album(token_hash bytea)
RETURNS TABLE (album_id uuid, name text, description text, expires_at timestamptz,
               include_analysis boolean, item_count bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT a.id, a.name, a.description, s.expires_at, s.include_analysis,
           (SELECT count(*) FROM album_items ai JOIN items i ON i.id = ai.item_id
             WHERE ai.album_id = a.id AND i.user_id = s.user_id
               AND i.derivative_keys ? 'thumbnail' AND i.derivative_keys ? 'preview')
      FROM album_shares s
      JOIN albums a ON a.id = s.album_id AND a.user_id = s.user_id
     WHERE s.token_hash = collections_shared_album.token_hash AND s.expires_at > now()
$$;

CREATE FUNCTION collections_shared_album_items(
    token_hash bytea, only_item uuid, after_key timestamptz, after_id uuid, max_rows integer
)
RETURNS TABLE (item_id uuid, taken_key timestamptz, thumbnail_key text, preview_key text,
               width integer, height integer, summary text, tags text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT ai.item_id, ai.taken_key,
           i.derivative_keys ->> 'thumbnail', i.derivative_keys ->> 'preview',
           i.width, i.height,
           CASE WHEN s.include_analysis THEN an.summary END,
           CASE WHEN s.include_analysis THEN an.tags END
      FROM album_shares s
      JOIN album_items ai ON ai.album_id = s.album_id AND ai.user_id = s.user_id
      JOIN items i ON i.id = ai.item_id AND i.user_id = s.user_id
      LEFT JOIN analyses an ON s.include_analysis AND an.id = i.latest_analysis_id
     WHERE s.token_hash = collections_shared_album_items.token_hash AND s.expires_at > now()
       AND i.derivative_keys ? 'thumbnail' AND i.derivative_keys ? 'preview'
       AND (only_item IS NULL OR ai.item_id = only_item)
       AND (after_key IS NULL OR (ai.taken_key, ai.item_id) < (after_key, after_id))
     ORDER BY ai.taken_key DESC, ai.item_id DESC
     LIMIT least(greatest(max_rows, 1), 100)
$$;
REVOKE ALL ON FUNCTION collections_shared_album(bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION collections_shared_album_items(bytea, uuid, timestamptz, uuid, integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION collections_shared_album(bytea) TO collections_app;
GRANT EXECUTE ON FUNCTION collections_shared_album_items(bytea, uuid, timestamptz, uuid, integer)
    TO collections_app;
