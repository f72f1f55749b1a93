//! Workspace settings: the sending policy the gate applies (frequency caps,
//! quiet hours, default time zone) and the sender's postal address, stored
//! as one validated JSON document per workspace.

use crate::rows::{parse_json, to_json};
use crate::{with_conn, Result, Tx};
use kairos_core::gate::GatePolicy;
use kairos_core::ids::WorkspaceId;

impl Tx {
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

    pub async fn set_workspace_policy(&mut self, ws: WorkspaceId, policy: &GatePolicy, now: i64) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO workspace_settings (workspace_id, settings, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (workspace_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at")
            .bind(ws.to_string()).bind(to_json(policy)).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
