-- A workspace's own SMTP relay, used for its email instead of the one the
-- operator started the server with. The password is sealed under the
-- server's master key (never stored or shown in clear). No row: the
-- server's transport applies.
CREATE TABLE workspace_relays (
    workspace_id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    port BIGINT NOT NULL,
    security TEXT NOT NULL,
    username TEXT,
    password TEXT,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
