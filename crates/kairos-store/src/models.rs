//! Trained models as stored (parameters and metrics as JSON, one row per
//! version), and the purchase histories the customer-lifetime model is
//! trained on.

use crate::rows::{parse_id, parse_json, to_json};
use crate::{with_conn, Result, Tx};
use kairos_core::ids::{ContactId, WorkspaceId};
use serde_json::Value;

impl Tx {
    pub async fn save_model(&mut self, ws: WorkspaceId, kind: &str, params: &Value, now: i64) -> Result<String> {
        let id = uuid::Uuid::now_v7().to_string();
        with_conn!(self, c => sqlx::query("INSERT INTO models (workspace_id, id, kind, params, trained_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(ws.to_string()).bind(&id).bind(kind).bind(to_json(params)).bind(now)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(id)
    }

    /// The newest model of a kind: (id, params, trained_at).
    pub async fn latest_model(&mut self, ws: WorkspaceId, kind: &str) -> Result<Option<(String, Value, i64)>> {
        let row: Option<(String, String, i64)> = with_conn!(self, c => sqlx::query_as(
            "SELECT id, params, trained_at FROM models WHERE workspace_id = $1 AND kind = $2 ORDER BY trained_at DESC, id DESC LIMIT 1")
            .bind(ws.to_string()).bind(kind).fetch_optional(c).await)?;
        row.map(|(id, p, t)| Ok((id, parse_json(&p, "model parameters")?, t))).transpose()
    }

    /// Every model of a kind, newest first: (id, params, trained_at).
    pub async fn models(&mut self, ws: WorkspaceId, kind: &str) -> Result<Vec<(String, Value, i64)>> {
        let rows: Vec<(String, String, i64)> = with_conn!(self, c => sqlx::query_as(
            "SELECT id, params, trained_at FROM models WHERE workspace_id = $1 AND kind = $2 ORDER BY trained_at DESC, id DESC")
            .bind(ws.to_string()).bind(kind).fetch_all(c).await)?;
        rows.into_iter().map(|(id, p, t)| Ok((id, parse_json(&p, "model parameters")?, t))).collect()
    }

    /// Every `event` of the workspace (or of one contact) up to `until`, as
    /// (contact, timestamp, properties), ordered by contact and time.
    pub async fn purchases(
        &mut self,
        ws: WorkspaceId,
        event: &str,
        contact: Option<ContactId>,
        until: i64,
    ) -> Result<Vec<(ContactId, i64, Value)>> {
        let only = contact.map(|c| c.to_string()).unwrap_or_default();
        let rows: Vec<(String, i64, String)> = with_conn!(self, c => sqlx::query_as(
            "SELECT contact_id, timestamp, properties FROM events
             WHERE workspace_id = $1 AND kind = 'track' AND name = $2 AND timestamp <= $3 AND ($4 = '' OR contact_id = $4)
             ORDER BY contact_id, timestamp")
            .bind(ws.to_string()).bind(event).bind(until).bind(only).fetch_all(c).await)?;
        rows.into_iter()
            .map(|(c, t, p)| Ok((parse_id(&c, "contact")?, t, parse_json(&p, "event properties")?)))
            .collect()
    }
}
