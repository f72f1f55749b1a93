-- Addresses that must not be sent to, per channel, keyed by a salted hash of
-- the normalised address so an erased person leaves no readable trace.
CREATE TABLE workspace_secrets (
    workspace_id TEXT NOT NULL PRIMARY KEY,
    address_salt TEXT NOT NULL
);

CREATE TABLE suppressions (
    workspace_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    address_hash TEXT NOT NULL,
    -- The address itself, except for erased people.
    address TEXT,
    reason TEXT NOT NULL,
    note TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, channel, address_hash)
);
