-- Every contact's probability from the promoted conversion model of each
-- conversion event, kept current as their events arrive.
CREATE TABLE model_scores (
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    event TEXT NOT NULL,
    model_id TEXT NOT NULL,
    probability DOUBLE PRECISION NOT NULL,
    scored_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, contact_id, event)
);
CREATE INDEX model_scores_rank ON model_scores (workspace_id, event, probability, contact_id);

-- Retraining on a schedule: the request to train with, how often, when
-- next, and what the last run did.
CREATE TABLE model_schedules (
    workspace_id TEXT NOT NULL,
    event TEXT NOT NULL,
    request TEXT NOT NULL,
    every_days BIGINT NOT NULL,
    next_at BIGINT NOT NULL,
    last_run_at BIGINT,
    last_result TEXT,
    PRIMARY KEY (workspace_id, event)
);

-- How far a log reader other than the journey runner has read.
CREATE TABLE log_cursors (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);

-- Fairness audits of a model version or a score version: what was asked
-- (sensitive attribute, threshold, outcome) and the report.
CREATE TABLE fairness_audits (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    subject TEXT NOT NULL,
    version TEXT NOT NULL,
    request TEXT NOT NULL,
    report TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX fairness_audits_subject ON fairness_audits (workspace_id, subject, created_at);
