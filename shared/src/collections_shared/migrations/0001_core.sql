-- Core schema: items, analyses, embeddings; row-level security on every tenant table.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'collections_app') THEN
        CREATE ROLE collections_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

CREATE TABLE items (
    id                    uuid PRIMARY KEY,
    user_id               text NOT NULL,
    status                text NOT NULL CHECK (status IN
                              ('pending', 'uploaded', 'processed', 'analyzed', 'searchable', 'failed')),
    failure_stage         text,
    failure_code          text,
    failure_message       text,
    filename              text NOT NULL DEFAULT '',
    declared_content_type text NOT NULL DEFAULT '',
    size_bytes            bigint,
    original_key          text NOT NULL,
    mime_type             text,
    width                 integer,
    height                integer,
    sha256                text,
    derivative_keys       jsonb NOT NULL DEFAULT '{}',
    taken_at              timestamptz,
    camera_make           text,
    camera_model          text,
    exif                  jsonb NOT NULL DEFAULT '{}',
    gps_latitude          double precision,
    gps_longitude         double precision,
    duplicate_of          uuid REFERENCES items (id) ON DELETE SET NULL,
    imported_analysis     jsonb,
    category              text,
    latest_analysis_id    uuid,
    correlation_id        text NOT NULL DEFAULT '',
    generation            integer NOT NULL DEFAULT 1,
    redrive_count         integer NOT NULL DEFAULT 0,
    idempotency_key       text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    status_changed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX items_user_created ON items (user_id, created_at DESC, id DESC);
CREATE INDEX items_user_status ON items (user_id, status);
CREATE INDEX items_user_category ON items (user_id, category);
CREATE UNIQUE INDEX items_user_sha256 ON items (user_id, sha256)
    WHERE sha256 IS NOT NULL AND duplicate_of IS NULL AND status <> 'failed';
CREATE UNIQUE INDEX items_user_idempotency ON items (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX items_unfinished ON items (status_changed_at)
    WHERE status NOT IN ('searchable', 'failed');

-- Weighted document for keyword search. Wrapped as IMMUTABLE so a generated column can use it:
-- to_tsvector(regconfig, text) is immutable; array_to_string is only marked stable because of
-- arbitrary element types, and is immutable for text[].
CREATE FUNCTION collections_analysis_tsv(
    summary text, description text, tags text[], objects text[], visible_text text,
    category text, setting text, colors text[]
) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('english'::regconfig,
                coalesce(summary, '') || ' ' || coalesce(category, '') || ' '
                || array_to_string(tags, ' ') || ' ' || array_to_string(objects, ' ')), 'A')
        || setweight(to_tsvector('english'::regconfig,
                coalesce(description, '') || ' ' || coalesce(setting, '')), 'B')
        || setweight(to_tsvector('simple'::regconfig, coalesce(visible_text, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, array_to_string(colors, ' ')), 'C')
$$;

CREATE TABLE analyses (
    id              uuid PRIMARY KEY,
    item_id         uuid NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    user_id         text NOT NULL,
    version         integer NOT NULL CHECK (version >= 1),
    source_event_id uuid NOT NULL,
    provider        text NOT NULL,
    model           text NOT NULL,
    prompt_version  text NOT NULL,
    category        text NOT NULL,
    summary         text NOT NULL,
    description     text NOT NULL,
    tags            text[] NOT NULL,
    objects         text[] NOT NULL,
    visible_text    text NOT NULL,
    colors          text[] NOT NULL,
    setting         text NOT NULL,
    data            jsonb NOT NULL,
    input_tokens    integer,
    output_tokens   integer,
    latency_ms      integer,
    created_at      timestamptz NOT NULL DEFAULT now(),
    search_vector   tsvector GENERATED ALWAYS AS (collections_analysis_tsv(
                        summary, description, tags, objects, visible_text, category, setting, colors
                    )) STORED,
    UNIQUE (item_id, version),
    UNIQUE (item_id, source_event_id)
);
CREATE INDEX analyses_search_vector ON analyses USING gin (search_vector);
CREATE INDEX analyses_user_item ON analyses (user_id, item_id, version DESC);

CREATE TABLE embeddings (
    id          uuid PRIMARY KEY,
    item_id     uuid NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    user_id     text NOT NULL,
    analysis_id uuid NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
    model       text NOT NULL,
    dimensions  integer NOT NULL,
    embedding   vector NOT NULL,
    document    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (item_id, model),
    CHECK (vector_dims(embedding) = dimensions)
);
-- One HNSW cosine index per dimension: a model change never needs a schema rebuild by hand.
CREATE INDEX embeddings_hnsw_384 ON embeddings
    USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE dimensions = 384;
CREATE INDEX embeddings_hnsw_1024 ON embeddings
    USING hnsw ((embedding::vector(1024)) vector_cosine_ops) WHERE dimensions = 1024;
CREATE INDEX embeddings_user_model ON embeddings (user_id, model);

-- Consumers record the events whose side effects are done, in the same transaction as the effect.
CREATE TABLE processed_events (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    user_id      text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

ALTER TABLE items ENABLE ROW LEVEL SECURITY;
ALTER TABLE analyses ENABLE ROW LEVEL SECURITY;
ALTER TABLE embeddings ENABLE ROW LEVEL SECURITY;
ALTER TABLE processed_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON items
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));
CREATE POLICY tenant_isolation ON analyses
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));
CREATE POLICY tenant_isolation ON embeddings
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));
CREATE POLICY tenant_isolation ON processed_events
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

-- Status changes are announced for the gateway's server-sent events.
CREATE FUNCTION collections_notify_item_status() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
        PERFORM pg_notify('item_status', json_build_object(
            'user_id', NEW.user_id, 'item_id', NEW.id, 'status', NEW.status,
            'failure_code', NEW.failure_code)::text);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER items_notify_status AFTER INSERT OR UPDATE OF status ON items
    FOR EACH ROW EXECUTE FUNCTION collections_notify_item_status();

-- The reconciler works across tenants; it gets exactly this view and nothing more.
CREATE FUNCTION collections_unfinished_items(older_than interval, max_rows integer)
RETURNS TABLE (user_id text, item_id uuid, status text, original_key text,
               correlation_id text, redrive_count integer, status_changed_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT user_id, id, status, original_key, correlation_id, redrive_count, status_changed_at
      FROM items
     WHERE status NOT IN ('searchable', 'failed')
       AND status_changed_at < now() - older_than
     ORDER BY status_changed_at
     LIMIT max_rows
$$;
REVOKE ALL ON FUNCTION collections_unfinished_items(interval, integer) FROM PUBLIC;

GRANT USAGE ON SCHEMA public TO collections_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON items, analyses, embeddings, processed_events
    TO collections_app;
GRANT EXECUTE ON FUNCTION collections_unfinished_items(interval, integer) TO collections_app;
