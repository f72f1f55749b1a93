-- Consent texts taken out of use: a retired text is offered to no new form
-- and gains no version, but every version stays readable, because consents
-- already given name them. Reinstating deletes the row.
CREATE TABLE consent_text_retirements (
    workspace_id TEXT NOT NULL,
    key TEXT NOT NULL,
    retired_at BIGINT NOT NULL,
    retired_by TEXT NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
