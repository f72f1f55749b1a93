//! The consent text library's rows: every version of every text, never
//! updated in place (a new wording is a new version), so the words a contact
//! agreed to can always be read back; and which texts are retired (taken
//! out of use, their versions kept).

use crate::{with_conn, Result, StoreError, Tx};
use kairos_core::consent::{Channel, Purpose};
use kairos_core::consent_text::ConsentText;
use kairos_core::ids::WorkspaceId;

type Row = (String, i64, String, String, String, String, i64, String);

const COLUMNS: &str = "key, version, channel, purpose, language, text, created_at, created_by";

fn decode((key, version, channel, purpose, language, text, created_at, created_by): Row) -> Result<ConsentText> {
    let bad = |what: &str, v: &str| StoreError::Corrupt(format!("consent text {key} v{version}: {what} {v:?}"));
    Ok(ConsentText {
        channel: Channel::parse(&channel).ok_or_else(|| bad("channel", &channel))?,
        purpose: Purpose::parse(&purpose).ok_or_else(|| bad("purpose", &purpose))?,
        key,
        version,
        language,
        text,
        created_at,
        created_by,
    })
}

impl Tx {
    /// The newest version of each text, by key.
    pub async fn consent_texts(&mut self, ws: WorkspaceId) -> Result<Vec<ConsentText>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM consent_texts t WHERE workspace_id = $1
             AND version = (SELECT MAX(version) FROM consent_texts v WHERE v.workspace_id = t.workspace_id AND v.key = t.key)
             ORDER BY key"
        );
        let rows: Vec<Row> = with_conn!(self, c => sqlx::query_as(&sql).bind(ws.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(decode).collect()
    }

    /// Every version of one text, newest first; empty when there is no such key.
    pub async fn consent_text_versions(&mut self, ws: WorkspaceId, key: &str) -> Result<Vec<ConsentText>> {
        let sql =
            format!("SELECT {COLUMNS} FROM consent_texts WHERE workspace_id = $1 AND key = $2 ORDER BY version DESC");
        let rows: Vec<Row> =
            with_conn!(self, c => sqlx::query_as(&sql).bind(ws.to_string()).bind(key).fetch_all(c).await)?;
        rows.into_iter().map(decode).collect()
    }

    /// Add a version; `false` when that version of the key already exists
    /// (a concurrent writer got there first).
    pub async fn insert_consent_text(&mut self, ws: WorkspaceId, t: &ConsentText) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query(
            "INSERT INTO consent_texts (workspace_id, key, version, channel, purpose, language, text, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING")
            .bind(ws.to_string()).bind(&t.key).bind(t.version).bind(t.channel.as_str()).bind(t.purpose.as_str())
            .bind(&t.language).bind(&t.text).bind(t.created_at).bind(&t.created_by)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// When and by whom each retired text was retired, by key.
    pub async fn consent_text_retirements(&mut self, ws: WorkspaceId) -> Result<Vec<Retirement>> {
        let rows: Vec<(String, i64, String)> = with_conn!(self, c => sqlx::query_as(
            "SELECT key, retired_at, retired_by FROM consent_text_retirements WHERE workspace_id = $1 ORDER BY key")
            .bind(ws.to_string()).fetch_all(c).await)?;
        Ok(rows.into_iter().map(|(key, at, by)| Retirement { key, at, by }).collect())
    }

    /// Retire a text; `false` when it was retired already.
    pub async fn retire_consent_text(&mut self, ws: WorkspaceId, key: &str, at: i64, by: &str) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query(
            "INSERT INTO consent_text_retirements (workspace_id, key, retired_at, retired_by)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
            .bind(ws.to_string()).bind(key).bind(at).bind(by)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Put a retired text back in use; `false` when it was not retired.
    pub async fn reinstate_consent_text(&mut self, ws: WorkspaceId, key: &str) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query(
            "DELETE FROM consent_text_retirements WHERE workspace_id = $1 AND key = $2")
            .bind(ws.to_string()).bind(key)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}

/// A retired text: when, and by whom (as the audit trail names callers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retirement {
    pub key: String,
    pub at: i64,
    pub by: String,
}
