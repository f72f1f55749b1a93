-- The audit trail: who did what to whom, and when. Entries are never updated.
CREATE TABLE audit_log (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX audit_log_at ON audit_log (workspace_id, at);
