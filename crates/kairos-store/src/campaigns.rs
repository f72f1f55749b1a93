//! Broadcast campaigns as stored: the definition and status of each, and
//! its recipients — fixed when it starts, each with the time it is due, the
//! variant it gets and, once handled, the message that went out — plus the
//! conversion count of a campaign's reports.

use crate::{with_conn, Result, Tx};
use kairos_core::ids::WorkspaceId;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CampaignRecord {
    pub id: String,
    pub name: String,
    /// The definition as JSON text (checked by `kairos-email`).
    pub definition: String,
    /// `draft`, `scheduled`, `sending`, `paused`, `sent`, `cancelled`.
    pub status: String,
    pub winner: Option<String>,
    pub detail: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

const CAMPAIGN_COLUMNS: &str =
    "id, name, definition, status, winner, detail, created_at, updated_at, started_at, finished_at";

/// A recipient due for sending.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Recipient {
    pub contact_id: String,
    pub variant: String,
    pub due_at: i64,
}

/// Recipients per state.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RecipientCounts {
    pub total: i64,
    pub pending: i64,
    pub done: i64,
    pub awaiting_winner: i64,
}

const ROWS_PER_INSERT: usize = 500;

impl Tx {
    pub async fn insert_campaign(&mut self, ws: WorkspaceId, c: &CampaignRecord) -> Result<()> {
        Ok(with_conn!(self, cn => sqlx::query(
            "INSERT INTO email_campaigns (workspace_id, id, name, definition, status, winner, detail, created_at,
             updated_at, started_at, finished_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
            .bind(ws.to_string()).bind(&c.id).bind(&c.name).bind(&c.definition).bind(&c.status).bind(&c.winner)
            .bind(&c.detail).bind(c.created_at).bind(c.updated_at).bind(c.started_at).bind(c.finished_at)
            .execute(cn).await.map(|_| ()))?)
    }

    pub async fn update_campaign(&mut self, ws: WorkspaceId, c: &CampaignRecord) -> Result<()> {
        Ok(with_conn!(self, cn => sqlx::query(
            "UPDATE email_campaigns SET name = $3, definition = $4, status = $5, winner = $6, detail = $7,
             updated_at = $8, started_at = $9, finished_at = $10 WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(&c.id).bind(&c.name).bind(&c.definition).bind(&c.status).bind(&c.winner)
            .bind(&c.detail).bind(c.updated_at).bind(c.started_at).bind(c.finished_at)
            .execute(cn).await.map(|_| ()))?)
    }

    pub async fn campaign(&mut self, ws: WorkspaceId, id: &str) -> Result<Option<CampaignRecord>> {
        let q = format!("SELECT {CAMPAIGN_COLUMNS} FROM email_campaigns WHERE workspace_id = $1 AND id = $2");
        Ok(with_conn!(self, cn => sqlx::query_as::<_, CampaignRecord>(&q).bind(ws.to_string()).bind(id)
            .fetch_optional(cn).await)?)
    }

    pub async fn campaigns(&mut self, ws: WorkspaceId) -> Result<Vec<CampaignRecord>> {
        let q =
            format!("SELECT {CAMPAIGN_COLUMNS} FROM email_campaigns WHERE workspace_id = $1 ORDER BY created_at DESC");
        Ok(with_conn!(self, cn => sqlx::query_as::<_, CampaignRecord>(&q).bind(ws.to_string()).fetch_all(cn).await)?)
    }

    /// Campaigns of every workspace in `scheduled` or `sending` (the
    /// campaign runner's work).
    pub async fn live_campaigns(&mut self) -> Result<Vec<(String, CampaignRecord)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            workspace_id: String,
            #[sqlx(flatten)]
            c: CampaignRecord,
        }
        let q = format!(
            "SELECT workspace_id, {CAMPAIGN_COLUMNS} FROM email_campaigns WHERE status IN ('scheduled', 'sending')"
        );
        let rows: Vec<Row> = with_conn!(self, cn => sqlx::query_as(&q).fetch_all(cn).await)?;
        Ok(rows.into_iter().map(|r| (r.workspace_id, r.c)).collect())
    }

    /// Add recipients (ignoring ones already there).
    pub async fn add_recipients(&mut self, ws: WorkspaceId, campaign: &str, rs: &[Recipient]) -> Result<()> {
        for chunk in rs.chunks(ROWS_PER_INSERT) {
            with_conn!(self, cn => {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO campaign_recipients (workspace_id, campaign_id, contact_id, variant, due_at, status) ");
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(ws.to_string()).push_bind(campaign.to_string()).push_bind(r.contact_id.clone())
                        .push_bind(r.variant.clone()).push_bind(r.due_at).push_bind("pending");
                });
                qb.push(" ON CONFLICT (workspace_id, campaign_id, contact_id) DO NOTHING");
                qb.build().execute(cn).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Pending recipients due by `now`, earliest first, skipping those
    /// waiting for an A/B winner.
    pub async fn due_recipients(
        &mut self,
        ws: WorkspaceId,
        campaign: &str,
        now: i64,
        limit: i64,
    ) -> Result<Vec<Recipient>> {
        Ok(with_conn!(self, cn => sqlx::query_as::<_, Recipient>(
            "SELECT contact_id, variant, due_at FROM campaign_recipients WHERE workspace_id = $1 AND campaign_id = $2
             AND status = 'pending' AND due_at <= $3 AND variant <> '@winner' ORDER BY due_at, contact_id LIMIT $4")
            .bind(ws.to_string()).bind(campaign).bind(now).bind(limit).fetch_all(cn).await)?)
    }

    pub async fn recipient_done(
        &mut self,
        ws: WorkspaceId,
        campaign: &str,
        contact: &str,
        message: &str,
    ) -> Result<()> {
        Ok(with_conn!(self, cn => sqlx::query(
            "UPDATE campaign_recipients SET status = 'done', message_id = $4
             WHERE workspace_id = $1 AND campaign_id = $2 AND contact_id = $3")
            .bind(ws.to_string()).bind(campaign).bind(contact).bind(message).execute(cn).await.map(|_| ()))?)
    }

    /// Hold a recipient until `at` (quiet hours in their zone).
    pub async fn recipient_delay(&mut self, ws: WorkspaceId, campaign: &str, contact: &str, at: i64) -> Result<()> {
        Ok(with_conn!(self, cn => sqlx::query(
            "UPDATE campaign_recipients SET due_at = $4 WHERE workspace_id = $1 AND campaign_id = $2 AND contact_id = $3")
            .bind(ws.to_string()).bind(campaign).bind(contact).bind(at).execute(cn).await.map(|_| ()))?)
    }

    /// Give the recipients waiting for the winner its template, due `at`.
    /// Give the winner to every recipient still without a variant (waiting
    /// for the winner, or to be drawn at send time).
    pub async fn assign_winner(&mut self, ws: WorkspaceId, campaign: &str, template: &str, at: i64) -> Result<u64> {
        Ok(with_conn!(self, cn => sqlx::query(
            "UPDATE campaign_recipients SET variant = $3, due_at = CASE WHEN due_at < $4 THEN $4 ELSE due_at END
             WHERE workspace_id = $1 AND campaign_id = $2 AND variant IN ('@winner', '@adaptive')")
            .bind(ws.to_string()).bind(campaign).bind(template).bind(at).execute(cn).await.map(|r| r.rows_affected()))?)
    }

    pub async fn recipient_counts(&mut self, ws: WorkspaceId, campaign: &str) -> Result<RecipientCounts> {
        let r: (i64, i64, i64, i64) = with_conn!(self, cn => sqlx::query_as(
            "SELECT COUNT(*),
               COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN variant = '@winner' THEN 1 ELSE 0 END), 0)
             FROM campaign_recipients WHERE workspace_id = $1 AND campaign_id = $2")
            .bind(ws.to_string()).bind(campaign).fetch_one(cn).await)?;
        Ok(RecipientCounts { total: r.0, pending: r.1, done: r.2, awaiting_winner: r.3 })
    }

    /// Recipients of messages from `source` who performed `event` within
    /// `window_ms` after their message was sent.
    pub async fn conversions(&mut self, ws: WorkspaceId, source: &str, event: &str, window_ms: i64) -> Result<i64> {
        Ok(with_conn!(self, cn => sqlx::query_scalar(
            "SELECT COUNT(DISTINCT m.contact_id) FROM email_messages m JOIN events e
               ON e.workspace_id = m.workspace_id AND e.contact_id = m.contact_id AND e.name = $3
              AND e.timestamp >= m.sent_at AND e.timestamp < m.sent_at + $4
             WHERE m.workspace_id = $1 AND m.source = $2 AND m.sent_at IS NOT NULL")
            .bind(ws.to_string()).bind(source).bind(event).bind(window_ms).fetch_one(cn).await)?)
    }
}
