-- Broadcast campaigns: one template (or A/B variants) to a segment or list,
-- now or at a time (optionally the recipient's local time), throttled; the
-- recipients are fixed when the campaign starts, each with when it is due,
-- its variant and, once sent, its message.
CREATE TABLE email_campaigns (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    status TEXT NOT NULL,
    winner TEXT,
    detail TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    PRIMARY KEY (workspace_id, id)
);
CREATE TABLE campaign_recipients (
    workspace_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    variant TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    message_id TEXT,
    PRIMARY KEY (workspace_id, campaign_id, contact_id)
);
CREATE INDEX campaign_recipients_due ON campaign_recipients (workspace_id, campaign_id, status, due_at);
-- When the recipient of a message unsubscribed through it (reports).
ALTER TABLE email_messages ADD COLUMN unsubscribed_at BIGINT;
