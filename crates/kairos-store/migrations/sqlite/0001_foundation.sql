-- Foundation schema (SQLite). Instants are BIGINT milliseconds since the
-- Unix epoch; ids are UUID text; JSON documents are TEXT. Every table but
-- workspaces is keyed by workspace_id first so no lookup can cross tenants.
CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    prefix TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

CREATE TABLE field_definitions (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    entity TEXT NOT NULL,
    name TEXT NOT NULL,
    field_type TEXT NOT NULL,
    label TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, entity, name)
);

CREATE TABLE contacts (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    id TEXT NOT NULL,
    external_id TEXT,
    email TEXT,
    phone TEXT,
    first_name TEXT,
    last_name TEXT,
    timezone TEXT,
    locale TEXT,
    country TEXT,
    custom TEXT NOT NULL DEFAULT '{}',
    field_times TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX contacts_external_id ON contacts (workspace_id, external_id);
CREATE UNIQUE INDEX contacts_email ON contacts (workspace_id, email);

CREATE TABLE anonymous_ids (
    workspace_id TEXT NOT NULL,
    anonymous_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, anonymous_id)
);
CREATE INDEX anonymous_ids_contact ON anonymous_ids (workspace_id, contact_id);

CREATE TABLE companies (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    id TEXT NOT NULL,
    external_id TEXT,
    name TEXT NOT NULL,
    domain TEXT,
    custom TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX companies_external_id ON companies (workspace_id, external_id);
CREATE INDEX companies_domain ON companies (workspace_id, domain);

CREATE TABLE contact_companies (
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    company_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, contact_id, company_id)
);
CREATE INDEX contact_companies_company ON contact_companies (workspace_id, company_id);

CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT,
    message_id TEXT NOT NULL,
    user_id TEXT,
    anonymous_id TEXT,
    properties TEXT NOT NULL,
    context TEXT NOT NULL,
    timestamp BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX events_message_id ON events (workspace_id, message_id);
CREATE INDEX events_contact_time ON events (workspace_id, contact_id, timestamp);

CREATE TABLE contact_merges (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    source_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    source_snapshot TEXT NOT NULL,
    merged_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX contact_merges_target ON contact_merges (workspace_id, target_id);
CREATE INDEX contact_merges_source ON contact_merges (workspace_id, source_id);
