-- Rule-based scores. A definition (point rules, decay, thresholds) is JSON
-- checked by kairos-core::score. `version` grows with each edit; a
-- recompute replays the log under the new version while `live_version`
-- still names the one whose values and history are shown, and takes over
-- in one transaction when it is done.
CREATE TABLE score_definitions (
    workspace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    version BIGINT NOT NULL,
    live_version BIGINT NOT NULL,
    -- recomputing, ready, failed
    status TEXT NOT NULL,
    error TEXT,
    progress_done BIGINT NOT NULL,
    progress_total BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

-- A score is kept as its behaviour points at one instant (`as_of`; `value`
-- holds them) plus the points of the attribute rules the contact meets now;
-- `level` is how many thresholds it was at or above, `drops_at` when
-- decay alone takes it below the highest of them.
ALTER TABLE contact_scores ADD COLUMN as_of BIGINT NOT NULL DEFAULT 0;
ALTER TABLE contact_scores ADD COLUMN attributes REAL NOT NULL DEFAULT 0;
ALTER TABLE contact_scores ADD COLUMN half_life_days REAL;
ALTER TABLE contact_scores ADD COLUMN level BIGINT NOT NULL DEFAULT 0;
ALTER TABLE contact_scores ADD COLUMN drops_at BIGINT;
CREATE INDEX contact_scores_drops ON contact_scores (drops_at) WHERE drops_at IS NOT NULL;

-- Every change of a contact's score with its reason: the event rule that
-- earned it (and its cap period), the attribute rules met, a journey node,
-- a merge. `version` is the definition version it was computed under (0
-- for scores without a definition).
CREATE TABLE score_changes (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    score TEXT NOT NULL,
    version BIGINT NOT NULL,
    at BIGINT NOT NULL,
    delta REAL NOT NULL,
    value REAL NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    rule BIGINT,
    period BIGINT,
    event_id TEXT,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX score_changes_contact ON score_changes (workspace_id, contact_id, id);
CREATE INDEX score_changes_cap ON score_changes (workspace_id, contact_id, score, version, rule, period);
