-- What the marketing cost, per source a report credits (`campaign:ID`,
-- `journey:ID`, `utm:SOURCE/MEDIUM/NAME`): a fixed amount (spent evenly over
-- its period, when it has one) and a price per message sent, for the return
-- on investment in attribution reports.
CREATE TABLE marketing_costs (
    workspace_id TEXT NOT NULL,
    source TEXT NOT NULL,
    amount REAL NOT NULL,
    per_message REAL NOT NULL,
    currency TEXT NOT NULL,
    note TEXT,
    period_start BIGINT,
    period_end BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, source)
);

-- The workspace each user last worked in, where signing in takes them.
ALTER TABLE users ADD COLUMN last_workspace_id TEXT;
