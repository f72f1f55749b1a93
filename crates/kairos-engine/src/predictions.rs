//! Keeping every contact's conversion probability current, and retraining
//! on a schedule. One task (server only): when a model is promoted it scores
//! every contact of the workspace from one pass over the log; then it reads
//! the log from its own position (`log_cursors`, saved with the scores it
//! wrote, so a crash re-reads rather than skips) and re-scores the contacts
//! whose events arrived, within a couple of seconds. Due schedules train a
//! new version with the stored request; a promoted one is scored at once.

use crate::conversion::{contact_facts, field_types, ConversionRequest, ConversionVersion};
use crate::Engine;
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_ml::features::DAY_MS;
use kairos_store::{ModelSchedule, ModelScore, StoreError};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;
use tokio::sync::mpsc;

const CURSOR: &str = "conversion-scores";
const EVENTS_PER_READ: i64 = 5_000;

/// What the task is told.
pub(crate) enum Msg {
    /// A version was promoted: score every contact with it.
    Promoted { ws: WorkspaceId },
}

pub(crate) fn start(engine: Engine, rx: mpsc::UnboundedReceiver<Msg>) {
    tokio::spawn(run(engine, rx));
}

/// The promoted models of each workspace, one per conversion event.
type Models = HashMap<WorkspaceId, Vec<ConversionVersion>>;

async fn promoted(engine: &Engine, ws: WorkspaceId) -> Result<Vec<ConversionVersion>, StoreError> {
    let mut by_event: HashMap<String, ConversionVersion> = HashMap::new();
    for v in engine.conversion_versions(ws).await? {
        if v.promoted && v.model.validate().is_ok() {
            by_event.entry(v.event.clone()).or_insert(v);
        }
    }
    Ok(by_event.into_values().collect())
}

async fn run(engine: Engine, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut models: Models = HashMap::new();
    let mut cursor = loop {
        match load(&engine, &mut models).await {
            Ok(c) => break c,
            Err(e) => {
                tracing::error!(error = %e, "loading conversion models failed; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    };
    loop {
        let mut promoted_in = BTreeSet::new();
        tokio::select! {
            m = rx.recv() => match m {
                Some(Msg::Promoted { ws }) => { promoted_in.insert(ws); }
                None => return,
            },
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        while let Ok(Msg::Promoted { ws }) = rx.try_recv() {
            promoted_in.insert(ws);
        }
        for ws in promoted_in {
            match promoted(&engine, ws).await {
                Ok(list) => {
                    for v in &list {
                        if let Err(e) = score_everyone(&engine, ws, v).await {
                            tracing::error!(workspace = %ws, error = %e, "scoring every contact failed");
                        }
                    }
                    models.insert(ws, list);
                }
                Err(e) => tracing::error!(workspace = %ws, error = %e, "reading conversion models failed"),
            }
        }
        match follow_log(&engine, &models, cursor).await {
            Ok(c) => cursor = c,
            Err(e) => tracing::error!(error = %e, "re-scoring contacts failed; retrying"),
        }
        if let Err(e) = run_schedules(&engine).await {
            tracing::error!(error = %e, "scheduled retraining failed");
        }
    }
}

/// Load the promoted models (scoring everyone for one nobody has a score
/// of yet) and the log position (the end of the log the first time:
/// everyone is scored when a model is promoted).
async fn load(engine: &Engine, models: &mut Models) -> Result<i64, StoreError> {
    let mut tx = engine.store().begin().await?;
    let workspaces = tx.workspaces_with_models("conversion").await?;
    let saved = tx.log_cursor(CURSOR).await?;
    let end = tx.last_event_seq().await?;
    tx.commit().await?;
    for ws in workspaces {
        let list = promoted(engine, ws).await?;
        // A version promoted while no server ran (a one-off command, the
        // demo's seeding) has not scored everyone yet.
        for v in &list {
            let mut tx = engine.store().begin().await?;
            let scored = tx.count_model_scores(ws, &v.event, &v.id).await?;
            let contacts = tx.count_contacts(ws).await?;
            tx.commit().await?;
            if scored < contacts {
                score_everyone(engine, ws, v).await?;
            }
        }
        if !list.is_empty() {
            models.insert(ws, list);
        }
    }
    Ok(saved.unwrap_or(end))
}

fn now_ms(engine: &Engine) -> i64 {
    engine.clock().now().timestamp_millis()
}

async fn score_everyone(engine: &Engine, ws: WorkspaceId, v: &ConversionVersion) -> Result<(), StoreError> {
    let profiles = engine.profiles(ws).await?;
    let pop = engine.population(ws, &profiles, &v.spec, None).await?;
    let now = now_ms(engine);
    let mut rows = Vec::with_capacity(pop.facts.len());
    for (id, facts) in &pop.facts {
        if let Ok(p) = v.model.score(&v.spec.row(facts, now)) {
            rows.push(score_row(*id, v, p, now));
        }
    }
    let mut tx = engine.store().begin_write().await?;
    tx.save_model_scores(ws, &rows).await?;
    tx.commit().await?;
    tracing::info!(workspace = %ws, event = %v.event, contacts = rows.len(), "conversion scores computed");
    Ok(())
}

fn score_row(contact: ContactId, v: &ConversionVersion, probability: f64, now: i64) -> ModelScore {
    ModelScore {
        contact_id: contact.to_string(),
        event: v.event.clone(),
        model_id: v.id.clone(),
        probability,
        scored_at: now,
    }
}

/// Re-score the contacts whose events arrived since `cursor`.
async fn follow_log(engine: &Engine, models: &Models, mut cursor: i64) -> Result<i64, StoreError> {
    loop {
        let mut tx = engine.store().begin().await?;
        if models.is_empty() {
            let end = tx.last_event_seq().await?;
            tx.commit().await?;
            return Ok(end);
        }
        let events = tx.events_after_all(cursor, EVENTS_PER_READ).await?;
        let Some(last) = events.last().map(|e| e.seq) else {
            tx.commit().await?;
            return Ok(cursor);
        };
        let mut touched: HashMap<WorkspaceId, BTreeSet<ContactId>> = HashMap::new();
        for e in &events {
            if models.contains_key(&e.workspace_id) {
                touched.entry(e.workspace_id).or_default().insert(e.contact_id);
            }
        }
        let now = now_ms(engine);
        let mut rows: HashMap<WorkspaceId, Vec<ModelScore>> = HashMap::new();
        for (ws, contacts) in &touched {
            let types = field_types(&tx.list_fields(*ws).await?);
            for v in models.get(ws).into_iter().flatten() {
                for c in contacts {
                    let Some(facts) = contact_facts(&mut tx, *ws, &v.spec, &types, *c).await? else { continue };
                    if let Ok(p) = v.model.score(&v.spec.row(&facts, now)) {
                        rows.entry(*ws).or_default().push(score_row(*c, v, p, now));
                    }
                }
            }
        }
        tx.commit().await?;
        let mut tx = engine.store().begin_write().await?;
        // Contacts erased since their events were read are not scored back.
        for (ws, list) in &mut rows {
            let ids: Vec<ContactId> = list.iter().filter_map(|r| r.contact_id.parse().ok().map(ContactId)).collect();
            let alive = tx.existing_contacts(*ws, &ids).await?;
            list.retain(|r| r.contact_id.parse().ok().map(ContactId).is_some_and(|c| alive.contains(&c)));
            tx.save_model_scores(*ws, list).await?;
        }
        tx.set_log_cursor(CURSOR, last).await?;
        tx.commit().await?;
        cursor = last;
        if (events.len() as i64) < EVENTS_PER_READ {
            return Ok(cursor);
        }
    }
}

/// Train what is due; the next run is `every_days` after this one.
async fn run_schedules(engine: &Engine) -> Result<(), StoreError> {
    let now = now_ms(engine);
    let mut tx = engine.store().begin().await?;
    let due = tx.due_model_schedules(now).await?;
    tx.commit().await?;
    for (ws, mut s) in due {
        let result = match serde_json::from_str::<ConversionRequest>(&s.request) {
            Err(e) => format!("the stored request is invalid: {e}"),
            Ok(req) => match engine.train_conversion(ws, &req).await {
                Ok(v) => format!("trained {}: {}", v.id, v.promotion),
                Err(e) => format!("not trained: {e}"),
            },
        };
        tracing::info!(workspace = %ws, event = %s.event, %result, "scheduled retraining");
        s.last_run_at = Some(now);
        s.last_result = Some(result);
        s.next_at = now + s.every_days * DAY_MS;
        let mut tx = engine.store().begin_write().await?;
        tx.save_model_schedule(ws, &s).await?;
        tx.commit().await?;
    }
    Ok(())
}

impl Engine {
    /// Retrain `request.event`'s model every `every_days` days, first now.
    pub async fn schedule_conversion(
        &self,
        ws: WorkspaceId,
        request: &ConversionRequest,
        raw: &serde_json::Value,
        every_days: i64,
    ) -> Result<ModelSchedule, StoreError> {
        let s = ModelSchedule {
            event: request.event.clone(),
            request: raw.to_string(),
            every_days,
            next_at: now_ms(self),
            last_run_at: None,
            last_result: None,
        };
        let mut tx = self.store().begin_write().await?;
        tx.save_model_schedule(ws, &s).await?;
        tx.commit().await?;
        Ok(s)
    }

    pub(crate) fn conversion_promoted(&self, ws: WorkspaceId) {
        if let Some(tx) = &self.inner.predictions {
            let _ = tx.send(Msg::Promoted { ws });
        }
    }
}
