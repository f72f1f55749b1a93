-- A journey's path lines counted as they are written, so its live counts
-- (per node and outcome, and per edge taken) are read from a few rows
-- instead of grouping every line ever written: a journey with millions of
-- lines answers in milliseconds, however long it has run. The detail (the
-- edge taken) is kept only for `passed` and `left`, the lines edges are
-- counted from. Counts are aggregates and stay when a person's own lines
-- are erased.
CREATE TABLE journey_path_counts (
    workspace_id TEXT NOT NULL,
    journey_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    node TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, journey_id, version, node, outcome, detail)
);
INSERT INTO journey_path_counts (workspace_id, journey_id, version, node, outcome, detail, n)
SELECT workspace_id, journey_id, version, node, outcome,
       CASE WHEN outcome IN ('passed', 'left') THEN COALESCE(detail, '') ELSE '' END, COUNT(*)
FROM journey_path
GROUP BY workspace_id, journey_id, version, node, outcome,
         CASE WHEN outcome IN ('passed', 'left') THEN COALESCE(detail, '') ELSE '' END;
