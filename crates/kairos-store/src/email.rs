//! Email as stored: templates and snippets (as written; they are compiled
//! by `kairos-email` when used), sender identities with their DKIM keys,
//! one row per message prepared for a contact — its status from queued to
//! sent, bounced, complained, skipped or refused by the gate, its open and
//! click counts, and for the capture transport the full message — and the
//! clicks on each tracked link.

use crate::{with_conn, Result, Tx};
use kairos_core::ids::WorkspaceId;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct TemplateRecord {
    pub id: String,
    pub name: String,
    pub subject: String,
    pub body: String,
    /// `mjml` or `html`.
    pub format: String,
    pub text_body: Option<String>,
    pub layout: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const TEMPLATE_COLUMNS: &str = "id, name, subject, body, format, text_body, layout, created_at, updated_at";

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SnippetRecord {
    pub name: String,
    pub body: String,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SenderRecord {
    pub id: String,
    pub name: Option<String>,
    pub email: String,
    pub reply_to: Option<String>,
    pub dkim_domain: String,
    pub dkim_selector: String,
    /// `rsa2048` or `ed25519`.
    pub dkim_algorithm: String,
    /// Base64 of the private key's DER; never leaves the server.
    #[serde(skip)]
    pub dkim_private_key: String,
    /// Base64 of the public key, as in the DNS record's `p=`.
    pub dkim_public_key: String,
    pub is_default: bool,
    pub created_at: i64,
}

const SENDER_COLUMNS: &str = "id, name, email, reply_to, dkim_domain, dkim_selector, dkim_algorithm, \
     dkim_private_key, dkim_public_key, is_default, created_at";

/// One message prepared for one recipient.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct MessageRecord {
    pub id: String,
    pub contact_id: Option<String>,
    pub template_id: Option<String>,
    pub sender_id: Option<String>,
    /// What asked for it: `journey:<id>`, `api`, `test`, `campaign:<id>`.
    pub source: String,
    /// The outbox intent that sent it, when a journey did.
    pub intent_key: Option<String>,
    pub to_email: Option<String>,
    pub subject: Option<String>,
    /// `marketing` or `transactional`.
    pub kind: String,
    /// `queued`, `sent` (accepted by the SMTP server), `captured` (kept by
    /// the capture transport), `deferred` (retrying), `bounced`,
    /// `complained`, `failed`, `skipped` (template could not personalise),
    /// `refused` (the gate said no).
    pub status: String,
    pub detail: Option<String>,
    /// The full RFC 5322 message, kept only by the capture transport.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    pub opens: i64,
    pub machine_opens: i64,
    pub clicks: i64,
    pub first_opened_at: Option<i64>,
    pub first_clicked_at: Option<i64>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    /// When the recipient unsubscribed through this message.
    pub unsubscribed_at: Option<i64>,
}

const MESSAGE_COLUMNS: &str = "id, contact_id, template_id, sender_id, source, intent_key, to_email, subject, kind, \
     status, detail, raw, opens, machine_opens, clicks, first_opened_at, first_clicked_at, created_at, sent_at, unsubscribed_at";

/// Totals over a set of messages (a template's, a campaign's).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MessageTotals {
    pub messages: i64,
    /// Accepted by the SMTP server (or captured), bounced or not.
    pub sent: i64,
    /// Sent and not bounced.
    pub delivered: i64,
    /// Hard bounces (at send time or reported).
    pub bounced: i64,
    /// Temporary failures still being retried or reported as soft bounces.
    pub soft_bounced: i64,
    pub complained: i64,
    pub refused: i64,
    pub skipped: i64,
    pub failed: i64,
    pub unique_opens: i64,
    pub opens: i64,
    pub machine_opens: i64,
    pub unique_clicks: i64,
    pub clicks: i64,
    pub unsubscribed: i64,
}

/// A source's email activity on one UTC day: messages sent, and first
/// opens, first clicks and unsubscribes that happened that day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmailDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub sent: i64,
    pub opened: i64,
    pub clicked: i64,
    pub unsubscribed: i64,
}

/// Clicks on one link.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct LinkClicks {
    pub url: String,
    pub clicks: i64,
    pub machine_clicks: i64,
}

impl Tx {
    pub async fn insert_email_template(&mut self, ws: WorkspaceId, t: &TemplateRecord) -> Result<()> {
        Ok(with_conn!(self, c => sqlx::query(
            "INSERT INTO email_templates (workspace_id, id, name, subject, body, format, text_body, layout, created_at,
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(ws.to_string()).bind(&t.id).bind(&t.name).bind(&t.subject).bind(&t.body).bind(&t.format)
            .bind(&t.text_body).bind(&t.layout).bind(t.created_at).bind(t.updated_at)
            .execute(c).await.map(|_| ()))?)
    }

    pub async fn update_email_template(&mut self, ws: WorkspaceId, t: &TemplateRecord) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query(
            "UPDATE email_templates SET name = $3, subject = $4, body = $5, format = $6, text_body = $7, layout = $8,
             updated_at = $9 WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(&t.id).bind(&t.name).bind(&t.subject).bind(&t.body).bind(&t.format)
            .bind(&t.text_body).bind(&t.layout).bind(t.updated_at)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    pub async fn delete_email_template(&mut self, ws: WorkspaceId, id: &str) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query("DELETE FROM email_templates WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// A template by id or by name.
    pub async fn email_template(&mut self, ws: WorkspaceId, id_or_name: &str) -> Result<Option<TemplateRecord>> {
        let q = format!(
            "SELECT {TEMPLATE_COLUMNS} FROM email_templates WHERE workspace_id = $1 AND (id = $2 OR name = $2)
             ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1"
        );
        Ok(with_conn!(self, c => sqlx::query_as::<_, TemplateRecord>(&q).bind(ws.to_string()).bind(id_or_name)
            .fetch_optional(c).await)?)
    }

    pub async fn email_templates(&mut self, ws: WorkspaceId) -> Result<Vec<TemplateRecord>> {
        let q = format!("SELECT {TEMPLATE_COLUMNS} FROM email_templates WHERE workspace_id = $1 ORDER BY name");
        Ok(with_conn!(self, c => sqlx::query_as::<_, TemplateRecord>(&q).bind(ws.to_string()).fetch_all(c).await)?)
    }

    pub async fn put_email_snippet(&mut self, ws: WorkspaceId, name: &str, body: &str, now: i64) -> Result<()> {
        Ok(with_conn!(self, c => sqlx::query(
            "INSERT INTO email_snippets (workspace_id, name, body, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (workspace_id, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at")
            .bind(ws.to_string()).bind(name).bind(body).bind(now).execute(c).await.map(|_| ()))?)
    }

    pub async fn delete_email_snippet(&mut self, ws: WorkspaceId, name: &str) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query("DELETE FROM email_snippets WHERE workspace_id = $1 AND name = $2")
            .bind(ws.to_string()).bind(name).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    pub async fn email_snippets(&mut self, ws: WorkspaceId) -> Result<Vec<SnippetRecord>> {
        Ok(with_conn!(self, c => sqlx::query_as::<_, SnippetRecord>(
            "SELECT name, body, updated_at FROM email_snippets WHERE workspace_id = $1 ORDER BY name")
            .bind(ws.to_string()).fetch_all(c).await)?)
    }

    pub async fn insert_email_sender(&mut self, ws: WorkspaceId, s: &SenderRecord) -> Result<()> {
        if s.is_default {
            with_conn!(self, c => sqlx::query("UPDATE email_senders SET is_default = $2 WHERE workspace_id = $1")
                .bind(ws.to_string()).bind(false).execute(c).await.map(|_| ()))?;
        }
        Ok(with_conn!(self, c => sqlx::query(
            "INSERT INTO email_senders (workspace_id, id, name, email, reply_to, dkim_domain, dkim_selector,
             dkim_algorithm, dkim_private_key, dkim_public_key, is_default, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
            .bind(ws.to_string()).bind(&s.id).bind(&s.name).bind(&s.email).bind(&s.reply_to).bind(&s.dkim_domain)
            .bind(&s.dkim_selector).bind(&s.dkim_algorithm).bind(&s.dkim_private_key).bind(&s.dkim_public_key)
            .bind(s.is_default).bind(s.created_at)
            .execute(c).await.map(|_| ()))?)
    }

    pub async fn email_senders(&mut self, ws: WorkspaceId) -> Result<Vec<SenderRecord>> {
        let q = format!("SELECT {SENDER_COLUMNS} FROM email_senders WHERE workspace_id = $1 ORDER BY created_at");
        Ok(with_conn!(self, c => sqlx::query_as::<_, SenderRecord>(&q).bind(ws.to_string()).fetch_all(c).await)?)
    }

    /// A sender by id, or the default one (else the oldest) for `None`.
    pub async fn email_sender(&mut self, ws: WorkspaceId, id: Option<&str>) -> Result<Option<SenderRecord>> {
        let q = match id {
            Some(_) => format!("SELECT {SENDER_COLUMNS} FROM email_senders WHERE workspace_id = $1 AND id = $2"),
            None => format!(
                "SELECT {SENDER_COLUMNS} FROM email_senders WHERE workspace_id = $1 AND $2 = $2
                 ORDER BY is_default DESC, created_at LIMIT 1"
            ),
        };
        Ok(with_conn!(self, c => sqlx::query_as::<_, SenderRecord>(&q).bind(ws.to_string()).bind(id.unwrap_or(""))
            .fetch_optional(c).await)?)
    }

    /// Record a message; `false` when one with this id exists already (a
    /// repeated delivery of the same intent).
    pub async fn insert_email_message(&mut self, ws: WorkspaceId, m: &MessageRecord) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query(
            "INSERT INTO email_messages (workspace_id, id, contact_id, template_id, sender_id, source, intent_key,
             to_email, subject, kind, status, detail, raw, opens, machine_opens, clicks, first_opened_at,
             first_clicked_at, created_at, sent_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, 0, 0, NULL, NULL, $14, $15)
             ON CONFLICT (workspace_id, id) DO NOTHING")
            .bind(ws.to_string()).bind(&m.id).bind(&m.contact_id).bind(&m.template_id).bind(&m.sender_id)
            .bind(&m.source).bind(&m.intent_key).bind(&m.to_email).bind(&m.subject).bind(&m.kind).bind(&m.status)
            .bind(&m.detail).bind(&m.raw).bind(m.created_at).bind(m.sent_at)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    pub async fn set_email_status(
        &mut self,
        ws: WorkspaceId,
        id: &str,
        status: &str,
        detail: Option<&str>,
        raw: Option<&str>,
        sent_at: Option<i64>,
    ) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query(
            "UPDATE email_messages SET status = $3, detail = $4, raw = COALESCE($5, raw),
             sent_at = COALESCE($6, sent_at) WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(id).bind(status).bind(detail).bind(raw).bind(sent_at)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    pub async fn email_message(&mut self, ws: WorkspaceId, id: &str) -> Result<Option<MessageRecord>> {
        let q = format!("SELECT {MESSAGE_COLUMNS} FROM email_messages WHERE workspace_id = $1 AND id = $2");
        Ok(with_conn!(self, c => sqlx::query_as::<_, MessageRecord>(&q).bind(ws.to_string()).bind(id)
            .fetch_optional(c).await)?)
    }

    /// Newest first, optionally for one contact, after the message `after`
    /// (its `created_at` and `id`, for paging: messages made in the same
    /// millisecond are neither skipped nor repeated); without the raw message.
    pub async fn email_messages(
        &mut self,
        ws: WorkspaceId,
        contact: Option<&str>,
        after: Option<(i64, String)>,
        limit: i64,
    ) -> Result<Vec<MessageRecord>> {
        let cols = MESSAGE_COLUMNS.replace("raw,", "NULL AS raw,");
        let q = format!(
            "SELECT {cols} FROM email_messages WHERE workspace_id = $1 AND ($2 = '' OR contact_id = $2)
             AND (created_at < $3 OR (created_at = $3 AND id < $4)) ORDER BY created_at DESC, id DESC LIMIT $5"
        );
        let (at, id) = after.unwrap_or((i64::MAX, "~".into()));
        Ok(with_conn!(self, c => sqlx::query_as::<_, MessageRecord>(&q).bind(ws.to_string())
            .bind(contact.unwrap_or("")).bind(at).bind(id).bind(limit).fetch_all(c).await)?)
    }

    /// Marketing emails sent to a contact since an instant (the gate's
    /// frequency caps).
    pub async fn marketing_emails_since(&mut self, ws: WorkspaceId, contact: &str, since: i64) -> Result<i64> {
        Ok(with_conn!(self, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM email_messages WHERE workspace_id = $1 AND contact_id = $2 AND kind = 'marketing'
             AND status IN ('sent', 'captured') AND sent_at >= $3")
            .bind(ws.to_string()).bind(contact).bind(since).fetch_one(c).await)?)
    }

    /// Record that the recipient unsubscribed through this message.
    pub async fn mark_unsubscribed(&mut self, ws: WorkspaceId, id: &str, now: i64) -> Result<()> {
        Ok(with_conn!(self, c => sqlx::query(
            "UPDATE email_messages SET unsubscribed_at = COALESCE(unsubscribed_at, $3) WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(id).bind(now).execute(c).await.map(|_| ()))?)
    }

    /// Clicks per link over the messages from one source (a campaign).
    pub async fn email_link_clicks_of_source(&mut self, ws: WorkspaceId, source: &str) -> Result<Vec<LinkClicks>> {
        Ok(with_conn!(self, c => sqlx::query_as::<_, LinkClicks>(
            "SELECT k.url AS url, SUM(CASE WHEN k.machine IS NULL THEN 1 ELSE 0 END) AS clicks,
               SUM(CASE WHEN k.machine IS NULL THEN 0 ELSE 1 END) AS machine_clicks
             FROM email_clicks k JOIN email_messages m ON m.workspace_id = k.workspace_id AND m.id = k.message_id
             WHERE k.workspace_id = $1 AND m.source = $2 GROUP BY k.url ORDER BY 2 DESC")
            .bind(ws.to_string()).bind(source).fetch_all(c).await)?)
    }

    /// Count an open; the first human one sets `first_opened_at`.
    pub async fn record_email_open(&mut self, ws: WorkspaceId, id: &str, machine: bool, now: i64) -> Result<bool> {
        let q = if machine {
            "UPDATE email_messages SET machine_opens = machine_opens + 1 WHERE workspace_id = $1 AND id = $2 AND $3 = $3"
        } else {
            "UPDATE email_messages SET opens = opens + 1, first_opened_at = COALESCE(first_opened_at, $3)
             WHERE workspace_id = $1 AND id = $2"
        };
        let n = with_conn!(self, c => sqlx::query(q).bind(ws.to_string()).bind(id).bind(now)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    pub async fn record_email_click(
        &mut self,
        ws: WorkspaceId,
        id: &str,
        url: &str,
        machine: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        if machine.is_none() {
            with_conn!(self, c => sqlx::query(
                "UPDATE email_messages SET clicks = clicks + 1, first_clicked_at = COALESCE(first_clicked_at, $3)
                 WHERE workspace_id = $1 AND id = $2")
                .bind(ws.to_string()).bind(id).bind(now).execute(c).await.map(|_| ()))?;
        }
        let n = with_conn!(self, c => sqlx::query(
            "INSERT INTO email_clicks (workspace_id, message_id, url, machine, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(ws.to_string()).bind(id).bind(url).bind(machine).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Day by day, what the messages of `source` (of every marketing source
    /// when none) did: from day `first` (days since the epoch, UTC; the first
    /// day with activity when `None`) to day `last`, quiet days included as
    /// zeros so a chart's days are evenly spaced.
    pub async fn email_series(
        &mut self,
        ws: WorkspaceId,
        source: Option<&str>,
        first: Option<i64>,
        last: i64,
    ) -> Result<Vec<EmailDay>> {
        let since = first.unwrap_or(0) * 86_400_000;
        let rows: Vec<(i64, i64, i64, i64, i64)> = with_conn!(self, c => sqlx::query_as(
            "SELECT day, CAST(SUM(s) AS BIGINT), CAST(SUM(o) AS BIGINT), CAST(SUM(k) AS BIGINT), CAST(SUM(u) AS BIGINT) FROM (
               SELECT sent_at / 86400000 AS day, 1 AS s, 0 AS o, 0 AS k, 0 AS u FROM email_messages
                WHERE workspace_id = $1 AND ($2 = '' OR source = $2) AND source <> 'test' AND sent_at >= $3
               UNION ALL SELECT first_opened_at / 86400000, 0, 1, 0, 0 FROM email_messages
                WHERE workspace_id = $1 AND ($2 = '' OR source = $2) AND source <> 'test' AND first_opened_at >= $3
               UNION ALL SELECT first_clicked_at / 86400000, 0, 0, 1, 0 FROM email_messages
                WHERE workspace_id = $1 AND ($2 = '' OR source = $2) AND source <> 'test' AND first_clicked_at >= $3
               UNION ALL SELECT unsubscribed_at / 86400000, 0, 0, 0, 1 FROM email_messages
                WHERE workspace_id = $1 AND ($2 = '' OR source = $2) AND source <> 'test' AND unsubscribed_at >= $3
             ) t GROUP BY day ORDER BY day")
            .bind(ws.to_string()).bind(source.unwrap_or("")).bind(since).fetch_all(c).await)?;
        let Some(start) = first.or_else(|| rows.first().map(|r| r.0)) else { return Ok(Vec::new()) };
        let active: std::collections::HashMap<i64, (i64, i64, i64, i64)> =
            rows.into_iter().map(|(day, s, o, k, u)| (day, (s, o, k, u))).collect();
        Ok((start..=last.max(start))
            .map(|day| {
                let (sent, opened, clicked, unsubscribed) = active.get(&day).copied().unwrap_or_default();
                EmailDay { day: kairos_core::clock::day_label(day), sent, opened, clicked, unsubscribed }
            })
            .collect())
    }

    /// Totals over the messages whose `source` is `source` (or of one
    /// template when `template` is given).
    pub async fn email_totals(
        &mut self,
        ws: WorkspaceId,
        source: Option<&str>,
        template: Option<&str>,
    ) -> Result<MessageTotals> {
        type Row = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);
        let r: Row = with_conn!(self, c => sqlx::query_as(
            "SELECT COUNT(*),
               COALESCE(SUM(CASE WHEN status IN ('sent', 'captured', 'bounced', 'complained') THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN status = 'bounced' THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN status = 'complained' THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN status = 'refused' THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN status = 'skipped' THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN opens > 0 THEN 1 ELSE 0 END), 0),
               CAST(COALESCE(SUM(opens), 0) AS BIGINT), CAST(COALESCE(SUM(machine_opens), 0) AS BIGINT),
               COALESCE(SUM(CASE WHEN clicks > 0 THEN 1 ELSE 0 END), 0), CAST(COALESCE(SUM(clicks), 0) AS BIGINT),
               COALESCE(SUM(CASE WHEN unsubscribed_at IS NULL THEN 0 ELSE 1 END), 0),
               COALESCE(SUM(CASE WHEN status = 'deferred' THEN 1 ELSE 0 END), 0)
             FROM email_messages WHERE workspace_id = $1 AND ($2 = '' OR source = $2) AND ($3 = '' OR template_id = $3)
               AND source <> 'test'")
            .bind(ws.to_string()).bind(source.unwrap_or("")).bind(template.unwrap_or("")).fetch_one(c).await)?;
        Ok(MessageTotals {
            messages: r.0,
            sent: r.1,
            delivered: r.1 - r.2,
            bounced: r.2,
            soft_bounced: r.13,
            complained: r.3,
            refused: r.4,
            skipped: r.5,
            failed: r.6,
            unique_opens: r.7,
            opens: r.8,
            machine_opens: r.9,
            unique_clicks: r.10,
            clicks: r.11,
            unsubscribed: r.12,
        })
    }

    /// Clicks per link over the messages of a template.
    pub async fn email_link_clicks(&mut self, ws: WorkspaceId, template: &str) -> Result<Vec<LinkClicks>> {
        Ok(with_conn!(self, c => sqlx::query_as::<_, LinkClicks>(
            "SELECT k.url AS url, SUM(CASE WHEN k.machine IS NULL THEN 1 ELSE 0 END) AS clicks,
               SUM(CASE WHEN k.machine IS NULL THEN 0 ELSE 1 END) AS machine_clicks
             FROM email_clicks k JOIN email_messages m ON m.workspace_id = k.workspace_id AND m.id = k.message_id
             WHERE k.workspace_id = $1 AND m.template_id = $2 GROUP BY k.url ORDER BY 2 DESC")
            .bind(ws.to_string()).bind(template).fetch_all(c).await)?)
    }
}
