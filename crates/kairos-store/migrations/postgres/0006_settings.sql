-- Per-workspace sending policy and legal details (the gate's inputs).
CREATE TABLE workspace_settings (
    workspace_id TEXT NOT NULL PRIMARY KEY,
    settings TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
