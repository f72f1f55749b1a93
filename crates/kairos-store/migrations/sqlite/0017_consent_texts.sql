-- The workspace's library of consent wordings: what a form or preference
-- page shows when asking for consent to a channel and purpose. Versions are
-- never changed once written, so the wording a contact agreed to (recorded
-- with its consent as `KEY@vN`) stays provable.
CREATE TABLE consent_texts (
    workspace_id TEXT NOT NULL,
    key TEXT NOT NULL,
    version BIGINT NOT NULL,
    channel TEXT NOT NULL,
    purpose TEXT NOT NULL,
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (workspace_id, key, version)
);
