-- Retention policy per workspace, and the report of every run.
CREATE TABLE retention_policies (
    workspace_id TEXT NOT NULL PRIMARY KEY,
    policy TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE retention_runs (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    ran_at BIGINT NOT NULL,
    report TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX retention_runs_at ON retention_runs (workspace_id, ran_at);
