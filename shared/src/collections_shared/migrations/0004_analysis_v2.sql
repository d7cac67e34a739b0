-- Analysis schema v2: the seeds' screenshot fields, the owner's edits, and fallback provenance.
-- Every new column has a constant default, so adding it rewrites no row, and a v1 analysis reads
-- as a v2 one with the new fields empty.
ALTER TABLE analyses
    ADD COLUMN headline         text   NOT NULL DEFAULT '',
    ADD COLUMN subcategories    text[] NOT NULL DEFAULT '{}',
    ADD COLUMN text_lines       text[] NOT NULL DEFAULT '{}',
    ADD COLUMN places           text[] NOT NULL DEFAULT '{}',
    ADD COLUMN poster           text   NOT NULL DEFAULT '',
    ADD COLUMN accounts         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN hashtags         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN audio            text   NOT NULL DEFAULT '',
    ADD COLUMN themes           text[] NOT NULL DEFAULT '{}',
    ADD COLUMN emotions         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN vibes            text[] NOT NULL DEFAULT '{}',
    ADD COLUMN visual_hierarchy text[] NOT NULL DEFAULT '{}',
    ADD COLUMN key_interest     text   NOT NULL DEFAULT '',
    ADD COLUMN likely_source    text   NOT NULL DEFAULT '',
    -- Fields whose value the owner set (PATCH /items/{id}/analysis); an automatic re-analysis
    -- carries them over unless it was asked to replace them.
    ADD COLUMN user_fields      text[] NOT NULL DEFAULT '{}',
    -- The version a restore copied.
    ADD COLUMN restored_from    integer CHECK (restored_from >= 1),
    -- Providers that failed before the one that answered: [{provider, code, message}, ...].
    ADD COLUMN fallback         jsonb  NOT NULL DEFAULT '[]';

-- The keyword index reads the v2 fields too. Weights (compared on synthetic social-post
-- screenshots, docs/understanding.md): A for what names the item (headline, summary, category,
-- tags, objects, places, subcategories), B for what describes it (description, setting, the
-- visible text unstemmed, poster, accounts, hashtags, key interest), C for colours, themes,
-- vibes, emotions, audio and source. A generated column's expression cannot be altered before
-- PostgreSQL 17, so the column is dropped (with its index) and added again.
CREATE FUNCTION collections_analysis_tsv_v2(
    headline text, summary text, category text, tags text[], objects text[], places text[],
    subcategories text[], description text, setting text, key_interest text,
    visible_text text, poster text, accounts text[], hashtags text[],
    colors text[], themes text[], vibes text[], emotions text[], audio text, likely_source text
) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('english'::regconfig,
                headline || ' ' || summary || ' ' || category || ' '
                || array_to_string(tags, ' ') || ' ' || array_to_string(objects, ' ') || ' '
                || array_to_string(places, ' ') || ' ' || array_to_string(subcategories, ' ')),
                'A')
        -- Place names also unstemmed: "Gion" must not become "gion" stemmed away from a query.
        || setweight(to_tsvector('simple'::regconfig, array_to_string(places, ' ')), 'A')
        || setweight(to_tsvector('english'::regconfig,
                description || ' ' || setting || ' ' || key_interest), 'B')
        || setweight(to_tsvector('simple'::regconfig,
                visible_text || ' ' || poster || ' ' || array_to_string(accounts, ' ') || ' '
                || array_to_string(hashtags, ' ')), 'B')
        || setweight(to_tsvector('english'::regconfig,
                array_to_string(colors, ' ') || ' ' || array_to_string(themes, ' ') || ' '
                || array_to_string(vibes, ' ') || ' ' || array_to_string(emotions, ' ') || ' '
                || audio || ' ' || likely_source), 'C')
$$;

ALTER TABLE analyses DROP COLUMN search_vector;
ALTER TABLE analyses ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    collections_analysis_tsv_v2(
        headline, summary, category, tags, objects, places, subcategories, description, setting,
        key_interest, visible_text, poster, accounts, hashtags, colors, themes, vibes, emotions,
        audio, likely_source
    )
) STORED;
CREATE INDEX analyses_search_vector ON analyses USING gin (search_vector);
