//! Journeys as stored: definitions (the draft being edited and every
//! published version), each contact's run with its position and timer, the
//! path runs took, the outbox of effects with their delivery state, webhook
//! endpoints, contact scores, and the journey runner's position in the
//! event log. The runner writes a step's run, path, effects and log
//! position in one transaction, so a crash never separates them.

use crate::rows::{parse_id, parse_json, to_json};
use crate::{with_conn, Result, Tx};
use kairos_core::ids::{ContactId, JourneyId, WorkspaceId};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JourneyRecord {
    pub id: JourneyId,
    pub name: String,
    /// `draft` (never published), `active`, `paused` or `archived`.
    pub status: String,
    /// The definition being edited.
    pub draft: Value,
    /// The latest published version; 0 before the first publish.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct JourneyRow {
    id: String,
    name: String,
    status: String,
    draft: String,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl JourneyRow {
    fn into_record(self) -> Result<JourneyRecord> {
        Ok(JourneyRecord {
            id: parse_id(&self.id, "journey")?,
            name: self.name,
            status: self.status,
            draft: parse_json(&self.draft, "journey draft")?,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct WorkspaceJourneyRow {
    workspace_id: String,
    #[sqlx(flatten)]
    journey: JourneyRow,
}

const JOURNEY_COLUMNS: &str = "id, name, status, draft, version, created_at, updated_at";

/// One contact's run as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    pub workspace_id: WorkspaceId,
    pub id: String,
    pub journey_id: JourneyId,
    pub version: i64,
    pub contact_id: ContactId,
    pub node: String,
    pub status: String,
    pub visit: i64,
    pub due_at: Option<i64>,
    pub error: Option<String>,
    pub entered_at: i64,
    pub updated_at: i64,
    /// Log position of the event that started the run, if one did.
    pub trigger_seq: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    workspace_id: String,
    id: String,
    journey_id: String,
    version: i64,
    contact_id: String,
    node: String,
    status: String,
    visit: i64,
    due_at: Option<i64>,
    error: Option<String>,
    entered_at: i64,
    updated_at: i64,
    trigger_seq: Option<i64>,
}

impl RunRow {
    fn into_record(self) -> Result<RunRecord> {
        Ok(RunRecord {
            workspace_id: parse_id(&self.workspace_id, "workspace")?,
            id: self.id,
            journey_id: parse_id(&self.journey_id, "journey")?,
            version: self.version,
            contact_id: parse_id(&self.contact_id, "contact")?,
            node: self.node,
            status: self.status,
            visit: self.visit,
            due_at: self.due_at,
            error: self.error,
            entered_at: self.entered_at,
            updated_at: self.updated_at,
            trigger_seq: self.trigger_seq,
        })
    }
}

/// Rows per multi-row INSERT: at 13 parameters a row, well under both
/// backends' parameter limits.
const ROWS_PER_INSERT: usize = 400;

const RUN_COLUMNS: &str =
    "workspace_id, id, journey_id, version, contact_id, node, status, visit, due_at, error, entered_at, updated_at, trigger_seq";

/// A line of a run's path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathRecord {
    pub run_id: String,
    pub journey_id: JourneyId,
    /// The journey version the run was on.
    pub version: i64,
    pub node: String,
    pub outcome: String,
    pub detail: String,
    pub at: i64,
}

/// An effect waiting in (or done with) the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Intent {
    pub workspace_id: WorkspaceId,
    /// The idempotency key: run, node and visit; the `webhook-id` too.
    pub key: String,
    pub run_id: String,
    pub journey_id: JourneyId,
    pub node: String,
    pub kind: String,
    pub payload: Value,
    /// `pending`, `done` or `dead`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub done_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct IntentRow {
    workspace_id: String,
    key: String,
    run_id: String,
    journey_id: String,
    node: String,
    kind: String,
    payload: String,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    created_at: i64,
    done_at: Option<i64>,
}

impl IntentRow {
    fn into_record(self) -> Result<Intent> {
        Ok(Intent {
            workspace_id: parse_id(&self.workspace_id, "workspace")?,
            key: self.key,
            run_id: self.run_id,
            journey_id: parse_id(&self.journey_id, "journey")?,
            node: self.node,
            kind: self.kind,
            payload: parse_json(&self.payload, "outbox payload")?,
            status: self.status,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            last_error: self.last_error,
            created_at: self.created_at,
            done_at: self.done_at,
        })
    }
}

const INTENT_COLUMNS: &str = "workspace_id, key, run_id, journey_id, node, kind, payload, status, attempts, \
                              next_attempt_at, last_error, created_at, done_at";

/// An effect's delivery state after an attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attempt<'a> {
    /// `pending` (to be retried), `done` or `dead`.
    pub status: &'a str,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<&'a str>,
    pub done_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    /// `whsec_` followed by the base64 key (Standard Webhooks).
    #[serde(skip)]
    pub secret: String,
    pub description: Option<String>,
    pub created_at: i64,
}

/// Per node of a journey: runs there now by status, and path lines by
/// outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NodeCounts {
    pub node: String,
    pub current: std::collections::BTreeMap<String, i64>,
    pub outcomes: std::collections::BTreeMap<String, i64>,
}

impl Tx {
    pub async fn insert_journey(&mut self, ws: WorkspaceId, j: &JourneyRecord) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO journeys (workspace_id, id, name, status, draft, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(ws.to_string()).bind(j.id.to_string()).bind(&j.name).bind(&j.status).bind(to_json(&j.draft))
            .bind(j.version).bind(j.created_at).bind(j.updated_at).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Save name, status, draft and version of an existing journey.
    pub async fn update_journey(&mut self, ws: WorkspaceId, j: &JourneyRecord) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query(
            "UPDATE journeys SET name = $3, status = $4, draft = $5, version = $6, updated_at = $7
             WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(j.id.to_string()).bind(&j.name).bind(&j.status).bind(to_json(&j.draft))
            .bind(j.version).bind(j.updated_at).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    pub async fn journey(&mut self, ws: WorkspaceId, id: JourneyId) -> Result<Option<JourneyRecord>> {
        let sql = format!("SELECT {JOURNEY_COLUMNS} FROM journeys WHERE workspace_id = $1 AND id = $2");
        let row: Option<JourneyRow> = with_conn!(self, c => sqlx::query_as(&sql).bind(ws.to_string()).bind(id.to_string()).fetch_optional(c).await)?;
        row.map(JourneyRow::into_record).transpose()
    }

    pub async fn journeys(&mut self, ws: WorkspaceId) -> Result<Vec<JourneyRecord>> {
        let sql = format!("SELECT {JOURNEY_COLUMNS} FROM journeys WHERE workspace_id = $1 ORDER BY created_at, id");
        let rows: Vec<JourneyRow> =
            with_conn!(self, c => sqlx::query_as(&sql).bind(ws.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(JourneyRow::into_record).collect()
    }

    /// Every journey of every workspace that has been published (what the
    /// runner loads on start).
    pub async fn published_journeys(&mut self) -> Result<Vec<(WorkspaceId, JourneyRecord)>> {
        let sql = format!("SELECT workspace_id, {JOURNEY_COLUMNS} FROM journeys WHERE version > 0");
        let rows: Vec<WorkspaceJourneyRow> = with_conn!(self, c => sqlx::query_as(&sql).fetch_all(c).await)?;
        rows.into_iter().map(|r| Ok((parse_id(&r.workspace_id, "workspace")?, r.journey.into_record()?))).collect()
    }

    pub async fn insert_journey_version(
        &mut self,
        ws: WorkspaceId,
        id: JourneyId,
        version: i64,
        definition: &Value,
        now: i64,
    ) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO journey_versions (workspace_id, journey_id, version, definition, published_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(ws.to_string()).bind(id.to_string()).bind(version).bind(to_json(definition)).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Every published version of a journey: (version, definition, published_at).
    pub async fn journey_versions(&mut self, ws: WorkspaceId, id: JourneyId) -> Result<Vec<(i64, Value, i64)>> {
        let rows: Vec<(i64, String, i64)> = with_conn!(self, c => sqlx::query_as(
            "SELECT version, definition, published_at FROM journey_versions WHERE workspace_id = $1 AND journey_id = $2 ORDER BY version")
            .bind(ws.to_string()).bind(id.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(|(v, d, at)| Ok((v, parse_json(&d, "journey version")?, at))).collect()
    }

    /// Insert or replace runs.
    /// Delete a contact's journey runs, their paths and their outbox rows
    /// (payloads hold the person's data), and their scores: part of erasure.
    /// The journeys' counts (`journey_path_counts`) keep them: aggregates
    /// name nobody.
    pub async fn erase_journey_rows(&mut self, ws: WorkspaceId, contact: ContactId) -> Result<u64> {
        let mut n = 0;
        for sql in [
            "DELETE FROM outbox WHERE workspace_id = $1 AND run_id IN
               (SELECT id FROM journey_runs WHERE workspace_id = $1 AND contact_id = $2)",
            "DELETE FROM journey_path WHERE workspace_id = $1 AND run_id IN
               (SELECT id FROM journey_runs WHERE workspace_id = $1 AND contact_id = $2)",
            "DELETE FROM journey_runs WHERE workspace_id = $1 AND contact_id = $2",
        ] {
            n += with_conn!(self, c => sqlx::query(sql).bind(ws.to_string()).bind(contact.to_string())
                .execute(c).await.map(|r| r.rows_affected()))?;
        }
        Ok(n)
    }

    pub async fn save_runs(&mut self, runs: &[RunRecord]) -> Result<()> {
        for chunk in runs.chunks(ROWS_PER_INSERT) {
            with_conn!(self, c => {
                let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO journey_runs ({RUN_COLUMNS}) "));
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.workspace_id.to_string()).push_bind(r.id.clone()).push_bind(r.journey_id.to_string())
                        .push_bind(r.version).push_bind(r.contact_id.to_string()).push_bind(r.node.clone())
                        .push_bind(r.status.clone()).push_bind(r.visit).push_bind(r.due_at).push_bind(r.error.clone())
                        .push_bind(r.entered_at).push_bind(r.updated_at).push_bind(r.trigger_seq);
                });
                qb.push(" ON CONFLICT (workspace_id, id) DO UPDATE SET version = excluded.version, node = excluded.node,
                   status = excluded.status, visit = excluded.visit, due_at = excluded.due_at, error = excluded.error,
                   updated_at = excluded.updated_at");
                qb.build().execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// Every run of every workspace (the runner's state on start).
    pub async fn all_runs(&mut self) -> Result<Vec<RunRecord>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM journey_runs");
        let rows: Vec<RunRow> = with_conn!(self, c => sqlx::query_as(&sql).fetch_all(c).await)?;
        rows.into_iter().map(RunRow::into_record).collect()
    }

    pub async fn run(&mut self, ws: WorkspaceId, id: &str) -> Result<Option<RunRecord>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM journey_runs WHERE workspace_id = $1 AND id = $2");
        let row: Option<RunRow> =
            with_conn!(self, c => sqlx::query_as(&sql).bind(ws.to_string()).bind(id).fetch_optional(c).await)?;
        row.map(RunRow::into_record).transpose()
    }

    /// A contact's runs, newest first.
    pub async fn runs_of_contact(&mut self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<RunRecord>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM journey_runs WHERE workspace_id = $1 AND contact_id = $2 ORDER BY entered_at DESC, id DESC"
        );
        let rows: Vec<RunRow> = with_conn!(self, c => sqlx::query_as(&sql)
            .bind(ws.to_string()).bind(contact.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(RunRow::into_record).collect()
    }

    /// A journey's runs in one status (or any), oldest first, after a run id.
    pub async fn runs_of_journey(
        &mut self,
        ws: WorkspaceId,
        journey: JourneyId,
        status: Option<&str>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<RunRecord>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM journey_runs WHERE workspace_id = $1 AND journey_id = $2
             AND ($3 = '' OR status = $3) AND id > $4 ORDER BY id LIMIT $5"
        );
        let rows: Vec<RunRow> = with_conn!(self, c => sqlx::query_as(&sql)
            .bind(ws.to_string()).bind(journey.to_string()).bind(status.unwrap_or("")).bind(after).bind(limit)
            .fetch_all(c).await)?;
        rows.into_iter().map(RunRow::into_record).collect()
    }

    /// Append path lines, and count them in `journey_path_counts` in the
    /// same transaction (the live counts read those).
    pub async fn append_path(&mut self, ws: WorkspaceId, steps: &[PathRecord]) -> Result<()> {
        let w = ws.to_string();
        // Sorted, so concurrent writers take the counters' row locks in one order.
        let mut counts: std::collections::BTreeMap<(String, i64, &str, &str, &str), i64> = Default::default();
        for p in steps {
            let detail = if matches!(p.outcome.as_str(), "passed" | "left") { p.detail.as_str() } else { "" };
            *counts.entry((p.journey_id.to_string(), p.version, &p.node, &p.outcome, detail)).or_default() += 1;
        }
        let counts: Vec<_> = counts.into_iter().collect();
        for chunk in counts.chunks(ROWS_PER_INSERT) {
            with_conn!(self, c => {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO journey_path_counts (workspace_id, journey_id, version, node, outcome, detail, n) ");
                qb.push_values(chunk, |mut b, ((journey, version, node, outcome, detail), n)| {
                    b.push_bind(w.clone()).push_bind(journey.clone()).push_bind(*version).push_bind(node.to_string())
                        .push_bind(outcome.to_string()).push_bind(detail.to_string()).push_bind(*n);
                });
                qb.push(" ON CONFLICT (workspace_id, journey_id, version, node, outcome, detail)
                          DO UPDATE SET n = journey_path_counts.n + excluded.n");
                qb.build().execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        for chunk in steps.chunks(ROWS_PER_INSERT) {
            with_conn!(self, c => {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO journey_path (workspace_id, run_id, journey_id, version, node, outcome, detail, at) ");
                qb.push_values(chunk, |mut b, p| {
                    b.push_bind(w.clone()).push_bind(p.run_id.clone()).push_bind(p.journey_id.to_string()).push_bind(p.version)
                        .push_bind(p.node.clone()).push_bind(p.outcome.clone()).push_bind(p.detail.clone()).push_bind(p.at);
                });
                qb.build().execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    pub async fn path_of_run(&mut self, ws: WorkspaceId, run: &str) -> Result<Vec<PathRecord>> {
        let rows: Vec<(String, String, i64, String, String, String, i64)> = with_conn!(self, c => sqlx::query_as(
            "SELECT run_id, journey_id, version, node, outcome, detail, at FROM journey_path WHERE workspace_id = $1 AND run_id = $2 ORDER BY id")
            .bind(ws.to_string()).bind(run).fetch_all(c).await)?;
        rows.into_iter()
            .map(|(run_id, j, version, node, outcome, detail, at)| {
                Ok(PathRecord { run_id, journey_id: parse_id(&j, "journey")?, version, node, outcome, detail, at })
            })
            .collect()
    }

    /// Live counts per node of a journey (all versions together).
    pub async fn journey_node_counts(&mut self, ws: WorkspaceId, journey: JourneyId) -> Result<Vec<NodeCounts>> {
        let (w, j) = (ws.to_string(), journey.to_string());
        let current: Vec<(String, String, i64)> = with_conn!(self, c => sqlx::query_as(
            "SELECT node, status, COUNT(*) FROM journey_runs WHERE workspace_id = $1 AND journey_id = $2 GROUP BY node, status")
            .bind(&w).bind(&j).fetch_all(c).await)?;
        let outcomes: Vec<(String, String, i64)> = with_conn!(self, c => sqlx::query_as(
            "SELECT node, outcome, CAST(SUM(n) AS BIGINT) FROM journey_path_counts WHERE workspace_id = $1 AND journey_id = $2
             GROUP BY node, outcome")
            .bind(&w).bind(&j).fetch_all(c).await)?;
        let mut by_node: std::collections::BTreeMap<String, NodeCounts> = Default::default();
        for (node, status, n) in current {
            by_node
                .entry(node.clone())
                .or_insert_with(|| NodeCounts { node, ..Default::default() })
                .current
                .insert(status, n);
        }
        for (node, outcome, n) in outcomes {
            by_node
                .entry(node.clone())
                .or_insert_with(|| NodeCounts { node, ..Default::default() })
                .outcomes
                .insert(outcome, n);
        }
        Ok(by_node.into_values().collect())
    }

    /// A journey's path lines that record a contact moving on (`passed` and
    /// `left`) under `version` (or before versions were recorded), counted
    /// per node, outcome and detail: its edge counts, once mapped through
    /// that version's definition.
    pub async fn journey_exit_lines(
        &mut self,
        ws: WorkspaceId,
        journey: JourneyId,
        version: i64,
    ) -> Result<Vec<(String, String, String, i64)>> {
        Ok(with_conn!(self, c => sqlx::query_as(
            "SELECT node, outcome, detail, CAST(SUM(n) AS BIGINT) FROM journey_path_counts
             WHERE workspace_id = $1 AND journey_id = $2 AND outcome IN ('passed', 'left') AND version IN (0, $3)
             GROUP BY node, outcome, detail")
            .bind(ws.to_string()).bind(journey.to_string()).bind(version).fetch_all(c).await)?)
    }

    /// Add effects to the outbox; one already there under its key is kept.
    pub async fn insert_intents(&mut self, intents: &[Intent]) -> Result<()> {
        for chunk in intents.chunks(ROWS_PER_INSERT) {
            with_conn!(self, c => {
                let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO outbox ({INTENT_COLUMNS}) "));
                qb.push_values(chunk, |mut b, i| {
                    b.push_bind(i.workspace_id.to_string()).push_bind(i.key.clone()).push_bind(i.run_id.clone())
                        .push_bind(i.journey_id.to_string()).push_bind(i.node.clone()).push_bind(i.kind.clone())
                        .push_bind(to_json(&i.payload)).push_bind(i.status.clone()).push_bind(i.attempts)
                        .push_bind(i.next_attempt_at).push_bind(i.last_error.clone()).push_bind(i.created_at)
                        .push_bind(i.done_at);
                });
                qb.push(" ON CONFLICT (workspace_id, key) DO NOTHING");
                qb.build().execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// Pending effects due by `now`, oldest due first.
    pub async fn due_intents(&mut self, now: i64, limit: i64) -> Result<Vec<Intent>> {
        let sql = format!(
            "SELECT {INTENT_COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2"
        );
        let rows: Vec<IntentRow> =
            with_conn!(self, c => sqlx::query_as(&sql).bind(now).bind(limit).fetch_all(c).await)?;
        rows.into_iter().map(IntentRow::into_record).collect()
    }

    /// When the next pending effect is due, if any is.
    pub async fn next_intent_due(&mut self) -> Result<Option<i64>> {
        Ok(with_conn!(self, c => sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'")
            .fetch_one(c).await)?)
    }

    pub async fn intent(&mut self, ws: WorkspaceId, key: &str) -> Result<Option<Intent>> {
        let sql = format!("SELECT {INTENT_COLUMNS} FROM outbox WHERE workspace_id = $1 AND key = $2");
        let row: Option<IntentRow> =
            with_conn!(self, c => sqlx::query_as(&sql).bind(ws.to_string()).bind(key).fetch_optional(c).await)?;
        row.map(IntentRow::into_record).transpose()
    }

    /// Effects in one status (`dead` is the dead-letter list), newest first.
    pub async fn intents_with_status(&mut self, ws: WorkspaceId, status: &str, limit: i64) -> Result<Vec<Intent>> {
        let sql = format!(
            "SELECT {INTENT_COLUMNS} FROM outbox WHERE workspace_id = $1 AND status = $2 ORDER BY created_at DESC, key LIMIT $3"
        );
        let rows: Vec<IntentRow> = with_conn!(self, c => sqlx::query_as(&sql)
            .bind(ws.to_string()).bind(status).bind(limit).fetch_all(c).await)?;
        rows.into_iter().map(IntentRow::into_record).collect()
    }

    /// Record an effect's delivery state after an attempt.
    pub async fn set_intent_state(&mut self, ws: WorkspaceId, key: &str, a: &Attempt<'_>) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "UPDATE outbox SET status = $3, attempts = $4, next_attempt_at = $5, last_error = $6, done_at = $7
             WHERE workspace_id = $1 AND key = $2")
            .bind(ws.to_string()).bind(key).bind(a.status).bind(a.attempts).bind(a.next_attempt_at).bind(a.last_error)
            .bind(a.done_at).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn insert_webhook_endpoint(&mut self, ws: WorkspaceId, e: &WebhookEndpoint) -> Result<()> {
        self.savepoint().await?;
        let r = with_conn!(self, c => sqlx::query(
            "INSERT INTO webhook_endpoints (workspace_id, id, url, secret, description, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(ws.to_string()).bind(&e.id).bind(&e.url).bind(&e.secret).bind(&e.description).bind(e.created_at)
            .execute(c).await.map(|r| r.rows_affected()))
        .map(|_| ())
        .map_err(crate::StoreError::from);
        self.end_savepoint(r).await
    }

    pub async fn webhook_endpoints(&mut self, ws: WorkspaceId) -> Result<Vec<WebhookEndpoint>> {
        Ok(with_conn!(self, c => sqlx::query_as(
            "SELECT id, url, secret, description, created_at FROM webhook_endpoints WHERE workspace_id = $1 ORDER BY id")
            .bind(ws.to_string()).fetch_all(c).await)?)
    }

    pub async fn webhook_endpoint(&mut self, ws: WorkspaceId, id: &str) -> Result<Option<WebhookEndpoint>> {
        Ok(with_conn!(self, c => sqlx::query_as(
            "SELECT id, url, secret, description, created_at FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(id).fetch_optional(c).await)?)
    }

    pub async fn delete_webhook_endpoint(&mut self, ws: WorkspaceId, id: &str) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query("DELETE FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// How far the journey runner has read the event log.
    pub async fn journey_cursor(&mut self) -> Result<i64> {
        let v: Option<i64> = with_conn!(self, c => sqlx::query_scalar("SELECT seq FROM journey_cursor WHERE id = 1")
            .fetch_optional(c).await)?;
        Ok(v.unwrap_or(0))
    }

    pub async fn set_journey_cursor(&mut self, seq: i64) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO journey_cursor (id, seq) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq")
            .bind(seq).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The newest position in the event log (0 when empty).
    pub async fn last_event_seq(&mut self) -> Result<i64> {
        let v: Option<i64> =
            with_conn!(self, c => sqlx::query_scalar("SELECT MAX(seq) FROM events").fetch_one(c).await)?;
        Ok(v.unwrap_or(0))
    }
}

impl Tx {
    /// Who took each path of a split node and whether they performed `goal`
    /// within `within_ms` after: (path detail such as `path 1`, when, converted).
    pub async fn split_outcomes(
        &mut self,
        ws: WorkspaceId,
        journey: JourneyId,
        node: &str,
        goal: &str,
        within_ms: i64,
    ) -> Result<Vec<(String, i64, bool)>> {
        let rows: Vec<(String, i64, i32)> = with_conn!(self, c => sqlx::query_as(
            "SELECT p.detail, p.at, CASE WHEN EXISTS (SELECT 1 FROM events e WHERE e.workspace_id = p.workspace_id
                 AND e.contact_id = r.contact_id AND e.kind = 'track' AND e.name = $4
                 AND e.timestamp > p.at AND e.timestamp <= p.at + $5) THEN 1 ELSE 0 END
             FROM journey_path p JOIN journey_runs r ON r.workspace_id = p.workspace_id AND r.id = p.run_id
             WHERE p.workspace_id = $1 AND p.journey_id = $2 AND p.node = $3 AND p.outcome = 'passed'")
            .bind(ws.to_string()).bind(journey.to_string()).bind(node).bind(goal).bind(within_ms)
            .fetch_all(c).await)?;
        Ok(rows.into_iter().map(|(d, at, x)| (d, at, x != 0)).collect())
    }
}
