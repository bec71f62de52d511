-- modelflags: the aggregate table from normalised events (DuckDB).
--
-- Input: the table `events` (duckdb_events.sql). Parameters (DuckDB variables): arms
-- (VARCHAR[], the split's variations) and log_gamma (ln γ of the latency sketch); {{named}} is
-- replaced by one count per arm and {{segment}} by the segment's aggregate (see @units). docs/aggregates.md is the contract;
-- clickhouse.sql and bigquery.sql compute the same table from an events table.
--
-- The statements run in order, each introduced by a `-- @name` line. Every unit is
-- aggregated once, in one pass over its events, into a row of numbers (per unit state small
-- enough for millions of units).

-- @duplicates
-- The flag's event ids read more than once, and how many copies were extra.
CREATE OR REPLACE TEMP TABLE duplicated AS
SELECT h, count(*) - 1 AS extra
FROM events
WHERE k BETWEEN 4 AND 6
GROUP BY h
HAVING count(*) > 1;

-- @deduplicate
-- Drop the extra copies (the first one read stays).
DELETE FROM events
WHERE rowid IN (
    SELECT rowid
    FROM events
    WHERE k BETWEEN 4 AND 6 AND h IN (SELECT h FROM duplicated)
    QUALIFY row_number() OVER (PARTITION BY h ORDER BY rowid) > 1
);

-- @units
-- Per unit: its exposures in the experiment (how many; the arms they assign, a_lo = a_hi when
-- one; the request-level sums), the segment of its earliest exposure in the experiment
-- ({{segment}}: the expression below with --by, NULL without), the config versions it ran
-- under (by hash), its outcomes, and how many of them name a variation and each arm
-- (`named_arms`: one count per arm, in the arms' order, for the mismatches). Every aggregate
-- here is state held for each of millions of units, so what only a few units need is
-- computed apart, in rare_units.
CREATE OR REPLACE TEMP TABLE units AS
SELECT
    u,
    CAST(count(err) AS INTEGER) AS n,
    min(a) FILTER (WHERE k = 4) AS a_lo,
    max(a) FILTER (WHERE k = 4) AS a_hi,
    {{segment}} AS seg,
    max(ts) FILTER (WHERE k = 4) AS last_exposure,
    CAST(coalesce(sum(err), 0) AS INTEGER) AS err_s,
    CAST(coalesce(sum(fb), 0) AS INTEGER) AS fb_s,
    coalesce(sum(lat), 0) AS lat_s,
    CAST(count(lat) AS INTEGER) AS lat_c,
    coalesce(sum(cost), 0) AS cost_s,
    CAST(count(cost) AS INTEGER) AS cost_c,
    min(hash(cv)) FILTER (WHERE cv IS NOT NULL) AS cv_lo,
    max(hash(cv)) FILTER (WHERE cv IS NOT NULL) AS cv_hi,
    CAST(count(cv) AS INTEGER) AS exposures,
    CAST(count(*) FILTER (WHERE k = 6) AS INTEGER) AS outcomes,
    max(ts) FILTER (WHERE k = 6) AS last_outcome,
    CAST(count(a) FILTER (WHERE k = 6) AS INTEGER) AS named,
    [{{named}}] AS named_arms
FROM events
WHERE k BETWEEN 4 AND 6
GROUP BY u;

-- @rare_units
-- Per unit with exposures out of the experiment or naming another variation (few units): the
-- reason of its earliest exposure out of the experiment, and the other variations its
-- exposures in the experiment name (by hash; other_lo = other_hi when one).
CREATE OR REPLACE TEMP TABLE rare_units AS
SELECT
    u,
    substr(min(av) FILTER (WHERE k = 5), 17) AS first_reason,
    min(hash(av)) FILTER (WHERE k = 4) AS other_lo,
    max(hash(av)) FILTER (WHERE k = 4) AS other_hi
FROM events
WHERE k = 5 OR (k = 4 AND av IS NOT NULL)
GROUP BY u;

-- @arm_units
-- Randomised units: exposures in the experiment that all assign one variation, one of the
-- split's arms (intent to treat: a fallback stays in its arm).
CREATE OR REPLACE TEMP VIEW arm_units AS
SELECT
    u,
    getvariable('arms')[CAST(a_lo AS BIGINT)] AS arm,
    a_lo,
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
    named - named_arms[CAST(a_lo AS BIGINT)] AS mismatched
FROM units
WHERE n > 0 AND a_lo = a_hi AND a_lo > 0;

-- @metric_units
-- Per unit in an arm and outcome metric: the maximum when every observation is a JSON boolean
-- (did it happen at all), else the sum (true = 1, false = 0); and how many observations were
-- not booleans. Values that are neither numbers nor booleans, or not finite, are no
-- observation. The observations are grouped by unit first and joined to the units in the
-- arms after: the join then sees one row per unit and metric, not one per observation. (A
-- view, not a table: computed where the rows below read it, never held whole in memory.)
CREATE OR REPLACE TEMP VIEW metric_units AS
WITH observations AS (
    SELECT e.u, j.key AS metric, j.type = 'BOOLEAN' AS b, CASE
        WHEN j.type = 'BOOLEAN' THEN CAST(CAST(j.value AS BOOLEAN) AS DOUBLE)
        WHEN j.type IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST(j.value AS DOUBLE)
    END AS x
    FROM events AS e, json_each(e.x) AS j
    WHERE e.k = 6 AND e.x IS NOT NULL
),
per_unit AS (
    SELECT
        u,
        metric,
        -- (every observation a boolean: none that is not; one aggregate serves both, where
        -- bool_and would be a fourth state for each of millions of (unit, metric) pairs)
        CASE WHEN count(*) FILTER (WHERE NOT b) = 0 THEN max(x) ELSE sum(x) END AS unit_value,
        count(*) FILTER (WHERE NOT b) AS nonbinary
    FROM observations
    WHERE isfinite(x)
    GROUP BY u, metric
)
SELECT a.seg, a.a_lo, p.metric, p.unit_value, p.nonbinary
FROM per_unit AS p
JOIN arm_units AS a USING (u);

-- @rows
-- The aggregate table (docs/aggregates.md), without the `input` section: the reader counts
-- those.
WITH
arm AS (
    SELECT
        seg,
        getvariable('arms')[CAST(a_lo AS BIGINT)] AS arm,
        count(*) AS units,
        sum(n) AS exposures,
        sum(n::BIGINT * n) AS exposures_sq,
        count(*) FILTER (WHERE outcomes > 0) AS units_with_outcome,
        max(last_exposure) / 1000.0 AS last_exposure_s,
        max(last_outcome) / 1000.0 AS last_outcome_s,
        sum(err_s) AS err_sum,
        sum(err_s::BIGINT * err_s) AS err_sum_sq,
        sum(n::BIGINT * err_s) AS err_cross,
        sum(fb_s) AS fb_sum,
        sum(fb_s::BIGINT * fb_s) AS fb_sum_sq,
        sum(n::BIGINT * fb_s) AS fb_cross,
        sum(lat_s) AS lat_sum,
        sum(lat_s * lat_s) AS lat_sum_sq,
        sum(lat_c) AS lat_count,
        sum(lat_c::BIGINT * lat_c) AS lat_count_sq,
        sum(lat_s * lat_c) AS lat_cross,
        sum(cost_s) AS cost_sum,
        sum(cost_s * cost_s) AS cost_sum_sq,
        sum(cost_c) AS cost_count,
        sum(cost_c::BIGINT * cost_c) AS cost_count_sq,
        sum(cost_s * cost_c) AS cost_cross
    FROM arm_units
    GROUP BY seg, a_lo
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
        seg,
        getvariable('arms')[CAST(a_lo AS BIGINT)] AS arm,
        metric,
        sum(unit_value) AS total,
        sum(unit_value * unit_value) AS total_sq,
        count(*) AS units,
        sum(nonbinary) AS observations_nonbinary
    FROM metric_units
    GROUP BY seg, a_lo, metric
),
-- latencies by bucket: with --by, every in-experiment exposure of a unit in an arm, with the
-- unit's segment; without, the exposures that assign an arm less those of units assigned
-- several (the same requests, without a join of every exposure to its unit)
sketch AS (
    SELECT
        a.seg,
        a.arm,
        CASE
            WHEN e.lat <= 0 THEN 'zero'
            ELSE 'b' || CAST(ceil(ln(e.lat) / getvariable('log_gamma')) AS BIGINT)
        END AS bucket,
        count(*) AS n
    FROM events AS e
    JOIN arm_units AS a USING (u)
    WHERE getvariable('by_segment') AND e.k = 4 AND e.lat IS NOT NULL
    GROUP BY ALL
    UNION ALL
    SELECT
        NULL,
        getvariable('arms')[CAST(e.a AS BIGINT)],
        CASE
            WHEN e.lat <= 0 THEN 'zero'
            ELSE 'b' || CAST(ceil(ln(e.lat) / getvariable('log_gamma')) AS BIGINT)
        END AS bucket,
        count(*) AS n
    FROM events AS e
    WHERE NOT getvariable('by_segment') AND e.k = 4 AND e.a > 0 AND e.lat IS NOT NULL
        AND e.u NOT IN (SELECT u FROM units WHERE n > 0 AND a_lo <> a_hi)
    GROUP BY ALL
),
-- units with exposures out of the experiment only, or naming other variations, are among the
-- rare units; the rest are told apart by their arms alone
population AS (
    SELECT 'reason:' || r.first_reason AS stat, count(*) AS value
    FROM units AS x
    JOIN rare_units AS r USING (u)
    WHERE x.n = 0 AND x.exposures > 0
    GROUP BY r.first_reason
    UNION ALL
    SELECT 'multiple_assignments', count(*)
    FROM units AS x
    LEFT JOIN rare_units AS r USING (u)
    WHERE x.n > 0 AND (x.a_lo <> x.a_hi OR r.other_lo IS DISTINCT FROM r.other_hi)
    UNION ALL
    SELECT 'unknown_variation', count(*)
    FROM units AS x
    JOIN rare_units AS r USING (u)
    WHERE x.n > 0 AND x.a_lo = 0 AND x.a_hi = 0 AND r.other_lo = r.other_hi
    UNION ALL
    SELECT 'orphan_outcomes', coalesce(sum(outcomes), 0) FROM units WHERE exposures = 0
    UNION ALL
    SELECT 'variation_mismatch', coalesce(sum(mismatched), 0) FROM arm_units
),
version_names AS (
    SELECT hash(cv) AS cv_hash, cv, count(*) AS exposures, max(ts) / 1000.0 AS last_seen
    FROM events
    WHERE k IN (4, 5)
    GROUP BY cv
),
version_units AS (
    -- a unit that ran under one version counts there; the few that ran under several are
    -- counted under each, from their events
    SELECT n.cv, count(*) AS units
    FROM units AS x
    JOIN version_names AS n ON n.cv_hash = x.cv_lo
    WHERE x.cv_lo = x.cv_hi
    GROUP BY n.cv
    UNION ALL
    SELECT cv, count(DISTINCT u)
    FROM events
    WHERE k IN (4, 5) AND u IN (SELECT u FROM units WHERE cv_lo <> cv_hi)
    GROUP BY cv
),
versions AS (
    SELECT n.cv, v.units, n.exposures, n.last_seen
    FROM version_names AS n
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
