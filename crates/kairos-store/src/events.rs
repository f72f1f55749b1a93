//! The event log: append (de-duplicated by message id), read a contact's
//! timeline, read the log in order for export and consumers, and move a
//! merged contact's events to the survivor.

use crate::rows::{parse_id, parse_json, to_json, EventRow, EVENT_COLUMNS};
use crate::{with_conn, Result, Tx};
use chrono::{DateTime, Utc};
use kairos_core::clock::{from_millis, to_millis};
use kairos_core::contact::Contact;
use kairos_core::event::Event;
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_core::journey::EventInterest;
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Rows per INSERT statement: 13 parameters a row stays well under both
/// backends' parameter limits (SQLite 32766, PostgreSQL 65535).
const ROWS_PER_INSERT: usize = 500;

/// Position in a contact's timeline: newest first by (timestamp, seq).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventCursor {
    pub timestamp_ms: i64,
    pub seq: i64,
}

/// A recorded merge of one contact into another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergeRecord {
    pub id: Uuid,
    pub source_id: ContactId,
    pub target_id: ContactId,
    pub reason: String,
    pub source_snapshot: serde_json::Value,
    pub merged_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct MergeRow {
    id: String,
    source_id: String,
    target_id: String,
    reason: String,
    source_snapshot: String,
    merged_at: i64,
}

impl Tx {
    /// Append events. Events whose `(workspace, message_id)` is already in
    /// the log are skipped; the returned map holds the message ids that were
    /// new, with the log position each got.
    pub async fn append_events(&mut self, events: &[Event]) -> Result<HashMap<String, i64>> {
        let mut inserted = HashMap::with_capacity(events.len());
        for chunk in events.chunks(ROWS_PER_INSERT) {
            let ids: Vec<(String, i64)> = with_conn!(self, c => {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO events (id, workspace_id, contact_id, kind, name, message_id, user_id, anonymous_id, properties, context, timestamp, received_at) ",
                );
                qb.push_values(chunk, |mut b, e| {
                    b.push_bind(e.id.to_string())
                        .push_bind(e.workspace_id.to_string())
                        .push_bind(e.contact_id.to_string())
                        .push_bind(e.kind.as_str())
                        .push_bind(e.name.clone())
                        .push_bind(e.message_id.clone())
                        .push_bind(e.user_id.clone())
                        .push_bind(e.anonymous_id.clone())
                        .push_bind(to_json(&e.properties))
                        .push_bind(to_json(&e.context))
                        .push_bind(to_millis(e.timestamp))
                        .push_bind(to_millis(e.received_at));
                });
                qb.push(" ON CONFLICT (workspace_id, message_id) DO NOTHING RETURNING message_id, seq");
                qb.build_query_as().fetch_all(c).await
            })?;
            inserted.extend(ids);
        }
        Ok(inserted)
    }

    /// A contact's events, newest first, strictly before `before`.
    pub async fn contact_events(
        &mut self,
        ws: WorkspaceId,
        contact: ContactId,
        before: Option<EventCursor>,
        limit: i64,
    ) -> Result<Vec<Event>> {
        let (t, s) = before.map(|b| (b.timestamp_ms, b.seq)).unwrap_or((i64::MAX, i64::MAX));
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE workspace_id = $1 AND contact_id = $2
             AND (timestamp < $3 OR (timestamp = $3 AND seq < $4)) ORDER BY timestamp DESC, seq DESC LIMIT $5"
        );
        let rows: Vec<EventRow> = with_conn!(self, c => sqlx::query_as(&sql)
            .bind(ws.to_string()).bind(contact.to_string()).bind(t).bind(s).bind(limit)
            .fetch_all(c).await)?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    /// The workspace's log in order, after position `after_seq`.
    pub async fn events_after(&mut self, ws: WorkspaceId, after_seq: i64, limit: i64) -> Result<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE seq > $2 AND workspace_id || '' = $1 ORDER BY seq LIMIT $3"
        );
        let rows: Vec<EventRow> = with_conn!(self, c => sqlx::query_as(&sql)
            .bind(ws.to_string()).bind(after_seq).bind(limit).fetch_all(c).await)?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    /// One event by its log position.
    pub async fn event_at(&mut self, ws: WorkspaceId, seq: i64) -> Result<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq = $2 AND workspace_id = $1");
        let row: Option<EventRow> =
            with_conn!(self, c => sqlx::query_as(&sql).bind(ws.to_string()).bind(seq).fetch_optional(c).await)?;
        row.map(EventRow::into_event).transpose()
    }

    /// The log of every workspace after a position, in order (the journey
    /// runner's input).
    pub async fn events_after_all(&mut self, after_seq: i64, limit: i64) -> Result<Vec<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2");
        let rows: Vec<EventRow> =
            with_conn!(self, c => sqlx::query_as(&sql).bind(after_seq).bind(limit).fetch_all(c).await)?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    /// The events after `after_seq` up to `until_seq` that `interest` covers
    /// (of every workspace), in log order, at most `limit`: what a reader
    /// that reacts to a few event names needs, without decoding the rest.
    pub async fn events_of_interest(
        &mut self,
        after_seq: i64,
        until_seq: i64,
        interest: &EventInterest,
        limit: i64,
    ) -> Result<Vec<Event>> {
        if interest.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<EventRow> = with_conn!(self, c => {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > "));
            qb.push_bind(after_seq).push(" AND seq <= ").push_bind(until_seq).push(" AND (kind = ''");
            if interest.every_event {
                qb.push(" OR kind IN ('track', 'page', 'screen')");
            }
            if interest.identifies {
                qb.push(" OR kind = 'identify'");
            }
            if !interest.names.is_empty() {
                qb.push(" OR (kind = 'track' AND name IN (");
                let mut sep = qb.separated(", ");
                for n in &interest.names {
                    sep.push_bind(n.clone());
                }
                qb.push("))");
            }
            // Page and screen calls are named by their kind in rules.
            if interest.names.contains("Page Viewed") {
                qb.push(" OR kind = 'page'");
            }
            if interest.names.contains("Screen Viewed") {
                qb.push(" OR kind = 'screen'");
            }
            qb.push(") ORDER BY seq LIMIT ").push_bind(limit);
            qb.build_query_as().fetch_all(c).await
        })?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    pub async fn count_events(&mut self, ws: WorkspaceId) -> Result<i64> {
        Ok(with_conn!(self, c => sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE workspace_id = $1")
            .bind(ws.to_string()).fetch_one(c).await)?)
    }

    /// Events that happened (by their timestamp, as `events_per_day` counts
    /// them) at or after `since`: an import of old events is not "today".
    pub async fn count_events_since(&mut self, ws: WorkspaceId, since: DateTime<Utc>) -> Result<i64> {
        Ok(
            with_conn!(self, c => sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE workspace_id = $1 AND timestamp >= $2")
            .bind(ws.to_string()).bind(to_millis(since)).fetch_one(c).await)?,
        )
    }

    /// Events per UTC day (by event timestamp) from `since` on, oldest day
    /// first: `(days since the Unix epoch, count)`. Days without events are
    /// absent. The dashboard's time series.
    pub async fn events_per_day(&mut self, ws: WorkspaceId, since: DateTime<Utc>) -> Result<Vec<(i64, i64)>> {
        Ok(with_conn!(self, c => sqlx::query_as(
            "SELECT timestamp / 86400000 AS day, COUNT(*) FROM events WHERE workspace_id = $1 AND timestamp >= $2
             GROUP BY timestamp / 86400000 ORDER BY day")
            .bind(ws.to_string()).bind(to_millis(since)).fetch_all(c).await)?)
    }

    /// The most frequent event names from `since` on, as segment rules name
    /// them (page and screen calls are `Page Viewed` / `Screen Viewed`),
    /// most frequent first.
    pub async fn top_event_names(
        &mut self,
        ws: WorkspaceId,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<(String, i64)>> {
        Ok(with_conn!(self, c => sqlx::query_as(
            "SELECT CASE kind WHEN 'page' THEN 'Page Viewed' WHEN 'screen' THEN 'Screen Viewed' ELSE COALESCE(name, '') END AS event,
                    COUNT(*) AS n
             FROM events WHERE workspace_id = $1 AND timestamp >= $2 AND kind IN ('track', 'page', 'screen')
             GROUP BY CASE kind WHEN 'page' THEN 'Page Viewed' WHEN 'screen' THEN 'Screen Viewed' ELSE COALESCE(name, '') END
             ORDER BY n DESC, event LIMIT $3")
            .bind(ws.to_string()).bind(to_millis(since)).bind(limit).fetch_all(c).await)?)
    }

    /// The newest tracked, page and screen events (by log position) that
    /// happened at or after `since`, at most `limit`, newest first: each as its name in rules
    /// (`Page Viewed` for page calls) and its properties. The event
    /// catalogue's sample.
    pub async fn recent_event_properties(
        &mut self,
        ws: WorkspaceId,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<(String, Value)>> {
        let rows: Vec<(String, String)> = with_conn!(self, c => sqlx::query_as(
            "SELECT CASE kind WHEN 'page' THEN 'Page Viewed' WHEN 'screen' THEN 'Screen Viewed' ELSE COALESCE(name, '') END,
                    properties
             FROM events WHERE workspace_id = $1 AND timestamp >= $2 AND kind IN ('track', 'page', 'screen')
             ORDER BY seq DESC LIMIT $3")
            .bind(ws.to_string()).bind(to_millis(since)).bind(limit).fetch_all(c).await)?;
        rows.into_iter().map(|(name, p)| Ok((name, parse_json(&p, "event properties")?))).collect()
    }

    /// Whether the workspace has any tracked event of this name.
    pub async fn has_event_named(&mut self, ws: WorkspaceId, name: &str) -> Result<bool> {
        let found: Option<i32> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT 1 FROM events WHERE workspace_id = $1 AND kind = 'track' AND name = $2 LIMIT 1")
            .bind(ws.to_string()).bind(name).fetch_optional(c).await)?;
        Ok(found.is_some())
    }

    /// Which of these message ids are already in the log.
    pub async fn existing_message_ids(&mut self, ws: WorkspaceId, ids: &[&str]) -> Result<HashSet<String>> {
        let mut found = HashSet::new();
        for chunk in ids.chunks(ROWS_PER_INSERT) {
            let rows: Vec<String> = with_conn!(self, c => {
                let mut qb = sqlx::QueryBuilder::new("SELECT message_id FROM events WHERE workspace_id = ");
                qb.push_bind(ws.to_string());
                qb.push(" AND message_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.to_string());
                }
                qb.push(")");
                qb.build_query_scalar().fetch_all(c).await
            })?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// Whether a message id is in the log.
    pub async fn has_message(&mut self, ws: WorkspaceId, message_id: &str) -> Result<bool> {
        let n: i64 = with_conn!(self, c => sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE workspace_id = $1 AND message_id = $2")
            .bind(ws.to_string()).bind(message_id).fetch_one(c).await)?;
        Ok(n > 0)
    }

    /// Merge `source` into `target`: write the merged profile, move events,
    /// anonymous ids and company links, delete `source`, record the merge.
    pub async fn merge_contacts(
        &mut self,
        ws: WorkspaceId,
        merged: &Contact,
        source: &Contact,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<MergeRecord> {
        let (w, from, to) = (ws.to_string(), source.id.to_string(), merged.id.to_string());
        with_conn!(self, c => sqlx::query("UPDATE events SET contact_id = $3 WHERE workspace_id = $1 AND contact_id = $2")
            .bind(&w).bind(&from).bind(&to).execute(c).await.map(|r| r.rows_affected()))?;
        self.move_anonymous_ids(ws, source.id, merged.id).await?;
        self.merge_consents(ws, source.id, merged.id).await?;
        // Messages sent to either are the survivor's (reports, frequency
        // caps, the contact's outbox); so are campaign deliveries (one per
        // campaign: the survivor's own wins); scores are added with their
        // decay (`merge_scores`).
        for sql in [
            "UPDATE email_messages SET contact_id = $3 WHERE workspace_id = $1 AND contact_id = $2",
            "INSERT INTO campaign_recipients (workspace_id, campaign_id, contact_id, variant, due_at, status, message_id)
             SELECT workspace_id, campaign_id, $3, variant, due_at, status, message_id FROM campaign_recipients
             WHERE workspace_id = $1 AND contact_id = $2 ON CONFLICT DO NOTHING",
        ] {
            with_conn!(self, c => sqlx::query(sql).bind(&w).bind(&from).bind(&to).execute(c).await.map(|r| r.rows_affected()))?;
        }
        // (PostgreSQL refuses a parameter a statement does not use.)
        for sql in ["DELETE FROM campaign_recipients WHERE workspace_id = $1 AND contact_id = $2"] {
            with_conn!(self, c => sqlx::query(sql).bind(&w).bind(&from).execute(c).await.map(|r| r.rows_affected()))?;
        }
        self.merge_scores(ws, source.id, merged.id, now.timestamp_millis()).await?;
        self.touched.histories.push((ws, merged.id));
        // The survivor keeps the source's static lists.
        with_conn!(self, c => sqlx::query(
            "INSERT INTO list_members (workspace_id, list_id, contact_id, source, added_at)
             SELECT workspace_id, list_id, $3, source, added_at FROM list_members WHERE workspace_id = $1 AND contact_id = $2
             ON CONFLICT DO NOTHING")
            .bind(&w).bind(&from).bind(&to).execute(c).await.map(|r| r.rows_affected()))?;
        self.delete_contact_row(ws, source.id).await?;
        // The source row is gone, so its email/external id no longer collide.
        self.update_contact(merged).await?;
        for company in &merged.company_ids {
            self.link_company(ws, merged.id, *company, now).await?;
        }
        let record = MergeRecord {
            id: Uuid::now_v7(),
            source_id: source.id,
            target_id: merged.id,
            reason: reason.to_string(),
            source_snapshot: serde_json::to_value(source).unwrap_or_default(),
            merged_at: from_millis(to_millis(now)),
        };
        with_conn!(self, c => sqlx::query(
            "INSERT INTO contact_merges (workspace_id, id, source_id, target_id, reason, source_snapshot, merged_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&w).bind(record.id.to_string()).bind(&from).bind(&to).bind(reason)
            .bind(to_json(&record.source_snapshot)).bind(to_millis(now)).execute(c).await.map(|r| r.rows_affected()))?;
        // Earlier merges into the source now point at the survivor.
        with_conn!(self, c => sqlx::query("UPDATE contact_merges SET target_id = $3 WHERE workspace_id = $1 AND target_id = $2")
            .bind(&w).bind(&from).bind(&to).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(record)
    }

    /// Merges into a contact, and the merge that removed it if it was merged away.
    pub async fn merges_of(&mut self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<MergeRecord>> {
        let rows: Vec<MergeRow> = with_conn!(self, c => sqlx::query_as(
            "SELECT id, source_id, target_id, reason, source_snapshot, merged_at FROM contact_merges
             WHERE workspace_id = $1 AND (target_id = $2 OR source_id = $2) ORDER BY merged_at, id")
            .bind(ws.to_string()).bind(contact.to_string()).fetch_all(c).await)?;
        rows.into_iter()
            .map(|r| {
                Ok(MergeRecord {
                    id: parse_id(&r.id, "merge")?,
                    source_id: parse_id(&r.source_id, "contact")?,
                    target_id: parse_id(&r.target_id, "contact")?,
                    reason: r.reason,
                    source_snapshot: serde_json::from_str(&r.source_snapshot).unwrap_or_default(),
                    merged_at: from_millis(r.merged_at),
                })
            })
            .collect()
    }
}
