-- Dynamic segments (rule as JSON), their persisted membership, and static lists.
CREATE TABLE segments (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    rule TEXT NOT NULL,
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX segments_name ON segments (workspace_id, name);

CREATE TABLE segment_members (
    workspace_id TEXT NOT NULL,
    segment_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, segment_id, contact_id)
);
CREATE INDEX segment_members_contact ON segment_members (workspace_id, contact_id);

CREATE TABLE lists (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX lists_name ON lists (workspace_id, name);

CREATE TABLE list_members (
    workspace_id TEXT NOT NULL,
    list_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    source TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, list_id, contact_id)
);
CREATE INDEX list_members_contact ON list_members (workspace_id, contact_id);
