-- modelflags: the aggregate table from normalised events (DuckDB).
--
-- Input: the temporary table `ev`: the rows of `events` (duckdb_events.sql) of some units (the
-- events are aggregated in partitions of units, each on its own: a unit's statistics need only
-- its own events, and the partitions' tables add up by the merge rule). Parameters (DuckDB
-- variables): arms (VARCHAR[], the split's variations), log_gamma (ln γ of the latency
-- sketch). docs/aggregates.md is the contract; clickhouse.sql and
-- bigquery.sql compute the same table from an events table.
--
-- The statements run in order, each introduced by a `-- @name` line. Every unit is
-- aggregated once, in one pass over its events; duplicates (the same eventId read twice) are
-- found per unit afterwards, and only the units that had any are aggregated again, from
-- their de-duplicated events.

-- @units
-- Per unit: its exposures in the experiment (how many, which variations they assign, the
-- request-level sums), the reason of its earliest exposure, the segment of its earliest
-- exposure in the experiment, the config versions it ran under, its outcomes and the
-- variations they name, and its event ids (to find duplicates).
CREATE OR REPLACE TEMP TABLE units AS
SELECT
    u,
    count(err) AS n,
    min(av) FILTER (WHERE k = 4) AS av_lo,
    max(av) FILTER (WHERE k = 4) AS av_hi,
    substr(min(reason_key), 17) AS first_reason,
    substr(min(segment_key), 17) AS seg,
    max(ts) FILTER (WHERE k = 4) AS last_exposure,
    coalesce(sum(err), 0) AS err_s,
    coalesce(sum(fb), 0) AS fb_s,
    coalesce(sum(lat), 0) AS lat_s,
    count(lat) AS lat_c,
    coalesce(sum(cost), 0) AS cost_s,
    count(cost) AS cost_c,
    min(cv) AS cv_lo,
    max(cv) AS cv_hi,
    count(cv) AS exposures,
    count(*) FILTER (WHERE k = 6) AS outcomes,
    max(ts) FILTER (WHERE k = 6) AS last_outcome,
    list(av) FILTER (WHERE k = 6 AND av IS NOT NULL) AS named,
    list(h) AS ids
FROM ev
WHERE k >= 4
GROUP BY u;

-- @duplicates
-- Units that read an event more than once, and how many copies were extra.
CREATE OR REPLACE TEMP TABLE duplicated AS
SELECT u, len(ids) - len(list_distinct(ids)) AS extra
FROM units
WHERE len(ids) <> len(list_distinct(ids));

-- @deduplicate
-- Drop the extra copies (the first one read stays), then aggregate those units again.
DELETE FROM ev
WHERE rowid IN (
    SELECT rowid
    FROM ev
    WHERE k >= 4 AND u IN (SELECT u FROM duplicated)
    QUALIFY row_number() OVER (PARTITION BY h ORDER BY rowid) > 1
);
DELETE FROM units WHERE u IN (SELECT u FROM duplicated);
INSERT INTO units
SELECT
    u,
    count(err) AS n,
    min(av) FILTER (WHERE k = 4) AS av_lo,
    max(av) FILTER (WHERE k = 4) AS av_hi,
    substr(min(reason_key), 17) AS first_reason,
    substr(min(segment_key), 17) AS seg,
    max(ts) FILTER (WHERE k = 4) AS last_exposure,
    coalesce(sum(err), 0) AS err_s,
    coalesce(sum(fb), 0) AS fb_s,
    coalesce(sum(lat), 0) AS lat_s,
    count(lat) AS lat_c,
    coalesce(sum(cost), 0) AS cost_s,
    count(cost) AS cost_c,
    min(cv) AS cv_lo,
    max(cv) AS cv_hi,
    count(cv) AS exposures,
    count(*) FILTER (WHERE k = 6) AS outcomes,
    max(ts) FILTER (WHERE k = 6) AS last_outcome,
    list(av) FILTER (WHERE k = 6 AND av IS NOT NULL) AS named,
    list(h) AS ids
FROM ev
WHERE k >= 4 AND u IN (SELECT u FROM duplicated)
GROUP BY u;

-- @arm_units
-- Randomised units: exposures in the experiment that all assign one variation, one of the
-- split's arms (intent to treat: a fallback stays in its arm).
CREATE OR REPLACE TEMP TABLE arm_units AS
SELECT
    u,
    av_lo AS arm,
    seg,
    n,
    last_exposure,
    err_s,
    fb_s,
    lat_s,
    lat_c,
    cost_s,
    cost_c,
    outcomes,
    last_outcome,
    named
FROM units
WHERE n > 0 AND av_lo = av_hi AND list_contains(getvariable('arms'), av_lo);

-- @metric_units
-- Per unit and outcome metric: the maximum when every observation is a JSON boolean (did it
-- happen at all), else the sum (true = 1, false = 0); and how many observations were not
-- booleans. Values that are neither numbers nor booleans, or not finite, are no observation.
CREATE OR REPLACE TEMP TABLE metric_units AS
WITH observations AS (
    SELECT ev.u, j.key AS metric, json_type(j.value) AS t, j.value AS v
    FROM ev, json_each(ev.m) AS j
    WHERE ev.k = 6 AND ev.m IS NOT NULL
),
typed AS (
    SELECT
        u,
        metric,
        t = 'BOOLEAN' AS b,
        CASE
            WHEN t = 'BOOLEAN' THEN CAST(CAST(v AS BOOLEAN) AS DOUBLE)
            WHEN t IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST(v AS DOUBLE)
        END AS x
    FROM observations
)
SELECT
    u,
    metric,
    CASE WHEN bool_and(b) THEN max(x) ELSE sum(x) END AS unit_value,
    count(*) FILTER (WHERE NOT b) AS nonbinary
FROM typed
WHERE isfinite(x)
GROUP BY u, metric;

-- @rows
-- The aggregate table (docs/aggregates.md), without the `input` section: the reader counts
-- those.
WITH
arm AS (
    SELECT
        seg,
        arm,
        count(*) AS units,
        sum(n) AS exposures,
        sum(n * n) AS exposures_sq,
        count(*) FILTER (WHERE outcomes > 0) AS units_with_outcome,
        max(last_exposure) / 1000.0 AS last_exposure_s,
        max(last_outcome) / 1000.0 AS last_outcome_s,
        sum(err_s) AS err_sum,
        sum(err_s * err_s) AS err_sum_sq,
        sum(n * err_s) AS err_cross,
        sum(fb_s) AS fb_sum,
        sum(fb_s * fb_s) AS fb_sum_sq,
        sum(n * fb_s) AS fb_cross,
        sum(lat_s) AS lat_sum,
        sum(lat_s * lat_s) AS lat_sum_sq,
        sum(lat_c) AS lat_count,
        sum(lat_c * lat_c) AS lat_count_sq,
        sum(lat_s * lat_c) AS lat_cross,
        sum(cost_s) AS cost_sum,
        sum(cost_s * cost_s) AS cost_sum_sq,
        sum(cost_c) AS cost_count,
        sum(cost_c * cost_c) AS cost_count_sq,
        sum(cost_s * cost_c) AS cost_cross
    FROM arm_units
    GROUP BY seg, arm
),
arm_rows AS (
    SELECT seg, arm, unnest([
        {'metric': NULL, 'stat': 'units', 'value': units},
        {'metric': NULL, 'stat': 'exposures', 'value': exposures},
        {'metric': NULL, 'stat': 'exposures_sq', 'value': exposures_sq},
        {'metric': NULL, 'stat': 'units_with_outcome', 'value': units_with_outcome},
        {'metric': NULL, 'stat': 'last_exposure', 'value': last_exposure_s},
        {'metric': NULL, 'stat': 'last_outcome', 'value': last_outcome_s},
        {'metric': 'error', 'stat': 'sum', 'value': err_sum},
        {'metric': 'error', 'stat': 'sum_sq', 'value': err_sum_sq},
        {'metric': 'error', 'stat': 'count', 'value': exposures},
        {'metric': 'error', 'stat': 'count_sq', 'value': exposures_sq},
        {'metric': 'error', 'stat': 'cross', 'value': err_cross},
        {'metric': 'fallback', 'stat': 'sum', 'value': fb_sum},
        {'metric': 'fallback', 'stat': 'sum_sq', 'value': fb_sum_sq},
        {'metric': 'fallback', 'stat': 'count', 'value': exposures},
        {'metric': 'fallback', 'stat': 'count_sq', 'value': exposures_sq},
        {'metric': 'fallback', 'stat': 'cross', 'value': fb_cross},
        {'metric': 'latency_ms', 'stat': 'sum', 'value': lat_sum},
        {'metric': 'latency_ms', 'stat': 'sum_sq', 'value': lat_sum_sq},
        {'metric': 'latency_ms', 'stat': 'count', 'value': lat_count},
        {'metric': 'latency_ms', 'stat': 'count_sq', 'value': lat_count_sq},
        {'metric': 'latency_ms', 'stat': 'cross', 'value': lat_cross},
        {'metric': 'cost', 'stat': 'sum', 'value': cost_sum},
        {'metric': 'cost', 'stat': 'sum_sq', 'value': cost_sum_sq},
        {'metric': 'cost', 'stat': 'count', 'value': cost_count},
        {'metric': 'cost', 'stat': 'count_sq', 'value': cost_count_sq},
        {'metric': 'cost', 'stat': 'cross', 'value': cost_cross}
    ]) AS s
    FROM arm
),
arm_metrics AS (
    SELECT
        a.seg,
        a.arm,
        m.metric,
        sum(m.unit_value) AS total,
        sum(m.unit_value * m.unit_value) AS total_sq,
        count(*) AS units,
        sum(m.nonbinary) AS observations_nonbinary
    FROM metric_units AS m
    JOIN arm_units AS a USING (u)
    GROUP BY a.seg, a.arm, m.metric
),
sketch AS (
    SELECT
        a.seg,
        a.arm,
        CASE
            WHEN e.lat <= 0 THEN 'zero'
            ELSE 'b' || CAST(ceil(ln(e.lat) / getvariable('log_gamma')) AS BIGINT)
        END AS bucket,
        count(*) AS n
    FROM ev AS e
    JOIN arm_units AS a USING (u)
    WHERE e.k = 4 AND e.lat IS NOT NULL
    GROUP BY ALL
),
population AS (
    SELECT 'reason:' || first_reason AS stat, count(*) AS value
    FROM units
    WHERE n = 0 AND exposures > 0
    GROUP BY first_reason
    UNION ALL
    SELECT 'multiple_assignments', count(*) FROM units WHERE n > 0 AND av_lo <> av_hi
    UNION ALL
    SELECT 'unknown_variation', count(*)
    FROM units
    WHERE n > 0 AND av_lo = av_hi AND NOT list_contains(getvariable('arms'), av_lo)
    UNION ALL
    SELECT 'orphan_outcomes', coalesce(sum(outcomes), 0) FROM units WHERE exposures = 0
    UNION ALL
    SELECT 'variation_mismatch', count(*)
    FROM (SELECT arm, unnest(named) AS v FROM arm_units)
    WHERE v <> arm
),
version_units AS (
    -- a unit that ran under one version counts there; the few that ran under several are
    -- counted under each, from their events
    SELECT cv_lo AS cv, count(*) AS units FROM units WHERE cv_lo = cv_hi GROUP BY cv_lo
    UNION ALL
    SELECT cv, count(DISTINCT u)
    FROM ev
    WHERE k IN (4, 5) AND u IN (SELECT u FROM units WHERE cv_lo <> cv_hi)
    GROUP BY cv
),
versions AS (
    SELECT e.cv, v.units, e.exposures, e.last_seen
    FROM (
        SELECT cv, count(*) AS exposures, max(ts) / 1000.0 AS last_seen
        FROM ev
        WHERE k IN (4, 5)
        GROUP BY cv
    ) AS e
    JOIN (SELECT cv, sum(units) AS units FROM version_units GROUP BY cv) AS v USING (cv)
)
SELECT 'population' AS section, NULL AS segment, NULL AS variation, NULL AS metric, stat,
    CAST(value AS DOUBLE) AS value
FROM population
UNION ALL
SELECT 'version', NULL, NULL, cv, unnest(['units', 'exposures', 'last_seen']),
    unnest([CAST(units AS DOUBLE), exposures, last_seen])
FROM versions
UNION ALL
SELECT 'arm', seg, arm, s.metric, s.stat, CAST(s.value AS DOUBLE)
FROM arm_rows
WHERE s.value IS NOT NULL
UNION ALL
SELECT 'metric', seg, arm, metric, unnest(['sum', 'sum_sq', 'units', 'nonbinary']),
    unnest([total, total_sq, units, observations_nonbinary])
FROM arm_metrics
UNION ALL
SELECT 'sketch', seg, arm, 'latency_ms', bucket, CAST(n AS DOUBLE) FROM sketch
