//! Workspace settings: the sending policy the gate applies (frequency caps,
//! quiet hours, default time zone) and the sender's postal address, stored
//! as one validated JSON document per workspace; and the workspace's own
//! SMTP relay, when it has one.

use crate::rows::{parse_json, to_json};
use crate::{with_conn, Result, Tx};
use kairos_core::gate::GatePolicy;
use kairos_core::ids::WorkspaceId;

/// A workspace's SMTP relay as stored: the password sealed by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayRecord {
    pub host: String,
    pub port: i64,
    /// `none`, `starttls`, `starttls_if_offered` or `tls`.
    pub security: String,
    pub username: Option<String>,
    /// Sealed under the master key.
    pub password: Option<String>,
    pub updated_at: i64,
    pub updated_by: String,
}

type RelayRow = (String, i64, String, Option<String>, Option<String>, i64, String);

impl Tx {
    pub async fn workspace_relay(&mut self, ws: WorkspaceId) -> Result<Option<RelayRecord>> {
        let row: Option<RelayRow> = with_conn!(self, c => sqlx::query_as(
            "SELECT host, port, security, username, password, updated_at, updated_by FROM workspace_relays
             WHERE workspace_id = $1")
            .bind(ws.to_string()).fetch_optional(c).await)?;
        Ok(row.map(|(host, port, security, username, password, updated_at, updated_by)| RelayRecord {
            host,
            port,
            security,
            username,
            password,
            updated_at,
            updated_by,
        }))
    }

    pub async fn set_workspace_relay(&mut self, ws: WorkspaceId, r: &RelayRecord) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO workspace_relays (workspace_id, host, port, security, username, password, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (workspace_id) DO UPDATE SET host = excluded.host, port = excluded.port,
               security = excluded.security, username = excluded.username, password = excluded.password,
               updated_at = excluded.updated_at, updated_by = excluded.updated_by")
            .bind(ws.to_string()).bind(&r.host).bind(r.port).bind(&r.security).bind(&r.username)
            .bind(&r.password).bind(r.updated_at).bind(&r.updated_by).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Whether there was a relay to remove.
    pub async fn delete_workspace_relay(&mut self, ws: WorkspaceId) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query("DELETE FROM workspace_relays WHERE workspace_id = $1")
            .bind(ws.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The workspace's policy; the defaults (no caps, no quiet hours, no
    /// postal address) until set.
    pub async fn workspace_policy(&mut self, ws: WorkspaceId) -> Result<GatePolicy> {
        let text: Option<String> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT settings FROM workspace_settings WHERE workspace_id = $1")
            .bind(ws.to_string()).fetch_optional(c).await)?;
        match text {
            Some(t) => parse_json(&t, "workspace settings"),
            None => Ok(GatePolicy::default()),
        }
    }

    /// The workspace's policy, locked until this transaction ends, so a
    /// change made from it does not undo a concurrent one (SQLite's write
    /// transactions are serial already; PostgreSQL locks the row).
    pub async fn workspace_policy_for_update(&mut self, ws: WorkspaceId, now: i64) -> Result<GatePolicy> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO workspace_settings (workspace_id, settings, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (workspace_id) DO NOTHING")
            .bind(ws.to_string()).bind(to_json(&GatePolicy::default())).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        let lock = if self.backend() == crate::Backend::Postgres { " FOR UPDATE" } else { "" };
        let sql = format!("SELECT settings FROM workspace_settings WHERE workspace_id = $1{lock}");
        let text: String = with_conn!(self, c => sqlx::query_scalar(&sql).bind(ws.to_string()).fetch_one(c).await)?;
        parse_json(&text, "workspace settings")
    }

    pub async fn set_workspace_policy(&mut self, ws: WorkspaceId, policy: &GatePolicy, now: i64) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO workspace_settings (workspace_id, settings, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (workspace_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at")
            .bind(ws.to_string()).bind(to_json(policy)).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
