-- Operations: the per-user rate limit and daily quotas every gateway task shares, the trace
-- context of each upload, and item counts by status for /metrics.
--
-- The services' role reads none of these tables directly: each is reached through one
-- SECURITY DEFINER function that does exactly one job for the user id it is given (the
-- reconciler's pattern in 0001). Row-level security is enabled all the same.

-- Rate limit: per user, the request counts of the current and the previous fixed window; the
-- sliding window is estimated from both (previous x the share of it still inside the window,
-- plus current). Written on every authenticated request, so UNLOGGED: no WAL and no fsync per
-- request. A PostgreSQL crash or fail-over empties it, which forgives at most one window.
CREATE UNLOGGED TABLE rate_limits (
    user_id        text PRIMARY KEY,
    window_start   bigint NOT NULL,
    previous_count integer NOT NULL DEFAULT 0,
    current_count  integer NOT NULL DEFAULT 0
);

-- Daily quotas: one row per user and quota, holding today's count (UTC). A new day overwrites
-- the old one, so rows do not pile up per day; the prune function removes idle ones.
CREATE TABLE usage_quotas (
    user_id text NOT NULL,
    quota   text NOT NULL,
    day     date NOT NULL,
    used    integer NOT NULL CHECK (used >= 0),
    PRIMARY KEY (user_id, quota)
);

ALTER TABLE rate_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_quotas ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rate_limits
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));
CREATE POLICY tenant_isolation ON usage_quotas
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

-- Admit up to requested_counts[i] requests of requested_users[i]: how many were admitted and, if
-- not all, in how many milliseconds one more would be. One call serves a whole batch of requests
-- (the gateway groups the requests that arrive while its previous call is in flight). Users are
-- locked in id order, so two concurrent batches cannot deadlock.
CREATE FUNCTION collections_take_requests(
    requested_users text[], requested_counts integer[], max_requests integer, window_seconds integer
) RETURNS TABLE (requester text, granted integer, retry_after_ms integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    wanted record;
    seen_window bigint;
    previous_n integer;
    current_n integer;
    now_s double precision;
    this_window bigint;
    elapsed double precision;
    estimate double precision;
    wait_s double precision;
BEGIN
    FOR wanted IN
        SELECT u.id, sum(u.n)::integer AS n
          FROM unnest(requested_users, requested_counts) AS u(id, n)
         GROUP BY u.id ORDER BY u.id
    LOOP
        INSERT INTO rate_limits AS r (user_id, window_start) VALUES (wanted.id, 0)
            ON CONFLICT (user_id) DO NOTHING;
        SELECT r.window_start, r.previous_count, r.current_count
          INTO seen_window, previous_n, current_n
          FROM rate_limits r WHERE r.user_id = wanted.id FOR UPDATE;
        -- Read the clock once the row is ours, so one user's windows only move forward.
        now_s := extract(epoch FROM clock_timestamp());
        this_window := floor(now_s / window_seconds)::bigint * window_seconds;
        IF seen_window = this_window - window_seconds THEN
            previous_n := current_n;
            current_n := 0;
        ELSIF seen_window <> this_window THEN
            previous_n := 0;
            current_n := 0;
        END IF;
        elapsed := (now_s - this_window) / window_seconds;
        estimate := previous_n * (1 - elapsed) + current_n;
        -- Request k (0-based) is admitted while estimate + k < max_requests.
        granted := greatest(0, least(wanted.n, ceil(max_requests - estimate)::integer));
        current_n := current_n + granted;
        UPDATE rate_limits r
           SET window_start = this_window, previous_count = previous_n, current_count = current_n
         WHERE r.user_id = wanted.id;
        retry_after_ms := 0;
        IF granted < wanted.n THEN
            IF current_n < max_requests THEN
                -- The previous window's share must shrink below what is left.
                wait_s := (1 - (max_requests - current_n)::double precision / previous_n - elapsed)
                          * window_seconds;
            ELSE
                -- This window is full: wait for it to end and its share to shrink enough.
                wait_s := (1 - elapsed) * window_seconds
                          + (1 - max_requests::double precision / current_n) * window_seconds;
            END IF;
            retry_after_ms := greatest(1, ceil(wait_s * 1000)::integer);
        END IF;
        requester := wanted.id;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Spend amount of today's (UTC) quota: the total used today afterwards, or NULL (and nothing
-- spent) if that would exceed daily_limit. One statement: concurrent spends cannot overshoot.
CREATE FUNCTION collections_spend_quota(
    spender text, quota_name text, amount integer, daily_limit integer
) RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO usage_quotas AS q (user_id, quota, day, used)
    SELECT spender, quota_name, (now() AT TIME ZONE 'UTC')::date, amount
     WHERE amount <= daily_limit
    ON CONFLICT (user_id, quota) DO UPDATE
       SET used = CASE WHEN q.day = EXCLUDED.day THEN q.used + EXCLUDED.used
                       ELSE EXCLUDED.used END,
           day = EXCLUDED.day
     WHERE (CASE WHEN q.day = EXCLUDED.day THEN q.used ELSE 0 END) + EXCLUDED.used <= daily_limit
    RETURNING q.used
$$;

-- Today's (UTC) count of one quota (0 when nothing was spent): for work checked before and
-- counted after it ran (a search that may or may not call an LLM).
CREATE FUNCTION collections_quota_used(spender text, quota_name text) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT coalesce((SELECT q.used FROM usage_quotas q
                      WHERE q.user_id = spender AND q.quota = quota_name
                        AND q.day = (now() AT TIME ZONE 'UTC')::date), 0)
$$;

-- Rows that no longer limit anyone: rate windows older than two windows, quotas of past days.
-- (DELETE /me leaves a user's counters to this: removing them would reset the day's quotas.)
CREATE FUNCTION collections_prune_limits(window_seconds integer) RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH rates AS (
        DELETE FROM rate_limits
         WHERE window_start < extract(epoch FROM now()) - 2 * window_seconds
        RETURNING 1
    ), quotas AS (
        DELETE FROM usage_quotas WHERE day < (now() AT TIME ZONE 'UTC')::date RETURNING 1
    )
    SELECT ((SELECT count(*) FROM rates) + (SELECT count(*) FROM quotas))::integer
$$;

-- Items per status over every tenant, for /metrics: counts only, no row leaves.
CREATE FUNCTION collections_items_by_status() RETURNS TABLE (status text, items bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT i.status, count(*) FROM items i GROUP BY i.status
$$;

REVOKE ALL ON FUNCTION collections_take_requests(text[], integer[], integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION collections_spend_quota(text, text, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION collections_quota_used(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION collections_prune_limits(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION collections_items_by_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION collections_take_requests(text[], integer[], integer, integer),
    collections_spend_quota(text, text, integer, integer), collections_quota_used(text, text),
    collections_prune_limits(integer), collections_items_by_status()
    TO collections_app;

-- The trace context (W3C traceparent) of the request that created an item: ingest continues
-- that trace when the object lands, as the events carry it between the later stages.
ALTER TABLE items ADD COLUMN traceparent text NOT NULL DEFAULT '';
