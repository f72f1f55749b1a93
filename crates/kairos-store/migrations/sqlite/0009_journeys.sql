-- Journeys: definitions (a draft and published versions), each contact's
-- run with its position and timer, the path runs took, the outbox of
-- effects waiting to be delivered, webhook endpoints, contact scores, and
-- how far the journey runner has read the event log.
CREATE TABLE journeys (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    draft TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE TABLE journey_versions (
    workspace_id TEXT NOT NULL,
    journey_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, journey_id, version)
);
CREATE TABLE journey_runs (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    journey_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    contact_id TEXT NOT NULL,
    node TEXT NOT NULL,
    status TEXT NOT NULL,
    visit BIGINT NOT NULL,
    due_at BIGINT,
    error TEXT,
    entered_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX journey_runs_contact ON journey_runs (workspace_id, contact_id);
CREATE INDEX journey_runs_journey ON journey_runs (workspace_id, journey_id, status);
CREATE TABLE journey_path (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    journey_id TEXT NOT NULL,
    node TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX journey_path_run ON journey_path (workspace_id, run_id);
CREATE INDEX journey_path_journey ON journey_path (workspace_id, journey_id, node, outcome);
CREATE TABLE outbox (
    workspace_id TEXT NOT NULL,
    key TEXT NOT NULL,
    run_id TEXT NOT NULL,
    journey_id TEXT NOT NULL,
    node TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    done_at BIGINT,
    PRIMARY KEY (workspace_id, key)
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE TABLE webhook_endpoints (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    description TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE TABLE contact_scores (
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    score TEXT NOT NULL,
    value REAL NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, contact_id, score)
);
CREATE TABLE journey_cursor (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL
);
