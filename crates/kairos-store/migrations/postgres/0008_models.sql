-- Trained models per workspace: the parameters and metrics of each version.
CREATE TABLE models (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    trained_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX models_kind ON models (workspace_id, kind, trained_at);
