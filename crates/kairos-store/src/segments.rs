//! Segments and static lists as stored: segment definitions (the rule as
//! JSON, a version, a status), the persisted membership the engine diffs
//! against on start, list definitions and list members, and the scans the
//! segment engine loads its state from.

use crate::rows::{parse_id, parse_json, to_json, ContactRow, CONTACT_COLUMNS};
use crate::{with_conn, Result, StoreError, Tx};
use kairos_core::contact::Contact;
use kairos_core::event::EventKind;
use kairos_core::ids::{CompanyId, ContactId, ListId, SegmentId, WorkspaceId};
use serde::Serialize;
use serde_json::Value;

/// A segment definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentRecord {
    pub id: SegmentId,
    pub name: String,
    pub description: Option<String>,
    pub rule: Value,
    /// Bumped on every change of the rule.
    pub version: i64,
    /// `building` (backfill running), `active` or `failed`.
    pub status: String,
    /// Why the segment failed, when it did.
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct SegmentRow {
    id: String,
    name: String,
    description: Option<String>,
    rule: String,
    version: i64,
    status: String,
    error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl SegmentRow {
    fn into_record(self) -> Result<SegmentRecord> {
        Ok(SegmentRecord {
            id: parse_id(&self.id, "segment")?,
            name: self.name,
            description: self.description,
            rule: parse_json(&self.rule, "segment rule")?,
            version: self.version,
            status: self.status,
            error: self.error,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const SEGMENT_COLUMNS: &str = "id, name, description, rule, version, status, error, created_at, updated_at";

/// A static list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListRecord {
    pub id: ListId,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct ListRow {
    id: String,
    name: String,
    description: Option<String>,
    created_at: i64,
    updated_at: i64,
}

/// An event of the log as the segment engine reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    pub seq: i64,
    pub contact_id: ContactId,
    pub kind: EventKind,
    pub name: Option<String>,
    pub timestamp: i64,
    pub properties: Value,
}

#[derive(sqlx::FromRow)]
struct LogEventRow {
    seq: i64,
    contact_id: String,
    kind: String,
    name: Option<String>,
    timestamp: i64,
    properties: String,
}

/// One membership change to persist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MembershipChange {
    pub segment: SegmentId,
    pub contact: ContactId,
    pub entered: bool,
    pub at: i64,
}

impl Tx {
    pub async fn insert_segment(&mut self, ws: WorkspaceId, s: &SegmentRecord) -> Result<()> {
        self.savepoint().await?;
        let result = with_conn!(self, c => sqlx::query(&format!(
            "INSERT INTO segments (workspace_id, {SEGMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
            .bind(ws.to_string()).bind(s.id.to_string()).bind(&s.name).bind(&s.description).bind(to_json(&s.rule))
            .bind(s.version).bind(&s.status).bind(&s.error).bind(s.created_at).bind(s.updated_at)
            .execute(c).await.map(|r| r.rows_affected()))
        .map_err(StoreError::conflict_as(format!("a segment named {:?}", s.name)));
        self.end_savepoint(result).await?;
        Ok(())
    }

    pub async fn update_segment(&mut self, ws: WorkspaceId, s: &SegmentRecord) -> Result<bool> {
        self.savepoint().await?;
        let result = with_conn!(self, c => sqlx::query(
            "UPDATE segments SET name = $3, description = $4, rule = $5, version = $6, status = $7, error = $8, updated_at = $9
             WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(s.id.to_string()).bind(&s.name).bind(&s.description).bind(to_json(&s.rule))
            .bind(s.version).bind(&s.status).bind(&s.error).bind(s.updated_at)
            .execute(c).await.map(|r| r.rows_affected()))
        .map_err(StoreError::conflict_as(format!("a segment named {:?}", s.name)));
        Ok(self.end_savepoint(result).await? > 0)
    }

    pub async fn set_segment_status(
        &mut self,
        ws: WorkspaceId,
        id: SegmentId,
        status: &str,
        error: Option<&str>,
    ) -> Result<()> {
        with_conn!(self, c => sqlx::query("UPDATE segments SET status = $3, error = $4 WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(id.to_string()).bind(status).bind(error)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn segment(&mut self, ws: WorkspaceId, id: SegmentId) -> Result<Option<SegmentRecord>> {
        let sql = format!("SELECT {SEGMENT_COLUMNS} FROM segments WHERE workspace_id = $1 AND id = $2");
        let row: Option<SegmentRow> = with_conn!(self, c => sqlx::query_as(&sql).bind(ws.to_string()).bind(id.to_string()).fetch_optional(c).await)?;
        row.map(SegmentRow::into_record).transpose()
    }

    /// Every segment of a workspace, oldest first.
    pub async fn segments(&mut self, ws: WorkspaceId) -> Result<Vec<SegmentRecord>> {
        let sql = format!("SELECT {SEGMENT_COLUMNS} FROM segments WHERE workspace_id = $1 ORDER BY id");
        let rows: Vec<SegmentRow> =
            with_conn!(self, c => sqlx::query_as(&sql).bind(ws.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(SegmentRow::into_record).collect()
    }

    /// Delete a segment and its persisted membership.
    pub async fn delete_segment(&mut self, ws: WorkspaceId, id: SegmentId) -> Result<bool> {
        with_conn!(self, c => sqlx::query("DELETE FROM segment_members WHERE workspace_id = $1 AND segment_id = $2")
            .bind(ws.to_string()).bind(id.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        let n = with_conn!(self, c => sqlx::query("DELETE FROM segments WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(id.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Persist membership changes (idempotent: entering twice or leaving a
    /// segment one is not in changes nothing). Changes apply in order, in
    /// multi-row statements.
    pub async fn apply_membership(&mut self, ws: WorkspaceId, changes: &[MembershipChange]) -> Result<()> {
        let w = ws.to_string();
        // Consecutive changes of the same direction form one statement; the
        // order between an entry and a later exit is kept.
        let mut start = 0;
        while start < changes.len() {
            let entered = changes[start].entered;
            let mut end = start;
            while end < changes.len() && changes[end].entered == entered && end - start < 500 {
                end += 1;
            }
            let run = &changes[start..end];
            if entered {
                with_conn!(self, conn => {
                    let mut qb = sqlx::QueryBuilder::new(
                        "INSERT INTO segment_members (workspace_id, segment_id, contact_id, since) ");
                    qb.push_values(run, |mut b, ch| {
                        b.push_bind(w.clone()).push_bind(ch.segment.to_string()).push_bind(ch.contact.to_string()).push_bind(ch.at);
                    });
                    qb.push(" ON CONFLICT DO NOTHING");
                    qb.build().execute(conn).await.map(|r| r.rows_affected())
                })?;
            } else {
                with_conn!(self, conn => {
                    let mut qb = sqlx::QueryBuilder::new("DELETE FROM segment_members WHERE workspace_id = ");
                    qb.push_bind(w.clone()).push(" AND (");
                    let mut first = true;
                    for ch in run {
                        if !first {
                            qb.push(" OR ");
                        }
                        first = false;
                        qb.push("(segment_id = ").push_bind(ch.segment.to_string())
                            .push(" AND contact_id = ").push_bind(ch.contact.to_string()).push(")");
                    }
                    qb.push(")");
                    qb.build().execute(conn).await.map(|r| r.rows_affected())
                })?;
            }
            start = end;
        }
        Ok(())
    }

    /// The persisted members of a segment.
    pub async fn segment_member_ids(&mut self, ws: WorkspaceId, id: SegmentId) -> Result<Vec<ContactId>> {
        let ids: Vec<String> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT contact_id FROM segment_members WHERE workspace_id = $1 AND segment_id = $2")
            .bind(ws.to_string()).bind(id.to_string()).fetch_all(c).await)?;
        ids.iter().map(|s| parse_id(s, "contact")).collect()
    }

    /// When a contact entered each segment it is in.
    pub async fn segment_entries_of(&mut self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<(SegmentId, i64)>> {
        let rows: Vec<(String, i64)> = with_conn!(self, c => sqlx::query_as(
            "SELECT segment_id, since FROM segment_members WHERE workspace_id = $1 AND contact_id = $2")
            .bind(ws.to_string()).bind(contact.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(|(s, t)| Ok((parse_id(&s, "segment")?, t))).collect()
    }

    pub async fn insert_list(&mut self, ws: WorkspaceId, l: &ListRecord) -> Result<()> {
        self.savepoint().await?;
        let result = with_conn!(self, c => sqlx::query(
            "INSERT INTO lists (workspace_id, id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(ws.to_string()).bind(l.id.to_string()).bind(&l.name).bind(&l.description).bind(l.created_at).bind(l.updated_at)
            .execute(c).await.map(|r| r.rows_affected()))
        .map_err(StoreError::conflict_as(format!("a list named {:?}", l.name)));
        self.end_savepoint(result).await?;
        Ok(())
    }

    pub async fn update_list(&mut self, ws: WorkspaceId, l: &ListRecord) -> Result<bool> {
        self.savepoint().await?;
        let result = with_conn!(self, c => sqlx::query(
            "UPDATE lists SET name = $3, description = $4, updated_at = $5 WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(l.id.to_string()).bind(&l.name).bind(&l.description).bind(l.updated_at)
            .execute(c).await.map(|r| r.rows_affected()))
        .map_err(StoreError::conflict_as(format!("a list named {:?}", l.name)));
        Ok(self.end_savepoint(result).await? > 0)
    }

    pub async fn list(&mut self, ws: WorkspaceId, id: ListId) -> Result<Option<ListRecord>> {
        let row: Option<ListRow> = with_conn!(self, c => sqlx::query_as(
            "SELECT id, name, description, created_at, updated_at FROM lists WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(id.to_string()).fetch_optional(c).await)?;
        row.map(list_record).transpose()
    }

    pub async fn lists(&mut self, ws: WorkspaceId) -> Result<Vec<ListRecord>> {
        let rows: Vec<ListRow> = with_conn!(self, c => sqlx::query_as(
            "SELECT id, name, description, created_at, updated_at FROM lists WHERE workspace_id = $1 ORDER BY id")
            .bind(ws.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(list_record).collect()
    }

    /// Delete a list and its memberships (refuse first if a segment uses it).
    pub async fn delete_list(&mut self, ws: WorkspaceId, id: ListId) -> Result<bool> {
        let members: Vec<String> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT contact_id FROM list_members WHERE workspace_id = $1 AND list_id = $2")
            .bind(ws.to_string()).bind(id.to_string()).fetch_all(c).await)?;
        for m in members {
            self.touched.list_members.push((ws, id, parse_id(&m, "contact")?, false));
        }
        with_conn!(self, c => sqlx::query("DELETE FROM list_members WHERE workspace_id = $1 AND list_id = $2")
            .bind(ws.to_string()).bind(id.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        let n = with_conn!(self, c => sqlx::query("DELETE FROM lists WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(id.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Add contacts to a list; returns those that were not on it yet.
    pub async fn add_list_members(
        &mut self,
        ws: WorkspaceId,
        list: ListId,
        contacts: &[ContactId],
        source: &str,
        now: i64,
    ) -> Result<Vec<ContactId>> {
        let (w, l) = (ws.to_string(), list.to_string());
        let mut added = Vec::new();
        for c in contacts {
            let n = with_conn!(self, conn => sqlx::query(
                "INSERT INTO list_members (workspace_id, list_id, contact_id, source, added_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT DO NOTHING")
                .bind(&w).bind(&l).bind(c.to_string()).bind(source).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
            if n > 0 {
                added.push(*c);
                self.touched.list_members.push((ws, list, *c, true));
            }
        }
        Ok(added)
    }

    /// Remove contacts from a list; returns those that were on it.
    pub async fn remove_list_members(
        &mut self,
        ws: WorkspaceId,
        list: ListId,
        contacts: &[ContactId],
    ) -> Result<Vec<ContactId>> {
        let (w, l) = (ws.to_string(), list.to_string());
        let mut removed = Vec::new();
        for c in contacts {
            let n = with_conn!(self, conn => sqlx::query(
                "DELETE FROM list_members WHERE workspace_id = $1 AND list_id = $2 AND contact_id = $3")
                .bind(&w).bind(&l).bind(c.to_string()).execute(conn).await.map(|r| r.rows_affected()))?;
            if n > 0 {
                removed.push(*c);
                self.touched.list_members.push((ws, list, *c, false));
            }
        }
        Ok(removed)
    }

    /// A page of a list's members ordered by contact id, after `after`.
    pub async fn list_members(
        &mut self,
        ws: WorkspaceId,
        list: ListId,
        after: Option<ContactId>,
        limit: i64,
    ) -> Result<Vec<ContactId>> {
        let after = after.map(|a| a.to_string()).unwrap_or_default();
        let ids: Vec<String> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT contact_id FROM list_members WHERE workspace_id = $1 AND list_id = $2 AND contact_id > $3
             ORDER BY contact_id LIMIT $4")
            .bind(ws.to_string()).bind(list.to_string()).bind(after).bind(limit).fetch_all(c).await)?;
        ids.iter().map(|s| parse_id(s, "contact")).collect()
    }

    pub async fn count_list_members(&mut self, ws: WorkspaceId, list: ListId) -> Result<i64> {
        Ok(with_conn!(self, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM list_members WHERE workspace_id = $1 AND list_id = $2")
            .bind(ws.to_string()).bind(list.to_string()).fetch_one(c).await)?)
    }

    /// Every list membership of a workspace.
    pub async fn all_list_members(&mut self, ws: WorkspaceId) -> Result<Vec<(ListId, ContactId)>> {
        let rows: Vec<(String, String)> = with_conn!(self, c => sqlx::query_as(
            "SELECT list_id, contact_id FROM list_members WHERE workspace_id = $1")
            .bind(ws.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(|(l, c)| Ok((parse_id(&l, "list")?, parse_id(&c, "contact")?))).collect()
    }

    /// A contact's lists.
    pub async fn lists_of(&mut self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<ListId>> {
        let ids: Vec<String> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT list_id FROM list_members WHERE workspace_id = $1 AND contact_id = $2 ORDER BY list_id")
            .bind(ws.to_string()).bind(contact.to_string()).fetch_all(c).await)?;
        ids.iter().map(|s| parse_id(s, "list")).collect()
    }

    /// Contacts in id order after `after` (company links not loaded).
    pub async fn contacts_after(
        &mut self,
        ws: WorkspaceId,
        after: Option<ContactId>,
        limit: i64,
    ) -> Result<Vec<Contact>> {
        let sql =
            format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3");
        let after = after.map(|a| a.to_string()).unwrap_or_default();
        let rows: Vec<ContactRow> = with_conn!(self, c => sqlx::query_as(&sql)
            .bind(ws.to_string()).bind(after).bind(limit).fetch_all(c).await)?;
        rows.into_iter().map(ContactRow::into_contact).collect()
    }

    /// Every contact-company link of a workspace.
    pub async fn all_company_links(&mut self, ws: WorkspaceId) -> Result<Vec<(ContactId, CompanyId)>> {
        let rows: Vec<(String, String)> = with_conn!(self, c => sqlx::query_as(
            "SELECT contact_id, company_id FROM contact_companies WHERE workspace_id = $1 ORDER BY created_at, company_id")
            .bind(ws.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(|(a, b)| Ok((parse_id(&a, "contact")?, parse_id(&b, "company")?))).collect()
    }

    /// The log position of the newest event of a workspace (0 if none).
    pub async fn max_seq(&mut self, ws: WorkspaceId) -> Result<i64> {
        // Newest first along the primary key: the first row of the
        // workspace is the answer, without visiting the others.
        let n: Option<i64> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT seq FROM events WHERE workspace_id || '' = $1 ORDER BY seq DESC LIMIT 1")
            .bind(ws.to_string()).fetch_optional(c).await)?;
        Ok(n.unwrap_or(0))
    }

    /// Events of the log with `after < seq <= upto`, in order, for segment
    /// backfills. With `names`, only events segment rules know by those
    /// names (`track` by name; page and screen calls as `Page Viewed` /
    /// `Screen Viewed`).
    pub async fn log_events(
        &mut self,
        ws: WorkspaceId,
        after: i64,
        upto: i64,
        limit: i64,
        names: Option<&[String]>,
    ) -> Result<Vec<LogEvent>> {
        let rows: Vec<LogEventRow> = with_conn!(self, c => {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT seq, contact_id, kind, name, timestamp, properties FROM events WHERE seq > ");
            // `workspace_id || ''` keeps both planners on the log's primary
            // key (a range of seq) instead of a workspace index plus a sort.
            qb.push_bind(after).push(" AND seq <= ").push_bind(upto).push(" AND workspace_id || '' = ").push_bind(ws.to_string());
            if let Some(names) = names {
                qb.push(" AND (");
                let tracked: Vec<&String> =
                    names.iter().filter(|n| *n != "Page Viewed" && *n != "Screen Viewed").collect();
                qb.push("(kind = 'track' AND name IN (");
                let mut sep = qb.separated(", ");
                sep.push_bind("");
                for n in tracked {
                    sep.push_bind(n.clone());
                }
                qb.push("))");
                if names.iter().any(|n| n == "Page Viewed") {
                    qb.push(" OR kind = 'page'");
                }
                if names.iter().any(|n| n == "Screen Viewed") {
                    qb.push(" OR kind = 'screen'");
                }
                qb.push(")");
            }
            qb.push(" ORDER BY seq LIMIT ").push_bind(limit);
            qb.build_query_as().fetch_all(c).await
        })?;
        rows.into_iter()
            .map(|r| {
                Ok(LogEvent {
                    seq: r.seq,
                    contact_id: parse_id(&r.contact_id, "contact")?,
                    kind: EventKind::parse(&r.kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("event kind {:?}", r.kind)))?,
                    name: r.name,
                    timestamp: r.timestamp,
                    properties: parse_json(&r.properties, "event properties")?,
                })
            })
            .collect()
    }
}

fn list_record(r: ListRow) -> Result<ListRecord> {
    Ok(ListRecord {
        id: parse_id(&r.id, "list")?,
        name: r.name,
        description: r.description,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}
