-- modelflags: evidence events, normalised for the aggregation (DuckDB).
--
-- Appends one row per event read from the source below to the temporary table `events`. The
-- source's columns are the event's keys, typed (VARCHAR text, TIMESTAMPTZ timestamp, BOOLEAN
-- flags, DOUBLE numbers, JSON metrics) plus `filename` and `segment`, the JSON value of the
-- --by attribute (NULL without --by). Parameters are DuckDB variables: flag_key, since,
-- until, config_version (NULL when not given), by_segment (BOOLEAN) and arms (VARCHAR[]).
--
-- k is the reader's verdict on the event:
--   0 malformed: not a JSON object, or event, eventId or timestamp missing or unreadable
--   1 another flag's event   2 outside the window or of another config version
--   3 without a unitId       4 an exposure in the experiment
--   5 another exposure       6 an outcome
--   7 an assignment event (what evaluation chose, not what ran: counted, not analysed)
-- Only the flag's usable events (k 4 to 6) keep a payload, and only the columns their kind
-- uses: everything the aggregation reads, nothing else (about 100 bytes an event).
INSERT INTO events
SELECT
    k,
    CASE WHEN k > 0 THEN hash("eventId") END AS h,
    CASE WHEN k BETWEEN 4 AND 6 THEN hash("unitId") END AS u,
    CASE WHEN k BETWEEN 4 AND 6 THEN epoch_ms("timestamp") END AS ts,
    -- the variation, assigned (exposures in the experiment) or named (outcomes): a, its
    -- place among the split's arms (1, 2, ...; 0 for another variation, a missing assigned
    -- one included); av, text only a few events carry (one column for all three, so that the
    -- table stays narrow): the name of another variation (k 4), the reason of an exposure
    -- out of the experiment after its time (k 5: the smallest is the earliest exposure's,
    -- ties the smallest reason), the file a malformed event came from (k 0)
    CASE
        WHEN k = 4 THEN coalesce(list_position(getvariable('arms'), "assignedVariation"), 0)
        WHEN k = 6 AND "variation" IS NOT NULL
            THEN coalesce(list_position(getvariable('arms'), "variation"), 0)
    END::USMALLINT AS a,
    CASE
        WHEN k = 4 AND NOT list_contains(getvariable('arms'), coalesce("assignedVariation", ''))
            THEN coalesce("assignedVariation", '')
        WHEN k = 5 THEN lpad(CAST(epoch_ms("timestamp") AS VARCHAR), 16, '0')
            || coalesce("reason", '(missing)')
        WHEN k = 0 THEN filename
    END AS av,
    CASE WHEN k IN (4, 5) THEN coalesce("configVersion", '(missing)') END AS cv,
    -- request-level measures of exposures in the experiment
    CASE WHEN k = 4 THEN CAST(coalesce("error", false) AS UTINYINT) END AS err,
    CASE WHEN k = 4 THEN CAST(coalesce("fallbackUsed", false) AS UTINYINT) END AS fb,
    CASE WHEN k = 4 AND isfinite("latencyMs") THEN "latencyMs" END AS lat,
    CASE WHEN k = 4 AND isfinite("estimatedCost") THEN "estimatedCost" END AS cost,
    -- x, in one column too: for an exposure in the experiment, the --by attribute's value
    -- as text, after the time (as the reason's); for an outcome, its metrics (an object:
    -- name -> JSON value; the readers' JSON text is compact, so an object is text that
    -- starts with a brace, told without parsing it again)
    CASE
        WHEN k = 4 AND getvariable('by_segment')
            THEN lpad(CAST(epoch_ms("timestamp") AS VARCHAR), 16, '0') || CASE
                WHEN segment IS NULL OR json_type(segment) = 'NULL' THEN '(missing)'
                WHEN json_type(segment) = 'VARCHAR' THEN segment ->> '$'
                ELSE CAST(segment AS VARCHAR)
            END
        WHEN k = 6 AND starts_with(metrics, '{') THEN CAST(metrics AS VARCHAR)
    END AS x
FROM (
    SELECT
        *,
        CASE
            WHEN "event" IS NULL OR "eventId" IS NULL OR "timestamp" IS NULL THEN 0
            WHEN "flagKey" IS DISTINCT FROM getvariable('flag_key') THEN 1
            WHEN "event" = 'assignment' THEN 7  -- what evaluation chose, not what ran
            WHEN "timestamp" < coalesce(getvariable('since'), '-infinity'::TIMESTAMPTZ)
                OR "timestamp" >= coalesce(getvariable('until'), 'infinity'::TIMESTAMPTZ)
                OR (
                    getvariable('config_version') IS NOT NULL
                    AND CASE
                        WHEN "event" = 'exposure'
                            THEN "configVersion" IS DISTINCT FROM getvariable('config_version')
                        ELSE "configVersion" <> getvariable('config_version')
                    END
                )
                THEN 2
            WHEN "unitId" IS NULL THEN 3
            WHEN "event" <> 'exposure' THEN 6
            -- in the experiment: inExperiment, or for events older than it, reason SPLIT
            WHEN coalesce("inExperiment", "reason" = 'SPLIT', false) THEN 4
            ELSE 5
        END::UTINYINT AS k
    FROM {{source}}
)
