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
