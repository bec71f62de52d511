-- modelflags: the aggregate table of one flag's experiment, in ClickHouse.
--
-- Gives the rows of `modelflags report`'s aggregate table (see docs/aggregates.md) from a table
-- of evidence events; save them as CSV, Parquet or JSON lines and run
-- `modelflags report --aggregates FILE --flag KEY --flags PATH`. The `input` section (what
-- an event reader counts: lines, torn lines, malformed events) is left out.
--
-- The events table, `events`: one row per event, columns named as the event's JSON keys.
--     event             String                     'exposure' or the outcome's name
--     eventId           String
--     timestamp         DateTime64(3, 'UTC')
--     flagKey           Nullable(String)
--     unitId            Nullable(String)
--     assignedVariation Nullable(String)           exposures
--     variation         Nullable(String)
--     reason            Nullable(String)           exposures
--     inExperiment      Nullable(Bool)             exposures; NULL in events older than it
--     configVersion     Nullable(String)
--     fallbackUsed      Nullable(Bool)             exposures
--     latencyMs         Nullable(Float64)          exposures
--     estimatedCost     Nullable(Float64)          exposures
--     error             Nullable(Bool)             exposures
--     attributes        String                     the JSON object, as text
--     metrics           String                     outcomes: the JSON object, as text
-- Other columns are ignored. JSON lines load into it with, for example,
--     INSERT INTO events SELECT * FROM file('events.jsonl', JSONEachRow)
--     SETTINGS input_format_json_read_objects_as_strings = 1
--
-- Query parameters (clickhouse-client --param_NAME=VALUE; \N for NULL):
--     {flag_key:String}                               the flag
--     {arms:Array(String)}                            the split's variations, e.g. ['control','candidate']
--     {since:Nullable(DateTime64(3, 'UTC'))}          events at or after it (inclusive)
--     {until:Nullable(DateTime64(3, 'UTC'))}          events before it (exclusive)
--     {config_version:Nullable(String)}               exposures under this config version
--                                                     only (outcomes under it or without one)
--     {by:Nullable(String)}                           the exposure attribute to segment by
--
-- The same table as the DuckDB aggregation (tested against it); bigquery.sql is a line-by-line
-- translation of this file.
WITH
-- the flag's exposures and outcomes in the window, with a unit, each eventId once
-- (assignment events say what evaluation chose, not what ran: not analysed)
flag_events AS (
    SELECT *
    FROM events
    WHERE flagKey = {flag_key:String}
        AND unitId IS NOT NULL
        AND event != 'assignment'
        AND ({since:Nullable(DateTime64(3, 'UTC'))} IS NULL
            OR timestamp >= {since:Nullable(DateTime64(3, 'UTC'))})
        AND ({until:Nullable(DateTime64(3, 'UTC'))} IS NULL
            OR timestamp < {until:Nullable(DateTime64(3, 'UTC'))})
        AND ({config_version:Nullable(String)} IS NULL
            OR if(event = 'exposure',
                ifNull(configVersion = {config_version:Nullable(String)}, false),
                ifNull(configVersion = {config_version:Nullable(String)}, true)))
    LIMIT 1 BY eventId
),
-- k: 4 an exposure in the experiment (inExperiment, or for older events reason SPLIT),
-- 5 another exposure, 6 an outcome; the columns each kind needs
ev AS (
    SELECT
        k,
        unitId AS u,
        toUnixTimestamp64Milli(timestamp) AS ts,
        multiIf(k = 4, ifNull(assignedVariation, ''), k = 6, variation, NULL) AS av,
        if(k = 5, concat(leftPad(toString(ts), 16, '0'), ifNull(reason, '(missing)')), NULL)
            AS reason_key,
        if(k IN (4, 5), ifNull(configVersion, '(missing)'), NULL) AS cv,
        if(k = 4, toUInt8(ifNull(error, false)), NULL) AS err,
        if(k = 4, toUInt8(ifNull(fallbackUsed, false)), NULL) AS fb,
        if(k = 4 AND isFinite(latencyMs), latencyMs, NULL) AS lat,
        if(k = 4 AND isFinite(estimatedCost), estimatedCost, NULL) AS cost,
        if(k = 4 AND {by:Nullable(String)} IS NOT NULL,
            concat(leftPad(toString(ts), 16, '0'), multiIf(
                JSONType(attributes, assumeNotNull({by:Nullable(String)})) = 'Null',
                    '(missing)',
                JSONType(attributes, assumeNotNull({by:Nullable(String)})) = 'String',
                    JSONExtractString(attributes, assumeNotNull({by:Nullable(String)})),
                JSONExtractRaw(attributes, assumeNotNull({by:Nullable(String)})))),
            NULL) AS segment_key,
        if(k = 6 AND JSONType(metrics) = 'Object', metrics, NULL) AS m
    FROM (
        SELECT
            *,
            multiIf(
                event != 'exposure', 6,
                ifNull(inExperiment, ifNull(reason = 'SPLIT', false)), 4,
                5) AS k
        FROM flag_events
    )
),
-- per unit, in one pass over its events
units AS (
    SELECT
        u,
        countIf(k = 4) AS n,
        minIf(av, k = 4) AS av_lo,
        maxIf(av, k = 4) AS av_hi,
        substring(minIfOrNull(reason_key, k = 5), 17) AS first_reason,
        substring(minIfOrNull(segment_key, k = 4), 17) AS seg,
        maxIfOrNull(ts, k = 4) AS last_exposure,
        sumIf(err, k = 4) AS err_s,
        sumIf(fb, k = 4) AS fb_s,
        sumIf(ifNull(lat, 0), k = 4) AS lat_s,
        countIf(k = 4 AND lat IS NOT NULL) AS lat_c,
        sumIf(ifNull(cost, 0), k = 4) AS cost_s,
        countIf(k = 4 AND cost IS NOT NULL) AS cost_c,
        countIf(k IN (4, 5)) AS exposures,
        countIf(k = 6) AS outcomes,
        maxIfOrNull(ts, k = 6) AS last_outcome,
        groupArrayIf(assumeNotNull(av), k = 6 AND av IS NOT NULL) AS named
    FROM ev
    GROUP BY u
),
-- randomised units: one assigned variation, one of the split's arms (intent to treat)
arm_units AS (
    SELECT u, av_lo AS arm, seg, n, last_exposure, err_s, fb_s, lat_s, lat_c, cost_s, cost_c,
        outcomes, last_outcome, named
    FROM units
    WHERE n > 0 AND av_lo = av_hi AND has({arms:Array(String)}, av_lo)
),
-- per unit and outcome metric: the maximum of booleans, else the sum (true = 1)
metric_units AS (
    SELECT u, metric, if(min(b) = 1, max(x), sum(x)) AS unit_value, countIf(b = 0) AS nonbinary
    FROM (
        SELECT
            u,
            kv.1 AS metric,
            kv.2 IN ('true', 'false') AS b,
            if(b, toFloat64(kv.2 = 'true'), toFloat64OrNull(kv.2)) AS x
        FROM ev
        ARRAY JOIN JSONExtractKeysAndValuesRaw(assumeNotNull(m)) AS kv
        WHERE k = 6 AND m IS NOT NULL
    )
    WHERE x IS NOT NULL AND isFinite(x)
    GROUP BY u, metric
),
arm AS (
    SELECT
        seg,
        arm,
        count() AS units,
        sum(n) AS exposures,
        sum(n * n) AS exposures_sq,
        countIf(outcomes > 0) AS units_with_outcome,
        max(last_exposure) / 1000 AS last_exposure_s,
        max(last_outcome) / 1000 AS last_outcome_s,
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
arm_metrics AS (
    SELECT a.seg AS seg, a.arm AS arm, m.metric AS metric, sum(m.unit_value) AS total,
        sum(m.unit_value * m.unit_value) AS total_sq, count() AS units,
        sum(m.nonbinary) AS observations_nonbinary
    FROM metric_units AS m
    INNER JOIN arm_units AS a ON m.u = a.u
    GROUP BY seg, arm, metric
),
sketch AS (
    SELECT
        a.seg AS seg,
        a.arm AS arm,
        if(e.lat <= 0, 'zero',
            concat('b', toString(toInt64(ceil(log(e.lat) / log((1 + 0.01) / (1 - 0.01))))))
        ) AS bucket,
        count() AS n
    FROM ev AS e
    INNER JOIN arm_units AS a ON e.u = a.u
    WHERE e.k = 4 AND e.lat IS NOT NULL
    GROUP BY seg, arm, bucket
),
population AS (
    SELECT concat('reason:', assumeNotNull(first_reason)) AS stat, toFloat64(count()) AS value
    FROM units
    WHERE n = 0 AND exposures > 0
    GROUP BY first_reason
    UNION ALL
    SELECT 'multiple_assignments', toFloat64(countIf(n > 0 AND av_lo != av_hi)) FROM units
    UNION ALL
    SELECT 'unknown_variation',
        toFloat64(countIf(n > 0 AND av_lo = av_hi AND NOT has({arms:Array(String)}, av_lo)))
    FROM units
    UNION ALL
    SELECT 'orphan_outcomes', toFloat64(sumIf(outcomes, exposures = 0)) FROM units
    UNION ALL
    SELECT 'variation_mismatch', toFloat64(sum(arrayCount(v -> v != arm, named))) FROM arm_units
),
versions AS (
    SELECT cv, uniqExact(u) AS units, count() AS exposures, max(ts) / 1000 AS last_seen
    FROM ev
    WHERE k IN (4, 5)
    GROUP BY cv
)
SELECT
    'population' AS section,
    CAST(NULL, 'Nullable(String)') AS segment,
    CAST(NULL, 'Nullable(String)') AS variation,
    CAST(NULL, 'Nullable(String)') AS metric,
    stat,
    value
FROM population
UNION ALL
SELECT 'version', NULL, NULL, cv, s.1, s.2
FROM versions
ARRAY JOIN [
    ('units', toFloat64(units)),
    ('exposures', toFloat64(exposures)),
    ('last_seen', toFloat64(last_seen))
] AS s
UNION ALL
SELECT 'arm', seg, arm, s.1, s.2, s.3
FROM arm
ARRAY JOIN [
    (CAST(NULL, 'Nullable(String)'), 'units', toFloat64(units)),
    (NULL, 'exposures', toFloat64(exposures)),
    (NULL, 'exposures_sq', toFloat64(exposures_sq)),
    (NULL, 'units_with_outcome', toFloat64(units_with_outcome)),
    (NULL, 'last_exposure', toFloat64(last_exposure_s)),
    (NULL, 'last_outcome', toFloat64(last_outcome_s)),
    ('error', 'sum', toFloat64(err_sum)),
    ('error', 'sum_sq', toFloat64(err_sum_sq)),
    ('error', 'count', toFloat64(exposures)),
    ('error', 'count_sq', toFloat64(exposures_sq)),
    ('error', 'cross', toFloat64(err_cross)),
    ('fallback', 'sum', toFloat64(fb_sum)),
    ('fallback', 'sum_sq', toFloat64(fb_sum_sq)),
    ('fallback', 'count', toFloat64(exposures)),
    ('fallback', 'count_sq', toFloat64(exposures_sq)),
    ('fallback', 'cross', toFloat64(fb_cross)),
    ('latency_ms', 'sum', toFloat64(lat_sum)),
    ('latency_ms', 'sum_sq', toFloat64(lat_sum_sq)),
    ('latency_ms', 'count', toFloat64(lat_count)),
    ('latency_ms', 'count_sq', toFloat64(lat_count_sq)),
    ('latency_ms', 'cross', toFloat64(lat_cross)),
    ('cost', 'sum', toFloat64(cost_sum)),
    ('cost', 'sum_sq', toFloat64(cost_sum_sq)),
    ('cost', 'count', toFloat64(cost_count)),
    ('cost', 'count_sq', toFloat64(cost_count_sq)),
    ('cost', 'cross', toFloat64(cost_cross))
] AS s
WHERE s.3 IS NOT NULL
UNION ALL
SELECT 'metric', seg, arm, metric, s.1, s.2
FROM arm_metrics
ARRAY JOIN [
    ('sum', toFloat64(total)),
    ('sum_sq', toFloat64(total_sq)),
    ('units', toFloat64(units)),
    ('nonbinary', toFloat64(observations_nonbinary))
] AS s
UNION ALL
SELECT 'sketch', seg, arm, 'latency_ms', bucket, toFloat64(n)
FROM sketch
