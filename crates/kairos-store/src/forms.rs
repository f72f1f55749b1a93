//! Subscription forms as stored, and the double opt-in confirmations they
//! start. A confirmation row is the pending half of a subscription: it keeps
//! the form's definition as it was when the person submitted (so later edits
//! cannot change what they agreed to), the proof of the submission, when its
//! link expires and where its reminders stand. Status changes are
//! conditional updates, so two confirmations racing (a double click, a
//! retried POST) grant consent once.

use crate::{with_conn, Result, Tx};
use kairos_core::ids::WorkspaceId;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct FormRecord {
    pub id: String,
    pub name: String,
    /// The definition as JSON text (checked by `kairos-core::form`).
    pub definition: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const FORM_COLUMNS: &str = "id, name, definition, created_at, updated_at";

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ConfirmationRecord {
    pub id: String,
    pub form_id: String,
    pub contact_id: String,
    /// `pending`, `confirmed`, `superseded` (a newer submission of the same
    /// form by the same contact), `expired`.
    pub status: String,
    /// The form's definition at submission, as JSON text.
    pub definition: String,
    /// The submission's proof (IP, user agent, payload), as JSON text.
    pub proof: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub reminders_sent: i64,
    pub next_reminder_at: Option<i64>,
    pub confirmed_at: Option<i64>,
}

const CONFIRMATION_COLUMNS: &str = "id, form_id, contact_id, status, definition, proof, created_at, expires_at, \
                                    reminders_sent, next_reminder_at, confirmed_at";

impl Tx {
    pub async fn insert_form(&mut self, ws: WorkspaceId, f: &FormRecord) -> Result<()> {
        Ok(with_conn!(self, c => sqlx::query(
            "INSERT INTO forms (workspace_id, id, name, definition, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(ws.to_string()).bind(&f.id).bind(&f.name).bind(&f.definition).bind(f.created_at).bind(f.updated_at)
            .execute(c).await.map(|_| ()))?)
    }

    pub async fn update_form(&mut self, ws: WorkspaceId, f: &FormRecord) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query(
            "UPDATE forms SET name = $3, definition = $4, updated_at = $5 WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(&f.id).bind(&f.name).bind(&f.definition).bind(f.updated_at)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    pub async fn form(&mut self, ws: WorkspaceId, id: &str) -> Result<Option<FormRecord>> {
        let q = format!("SELECT {FORM_COLUMNS} FROM forms WHERE workspace_id = $1 AND id = $2");
        Ok(with_conn!(self, c => sqlx::query_as::<_, FormRecord>(&q).bind(ws.to_string()).bind(id)
            .fetch_optional(c).await)?)
    }

    /// A form by id alone, with its workspace: the public form page has no
    /// key to say which workspace it is in (form ids are UUIDs, unique
    /// across workspaces).
    pub async fn form_anywhere(&mut self, id: &str) -> Result<Option<(WorkspaceId, FormRecord)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            workspace_id: String,
            #[sqlx(flatten)]
            f: FormRecord,
        }
        let q = format!("SELECT workspace_id, {FORM_COLUMNS} FROM forms WHERE id = $1");
        let row: Option<Row> = with_conn!(self, c => sqlx::query_as(&q).bind(id).fetch_optional(c).await)?;
        row.map(|r| Ok((crate::rows::parse_id(&r.workspace_id, "workspace")?, r.f))).transpose()
    }

    pub async fn forms(&mut self, ws: WorkspaceId) -> Result<Vec<FormRecord>> {
        let q = format!("SELECT {FORM_COLUMNS} FROM forms WHERE workspace_id = $1 ORDER BY created_at, id");
        Ok(with_conn!(self, c => sqlx::query_as::<_, FormRecord>(&q).bind(ws.to_string()).fetch_all(c).await)?)
    }

    /// Delete a form. Its pending confirmations stay confirmable: each holds
    /// its own copy of the definition, and the person did ask.
    pub async fn delete_form(&mut self, ws: WorkspaceId, id: &str) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query("DELETE FROM forms WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Record a new confirmation, superseding the contact's earlier pending
    /// ones for the same form (only the newest is reminded).
    pub async fn insert_confirmation(&mut self, ws: WorkspaceId, r: &ConfirmationRecord) -> Result<()> {
        let w = ws.to_string();
        with_conn!(self, c => sqlx::query(
            "UPDATE form_confirmations SET status = 'superseded', next_reminder_at = NULL
             WHERE workspace_id = $1 AND form_id = $2 AND contact_id = $3 AND status = 'pending'")
            .bind(&w).bind(&r.form_id).bind(&r.contact_id).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(with_conn!(self, c => sqlx::query(
            "INSERT INTO form_confirmations (workspace_id, id, form_id, contact_id, status, definition, proof, created_at,
             expires_at, reminders_sent, next_reminder_at, confirmed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
            .bind(&w).bind(&r.id).bind(&r.form_id).bind(&r.contact_id).bind(&r.status).bind(&r.definition)
            .bind(&r.proof).bind(r.created_at).bind(r.expires_at).bind(r.reminders_sent).bind(r.next_reminder_at)
            .bind(r.confirmed_at).execute(c).await.map(|_| ()))?)
    }

    pub async fn confirmation(&mut self, ws: WorkspaceId, id: &str) -> Result<Option<ConfirmationRecord>> {
        let q = format!("SELECT {CONFIRMATION_COLUMNS} FROM form_confirmations WHERE workspace_id = $1 AND id = $2");
        Ok(with_conn!(self, c => sqlx::query_as::<_, ConfirmationRecord>(&q).bind(ws.to_string()).bind(id)
            .fetch_optional(c).await)?)
    }

    /// A contact's confirmations, newest first.
    pub async fn confirmations_of(&mut self, ws: WorkspaceId, contact: &str) -> Result<Vec<ConfirmationRecord>> {
        let q = format!(
            "SELECT {CONFIRMATION_COLUMNS} FROM form_confirmations WHERE workspace_id = $1 AND contact_id = $2
             ORDER BY created_at DESC, id DESC"
        );
        Ok(with_conn!(self, c => sqlx::query_as::<_, ConfirmationRecord>(&q).bind(ws.to_string()).bind(contact)
            .fetch_all(c).await)?)
    }

    /// Mark a confirmation confirmed if it still awaits it; `false` when it
    /// was confirmed already (or expired) — the caller grants nothing then.
    /// The contact's other open confirmations for the form are closed as
    /// confirmed too, so an older link says "already confirmed" rather than
    /// granting a second time.
    pub async fn mark_confirmed(&mut self, ws: WorkspaceId, r: &ConfirmationRecord, now: i64) -> Result<bool> {
        let w = ws.to_string();
        let n = with_conn!(self, c => sqlx::query(
            "UPDATE form_confirmations SET status = 'confirmed', confirmed_at = $3, next_reminder_at = NULL
             WHERE workspace_id = $1 AND id = $2 AND status IN ('pending', 'superseded')")
            .bind(&w).bind(&r.id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        if n > 0 {
            with_conn!(self, c => sqlx::query(
                "UPDATE form_confirmations SET status = 'confirmed', confirmed_at = $4, next_reminder_at = NULL
                 WHERE workspace_id = $1 AND form_id = $2 AND contact_id = $3 AND status IN ('pending', 'superseded')")
                .bind(&w).bind(&r.form_id).bind(&r.contact_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Ok(n > 0)
    }

    /// Pending confirmations of every workspace whose reminder is due.
    pub async fn due_reminders(&mut self, now: i64, limit: i64) -> Result<Vec<(String, ConfirmationRecord)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            workspace_id: String,
            #[sqlx(flatten)]
            r: ConfirmationRecord,
        }
        let q = format!(
            "SELECT workspace_id, {CONFIRMATION_COLUMNS} FROM form_confirmations
             WHERE status = 'pending' AND next_reminder_at <= $1 AND expires_at > $1
             ORDER BY next_reminder_at LIMIT $2"
        );
        let rows: Vec<Row> = with_conn!(self, c => sqlx::query_as(&q).bind(now).bind(limit).fetch_all(c).await)?;
        Ok(rows.into_iter().map(|r| (r.workspace_id, r.r)).collect())
    }

    /// Note a reminder sent (or given up on) and when the next one is due;
    /// only while the confirmation is still pending.
    pub async fn set_reminder(&mut self, ws: WorkspaceId, id: &str, sent: i64, next: Option<i64>) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "UPDATE form_confirmations SET reminders_sent = $3, next_reminder_at = $4
             WHERE workspace_id = $1 AND id = $2 AND status = 'pending'")
            .bind(ws.to_string()).bind(id).bind(sent).bind(next).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Close every pending confirmation whose link has expired. Consent
    /// stays `pending_double_opt_in`: expiry grants nothing.
    pub async fn expire_confirmations(&mut self, now: i64) -> Result<u64> {
        Ok(with_conn!(self, c => sqlx::query(
            "UPDATE form_confirmations SET status = 'expired', next_reminder_at = NULL
             WHERE status = 'pending' AND expires_at <= $1")
            .bind(now).execute(c).await.map(|r| r.rows_affected()))?)
    }
}
