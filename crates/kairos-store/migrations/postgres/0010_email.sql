-- Email: templates and snippets, sender identities with their DKIM keys,
-- every message prepared for a contact (with its status, and the rendered
-- message itself when the capture transport keeps it instead of sending),
-- and each tracked click.
CREATE TABLE email_templates (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    format TEXT NOT NULL,
    text_body TEXT,
    layout TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX email_templates_name ON email_templates (workspace_id, name);
CREATE TABLE email_snippets (
    workspace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);
CREATE TABLE email_senders (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT,
    email TEXT NOT NULL,
    reply_to TEXT,
    dkim_domain TEXT NOT NULL,
    dkim_selector TEXT NOT NULL,
    dkim_algorithm TEXT NOT NULL,
    dkim_private_key TEXT NOT NULL,
    dkim_public_key TEXT NOT NULL,
    is_default BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE TABLE email_messages (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    contact_id TEXT,
    template_id TEXT,
    sender_id TEXT,
    source TEXT NOT NULL,
    intent_key TEXT,
    to_email TEXT,
    subject TEXT,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT,
    raw TEXT,
    opens BIGINT NOT NULL,
    machine_opens BIGINT NOT NULL,
    clicks BIGINT NOT NULL,
    first_opened_at BIGINT,
    first_clicked_at BIGINT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX email_messages_contact ON email_messages (workspace_id, contact_id);
CREATE INDEX email_messages_created ON email_messages (workspace_id, created_at);
CREATE TABLE email_clicks (
    workspace_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    url TEXT NOT NULL,
    machine TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX email_clicks_message ON email_clicks (workspace_id, message_id);

-- The event that started each run, so a send can personalise with it.
ALTER TABLE journey_runs ADD COLUMN trigger_seq BIGINT;
