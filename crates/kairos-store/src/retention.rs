//! Retention in the store: the policy per workspace, applying it (delete or
//! anonymise old events, purge inactive contacts) in the caller's
//! transaction, and the reports of past runs.

use crate::rows::{parse_id, parse_json, to_json};
use crate::{with_conn, Result, Tx};
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_core::retention::{EventAction, RetentionPolicy, RetentionReport};

/// Stands in for the contact of an anonymised event.
const NOBODY: &str = "00000000-0000-0000-0000-000000000000";

impl Tx {
    pub async fn retention_policy(&mut self, ws: WorkspaceId) -> Result<Option<RetentionPolicy>> {
        let text: Option<String> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT policy FROM retention_policies WHERE workspace_id = $1")
            .bind(ws.to_string()).fetch_optional(c).await)?;
        text.map(|t| parse_json(&t, "retention policy")).transpose()
    }

    pub async fn set_retention_policy(&mut self, ws: WorkspaceId, p: &RetentionPolicy, now: i64) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO retention_policies (workspace_id, policy, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (workspace_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at")
            .bind(ws.to_string()).bind(to_json(p)).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Workspaces with a retention policy.
    pub async fn workspaces_with_retention(&mut self) -> Result<Vec<WorkspaceId>> {
        let ids: Vec<String> = with_conn!(self, c => sqlx::query_scalar("SELECT workspace_id FROM retention_policies")
            .fetch_all(c).await)?;
        ids.iter().map(|s| parse_id(s, "workspace")).collect()
    }

    /// Apply a policy at `now` and record the report.
    pub async fn apply_retention(&mut self, ws: WorkspaceId, p: &RetentionPolicy, now: i64) -> Result<RetentionReport> {
        let w = ws.to_string();
        let mut report = RetentionReport { ran_at: now, ..RetentionReport::default() };
        if let Some(cutoff) = p.event_cutoff(now) {
            let n = match p.events_action {
                EventAction::Delete => with_conn!(self, c => sqlx::query(
                    "DELETE FROM events WHERE workspace_id = $1 AND timestamp < $2")
                    .bind(&w).bind(cutoff).execute(c).await.map(|r| r.rows_affected()))?,
                EventAction::Anonymise => with_conn!(self, c => sqlx::query(
                    "UPDATE events SET contact_id = $3, user_id = NULL, anonymous_id = NULL, properties = '{}', context = '{}'
                     WHERE workspace_id = $1 AND timestamp < $2 AND contact_id <> $3")
                    .bind(&w).bind(cutoff).bind(NOBODY).execute(c).await.map(|r| r.rows_affected()))?,
            };
            match p.events_action {
                EventAction::Delete => report.events_deleted = n,
                EventAction::Anonymise => report.events_anonymised = n,
            }
        }
        if let Some(cutoff) = p.contact_cutoff(now) {
            let ids: Vec<String> = with_conn!(self, c => sqlx::query_scalar(
                "SELECT id FROM contacts c WHERE workspace_id = $1 AND updated_at < $2 AND NOT EXISTS (
                   SELECT 1 FROM events e WHERE e.workspace_id = c.workspace_id AND e.contact_id = c.id AND e.timestamp >= $2)")
                .bind(&w).bind(cutoff).fetch_all(c).await)?;
            for id in ids {
                let id: ContactId = parse_id(&id, "contact")?;
                if self.delete_contact(ws, id).await? {
                    report.contacts_purged += 1;
                }
            }
        }
        with_conn!(self, c => sqlx::query("INSERT INTO retention_runs (workspace_id, id, ran_at, report) VALUES ($1, $2, $3, $4)")
            .bind(&w).bind(uuid::Uuid::now_v7().to_string()).bind(now).bind(to_json(&report))
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(report)
    }

    /// Reports of past runs, newest first.
    pub async fn retention_runs(&mut self, ws: WorkspaceId, limit: i64) -> Result<Vec<RetentionReport>> {
        let rows: Vec<String> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT report FROM retention_runs WHERE workspace_id = $1 ORDER BY ran_at DESC, id DESC LIMIT $2")
            .bind(ws.to_string()).bind(limit).fetch_all(c).await)?;
        rows.iter().map(|r| parse_json(r, "retention report")).collect()
    }
}
