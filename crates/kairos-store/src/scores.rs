//! Scores as stored: the workspace's score definitions (with the version
//! being recomputed and the one that is live), each contact's score state
//! (`kairos_core::score::ScoreState` plus its half-life, so a merge can add
//! two scores without the definition) and the history of every change with
//! its reason. Cap bookkeeping reads the history: the points a rule gave a
//! contact in a period are the sum of its history rows for that period.

use crate::{with_conn, Result, Tx};
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_core::score::ScoreState;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ScoreRecord {
    pub name: String,
    /// The definition as JSON text (checked by `kairos-core::score`).
    pub definition: String,
    pub version: i64,
    /// The version whose values and history are live.
    pub live_version: i64,
    /// `recomputing`, `ready` or `failed`.
    pub status: String,
    pub error: Option<String>,
    pub progress_done: i64,
    pub progress_total: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const SCORE_COLUMNS: &str =
    "name, definition, version, live_version, status, error, progress_done, progress_total, created_at, updated_at";

/// One change of a contact's score.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ScoreChange {
    pub id: String,
    pub contact_id: String,
    pub score: String,
    pub version: i64,
    pub at: i64,
    pub delta: f64,
    /// The score right after the change.
    pub value: f64,
    pub reason: String,
    /// `event`, `attributes`, `journey` or `merge`.
    pub source: String,
    /// The event rule (its index in the definition) that gave the points.
    pub rule: Option<i64>,
    /// The start of the cap period the points count against.
    pub period: Option<i64>,
    pub event_id: Option<String>,
}

const CHANGE_COLUMNS: &str = "id, contact_id, score, version, at, delta, value, reason, source, rule, period, event_id";

/// A contact's stored score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactScore {
    pub score: String,
    pub state: ScoreState,
    pub half_life_days: Option<f64>,
    pub drops_at: Option<i64>,
    pub updated_at: i64,
}

type StateRow = (String, String, f64, i64, f64, Option<f64>, i64, Option<i64>, i64);

fn contact_score(r: StateRow) -> (String, ContactScore) {
    let (contact, score, behaviour, as_of, attributes, half_life_days, level, drops_at, updated_at) = r;
    let state = ScoreState { behaviour, as_of, attributes, level: level.max(0) as usize };
    (contact, ContactScore { score, state, half_life_days, drops_at, updated_at })
}

const STATE_COLUMNS: &str = "contact_id, score, value, as_of, attributes, half_life_days, level, drops_at, updated_at";

impl Tx {
    pub async fn score_definitions(&mut self, ws: WorkspaceId) -> Result<Vec<ScoreRecord>> {
        Ok(with_conn!(self, c => sqlx::query_as(&format!(
            "SELECT {SCORE_COLUMNS} FROM score_definitions WHERE workspace_id = $1 ORDER BY name"))
            .bind(ws.to_string()).fetch_all(c).await)?)
    }

    pub async fn score_definition(&mut self, ws: WorkspaceId, name: &str) -> Result<Option<ScoreRecord>> {
        Ok(with_conn!(self, c => sqlx::query_as(&format!(
            "SELECT {SCORE_COLUMNS} FROM score_definitions WHERE workspace_id = $1 AND name = $2"))
            .bind(ws.to_string()).bind(name).fetch_optional(c).await)?)
    }

    /// Workspaces with at least one score definition.
    pub async fn workspaces_with_scores(&mut self) -> Result<Vec<WorkspaceId>> {
        let rows: Vec<String> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT DISTINCT workspace_id FROM score_definitions").fetch_all(c).await)?;
        Ok(rows.iter().filter_map(|s| s.parse().ok().map(WorkspaceId)).collect())
    }

    /// Insert or replace a definition (the caller sets version and status).
    pub async fn save_score_definition(&mut self, ws: WorkspaceId, r: &ScoreRecord) -> Result<()> {
        with_conn!(self, c => sqlx::query(&format!(
            "INSERT INTO score_definitions (workspace_id, {SCORE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (workspace_id, name) DO UPDATE SET definition = excluded.definition, version = excluded.version,
               live_version = excluded.live_version, status = excluded.status, error = excluded.error,
               progress_done = excluded.progress_done, progress_total = excluded.progress_total,
               updated_at = excluded.updated_at"))
            .bind(ws.to_string()).bind(&r.name).bind(&r.definition).bind(r.version).bind(r.live_version)
            .bind(&r.status).bind(&r.error).bind(r.progress_done).bind(r.progress_total).bind(r.created_at)
            .bind(r.updated_at).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Record a recompute's progress, unless a newer edit superseded it.
    pub async fn set_score_progress(
        &mut self,
        ws: WorkspaceId,
        name: &str,
        version: i64,
        status: &str,
        error: Option<&str>,
        (done, total): (i64, i64),
    ) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query(
            "UPDATE score_definitions SET status = $4, error = $5, progress_done = $6, progress_total = $7
             WHERE workspace_id = $1 AND name = $2 AND version = $3")
            .bind(ws.to_string()).bind(name).bind(version).bind(status).bind(error).bind(done).bind(total)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Make `version` live: its values replace the score's stored ones and
    /// the history of older versions goes.
    pub async fn make_score_live(
        &mut self,
        ws: WorkspaceId,
        name: &str,
        version: i64,
        states: &[(ContactId, ScoreState, Option<i64>)],
        half_life_days: Option<f64>,
        now: i64,
    ) -> Result<()> {
        let w = ws.to_string();
        with_conn!(self, c => sqlx::query("DELETE FROM contact_scores WHERE workspace_id = $1 AND score = $2")
            .bind(&w).bind(name).execute(c).await.map(|r| r.rows_affected()))?;
        with_conn!(self, c => sqlx::query(
            "DELETE FROM score_changes WHERE workspace_id = $1 AND score = $2 AND version < $3 AND source <> 'journey'")
            .bind(&w).bind(name).bind(version).execute(c).await.map(|r| r.rows_affected()))?;
        self.save_score_states(ws, name, states, half_life_days, now).await?;
        // History a recompute wrote for contacts erased or merged away
        // while it ran must not outlive them.
        with_conn!(self, c => sqlx::query(
            "DELETE FROM score_changes WHERE workspace_id = $1 AND score = $2
             AND contact_id NOT IN (SELECT id FROM contacts WHERE workspace_id = $1)")
            .bind(&w).bind(name).execute(c).await.map(|r| r.rows_affected()))?;
        with_conn!(self, c => sqlx::query(
            "UPDATE score_definitions SET live_version = $3, status = 'ready', error = NULL, progress_done = progress_total
             WHERE workspace_id = $1 AND name = $2 AND version = $3")
            .bind(&w).bind(name).bind(version).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Forget what a recompute of `version` wrote (it is starting again).
    pub async fn delete_score_changes_of_version(&mut self, ws: WorkspaceId, name: &str, version: i64) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "DELETE FROM score_changes WHERE workspace_id = $1 AND score = $2 AND version = $3 AND source <> 'journey'")
            .bind(ws.to_string()).bind(name).bind(version).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Delete a definition with every value and change of its score.
    pub async fn delete_score_definition(&mut self, ws: WorkspaceId, name: &str) -> Result<bool> {
        let w = ws.to_string();
        for sql in [
            "DELETE FROM contact_scores WHERE workspace_id = $1 AND score = $2",
            "DELETE FROM score_changes WHERE workspace_id = $1 AND score = $2",
        ] {
            with_conn!(self, c => sqlx::query(sql).bind(&w).bind(name).execute(c).await.map(|r| r.rows_affected()))?;
        }
        let n = with_conn!(self, c => sqlx::query("DELETE FROM score_definitions WHERE workspace_id = $1 AND name = $2")
            .bind(&w).bind(name).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The stored states of one score for these contacts.
    pub async fn score_states(
        &mut self,
        ws: WorkspaceId,
        name: &str,
        contacts: &[ContactId],
    ) -> Result<HashMap<ContactId, ContactScore>> {
        let mut out = HashMap::new();
        for chunk in contacts.chunks(500) {
            let rows: Vec<StateRow> = with_conn!(self, c => {
                let mut qb = sqlx::QueryBuilder::new(format!("SELECT {STATE_COLUMNS} FROM contact_scores WHERE workspace_id = "));
                qb.push_bind(ws.to_string()).push(" AND score = ").push_bind(name).push(" AND contact_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.to_string());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(c).await
            })?;
            for r in rows {
                let (contact, s) = contact_score(r);
                if let Ok(id) = contact.parse() {
                    out.insert(ContactId(id), s);
                }
            }
        }
        Ok(out)
    }

    /// Every score a contact has.
    pub async fn scores_of(&mut self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<ContactScore>> {
        let rows: Vec<StateRow> = with_conn!(self, c => sqlx::query_as(&format!(
            "SELECT {STATE_COLUMNS} FROM contact_scores WHERE workspace_id = $1 AND contact_id = $2 ORDER BY score"))
            .bind(ws.to_string()).bind(contact.to_string()).fetch_all(c).await)?;
        Ok(rows.into_iter().map(|r| contact_score(r).1).collect())
    }

    /// Write score states (insert or replace).
    pub async fn save_score_states(
        &mut self,
        ws: WorkspaceId,
        name: &str,
        states: &[(ContactId, ScoreState, Option<i64>)],
        half_life_days: Option<f64>,
        now: i64,
    ) -> Result<()> {
        for chunk in states.chunks(500) {
            with_conn!(self, c => {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO contact_scores (workspace_id, contact_id, score, value, as_of, attributes, half_life_days, \
                     level, drops_at, updated_at) ");
                qb.push_values(chunk, |mut b, (contact, s, drops)| {
                    b.push_bind(ws.to_string()).push_bind(contact.to_string()).push_bind(name).push_bind(s.behaviour)
                        .push_bind(s.as_of).push_bind(s.attributes).push_bind(half_life_days).push_bind(s.level as i64)
                        .push_bind(*drops).push_bind(now);
                });
                qb.push(" ON CONFLICT (workspace_id, contact_id, score) DO UPDATE SET value = excluded.value, \
                          as_of = excluded.as_of, attributes = excluded.attributes, half_life_days = excluded.half_life_days, \
                          level = excluded.level, drops_at = excluded.drops_at, updated_at = excluded.updated_at");
                qb.build().execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    pub async fn append_score_changes(&mut self, ws: WorkspaceId, changes: &[ScoreChange]) -> Result<()> {
        for chunk in changes.chunks(400) {
            with_conn!(self, c => {
                let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO score_changes (workspace_id, {CHANGE_COLUMNS}) "));
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(ws.to_string()).push_bind(&r.id).push_bind(&r.contact_id).push_bind(&r.score)
                        .push_bind(r.version).push_bind(r.at).push_bind(r.delta).push_bind(r.value)
                        .push_bind(&r.reason).push_bind(&r.source).push_bind(r.rule).push_bind(r.period)
                        .push_bind(&r.event_id);
                });
                qb.build().execute(c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// What each capped rule gave these contacts in periods from `since`
    /// on: (contact, rule, period start) → points, in one query per
    /// thousand contacts.
    pub async fn score_points_since(
        &mut self,
        ws: WorkspaceId,
        name: &str,
        version: i64,
        contacts: &[ContactId],
        since: i64,
    ) -> Result<HashMap<(ContactId, i64, i64), f64>> {
        let mut out = HashMap::new();
        for chunk in contacts.chunks(1000) {
            let rows: Vec<(String, i64, i64, f64)> = with_conn!(self, c => {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT contact_id, rule, period, SUM(delta) FROM score_changes WHERE workspace_id = ");
                qb.push_bind(ws.to_string()).push(" AND score = ").push_bind(name).push(" AND version = ").push_bind(version)
                    .push(" AND rule IS NOT NULL AND period >= ").push_bind(since).push(" AND contact_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.to_string());
                }
                qb.push(") GROUP BY contact_id, rule, period");
                qb.build_query_as().fetch_all(c).await
            })?;
            for (c, rule, period, sum) in rows {
                if let Ok(id) = c.parse() {
                    out.insert((ContactId(id), rule, period), sum);
                }
            }
        }
        Ok(out)
    }

    /// The points an event rule gave a contact in one cap period.
    pub async fn score_points_in_period(
        &mut self,
        ws: WorkspaceId,
        contact: ContactId,
        name: &str,
        version: i64,
        rule: i64,
        period: i64,
    ) -> Result<f64> {
        let v: Option<f64> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT SUM(delta) FROM score_changes WHERE workspace_id = $1 AND contact_id = $2 AND score = $3
             AND version = $4 AND rule = $5 AND period = $6")
            .bind(ws.to_string()).bind(contact.to_string()).bind(name).bind(version).bind(rule).bind(period)
            .fetch_one(c).await)?;
        Ok(v.unwrap_or(0.0))
    }

    /// A contact's score history, the latest recorded first (the order the
    /// changes were applied in, which `value` follows; `at` is when the
    /// event happened, and events can arrive late); `score` narrows it to
    /// one score, `before` is the cursor (the last row's id). Only the live
    /// version's rows (and journey adjustments, which every version keeps)
    /// are shown.
    pub async fn score_changes_of(
        &mut self,
        ws: WorkspaceId,
        contact: ContactId,
        score: Option<&str>,
        before: Option<String>,
        limit: i64,
    ) -> Result<Vec<ScoreChange>> {
        let before_id = before.unwrap_or_else(|| "~".into());
        Ok(with_conn!(self, c => sqlx::query_as(&format!(
            "SELECT {} FROM score_changes h WHERE h.workspace_id = $1 AND h.contact_id = $2 AND ($3 = '' OR h.score = $3)
             AND h.id < $4
             AND (h.source = 'journey' OR h.version = COALESCE((SELECT d.live_version FROM score_definitions d
                  WHERE d.workspace_id = h.workspace_id AND d.name = h.score), 0))
             ORDER BY h.id DESC LIMIT $5",
            CHANGE_COLUMNS.split(", ").map(|c| format!("h.{c}")).collect::<Vec<_>>().join(", ")))
            .bind(ws.to_string()).bind(contact.to_string()).bind(score.unwrap_or("")).bind(before_id)
            .bind(limit).fetch_all(c).await)?)
    }

    /// Journey adjustments of a score (recomputes keep them).
    pub async fn journey_score_changes(&mut self, ws: WorkspaceId, name: &str) -> Result<Vec<ScoreChange>> {
        Ok(with_conn!(self, c => sqlx::query_as(&format!(
            "SELECT {CHANGE_COLUMNS} FROM score_changes WHERE workspace_id = $1 AND score = $2 AND source = 'journey'
             ORDER BY at, id"))
            .bind(ws.to_string()).bind(name).fetch_all(c).await)?)
    }

    /// Scores whose decay takes them below a threshold by `now`:
    /// (workspace, contact, score), oldest due first.
    pub async fn scores_dropping(&mut self, now: i64, limit: i64) -> Result<Vec<(WorkspaceId, ContactId, String)>> {
        let rows: Vec<(String, String, String)> = with_conn!(self, c => sqlx::query_as(
            "SELECT workspace_id, contact_id, score FROM contact_scores WHERE drops_at IS NOT NULL AND drops_at <= $1
             ORDER BY drops_at LIMIT $2")
            .bind(now).bind(limit).fetch_all(c).await)?;
        Ok(rows
            .into_iter()
            .filter_map(|(w, c, s)| Some((WorkspaceId(w.parse().ok()?), ContactId(c.parse().ok()?), s)))
            .collect())
    }

    /// Move a merged-away contact's scores and history to the survivor,
    /// adding the two scores with their decay.
    pub(crate) async fn merge_scores(
        &mut self,
        ws: WorkspaceId,
        from: ContactId,
        to: ContactId,
        now: i64,
    ) -> Result<()> {
        let w = ws.to_string();
        let source = self.scores_of(ws, from).await?;
        if !source.is_empty() {
            let target: HashMap<String, ContactScore> =
                self.scores_of(ws, to).await?.into_iter().map(|s| (s.score.clone(), s)).collect();
            for s in source {
                let mut state = target.get(&s.score).map(|t| t.state).unwrap_or_default();
                state.absorb(&s.state, s.half_life_days);
                // The level is re-read by the next scoring of the survivor;
                // until then the higher one stands (no crossing is invented).
                state.level = state.level.max(s.state.level);
                let drops = target.get(&s.score).and_then(|t| t.drops_at).or(s.drops_at);
                self.save_score_states(ws, &s.score, &[(to, state, drops)], s.half_life_days, now).await?;
            }
        }
        with_conn!(self, c => sqlx::query("UPDATE score_changes SET contact_id = $3 WHERE workspace_id = $1 AND contact_id = $2")
            .bind(&w).bind(from.to_string()).bind(to.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        with_conn!(self, c => sqlx::query("DELETE FROM contact_scores WHERE workspace_id = $1 AND contact_id = $2")
            .bind(&w).bind(from.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
