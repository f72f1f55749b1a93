-- Consent per contact, channel and purpose: the current state, and the
-- append-only history of every change with its source, basis, wording and proof.
CREATE TABLE consents (
    workspace_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    purpose TEXT NOT NULL,
    state TEXT NOT NULL,
    source TEXT NOT NULL,
    lawful_basis TEXT NOT NULL,
    wording TEXT,
    wording_version TEXT,
    proof TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, contact_id, channel, purpose)
);

CREATE TABLE consent_history (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    purpose TEXT NOT NULL,
    state TEXT NOT NULL,
    source TEXT NOT NULL,
    lawful_basis TEXT NOT NULL,
    wording TEXT,
    wording_version TEXT,
    proof TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX consent_history_contact ON consent_history (workspace_id, contact_id, at);
