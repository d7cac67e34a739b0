-- Okapi BM25 for the keyword arm: per-tenant statistics kept inside the writing transaction.
--
-- A document is an item's latest analysis. Its terms are the lexemes of the analysis'
-- weighted tsvector (english and simple configurations, so a query tokenised the same way
-- matches stems and unstemmed visible text alike). A term's frequency counts each occurrence
-- by its tsvector weight: A 2, B 1, C 0.5, D 0.25 (BM25F-style field boosts; powers of two so
-- increments and decrements add up exactly and the stored statistics equal a recount).
-- A document's length is the sum of its weighted frequencies.
--
-- search_terms:      one row per (item, term) of the latest analysis only.
-- search_vocabulary: per tenant, how many documents hold each term (df).
-- search_stats:      per tenant, the number of documents and the sum of their lengths.
-- Triggers on items and analyses keep all three in step; rows are locked in a fixed order
-- (stats, then vocabulary by term) so concurrent writers of one tenant cannot deadlock.

CREATE TABLE search_terms (
    item_id     uuid NOT NULL,
    term        text NOT NULL,
    user_id     text NOT NULL,
    analysis_id uuid NOT NULL,
    tf          real NOT NULL CHECK (tf > 0),
    -- Denormalised so scoring reads nothing but this table's index.
    doc_length  real NOT NULL CHECK (doc_length > 0),
    PRIMARY KEY (item_id, term)
);
CREATE INDEX search_terms_user_term ON search_terms (user_id, term)
    INCLUDE (item_id, tf, doc_length);

CREATE TABLE search_vocabulary (
    user_id text NOT NULL,
    term    text NOT NULL,
    df      integer NOT NULL CHECK (df >= 0),
    PRIMARY KEY (user_id, term)
);
-- Prefix matching (term LIKE 'fuk%') needs byte order, whatever the database collation.
CREATE INDEX search_vocabulary_prefix ON search_vocabulary (user_id, term text_pattern_ops);
-- Typo tolerance (term % 'fukouka').
CREATE INDEX search_vocabulary_trgm ON search_vocabulary USING gin (term gin_trgm_ops);

CREATE TABLE search_stats (
    user_id      text PRIMARY KEY,
    docs         integer NOT NULL CHECK (docs >= 0),
    total_length double precision NOT NULL CHECK (total_length >= 0)
);

-- The weighted terms of one analysis.
CREATE FUNCTION collections_bm25_terms(analysis uuid)
RETURNS TABLE (term text, tf real)
LANGUAGE sql STABLE AS $$
    SELECT u.lexeme, sum(CASE w WHEN 'A' THEN 2 WHEN 'B' THEN 1 WHEN 'C' THEN 0.5 ELSE 0.25 END)
      FROM analyses a, unnest(a.search_vector) u, unnest(u.weights) w
     WHERE a.id = analysis
     GROUP BY u.lexeme
$$;

-- Take one item out of the statistics (idempotent: nothing indexed, nothing done).
CREATE FUNCTION collections_bm25_remove(item uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    tenant text;
    removed text[];
    doc_len double precision;
BEGIN
    SELECT min(t.user_id), array_agg(t.term ORDER BY t.term), sum(t.tf)
      INTO tenant, removed, doc_len
      FROM search_terms t WHERE t.item_id = item;
    IF tenant IS NULL THEN
        RETURN;
    END IF;
    UPDATE search_stats SET docs = docs - 1, total_length = total_length - doc_len
     WHERE user_id = tenant;
    DELETE FROM search_stats WHERE user_id = tenant AND docs = 0;
    UPDATE search_vocabulary v SET df = v.df - 1
      FROM (SELECT unnest(removed) AS term ORDER BY 1) r
     WHERE v.user_id = tenant AND v.term = r.term;
    DELETE FROM search_vocabulary WHERE user_id = tenant AND term = ANY(removed) AND df = 0;
    DELETE FROM search_terms WHERE item_id = item;
END
$$;

-- Put one item's analysis into the statistics, replacing what was there.
CREATE FUNCTION collections_bm25_index(item uuid, tenant text, analysis uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    doc_len double precision;
BEGIN
    PERFORM collections_bm25_remove(item);
    IF analysis IS NULL THEN
        RETURN;
    END IF;
    SELECT sum(d.tf) INTO doc_len FROM collections_bm25_terms(analysis) d;
    IF doc_len IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO search_stats AS s (user_id, docs, total_length) VALUES (tenant, 1, doc_len)
        ON CONFLICT (user_id) DO UPDATE
        SET docs = s.docs + 1, total_length = s.total_length + excluded.total_length;
    INSERT INTO search_terms (item_id, term, user_id, analysis_id, tf, doc_length)
        SELECT item, d.term, tenant, analysis, d.tf, doc_len FROM collections_bm25_terms(analysis) d;
    INSERT INTO search_vocabulary AS v (user_id, term, df)
        SELECT tenant, t.term, 1 FROM search_terms t WHERE t.item_id = item ORDER BY t.term
        ON CONFLICT (user_id, term) DO UPDATE SET df = v.df + 1;
END
$$;

CREATE FUNCTION collections_bm25_item_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM collections_bm25_remove(OLD.id);
        RETURN OLD;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.latest_analysis_id IS DISTINCT FROM OLD.latest_analysis_id THEN
        PERFORM collections_bm25_index(NEW.id, NEW.user_id, NEW.latest_analysis_id);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER items_bm25 AFTER INSERT OR DELETE OR UPDATE OF latest_analysis_id ON items
    FOR EACH ROW EXECUTE FUNCTION collections_bm25_item_changed();

-- An analysis edited in place, or deleted while still an item's latest, changes the document.
CREATE FUNCTION collections_bm25_analysis_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    item record;
BEGIN
    FOR item IN SELECT i.id, i.user_id FROM items i
                 WHERE i.id = OLD.item_id AND i.latest_analysis_id = OLD.id LOOP
        IF TG_OP = 'DELETE' THEN
            PERFORM collections_bm25_remove(item.id);
        ELSE
            PERFORM collections_bm25_index(item.id, item.user_id, NEW.id);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER analyses_bm25_update AFTER UPDATE ON analyses
    FOR EACH ROW WHEN (OLD.search_vector IS DISTINCT FROM NEW.search_vector)
    EXECUTE FUNCTION collections_bm25_analysis_changed();
CREATE TRIGGER analyses_bm25_delete AFTER DELETE ON analyses
    FOR EACH ROW EXECUTE FUNCTION collections_bm25_analysis_changed();

-- Backfill from every item's latest analysis.
INSERT INTO search_terms (item_id, term, user_id, analysis_id, tf, doc_length)
    SELECT i.id, d.term, i.user_id, i.latest_analysis_id, d.tf,
           sum(d.tf) OVER (PARTITION BY i.id)
      FROM items i
     CROSS JOIN LATERAL collections_bm25_terms(i.latest_analysis_id) d
     WHERE i.latest_analysis_id IS NOT NULL;
INSERT INTO search_vocabulary (user_id, term, df)
    SELECT user_id, term, count(*) FROM search_terms GROUP BY user_id, term;
INSERT INTO search_stats (user_id, docs, total_length)
    SELECT user_id, count(DISTINCT item_id), sum(tf) FROM search_terms GROUP BY user_id;

ALTER TABLE search_terms ENABLE ROW LEVEL SECURITY;
ALTER TABLE search_vocabulary ENABLE ROW LEVEL SECURITY;
ALTER TABLE search_stats ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON search_terms
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));
CREATE POLICY tenant_isolation ON search_vocabulary
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));
CREATE POLICY tenant_isolation ON search_stats
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON search_terms, search_vocabulary, search_stats
    TO collections_app;
