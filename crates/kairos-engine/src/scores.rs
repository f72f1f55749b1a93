//! Rule-based scores in the running system. Scoring happens in the writer's
//! own transaction: the events a commit appends earn their points, and the
//! contacts it touched have their attribute rules re-read, before the commit
//! — so a score is never behind or ahead of the log, and a crash keeps or
//! loses both together. Crossing a threshold appends a `Score Threshold
//! Crossed` event to the same transaction; decay taking a score below one is
//! found by a sweep (`Job::ScoreDrops`) at the instant `drops_at` says.
//! Editing a definition recomputes its score from the whole log in the
//! background (values stay frozen and visible meanwhile), then takes over in
//! one transaction under the writer. Contacts who object to profiling earn
//! no points.

use crate::segments::split_field_types;
use crate::segments::LiveEvent;
use crate::{Engine, Inner};
use kairos_core::consent::{ConsentState, Purpose};
use kairos_core::event::{Event, EventKind};
use kairos_core::fields::FieldType;
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_core::score::{self, period_start, ScoreDefinition, ScoreState, THRESHOLD_EVENT};
use kairos_core::segment::{event_name, Profile, Schema};
use kairos_store::{ScoreChange, ScoreRecord, StoreError, Tx};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Events read per chunk while recomputing.
const RECOMPUTE_CHUNK: i64 = 5_000;
/// Scores re-levelled per sweep.
const DROPS_PER_SWEEP: i64 = 2_000;

/// Recomputes running in this process: (workspace, score, version).
static RECOMPUTING: std::sync::LazyLock<std::sync::Mutex<HashSet<(WorkspaceId, String, i64)>>> =
    std::sync::LazyLock::new(Default::default);

/// A workspace's score definitions as the writer applies them.
pub(crate) struct WorkspaceScores {
    pub scores: Vec<LiveScore>,
    contact_types: HashMap<String, FieldType>,
    company_types: HashMap<String, FieldType>,
}

pub(crate) struct LiveScore {
    pub def: Arc<ScoreDefinition>,
    pub version: i64,
    /// Recomputing or failed: the writer leaves it alone.
    pub frozen: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ScoreApiError {
    #[error("{0}")]
    Invalid(#[from] score::ScoreError),
    #[error("no score named \"{0}\"")]
    NotFound(String),
    #[error("a score named \"{0}\" already exists")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A score as the API shows it for one contact.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ContactScoreView {
    pub score: String,
    /// The value now, decay applied.
    pub value: f64,
    pub behaviour: f64,
    pub attributes: f64,
    /// The highest threshold the score is at or above.
    pub threshold: Option<String>,
    pub half_life_days: Option<f64>,
    pub updated_at: i64,
}

/// The workspace's schema, for validating definitions.
pub(crate) async fn schema_of(tx: &mut Tx, ws: WorkspaceId) -> Result<Schema, StoreError> {
    let (contact, company) = split_field_types(tx.list_fields(ws).await?);
    Ok(Schema::with_custom(contact, company))
}

async fn parse_record(tx: &mut Tx, ws: WorkspaceId, r: &ScoreRecord) -> Result<ScoreDefinition, StoreError> {
    let json: Value = serde_json::from_str(&r.definition).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let schema = schema_of(tx, ws).await?;
    score::parse(&json, &schema).map_err(|e| StoreError::Corrupt(format!("score {}: {e}", r.name)))
}

/// The workspace's definitions, from the writer's cache or the store.
pub(crate) async fn workspace_scores(
    tx: &mut Tx,
    inner: &Inner,
    ws: WorkspaceId,
) -> Result<Arc<WorkspaceScores>, StoreError> {
    if let Some(s) = inner.cached_scores(ws) {
        return Ok(s);
    }
    let mut scores = Vec::new();
    for r in tx.score_definitions(ws).await? {
        // A definition that no longer parses (a field it names was deleted)
        // is left alone rather than failing every write.
        match parse_record(tx, ws, &r).await {
            Ok(def) => scores.push(LiveScore {
                def: Arc::new(def),
                version: r.live_version,
                frozen: r.status != "ready" || r.live_version != r.version,
            }),
            Err(e) => tracing::warn!(workspace = %ws, error = %e, "score definition skipped"),
        }
    }
    let (contact_types, company_types) = split_field_types(tx.list_fields(ws).await?);
    let s = Arc::new(WorkspaceScores { scores, contact_types, company_types });
    inner.scores.lock().unwrap_or_else(|e| e.into_inner()).insert(ws, s.clone());
    Ok(s)
}

/// Whether a consent state is an objection to profiling (scoring is
/// profiling).
fn objects(purpose: Purpose, state: ConsentState) -> bool {
    purpose == Purpose::Profiling && matches!(state, ConsentState::Denied | ConsentState::Withdrawn)
}

/// Of these contacts, those whose current consent objects to profiling.
fn objecting(
    consents: &HashMap<ContactId, Vec<(kairos_core::consent::Channel, Purpose, ConsentState)>>,
) -> HashSet<ContactId> {
    consents.iter().filter(|(_, states)| states.iter().any(|(_, p, s)| objects(*p, *s))).map(|(c, _)| *c).collect()
}

async fn profile_of(
    tx: &mut Tx,
    ws: WorkspaceId,
    scores: &WorkspaceScores,
    contact: ContactId,
) -> Result<Option<(Profile, Vec<Profile>)>, StoreError> {
    let Some(c) = tx.contact(ws, contact).await? else { return Ok(None) };
    let consents = tx.consents_of(ws, contact).await?;
    let profile = Profile::of_contact(&c, &scores.contact_types)
        .with_consents(consents.into_iter().map(|k| (k.channel, k.purpose, k.state)));
    let mut companies = Vec::new();
    for id in &c.company_ids {
        if let Some(co) = tx.company(ws, *id).await? {
            companies.push(Profile::of_company(&co, &scores.company_types));
        }
    }
    Ok(Some((profile, companies)))
}

/// A contact's state to store, with when decay takes it below its level.
type Settled = (ContactId, ScoreState, Option<i64>);

/// One score's work inside a transaction: states loaded on demand, cap
/// usage remembered, changes and crossings collected.
struct Scoring<'a> {
    ws: WorkspaceId,
    def: &'a ScoreDefinition,
    version: i64,
    states: HashMap<ContactId, ScoreState>,
    changed: BTreeSet<ContactId>,
    caps: HashMap<(ContactId, usize, i64), f64>,
    changes: Vec<ScoreChange>,
}

impl<'a> Scoring<'a> {
    fn new(ws: WorkspaceId, def: &'a ScoreDefinition, version: i64) -> Self {
        Scoring {
            ws,
            def,
            version,
            states: HashMap::new(),
            changed: BTreeSet::new(),
            caps: HashMap::new(),
            changes: Vec::new(),
        }
    }

    fn h(&self) -> Option<f64> {
        self.def.half_life_days
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        contact: ContactId,
        at: i64,
        delta: f64,
        reason: String,
        source: &str,
        rule: Option<usize>,
        period: Option<i64>,
        event_id: Option<String>,
    ) {
        let h = self.h();
        let s = self.states.entry(contact).or_default();
        let value = s.value_at(h, at.max(s.as_of));
        self.changed.insert(contact);
        self.changes.push(ScoreChange {
            id: uuid::Uuid::now_v7().to_string(),
            contact_id: contact.to_string(),
            score: self.def.name.clone(),
            version: self.version,
            at,
            delta,
            value,
            reason,
            source: source.into(),
            rule: rule.map(|r| r as i64),
            period,
            event_id,
        });
    }

    /// Award an event's points (the event at log position `seq`); a capped
    /// rule's use so far in the period is read from `tx` the first time this
    /// run meets it (a recompute, with no `tx`, has seen every event).
    #[allow(clippy::too_many_arguments)]
    async fn event(
        &mut self,
        contact: ContactId,
        seq: i64,
        at: i64,
        name: &str,
        properties: &Value,
        now: i64,
        mut tx: Option<&mut Tx>,
    ) -> Result<(), StoreError> {
        for award in self.def.awards(name, properties, now) {
            let rule = &self.def.events[award.rule];
            let period = rule.cap.map(|c| period_start(c.per, at));
            let mut granted = award.points;
            if let (Some(cap), Some(p)) = (rule.cap, period) {
                let key = (contact, award.rule, p);
                let used = match (self.caps.get(&key), tx.as_deref_mut()) {
                    (Some(u), _) => *u,
                    (None, Some(tx)) => {
                        tx.score_points_in_period(self.ws, contact, &self.def.name, self.version, award.rule as i64, p)
                            .await?
                    }
                    (None, None) => 0.0,
                };
                granted = score::capped(award.points, Some(cap), used);
                self.caps.insert(key, used + granted);
            }
            if granted == 0.0 {
                continue;
            }
            let h = self.h();
            self.states.entry(contact).or_default().add(granted, at, h);
            let reason = self.def.event_reason(award.rule, granted, award.points);
            self.record(contact, at, granted, reason, "event", Some(award.rule), period, Some(seq.to_string()));
        }
        Ok(())
    }

    fn attributes(&mut self, contact: ContactId, profile: &Profile, companies: &[Profile], now: i64) {
        let (points, reasons) = self.def.attribute_points(profile, companies, now);
        let s = self.states.entry(contact).or_default();
        if points == s.attributes {
            return;
        }
        let delta = points - s.attributes;
        s.attributes = points;
        let reason = if reasons.is_empty() { "no attribute rule met".to_string() } else { reasons.join("; ") };
        self.record(contact, now, delta, format!("attributes: {reason}"), "attributes", None, None, None);
    }

    /// Re-level changed contacts: the crossings as events to log, and each
    /// state with when decay takes it below its level.
    fn settle(&mut self, now: i64, emit: bool) -> (Vec<Settled>, Vec<Event>) {
        let (h, thresholds) = (self.h(), &self.def.thresholds);
        let mut rows = Vec::new();
        let mut events = Vec::new();
        for c in std::mem::take(&mut self.changed) {
            let Some(s) = self.states.get_mut(&c) else { continue };
            let value = s.value_at(h, now);
            let level = score::level_of(value, thresholds);
            if emit {
                for x in score::crossings(s.level, level, thresholds) {
                    events.push(threshold_event(self.ws, c, &self.def.name, &x, value, now));
                }
            }
            s.level = level;
            rows.push((c, *s, score::drops_at(s, h, thresholds)));
        }
        (rows, events)
    }
}

fn threshold_event(
    ws: WorkspaceId,
    contact: ContactId,
    name: &str,
    x: &score::Crossing,
    value: f64,
    now: i64,
) -> Event {
    let at = kairos_core::clock::from_millis(now);
    Event {
        seq: 0,
        id: uuid::Uuid::now_v7(),
        workspace_id: ws,
        contact_id: contact,
        kind: EventKind::Track,
        name: Some(THRESHOLD_EVENT.into()),
        // The same crossing at the same instant is one event, however often
        // the step is replayed.
        message_id: format!("kairos-score-{contact}-{name}-{}-{}-{now}", x.threshold, x.direction),
        user_id: None,
        anonymous_id: None,
        properties: json!({
            "score": name, "threshold": x.threshold, "threshold_value": x.threshold_value,
            "direction": x.direction, "value": (value * 1000.0).round() / 1000.0,
        }),
        context: json!({"library": {"name": "kairos-scores"}}),
        timestamp: at,
        received_at: at,
    }
}

/// Score what a commit appended and touched; returns the threshold events
/// it appended, for the segment worker and the journey runner.
pub(crate) async fn score_commit(
    tx: &mut Tx,
    inner: &Inner,
    live: &[LiveEvent],
    now: i64,
) -> Result<Vec<LiveEvent>, StoreError> {
    let touched = tx.touched().clone();
    let mut by_ws: HashMap<WorkspaceId, (Vec<&LiveEvent>, BTreeSet<ContactId>)> = HashMap::new();
    for e in live {
        by_ws.entry(e.ws).or_default().0.push(e);
    }
    for (ws, c) in touched.contacts.iter().chain(touched.histories.iter()) {
        if !touched.deleted.contains(&(*ws, *c)) {
            by_ws.entry(*ws).or_default().1.insert(*c);
        }
    }
    let mut out = Vec::new();
    for (ws, (events, touched)) in by_ws {
        let scores = workspace_scores(tx, inner, ws).await?;
        if scores.scores.iter().all(|s| s.frozen) {
            continue;
        }
        let mut contacts: BTreeSet<ContactId> = touched.clone();
        contacts.extend(events.iter().map(|e| e.contact));
        let contacts: Vec<ContactId> = contacts.into_iter().collect();
        // Everything read in a few queries per commit, not one per contact:
        // this runs inside the single writer.
        let consents = tx.consent_states_of(ws, &contacts).await?;
        let objecting = objecting(&consents);
        let needs_profiles = scores.scores.iter().any(|s| !s.frozen && !s.def.attributes.is_empty());
        let mut profiles = HashMap::new();
        if needs_profiles {
            let ids: Vec<ContactId> = touched.iter().filter(|c| !objecting.contains(c)).copied().collect();
            let needs_companies = scores.scores.iter().any(|s| {
                let mut any = false;
                for a in &s.def.attributes {
                    a.condition.walk(&mut |r| any |= matches!(r, kairos_core::segment::Rule::Company(_)));
                }
                any
            });
            for c in tx.contacts_by_ids(ws, &ids).await? {
                let profile = Profile::of_contact(&c, &scores.contact_types)
                    .with_consents(consents.get(&c.id).cloned().unwrap_or_default());
                let mut companies = Vec::new();
                if needs_companies {
                    for id in &c.company_ids {
                        if let Some(co) = tx.company(ws, *id).await? {
                            companies.push(Profile::of_company(&co, &scores.company_types));
                        }
                    }
                }
                profiles.insert(c.id, (profile, companies));
            }
        }
        for live_score in scores.scores.iter().filter(|s| !s.frozen) {
            let mut run = Scoring::new(ws, &live_score.def, live_score.version);
            let stored = tx.score_states(ws, &live_score.def.name, &contacts).await?;
            run.states = stored.into_iter().map(|(c, s)| (c, s.state)).collect();
            // What capped rules already gave in the periods these events
            // fall in, read at once.
            let since = events
                .iter()
                .flat_map(|e| {
                    live_score.def.events.iter().filter_map(|r| r.cap.map(|c| period_start(c.per, e.timestamp)))
                })
                .min();
            if let Some(since) = since {
                let used =
                    tx.score_points_since(ws, &live_score.def.name, live_score.version, &contacts, since).await?;
                run.caps = used.into_iter().map(|((c, rule, period), v)| ((c, rule as usize, period), v)).collect();
            }
            for e in &events {
                if objecting.contains(&e.contact) {
                    continue;
                }
                let Some(name) = event_name(e.kind, e.name.as_deref()) else { continue };
                run.event(e.contact, e.seq, e.timestamp, name, &e.properties, now, None).await?;
            }
            for (c, (p, companies)) in &profiles {
                run.attributes(*c, p, companies, now);
            }
            let (rows, crossings) = run.settle(now, true);
            tx.save_score_states(ws, &live_score.def.name, &rows, live_score.def.half_life_days, now).await?;
            tx.append_score_changes(ws, &run.changes).await?;
            // Segments with score conditions read these contacts again.
            tx.touch_contacts(ws, rows.iter().map(|r| r.0));
            out.extend(log_crossings(tx, crossings).await?);
        }
    }
    Ok(out)
}

async fn log_crossings(tx: &mut Tx, events: Vec<Event>) -> Result<Vec<LiveEvent>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let inserted = tx.append_events(&events).await?;
    Ok(events
        .into_iter()
        .filter_map(|e| {
            let seq = *inserted.get(&e.message_id)?;
            Some(LiveEvent::from_event(e, seq))
        })
        .collect())
}

/// Re-level the scores decay has taken below a threshold by now.
pub(crate) async fn score_drops(tx: &mut Tx, inner: &Inner, now: i64) -> Result<Vec<LiveEvent>, StoreError> {
    let due = tx.scores_dropping(now, DROPS_PER_SWEEP).await?;
    let mut groups: HashMap<(WorkspaceId, String), Vec<ContactId>> = HashMap::new();
    for (ws, c, name) in due {
        groups.entry((ws, name)).or_default().push(c);
    }
    let mut out = Vec::new();
    for ((ws, name), contacts) in groups {
        let scores = workspace_scores(tx, inner, ws).await?;
        let Some(live_score) = scores.scores.iter().find(|s| s.def.name == name && !s.frozen) else {
            // No live definition any more: stop looking at these rows.
            let stored = tx.score_states(ws, &name, &contacts).await?;
            let rows: Vec<_> = stored.iter().map(|(c, s)| (*c, s.state, None)).collect();
            if let Some(s) = stored.values().next() {
                tx.save_score_states(ws, &name, &rows, s.half_life_days, now).await?;
            }
            continue;
        };
        let mut run = Scoring::new(ws, &live_score.def, live_score.version);
        run.states = tx.score_states(ws, &name, &contacts).await?.into_iter().map(|(c, s)| (c, s.state)).collect();
        run.changed = run.states.keys().copied().collect();
        let (rows, crossings) = run.settle(now, true);
        tx.save_score_states(ws, &name, &rows, live_score.def.half_life_days, now).await?;
        out.extend(log_crossings(tx, crossings).await?);
    }
    Ok(out)
}

/// A journey's change to a score, in the runner's transaction.
pub(crate) struct Adjustment {
    pub contact: ContactId,
    pub by: f64,
    /// Where it came from ("journey J, node N").
    pub reason: String,
}

/// Journeys' changes to score `name` in the runner's transaction, in order
/// (a contact may appear more than once); returns each change's resulting
/// value and the log positions of threshold crossings. A score with a
/// definition decays and may cross thresholds; one without is a plain
/// counter. One read and one write per call, however many contacts: a
/// million timers firing at once must not cost a million round trips.
pub(crate) async fn adjust(
    tx: &mut Tx,
    inner: &Inner,
    ws: WorkspaceId,
    name: &str,
    changes: &[Adjustment],
    now: i64,
) -> Result<(Vec<f64>, Vec<i64>), StoreError> {
    let scores = workspace_scores(tx, inner, ws).await?;
    let found = scores.scores.iter().find(|s| s.def.name == name);
    let fallback;
    let (def, version) = match found {
        Some(s) => (s.def.as_ref(), s.version),
        None => {
            fallback = ScoreDefinition {
                name: name.to_string(),
                description: String::new(),
                half_life_days: None,
                events: Vec::new(),
                attributes: Vec::new(),
                thresholds: Vec::new(),
            };
            (&fallback, 0)
        }
    };
    let mut run = Scoring::new(ws, def, version);
    let mut contacts: Vec<ContactId> = changes.iter().map(|c| c.contact).collect();
    contacts.sort_unstable();
    contacts.dedup();
    run.states = tx.score_states(ws, name, &contacts).await?.into_iter().map(|(c, s)| (c, s.state)).collect();
    let mut values = Vec::with_capacity(changes.len());
    for c in changes {
        run.states.entry(c.contact).or_default().add(c.by, now, def.half_life_days);
        run.record(c.contact, now, c.by, format!("{} {}", score::signed(c.by), c.reason), "journey", None, None, None);
        values.push(run.states.get(&c.contact).map(|s| s.value_at(def.half_life_days, now)).unwrap_or(c.by));
    }
    let (rows, crossings) = run.settle(now, found.is_some_and(|s| !s.frozen));
    tx.save_score_states(ws, name, &rows, def.half_life_days, now).await?;
    tx.touch_contacts(ws, rows.iter().map(|r| r.0));
    tx.append_score_changes(ws, &run.changes).await?;
    let logged = log_crossings(tx, crossings).await?;
    Ok((values, logged.iter().map(|e| e.seq).collect()))
}

impl Inner {
    fn cached_scores(&self, ws: WorkspaceId) -> Option<Arc<WorkspaceScores>> {
        self.scores.lock().unwrap_or_else(|e| e.into_inner()).get(&ws).cloned()
    }

    pub(crate) fn forget_scores(&self, ws: WorkspaceId) {
        self.scores.lock().unwrap_or_else(|e| e.into_inner()).remove(&ws);
    }
}

impl Engine {
    /// The workspace's score definitions.
    pub async fn scores(&self, ws: WorkspaceId) -> Result<Vec<ScoreRecord>, StoreError> {
        let mut tx = self.store().begin().await?;
        let r = tx.score_definitions(ws).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Create (`create = true`) or replace a score definition, then
    /// recompute it from the log in the background.
    pub async fn save_score(&self, ws: WorkspaceId, json: &Value, create: bool) -> Result<ScoreRecord, ScoreApiError> {
        let now = self.clock().now().timestamp_millis();
        let _writer = self.inner.state.lock().await;
        let mut tx = self.store().begin_write().await?;
        let schema = schema_of(&mut tx, ws).await?;
        let def = score::parse(json, &schema)?;
        let existing = tx.score_definition(ws, &def.name).await?;
        let record = match (existing, create) {
            (Some(_), true) => return Err(ScoreApiError::Exists(def.name)),
            (None, false) => return Err(ScoreApiError::NotFound(def.name)),
            (Some(old), false) => ScoreRecord {
                definition: json.to_string(),
                version: old.version + 1,
                status: "recomputing".into(),
                error: None,
                progress_done: 0,
                progress_total: 0,
                updated_at: now,
                ..old
            },
            (None, true) => ScoreRecord {
                name: def.name.clone(),
                definition: json.to_string(),
                version: 1,
                live_version: 0,
                status: "recomputing".into(),
                error: None,
                progress_done: 0,
                progress_total: 0,
                created_at: now,
                updated_at: now,
            },
        };
        tx.save_score_definition(ws, &record).await?;
        tx.commit().await?;
        self.inner.forget_scores(ws);
        drop(_writer);
        let engine = self.clone();
        let (name, version) = (record.name.clone(), record.version);
        tokio::spawn(async move { engine.recompute_score(ws, name, version).await });
        Ok(record)
    }

    pub async fn delete_score(&self, ws: WorkspaceId, name: &str) -> Result<bool, StoreError> {
        let _writer = self.inner.state.lock().await;
        let mut tx = self.store().begin_write().await?;
        let found = tx.delete_score_definition(ws, name).await?;
        tx.commit().await?;
        self.inner.forget_scores(ws);
        Ok(found)
    }

    /// A contact's scores, valued now.
    pub async fn contact_scores(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
    ) -> Result<Vec<ContactScoreView>, StoreError> {
        let now = self.clock().now().timestamp_millis();
        let mut tx = self.store().begin().await?;
        let defs = tx.score_definitions(ws).await?;
        let mut thresholds = HashMap::new();
        for r in &defs {
            if let Ok(d) = parse_record(&mut tx, ws, r).await {
                thresholds.insert(r.name.clone(), d.thresholds);
            }
        }
        let rows = tx.scores_of(ws, contact).await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|s| {
                let value = s.state.value_at(s.half_life_days, now);
                let threshold = thresholds.get(&s.score).and_then(|t| {
                    let level = score::level_of(value, t);
                    level.checked_sub(1).map(|i| t[i].name.clone())
                });
                ContactScoreView {
                    value: (value * 1000.0).round() / 1000.0,
                    behaviour: s.state.behaviour * score::decay_factor(s.half_life_days, (now - s.state.as_of).max(0)),
                    attributes: s.state.attributes,
                    threshold,
                    half_life_days: s.half_life_days,
                    updated_at: s.updated_at,
                    score: s.score,
                }
            })
            .collect())
    }

    /// Restart recomputes a stop interrupted.
    pub(crate) async fn resume_score_recomputes(&self) -> Result<(), StoreError> {
        let mut tx = self.store().begin().await?;
        let mut todo = Vec::new();
        for ws in tx.workspaces_with_scores().await? {
            for r in tx.score_definitions(ws).await? {
                if r.status == "recomputing" {
                    todo.push((ws, r.name, r.version));
                }
            }
        }
        tx.commit().await?;
        for (ws, name, version) in todo {
            let engine = self.clone();
            tokio::spawn(async move { engine.recompute_score(ws, name, version).await });
        }
        Ok(())
    }

    async fn recompute_score(&self, ws: WorkspaceId, name: String, version: i64) {
        // One recompute of a version at a time in this process: a second
        // engine over the same store (the demo seeds with one and serves
        // with another) resumes only what nobody is doing.
        let key = (ws, name.clone(), version);
        if !RECOMPUTING.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone()) {
            return;
        }
        let result = self.try_recompute(ws, &name, version).await;
        RECOMPUTING.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        if let Err(e) = result {
            tracing::error!(workspace = %ws, score = %name, error = %e, "score recompute failed");
            let failed = async {
                let mut tx = self.store().begin_write().await?;
                tx.set_score_progress(ws, &name, version, "failed", Some(&e.to_string()), (0, 0)).await?;
                tx.commit().await.map(|_| ())
            };
            if let Err(e) = failed.await {
                tracing::error!(error = %e, "recording a failed score recompute failed");
            }
            self.inner.forget_scores(ws);
        }
    }

    /// Replay the workspace's log under `version` of the definition: the
    /// bulk without the writer, the tail (events since) under it, then make
    /// it live in that same transaction. Threshold crossings are not logged
    /// for the past; levels are set silently.
    async fn try_recompute(&self, ws: WorkspaceId, name: &str, version: i64) -> Result<(), StoreError> {
        let mut tx = self.store().begin().await?;
        let Some(record) = tx.score_definition(ws, name).await?.filter(|r| r.version == version) else {
            return Ok(());
        };
        let def = parse_record(&mut tx, ws, &record).await?;
        let (contact_types, company_types) = split_field_types(tx.list_fields(ws).await?);
        let total = tx.count_events(ws).await?;
        let snapshot = tx.max_seq(ws).await?;
        let objecting_all: HashSet<ContactId> = tx
            .all_consent_states(ws)
            .await?
            .into_iter()
            .filter(|(_, _, p, s)| objects(*p, *s))
            .map(|(c, ..)| c)
            .collect();
        tx.commit().await?;
        // What an interrupted run of this version wrote is written again.
        let mut tx = self.store().begin_write().await?;
        tx.delete_score_changes_of_version(ws, name, version).await?;
        tx.commit().await?;
        let now = self.clock().now().timestamp_millis();
        let mut run = Scoring::new(ws, &def, version);
        let (mut cursor, mut done) = (0i64, 0i64);
        loop {
            let mut tx = self.store().begin().await?;
            let events = tx.events_after(ws, cursor, RECOMPUTE_CHUNK).await?;
            tx.commit().await?;
            let Some(last) = events.last().map(|e| e.seq) else { break };
            for e in events.iter().filter(|e| e.seq <= snapshot) {
                if objecting_all.contains(&e.contact_id) {
                    continue;
                }
                if let Some(n) = event_name(e.kind, e.name.as_deref()) {
                    let at = e.timestamp.timestamp_millis();
                    run.event(e.contact_id, e.seq, at, n, &e.properties, now, None).await?;
                }
            }
            done += events.len() as i64;
            cursor = last;
            let changes = std::mem::take(&mut run.changes);
            let mut tx = self.store().begin_write().await?;
            tx.append_score_changes(ws, &changes).await?;
            let current =
                tx.set_score_progress(ws, name, version, "recomputing", None, (done.min(total), total)).await?;
            tx.commit().await?;
            if !current || last >= snapshot {
                if !current {
                    return Ok(());
                }
                break;
            }
        }
        // Attribute rules over every contact.
        if !def.attributes.is_empty() {
            let scores = WorkspaceScores { scores: Vec::new(), contact_types, company_types };
            let mut after = None;
            loop {
                let mut tx = self.store().begin().await?;
                let page = tx.contacts_after(ws, after, 1_000).await?;
                for c in &page {
                    if !objecting_all.contains(&c.id) {
                        if let Some((p, companies)) = profile_of(&mut tx, ws, &scores, c.id).await? {
                            run.attributes(c.id, &p, &companies, now);
                        }
                    }
                }
                tx.commit().await?;
                let Some(last) = page.last() else { break };
                after = Some(last.id);
            }
        }
        // The tail, and the switch, under the writer.
        let _writer = self.inner.state.lock().await;
        let mut tx = self.store().begin_write().await?;
        if tx.score_definition(ws, name).await?.is_none_or(|r| r.version != version) {
            return Ok(());
        }
        let now = self.clock().now().timestamp_millis();
        let mut cursor = snapshot;
        loop {
            let events = tx.events_after(ws, cursor, RECOMPUTE_CHUNK).await?;
            let Some(last) = events.last().map(|e| e.seq) else { break };
            let contacts: Vec<ContactId> = events.iter().map(|e| e.contact_id).collect();
            let objecting = objecting(&tx.consent_states_of(ws, &contacts).await?);
            for e in &events {
                if !objecting.contains(&e.contact_id) && !objecting_all.contains(&e.contact_id) {
                    if let Some(n) = event_name(e.kind, e.name.as_deref()) {
                        let at = e.timestamp.timestamp_millis();
                        run.event(e.contact_id, e.seq, at, n, &e.properties, now, None).await?;
                    }
                }
            }
            cursor = last;
        }
        for j in tx.journey_score_changes(ws, name).await? {
            if let Ok(id) = j.contact_id.parse() {
                run.states.entry(ContactId(id)).or_default().add(j.delta, j.at, def.half_life_days);
            }
        }
        // Contacts erased or merged away since their events were read.
        let ids: Vec<ContactId> = run.states.keys().copied().collect();
        let alive = tx.existing_contacts(ws, &ids).await?;
        run.states.retain(|c, _| alive.contains(c));
        run.changed = run.states.keys().copied().collect();
        let (rows, _) = run.settle(now, false);
        // Every contact whose score changes hands: the new ones and those the
        // old version scored.
        let previous: Vec<ContactId> = tx.all_score_states(ws, name).await?.into_iter().map(|(c, ..)| c).collect();
        tx.append_score_changes(ws, &run.changes).await?;
        tx.make_score_live(ws, name, version, &rows, def.half_life_days, now).await?;
        tx.touch_contacts(ws, previous.into_iter().chain(rows.iter().map(|r| r.0)));
        self.commit_plain(tx).await?;
        self.inner.forget_scores(ws);
        Ok(())
    }

    /// A contact's score history, newest first.
    pub async fn score_history(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        score: Option<&str>,
        before: Option<String>,
        limit: i64,
    ) -> Result<Vec<ScoreChange>, StoreError> {
        let mut tx = self.store().begin().await?;
        let r = tx.score_changes_of(ws, contact, score, before, limit).await?;
        tx.commit().await?;
        Ok(r)
    }
}
