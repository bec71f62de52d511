-- modelflags: the aggregate table of one flag's experiment, in BigQuery (GoogleSQL).
--
-- Gives the rows of `modelflags report`'s aggregate table (see docs/aggregates.md) from a table
-- of evidence events; export them as CSV, Parquet or JSON lines and run
-- `modelflags report --aggregates FILE --flag KEY --flags PATH`. The `input` section (what
-- an event reader counts: lines, torn lines, malformed events) is left out.
--
-- The events table, `events` (replace it with `project.dataset.table`): one row per event,
-- columns named as the event's JSON keys.
--     event             STRING      'exposure' or the outcome's name
--     eventId           STRING
--     timestamp         TIMESTAMP
--     flagKey           STRING
--     unitId            STRING
--     assignedVariation STRING      exposures
--     variation         STRING
--     reason            STRING      exposures
--     inExperiment      BOOL        exposures; NULL in events older than it
--     configVersion     STRING
--     fallbackUsed      BOOL        exposures
--     latencyMs         FLOAT64     exposures
--     estimatedCost     FLOAT64     exposures
--     error             BOOL        exposures
--     attributes        JSON        the JSON object
--     metrics           JSON        outcomes: the JSON object
-- Other columns are ignored. JSON lines load into it with, for example,
--     bq load --source_format=NEWLINE_DELIMITED_JSON --ignore_unknown_values \
--         dataset.events events.jsonl schema.json
--
-- Query parameters (bq query --parameter=NAME:TYPE:VALUE; NULL for none):
--     @flag_key        STRING          the flag
--     @arms            ARRAY<STRING>   the split's variations, e.g. ["control","candidate"]
--     @since           TIMESTAMP       events at or after it (inclusive)
--     @until           TIMESTAMP       events before it (exclusive)
--     @config_version  STRING          exposures under this config version only (outcomes
--                                      under it or without one)
--     @by              STRING          the exposure attribute to segment by
--
-- A line-by-line translation of clickhouse.sql: the same steps, in the same order, with the
-- same names.
WITH
-- the flag's exposures and outcomes in the window, with a unit, each eventId once
-- (assignment events say what evaluation chose, not what ran: not analysed)
flag_events AS (
    SELECT *
    FROM events
    WHERE flagKey = @flag_key
        AND unitId IS NOT NULL
        AND event != 'assignment'
        AND (@since IS NULL
            OR `timestamp` >= @since)
        AND (@until IS NULL
            OR `timestamp` < @until)
        AND (@config_version IS NULL
            OR IF(event = 'exposure',
                IFNULL(configVersion = @config_version, FALSE),
                IFNULL(configVersion = @config_version, TRUE)))
    QUALIFY ROW_NUMBER() OVER (PARTITION BY eventId) = 1
),
-- k: 4 an exposure in the experiment (inExperiment, or for older events reason SPLIT),
-- 5 another exposure, 6 an outcome; the columns each kind needs
ev AS (
    SELECT
        k,
        unitId AS u,
        UNIX_MILLIS(`timestamp`) AS ts,
        CASE WHEN k = 4 THEN IFNULL(assignedVariation, '') WHEN k = 6 THEN variation END AS av,
        IF(k = 5, CONCAT(LPAD(CAST(UNIX_MILLIS(`timestamp`) AS STRING), 16, '0'),
            IFNULL(reason, '(missing)')), NULL)
            AS reason_key,
        IF(k IN (4, 5), IFNULL(configVersion, '(missing)'), NULL) AS cv,
        IF(k = 4, IF(IFNULL(error, FALSE), 1, 0), NULL) AS err,
        IF(k = 4, IF(IFNULL(fallbackUsed, FALSE), 1, 0), NULL) AS fb,
        IF(k = 4 AND NOT IS_INF(latencyMs) AND NOT IS_NAN(latencyMs), latencyMs, NULL) AS lat,
        IF(k = 4 AND NOT IS_INF(estimatedCost) AND NOT IS_NAN(estimatedCost), estimatedCost,
            NULL) AS cost,
        IF(k = 4 AND @by IS NOT NULL,
            CONCAT(LPAD(CAST(UNIX_MILLIS(`timestamp`) AS STRING), 16, '0'), CASE
                WHEN attributes[@by] IS NULL OR JSON_TYPE(attributes[@by]) = 'null'
                    THEN '(missing)'
                WHEN JSON_TYPE(attributes[@by]) = 'string'
                    THEN STRING(attributes[@by])
                ELSE TO_JSON_STRING(attributes[@by]) END),
            NULL) AS segment_key,
        IF(k = 6 AND JSON_TYPE(metrics) = 'object', metrics, NULL) AS m
    FROM (
        SELECT
            *,
            CASE
                WHEN event != 'exposure' THEN 6
                WHEN IFNULL(inExperiment, IFNULL(reason = 'SPLIT', FALSE)) THEN 4
                ELSE 5 END AS k
        FROM flag_events
    )
),
-- per unit, in one pass over its events
units AS (
    SELECT
        u,
        COUNTIF(k = 4) AS n,
        MIN(IF(k = 4, av, NULL)) AS av_lo,
        MAX(IF(k = 4, av, NULL)) AS av_hi,
        SUBSTR(MIN(IF(k = 5, reason_key, NULL)), 17) AS first_reason,
        SUBSTR(MIN(IF(k = 4, segment_key, NULL)), 17) AS seg,
        MAX(IF(k = 4, ts, NULL)) AS last_exposure,
        SUM(IF(k = 4, err, 0)) AS err_s,
        SUM(IF(k = 4, fb, 0)) AS fb_s,
        SUM(IF(k = 4, IFNULL(lat, 0), 0)) AS lat_s,
        COUNTIF(k = 4 AND lat IS NOT NULL) AS lat_c,
        SUM(IF(k = 4, IFNULL(cost, 0), 0)) AS cost_s,
        COUNTIF(k = 4 AND cost IS NOT NULL) AS cost_c,
        COUNTIF(k IN (4, 5)) AS exposures,
        COUNTIF(k = 6) AS outcomes,
        MAX(IF(k = 6, ts, NULL)) AS last_outcome,
        ARRAY_AGG(IF(k = 6, av, NULL) IGNORE NULLS) AS named
    FROM ev
    GROUP BY u
),
-- randomised units: one assigned variation, one of the split's arms (intent to treat)
arm_units AS (
    SELECT u, av_lo AS arm, seg, n, last_exposure, err_s, fb_s, lat_s, lat_c, cost_s, cost_c,
        outcomes, last_outcome, named
    FROM units
    WHERE n > 0 AND av_lo = av_hi AND av_lo IN UNNEST(@arms)
),
-- per unit and outcome metric: the maximum of booleans, else the sum (true = 1)
metric_units AS (
    SELECT u, metric, IF(LOGICAL_AND(b), MAX(x), SUM(x)) AS unit_value,
        COUNTIF(NOT b) AS nonbinary
    FROM (
        SELECT
            u,
            metric,
            JSON_TYPE(m[metric]) = 'boolean' AS b,
            CASE JSON_TYPE(m[metric])
                WHEN 'boolean' THEN IF(BOOL(m[metric]), 1.0, 0.0)
                WHEN 'number' THEN FLOAT64(m[metric], wide_number_mode => 'round')
            END AS x
        FROM ev
        CROSS JOIN UNNEST(JSON_KEYS(m, 1)) AS metric
        WHERE k = 6 AND m IS NOT NULL
    )
    WHERE x IS NOT NULL AND NOT IS_INF(x) AND NOT IS_NAN(x)
    GROUP BY u, metric
),
arm AS (
    SELECT
        seg,
        arm,
        COUNT(*) AS units,
        SUM(n) AS exposures,
        SUM(n * n) AS exposures_sq,
        COUNTIF(outcomes > 0) AS units_with_outcome,
        MAX(last_exposure) / 1000 AS last_exposure_s,
        MAX(last_outcome) / 1000 AS last_outcome_s,
        SUM(err_s) AS err_sum,
        SUM(err_s * err_s) AS err_sum_sq,
        SUM(n * err_s) AS err_cross,
        SUM(fb_s) AS fb_sum,
        SUM(fb_s * fb_s) AS fb_sum_sq,
        SUM(n * fb_s) AS fb_cross,
        SUM(lat_s) AS lat_sum,
        SUM(lat_s * lat_s) AS lat_sum_sq,
        SUM(lat_c) AS lat_count,
        SUM(lat_c * lat_c) AS lat_count_sq,
        SUM(lat_s * lat_c) AS lat_cross,
        SUM(cost_s) AS cost_sum,
        SUM(cost_s * cost_s) AS cost_sum_sq,
        SUM(cost_c) AS cost_count,
        SUM(cost_c * cost_c) AS cost_count_sq,
        SUM(cost_s * cost_c) AS cost_cross
    FROM arm_units
    GROUP BY seg, arm
),
arm_metrics AS (
    SELECT a.seg AS seg, a.arm AS arm, m.metric AS metric, SUM(m.unit_value) AS total,
        SUM(m.unit_value * m.unit_value) AS total_sq, COUNT(*) AS units,
        SUM(m.nonbinary) AS observations_nonbinary
    FROM metric_units AS m
    INNER JOIN arm_units AS a ON m.u = a.u
    GROUP BY seg, arm, metric
),
sketch AS (
    SELECT
        a.seg AS seg,
        a.arm AS arm,
        IF(e.lat <= 0, 'zero',
            CONCAT('b', CAST(CAST(CEIL(LN(e.lat) / LN((1 + 0.01) / (1 - 0.01))) AS INT64)
                AS STRING))
        ) AS bucket,
        COUNT(*) AS n
    FROM ev AS e
    INNER JOIN arm_units AS a ON e.u = a.u
    WHERE e.k = 4 AND e.lat IS NOT NULL
    GROUP BY seg, arm, bucket
),
population AS (
    SELECT CONCAT('reason:', first_reason) AS stat, CAST(COUNT(*) AS FLOAT64) AS value
    FROM units
    WHERE n = 0 AND exposures > 0
    GROUP BY first_reason
    UNION ALL
    SELECT 'multiple_assignments', CAST(COUNTIF(n > 0 AND av_lo != av_hi) AS FLOAT64) FROM units
    UNION ALL
    SELECT 'unknown_variation',
        CAST(COUNTIF(n > 0 AND av_lo = av_hi AND av_lo NOT IN UNNEST(@arms)) AS FLOAT64)
    FROM units
    UNION ALL
    SELECT 'orphan_outcomes', CAST(IFNULL(SUM(IF(exposures = 0, outcomes, 0)), 0) AS FLOAT64)
    FROM units
    UNION ALL
    SELECT 'variation_mismatch', CAST(IFNULL(SUM(mismatched), 0) AS FLOAT64)
    FROM (SELECT (SELECT COUNT(*) FROM UNNEST(named) AS v WHERE v != arm) AS mismatched
        FROM arm_units)
),
versions AS (
    SELECT cv, COUNT(DISTINCT u) AS units, COUNT(*) AS exposures, MAX(ts) / 1000 AS last_seen
    FROM ev
    WHERE k IN (4, 5)
    GROUP BY cv
)
SELECT
    'population' AS section,
    CAST(NULL AS STRING) AS segment,
    CAST(NULL AS STRING) AS variation,
    CAST(NULL AS STRING) AS metric,
    stat,
    value
FROM population
UNION ALL
SELECT 'version', NULL, NULL, cv, s.stat, s.value
FROM versions
CROSS JOIN UNNEST([
    STRUCT<stat STRING, value FLOAT64>('units', units),
    ('exposures', exposures),
    ('last_seen', last_seen)
]) AS s
UNION ALL
SELECT 'arm', seg, arm, s.metric, s.stat, s.value
FROM arm
CROSS JOIN UNNEST([
    STRUCT<metric STRING, stat STRING, value FLOAT64>(NULL, 'units', units),
    (NULL, 'exposures', exposures),
    (NULL, 'exposures_sq', exposures_sq),
    (NULL, 'units_with_outcome', units_with_outcome),
    (NULL, 'last_exposure', last_exposure_s),
    (NULL, 'last_outcome', last_outcome_s),
    ('error', 'sum', err_sum),
    ('error', 'sum_sq', err_sum_sq),
    ('error', 'count', exposures),
    ('error', 'count_sq', exposures_sq),
    ('error', 'cross', err_cross),
    ('fallback', 'sum', fb_sum),
    ('fallback', 'sum_sq', fb_sum_sq),
    ('fallback', 'count', exposures),
    ('fallback', 'count_sq', exposures_sq),
    ('fallback', 'cross', fb_cross),
    ('latency_ms', 'sum', lat_sum),
    ('latency_ms', 'sum_sq', lat_sum_sq),
    ('latency_ms', 'count', lat_count),
    ('latency_ms', 'count_sq', lat_count_sq),
    ('latency_ms', 'cross', lat_cross),
    ('cost', 'sum', cost_sum),
    ('cost', 'sum_sq', cost_sum_sq),
    ('cost', 'count', cost_count),
    ('cost', 'count_sq', cost_count_sq),
    ('cost', 'cross', cost_cross)
]) AS s
WHERE s.value IS NOT NULL
UNION ALL
SELECT 'metric', seg, arm, metric, s.stat, s.value
FROM arm_metrics
CROSS JOIN UNNEST([
    STRUCT<stat STRING, value FLOAT64>('sum', total),
    ('sum_sq', total_sq),
    ('units', units),
    ('nonbinary', observations_nonbinary)
]) AS s
UNION ALL
SELECT 'sketch', seg, arm, 'latency_ms', bucket, CAST(n AS FLOAT64)
FROM sketch
