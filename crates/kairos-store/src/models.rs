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

/// A contact's stored probability from a conversion model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct ModelScore {
    pub contact_id: String,
    pub event: String,
    pub model_id: String,
    pub probability: f64,
    pub scored_at: i64,
}

/// Retraining on a schedule.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct ModelSchedule {
    pub event: String,
    /// The training request, as JSON text.
    pub request: String,
    pub every_days: i64,
    pub next_at: i64,
    pub last_run_at: Option<i64>,
    pub last_result: Option<String>,
}

const SCHEDULE_COLUMNS: &str = "event, request, every_days, next_at, last_run_at, last_result";

impl Tx {
    /// Workspaces with a model of a kind.
    pub async fn workspaces_with_models(&mut self, kind: &str) -> Result<Vec<WorkspaceId>> {
        let rows: Vec<String> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT DISTINCT workspace_id FROM models WHERE kind = $1").bind(kind).fetch_all(c).await)?;
        rows.iter().map(|s| parse_id(s, "workspace")).collect()
    }

    /// Write contacts' probabilities (insert or replace).
    pub async fn save_model_scores(&mut self, ws: WorkspaceId, rows: &[ModelScore]) -> Result<()> {
        for chunk in rows.chunks(500) {
            with_conn!(self, c => {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO model_scores (workspace_id, contact_id, event, model_id, probability, scored_at) ");
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(ws.to_string()).push_bind(&r.contact_id).push_bind(&r.event).push_bind(&r.model_id)
                        .push_bind(r.probability).push_bind(r.scored_at);
                });
                qb.push(" ON CONFLICT (workspace_id, contact_id, event) DO UPDATE SET model_id = excluded.model_id, \
                          probability = excluded.probability, scored_at = excluded.scored_at");
                qb.build().execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// Contacts by probability of `event`, highest first; `before` is the
    /// cursor (the last row's probability and contact).
    pub async fn top_model_scores(
        &mut self,
        ws: WorkspaceId,
        event: &str,
        before: Option<(f64, String)>,
        limit: i64,
    ) -> Result<Vec<ModelScore>> {
        let (p, id) = before.unwrap_or((f64::INFINITY, String::new()));
        Ok(with_conn!(self, c => sqlx::query_as(
            "SELECT contact_id, event, model_id, probability, scored_at FROM model_scores
             WHERE workspace_id = $1 AND event = $2 AND (probability < $3 OR (probability = $3 AND contact_id > $4))
             ORDER BY probability DESC, contact_id LIMIT $5")
            .bind(ws.to_string()).bind(event).bind(p).bind(id).bind(limit).fetch_all(c).await)?)
    }

    pub async fn count_model_scores(&mut self, ws: WorkspaceId, event: &str, model_id: &str) -> Result<i64> {
        Ok(with_conn!(self, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM model_scores WHERE workspace_id = $1 AND event = $2 AND model_id = $3")
            .bind(ws.to_string()).bind(event).bind(model_id).fetch_one(c).await)?)
    }

    pub async fn model_schedules(&mut self, ws: WorkspaceId) -> Result<Vec<ModelSchedule>> {
        Ok(with_conn!(self, c => sqlx::query_as(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM model_schedules WHERE workspace_id = $1 ORDER BY event"))
            .bind(ws.to_string()).fetch_all(c).await)?)
    }

    pub async fn save_model_schedule(&mut self, ws: WorkspaceId, s: &ModelSchedule) -> Result<()> {
        with_conn!(self, c => sqlx::query(&format!(
            "INSERT INTO model_schedules (workspace_id, {SCHEDULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (workspace_id, event) DO UPDATE SET request = excluded.request, every_days = excluded.every_days,
               next_at = excluded.next_at, last_run_at = excluded.last_run_at, last_result = excluded.last_result"))
            .bind(ws.to_string()).bind(&s.event).bind(&s.request).bind(s.every_days).bind(s.next_at)
            .bind(s.last_run_at).bind(&s.last_result).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_model_schedule(&mut self, ws: WorkspaceId, event: &str) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query("DELETE FROM model_schedules WHERE workspace_id = $1 AND event = $2")
            .bind(ws.to_string()).bind(event).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Schedules due by `now`, in every workspace.
    pub async fn due_model_schedules(&mut self, now: i64) -> Result<Vec<(WorkspaceId, ModelSchedule)>> {
        #[derive(sqlx::FromRow)]
        struct Due {
            workspace_id: String,
            #[sqlx(flatten)]
            schedule: ModelSchedule,
        }
        let rows: Vec<Due> = with_conn!(self, c => sqlx::query_as(
            &format!("SELECT workspace_id, {SCHEDULE_COLUMNS} FROM model_schedules WHERE next_at <= $1 ORDER BY next_at"))
            .bind(now).fetch_all(c).await)?;
        rows.into_iter().map(|r| Ok((parse_id(&r.workspace_id, "workspace")?, r.schedule))).collect()
    }

    pub async fn log_cursor(&mut self, name: &str) -> Result<Option<i64>> {
        Ok(with_conn!(self, c => sqlx::query_scalar("SELECT seq FROM log_cursors WHERE name = $1")
            .bind(name).fetch_optional(c).await)?)
    }

    pub async fn set_log_cursor(&mut self, name: &str, seq: i64) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO log_cursors (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq")
            .bind(name).bind(seq).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

impl Tx {
    /// Opens and clicks by people (machine opens left out) since `since`,
    /// of the workspace or one contact: (contact, timestamp, the contact's
    /// time zone).
    pub async fn engagement_times(
        &mut self,
        ws: WorkspaceId,
        since: i64,
        contact: Option<ContactId>,
    ) -> Result<Vec<(ContactId, i64, Option<String>)>> {
        let only = contact.map(|c| c.to_string()).unwrap_or_default();
        let rows: Vec<(String, i64, Option<String>, String)> = with_conn!(self, c => sqlx::query_as(
            "SELECT e.contact_id, e.timestamp, k.timezone, e.properties FROM events e
             JOIN contacts k ON k.workspace_id = e.workspace_id AND k.id = e.contact_id
             WHERE e.workspace_id = $1 AND e.kind = 'track' AND e.name IN ('Email Opened', 'Email Clicked')
             AND e.timestamp >= $2 AND ($3 = '' OR e.contact_id = $3)")
            .bind(ws.to_string()).bind(since).bind(only).fetch_all(c).await)?;
        let mut out = Vec::with_capacity(rows.len());
        for (c, t, tz, props) in rows {
            let props: Value = parse_json(&props, "event properties")?;
            if props.get("machine").is_some_and(|m| !m.is_null()) {
                continue;
            }
            out.push((parse_id(&c, "contact")?, t, tz));
        }
        Ok(out)
    }
}

/// A stored fairness audit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FairnessAudit {
    pub id: String,
    /// `score:NAME` or `conversion:MODEL ID`.
    pub subject: String,
    /// The score's definition version or the model version audited.
    pub version: String,
    pub request: Value,
    pub report: Value,
    pub created_at: i64,
}

impl Tx {
    pub async fn save_fairness_audit(&mut self, ws: WorkspaceId, a: &FairnessAudit) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO fairness_audits (workspace_id, id, subject, version, request, report, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(ws.to_string()).bind(&a.id).bind(&a.subject).bind(&a.version).bind(to_json(&a.request))
            .bind(to_json(&a.report)).bind(a.created_at).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Audits, newest first; `subject` narrows to one.
    pub async fn fairness_audits(&mut self, ws: WorkspaceId, subject: Option<&str>) -> Result<Vec<FairnessAudit>> {
        let rows: Vec<(String, String, String, String, String, i64)> = with_conn!(self, c => sqlx::query_as(
            "SELECT id, subject, version, request, report, created_at FROM fairness_audits
             WHERE workspace_id = $1 AND ($2 = '' OR subject = $2) ORDER BY created_at DESC, id DESC LIMIT 200")
            .bind(ws.to_string()).bind(subject.unwrap_or("")).fetch_all(c).await)?;
        rows.into_iter()
            .map(|(id, subject, version, request, report, created_at)| {
                Ok(FairnessAudit {
                    id,
                    subject,
                    version,
                    request: parse_json(&request, "audit request")?,
                    report: parse_json(&report, "audit report")?,
                    created_at,
                })
            })
            .collect()
    }

    /// Every contact's state of one score.
    pub async fn all_score_states(
        &mut self,
        ws: WorkspaceId,
        name: &str,
    ) -> Result<Vec<(ContactId, kairos_core::score::ScoreState, Option<f64>)>> {
        let rows: Vec<(String, f64, i64, f64, Option<f64>)> = with_conn!(self, c => sqlx::query_as(
            "SELECT contact_id, value, as_of, attributes, half_life_days FROM contact_scores
             WHERE workspace_id = $1 AND score = $2")
            .bind(ws.to_string()).bind(name).fetch_all(c).await)?;
        rows.into_iter()
            .map(|(c, behaviour, as_of, attributes, h)| {
                let state = kairos_core::score::ScoreState { behaviour, as_of, attributes, level: 0 };
                Ok((parse_id(&c, "contact")?, state, h))
            })
            .collect()
    }
}
