-- Subscription forms and their double opt-in confirmations. A form's
-- definition (consent asked for, wording, list, confirmation settings) is
-- JSON checked by kairos-core::form. A confirmation keeps a copy of the
-- definition it was asked under, so editing the form later never changes
-- what a subscriber agreed to, and the proof of the submission.
CREATE TABLE forms (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
-- The public form page finds a form by its id alone.
CREATE UNIQUE INDEX forms_id ON forms (id);

CREATE TABLE form_confirmations (
    workspace_id TEXT NOT NULL,
    id TEXT NOT NULL,
    form_id TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    -- pending, confirmed, superseded (a newer submission), expired
    status TEXT NOT NULL,
    definition TEXT NOT NULL,
    proof TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    reminders_sent BIGINT NOT NULL,
    next_reminder_at BIGINT,
    confirmed_at BIGINT,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX form_confirmations_contact ON form_confirmations (workspace_id, contact_id);
CREATE INDEX form_confirmations_due ON form_confirmations (status, next_reminder_at);
