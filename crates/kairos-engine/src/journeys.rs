//! The journey runner: one task that owns every active run. It reads the
//! event log from its own position (so events that arrived while it was
//! down are read again after a crash), starts runs whose trigger matches,
//! feeds events to waiting runs and goals, fires due timers, and takes the
//! outbox's delivery results. Each batch of steps is written in one
//! transaction — runs, path lines, new outbox intents, the effects on
//! Kairos's own data (fields, scores, lists) and the log position — so a
//! crash either keeps a step whole or loses it whole, and a lost step is
//! taken again from the same inputs with the same idempotency keys.

use crate::Engine;
use kairos_core::clock::from_millis;
use kairos_core::contact::ContactPatch;
use kairos_core::event::Event;
use kairos_core::fields::FieldEntity;
use kairos_core::ids::{ContactId, JourneyId, WorkspaceId};
use kairos_core::journey::{
    self, may_enter, Action, Definition, Effect, EntryHistory, EventInterest, Facts, Input, Outcome, Run, RunStatus,
    Trigger,
};
use kairos_core::segment::{event_name, Rule};
use kairos_store::{Attempt, Intent, PathRecord, RunRecord, StoreError, Tx};
use serde_json::{json, Value};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Tell the runner that a commit appended events up to `seq`, and note
/// when (the trigger latency's start).
pub(crate) fn wake(inner: &crate::Inner, seq: Option<i64>) {
    if let Some(seq) = seq {
        inner.commit_times.record(seq, Instant::now());
        let _ = inner.journeys.send(Msg::Wake);
    }
}

/// Events read from the log per batch.
const EVENTS_PER_BATCH: i64 = 2_000;
/// Runs stepped per transaction at most (timers firing together).
const STEPS_PER_BATCH: usize = 4_000;

pub(crate) enum Msg {
    /// Events were committed: the log has more to read.
    Wake,
    /// A journey was published, paused, resumed or archived; `done` is
    /// answered once the writer starts runs by the new state.
    Reload {
        ws: WorkspaceId,
        journey: JourneyId,
        done: Option<oneshot::Sender<()>>,
    },
    /// Put a contact into an API-triggered journey.
    Enter {
        ws: WorkspaceId,
        journey: JourneyId,
        contact: ContactId,
        reply: oneshot::Sender<Result<Option<String>, JourneyRunError>>,
    },
    /// The outbox delivered an effect, or gave up on it.
    Delivered {
        ws: WorkspaceId,
        key: String,
        attempts: i64,
        result: Result<(), String>,
    },
    Retry {
        ws: WorkspaceId,
        run: String,
        reply: oneshot::Sender<Result<bool, JourneyRunError>>,
    },
    /// Move waiting runs of older versions onto the current one.
    Migrate {
        ws: WorkspaceId,
        journey: JourneyId,
        mapping: std::collections::BTreeMap<String, String>,
        reply: oneshot::Sender<Result<Value, JourneyRunError>>,
    },
    /// The contact withdrew consent to marketing email.
    Unsubscribed {
        ws: WorkspaceId,
        contact: ContactId,
    },
    /// The contact is being erased: forget their runs and date triggers, and
    /// delete their runs, paths and outbox rows; answer once committed.
    Erase {
        ws: WorkspaceId,
        contact: ContactId,
        reply: oneshot::Sender<()>,
    },
    /// Answer once everything sent before has been handled and committed.
    Barrier(oneshot::Sender<()>),
}

#[derive(Debug, thiserror::Error)]
pub enum JourneyRunError {
    #[error("journey {0} is not active")]
    NotActive(JourneyId),
    #[error("journey {0} is not started by API calls")]
    NotApiTriggered(JourneyId),
    #[error("the contact was not let in: {0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the journey runner has stopped")]
    ShuttingDown,
}

/// Contacts that took one edge of a journey's graph.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EdgeCount {
    /// The node left; `None` for entering the journey at its start.
    pub from: Option<String>,
    pub to: String,
    /// Which of the node's exits: `branch 0`, `otherwise`, `path 1`,
    /// `event`, `timeout`, or `""` for a node's only exit.
    pub label: String,
    pub count: i64,
}

/// What the runner measures of itself, for the benchmark.
#[derive(Debug, Clone, Default)]
pub struct JourneyMetrics {
    /// From the triggering event's commit (its acknowledgement) to the
    /// commit of the run's first step and intents.
    pub trigger: Vec<Duration>,
    /// The same, in three parts: until the runner read the event, until its
    /// write transaction began (the writer is shared with ingestion), and
    /// until that transaction committed.
    pub trigger_parts: Vec<[Duration; 3]>,
    /// From a timer's due instant to the commit of the step it fired.
    pub timer_lateness: Vec<Duration>,
    /// Path lines written (one per node a run entered, passed or left).
    pub steps: u64,
    /// Runs the writer started in the transaction of their triggering
    /// event (their first step committed with the event, before its
    /// acknowledgement); the `trigger` latencies are the runner's starts.
    pub started_with_trigger: u64,
}

pub(crate) type Latencies = Arc<Mutex<JourneyMetrics>>;

/// When each commit that appended events finished, by the newest log
/// position it wrote. A trigger is timed from its event's commit, looked up
/// here when the run's first step commits: the runner may read an event
/// before the message announcing its commit arrives, so the instant cannot
/// travel with that message.
#[derive(Default)]
pub(crate) struct CommitTimes(Mutex<VecDeque<(i64, Instant)>>);

/// Commit instants kept at most (a stalled runner must not grow them).
const COMMIT_TIMES_KEPT: usize = 100_000;

impl CommitTimes {
    pub(crate) fn record(&self, seq: i64, at: Instant) {
        let mut q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() >= COMMIT_TIMES_KEPT {
            q.pop_front();
        }
        q.push_back((seq, at));
    }

    /// When the event at `seq` was committed: the first commit that wrote
    /// it or a later position.
    fn of(&self, seq: i64) -> Option<Instant> {
        let q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        q.iter().find(|(w, _)| *w >= seq).map(|(_, at)| *at)
    }

    /// Forget the commits whose events have all been read.
    fn forget_through(&self, seq: i64) {
        let mut q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        while q.front().is_some_and(|(w, _)| *w <= seq) {
            q.pop_front();
        }
    }
}

struct LiveJourney {
    ws: WorkspaceId,
    status: String,
    version: i64,
    defs: HashMap<i64, Arc<Definition>>,
    /// When the current version was published: events received earlier do
    /// not trigger it (a journey starts with the events after its publish).
    published_at: i64,
}

pub(crate) struct LiveRun {
    pub ws: WorkspaceId,
    pub journey: JourneyId,
    pub version: i64,
    pub run: Run,
    pub entered_at: i64,
    /// Log position of the event that started the run (sends personalise
    /// with it); the run sees only later events.
    pub trigger_seq: Option<i64>,
}

pub(crate) struct Runner {
    engine: Engine,
    journeys: HashMap<JourneyId, LiveJourney>,
    by_ws: HashMap<WorkspaceId, Vec<JourneyId>>,
    runs: HashMap<String, LiveRun>,
    by_contact: HashMap<(WorkspaceId, ContactId), Vec<String>>,
    timers: BinaryHeap<Reverse<(i64, String)>>,
    /// Date-field triggers: when each contact next enters each journey.
    /// The map is authoritative; heap entries that disagree are stale.
    date_next: HashMap<(JourneyId, ContactId), i64>,
    date_timers: BinaryHeap<Reverse<(i64, JourneyId, ContactId)>>,
    /// When each date-triggered journey's contacts were last scanned.
    date_scanned: HashMap<JourneyId, i64>,
    /// The events active journeys can react to, in any of their versions
    /// (runs finish on their own version); kept with `journeys`.
    interest: EventInterest,
    cursor: i64,
    saved_cursor: i64,
    saved_at: Instant,
    latencies: Latencies,
    outbox: mpsc::UnboundedSender<crate::outbox::Feed>,
    /// Whether the last round left work (events or timers) for the next.
    more: bool,
    /// Barriers waiting for a backlog to clear.
    barriers: Vec<oneshot::Sender<()>>,
    /// Runs taken over after their journey was archived: they exit.
    late_archived: Vec<String>,
}

/// When a journey's split statistics were read, and what they were.
pub(crate) type SplitCache = (i64, Arc<Vec<crate::splits::SplitState>>);

/// How long split statistics are reused before they are read again.
const SPLIT_REFRESH_MS: i64 = 60_000;

/// Answers a waiting API call once its batch committed (or failed).
type Reply = Box<dyn FnOnce(Result<(), String>) + Send + Sync>;

/// What one batch changes, written in one transaction.
#[derive(Default)]
pub(crate) struct Batch {
    pub(crate) runs: HashSet<String>,
    path: Vec<(WorkspaceId, PathRecord)>,
    effects: Vec<(WorkspaceId, JourneyId, String, ContactId, Effect)>,
    delivered: Vec<(WorkspaceId, String, i64, Result<(), String>)>,
    /// Runs started, with the log position of their triggering event and
    /// when the runner read it.
    entered: Vec<(String, Option<i64>, Instant)>,
    /// Due instants of the timers this batch fired (engine ms).
    fired: Vec<i64>,
    /// Contacts being erased: their journey rows go in this batch.
    erased: Vec<(WorkspaceId, ContactId)>,
    replies: Vec<Reply>,
}

impl Batch {
    /// Add a step's outcome to the batch: the run, its path lines (under
    /// the version the run is on) and its effects.
    pub(crate) fn record(
        &mut self,
        ws: WorkspaceId,
        journey: JourneyId,
        version: i64,
        run: &Run,
        out: Outcome,
        now: i64,
    ) {
        self.runs.insert(run.id.clone());
        for p in out.path {
            self.path.push((
                ws,
                PathRecord {
                    run_id: run.id.clone(),
                    journey_id: journey,
                    version,
                    node: p.node,
                    outcome: p.outcome.to_string(),
                    detail: p.detail,
                    at: now,
                },
            ));
        }
        for e in out.effects {
            self.effects.push((ws, journey, run.id.clone(), run.contact, e));
        }
    }
}

/// Enter `contact` into version `version` of `journey` and take the first
/// step, recorded in `batch` behind an `entered` line; the new run. The
/// runner (API and date triggers) and the writer (event triggers) both
/// start runs through this.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn first_step(
    engine: &Engine,
    tx: &mut Tx,
    batch: &mut Batch,
    ws: WorkspaceId,
    journey: JourneyId,
    version: i64,
    def: &Definition,
    contact: ContactId,
    now: i64,
) -> Result<Run, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    let facts = contact_facts(engine, tx, ws, journey, contact, def).await?;
    let (run, mut out) = journey::enter(def, id, journey.to_string(), contact, now, &facts);
    out.path.insert(0, journey::PathStep { node: def.start.clone(), outcome: "entered", detail: String::new() });
    batch.record(ws, journey, version, &run, out, now);
    Ok(run)
}

/// What a step needs to know of its contact: segment rules (branches), time
/// zone and best hour (delays), where optimising splits stand.
pub(crate) async fn contact_facts<'a>(
    engine: &'a Engine,
    tx: &mut Tx,
    ws: WorkspaceId,
    journey: JourneyId,
    contact: ContactId,
    def: &Definition,
) -> Result<ContactFacts<'a>, StoreError> {
    let mut tz = jiff::tz::TimeZone::UTC;
    if has_local_delays(def) {
        if let Some(name) = tx.contact(ws, contact).await?.and_then(|c| c.timezone) {
            if let Ok(t) = jiff::tz::TimeZone::get(&name) {
                tz = t;
            }
        }
    }
    let best_hour = if has_best_hour_delays(def) { engine.best_send_hour_in(tx, ws, contact).await?.hour } else { 9 };
    let splits = if crate::splits::optimising(def).is_empty() {
        None
    } else {
        let now = now_ms(engine);
        let cache = &engine.inner.starts.splits;
        let cached = cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&journey)
            .filter(|(at, _)| now - at < SPLIT_REFRESH_MS)
            .map(|(_, s)| s.clone());
        Some(match cached {
            Some(s) => s,
            None => {
                let fresh = Arc::new(crate::splits::split_states(tx, ws, journey, def, now).await?);
                cache.lock().unwrap_or_else(|e| e.into_inner()).insert(journey, (now, fresh.clone()));
                fresh
            }
        })
    };
    Ok(ContactFacts { engine, ws, contact, tz, best_hour, splits })
}

fn now_ms(engine: &Engine) -> i64 {
    engine.clock().now().timestamp_millis()
}

pub(crate) struct ContactFacts<'a> {
    engine: &'a Engine,
    ws: WorkspaceId,
    contact: ContactId,
    tz: jiff::tz::TimeZone,
    best_hour: u8,
    splits: Option<Arc<Vec<crate::splits::SplitState>>>,
}

impl Facts for ContactFacts<'_> {
    fn matches(&self, rule: &Rule) -> bool {
        self.engine.segment_matches(self.ws, rule, self.contact).unwrap_or(false)
    }
    fn timezone(&self) -> jiff::tz::TimeZone {
        self.tz.clone()
    }
    fn best_hour(&self) -> u8 {
        self.best_hour
    }
    fn optimised_path(&self, node: &str, _paths: usize) -> Option<usize> {
        self.splits.as_ref()?.iter().find(|s| s.node == node).map(|s| s.path_for(self.contact))
    }
}

fn has_local_delays(def: &Definition) -> bool {
    use journey::definition::Delay;
    def.nodes.values().any(|n| matches!(n, journey::Node::Delay { wait: Delay::Until { .. } | Delay::BestHour, .. }))
}

fn has_best_hour_delays(def: &Definition) -> bool {
    def.nodes.values().any(|n| matches!(n, journey::Node::Delay { wait: journey::definition::Delay::BestHour, .. }))
}

pub(crate) fn start(
    engine: Engine,
    rx: mpsc::UnboundedReceiver<Msg>,
    latencies: Latencies,
    outbox: mpsc::UnboundedSender<crate::outbox::Feed>,
) {
    let runner = Runner {
        engine,
        journeys: HashMap::new(),
        by_ws: HashMap::new(),
        runs: HashMap::new(),
        by_contact: HashMap::new(),
        timers: BinaryHeap::new(),
        date_next: HashMap::new(),
        date_timers: BinaryHeap::new(),
        date_scanned: HashMap::new(),
        interest: EventInterest::default(),
        cursor: 0,
        saved_cursor: 0,
        saved_at: Instant::now(),
        latencies,
        outbox,
        more: false,
        barriers: Vec::new(),
        late_archived: Vec::new(),
    };
    tokio::spawn(runner.run(rx));
}

impl Runner {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Msg>) {
        while let Err(e) = self.load().await {
            tracing::error!(error = %e, "loading journeys failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        loop {
            let now = now_ms(&self.engine);
            let wait = match self.timers.peek() {
                Some(Reverse((due, _))) => Duration::from_millis((*due - now).clamp(0, 1000) as u64),
                None => Duration::from_secs(1),
            };
            let mut msgs = Vec::new();
            if !self.more {
                tokio::select! {
                    m = rx.recv() => match m {
                        Some(m) => msgs.push(m),
                        None => return,
                    },
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            while let Ok(m) = rx.try_recv() {
                msgs.push(m);
            }
            let result = self.process(msgs).await;
            self.more = matches!(result, Ok(true));
            if let Err(e) = result {
                tracing::error!(error = %e, "journey step failed; reloading runs from the store");
                while let Err(e) = self.load().await {
                    tracing::error!(error = %e, "reloading journeys failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                self.engine.inner.unrecorded.store(0, std::sync::atomic::Ordering::Relaxed);
                let _ = self.outbox.send(crate::outbox::Feed::Rescan);
            }
        }
    }

    /// (Re)build everything from the store.
    async fn load(&mut self) -> Result<(), StoreError> {
        self.journeys.clear();
        self.by_ws.clear();
        self.runs.clear();
        self.by_contact.clear();
        self.timers.clear();
        self.date_next.clear();
        self.date_timers.clear();
        self.date_scanned.clear();
        // The writer keeps starting runs while the store is read: what it
        // hands over from here on is recorded, and merged below under its
        // lock (runs it handed over before are read from the store).
        {
            let _writer = self.engine.inner.state.lock().await;
            self.engine.inner.starts.start_recording();
        }
        let mut tx = self.engine.store().begin().await?;
        for (ws, j) in tx.published_journeys().await? {
            let mut defs = HashMap::new();
            let mut published_at = 0;
            let schema = self.engine.segment_schema(ws).await?;
            for (v, def, at) in tx.journey_versions(ws, j.id).await? {
                if v == j.version {
                    published_at = at;
                }
                match journey::parse(&def, &schema) {
                    Ok(d) => {
                        defs.insert(v, Arc::new(d));
                    }
                    Err(e) => {
                        let error = e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
                        tracing::error!(journey = %j.id, version = v, %error, "a stored journey version no longer parses")
                    }
                }
            }
            self.by_ws.entry(ws).or_default().push(j.id);
            self.journeys.insert(j.id, LiveJourney { ws, status: j.status, version: j.version, defs, published_at });
        }
        self.refresh_interest();
        let mut history = HashMap::new();
        for r in tx.all_runs().await? {
            let Some(status) = RunStatus::parse(&r.status) else { continue };
            let h: &mut EntryHistory = history.entry((r.journey_id, r.contact_id)).or_default();
            h.last_entered = Some(h.last_entered.map_or(r.entered_at, |t| t.max(r.entered_at)));
            h.active |= status.is_active();
            if !status.is_active() {
                continue;
            }
            if let Some(due) = r.due_at {
                self.timers.push(Reverse((due, r.id.clone())));
            }
            self.by_contact.entry((r.workspace_id, r.contact_id)).or_default().push(r.id.clone());
            let run = Run {
                id: r.id.clone(),
                journey: r.journey_id.to_string(),
                contact: r.contact_id,
                node: r.node,
                status,
                visit: r.visit as u32,
                due_at: r.due_at,
                error: r.error,
            };
            self.runs.insert(
                r.id,
                LiveRun {
                    ws: r.workspace_id,
                    journey: r.journey_id,
                    version: r.version,
                    run,
                    entered_at: r.entered_at,
                    trigger_seq: r.trigger_seq,
                },
            );
        }
        self.cursor = tx.journey_cursor().await?;
        self.saved_cursor = self.cursor;
        if self.cursor == 0 && self.journeys.is_empty() {
            // Nothing to react to yet: start from the log's end, not its
            // beginning, so a first journey does not replay old history.
            self.cursor = tx.last_event_seq().await?;
        }
        // Starts are taken from where they were saved; a store from before
        // the writer took them had them taken through the runner's cursor.
        let starts_from = tx.log_cursor(crate::journey_starts::STARTS_CURSOR).await?.unwrap_or(self.cursor);
        tx.commit().await?;
        let engine = self.engine.clone();
        let writer = engine.inner.state.lock().await;
        for (key, h) in engine.inner.starts.stop_recording() {
            history.insert(key, h);
        }
        *engine.inner.starts.history() = history;
        self.adopt_started();
        drop(writer);
        self.engine.inner.starts.resume_from(starts_from, self.outbox.clone());
        // Events appended while no starts were taken get theirs now.
        let _ = self.engine.inner.jobs.try_send(crate::ingest::Job::Starts(None));
        let ids: Vec<JourneyId> = self.journeys.keys().copied().collect();
        for j in ids {
            self.scan_dates(j).await?;
        }
        tracing::info!(
            journeys = self.journeys.len(),
            runs = self.runs.len(),
            cursor = self.cursor,
            date_triggers = self.date_next.len(),
            "journey runner loaded"
        );
        Ok(())
    }

    /// The date-field trigger of a journey's current version, if that is
    /// how it starts.
    fn date_trigger(&self, journey: JourneyId) -> Option<(WorkspaceId, Trigger)> {
        let j = self.journeys.get(&journey)?;
        if j.status != "active" {
            return None;
        }
        let def = j.defs.get(&j.version)?;
        matches!(def.trigger, Trigger::DateField { .. }).then(|| (j.ws, def.trigger.clone()))
    }

    /// When `contact` next enters a date-triggered journey, from the field's
    /// value in its time zone; `None` when the field is unset or the instant
    /// passed before the journey was published.
    fn next_date(
        &self,
        journey: JourneyId,
        trigger: &Trigger,
        c: &kairos_core::contact::Contact,
        after: i64,
    ) -> Option<i64> {
        let Trigger::DateField { field, offset_days, hour, minute, yearly } = trigger else { return None };
        let raw = match field.as_str() {
            "created_at" => Some(c.created_at.to_rfc3339()),
            f => c.custom.get(f).and_then(Value::as_str).map(str::to_string),
        }?;
        let date = raw
            .parse::<jiff::civil::Date>()
            .ok()
            .or_else(|| raw.parse::<jiff::Timestamp>().ok().map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date()))?;
        let tz = c.timezone.as_deref().and_then(|t| jiff::tz::TimeZone::get(t).ok()).unwrap_or(jiff::tz::TimeZone::UTC);
        let at = journey::date_trigger_at(date, *offset_days, *hour, *minute, *yearly, &tz, after)?;
        let published = self.journeys.get(&journey).map(|j| j.published_at).unwrap_or(0);
        // Not before the journey existed, not again for an instant that
        // already started a run.
        let entered = self.engine.inner.starts.history().get(&(journey, c.id)).and_then(|h| h.last_entered);
        (at >= published && at > after && entered.is_none_or(|t| t < at)).then_some(at)
    }

    /// Schedule a contact's next entry into a date-triggered journey.
    fn schedule_date(&mut self, journey: JourneyId, trigger: &Trigger, c: &kairos_core::contact::Contact, after: i64) {
        match self.next_date(journey, trigger, c, after) {
            Some(at) => {
                if self.date_next.insert((journey, c.id), at) != Some(at) {
                    self.date_timers.push(Reverse((at, journey, c.id)));
                }
            }
            None => {
                self.date_next.remove(&(journey, c.id));
            }
        }
    }

    /// Read every contact of a date-triggered journey's workspace and
    /// schedule their entries (on load, on publish, and daily).
    async fn scan_dates(&mut self, journey: JourneyId) -> Result<(), StoreError> {
        self.date_next.retain(|(j, _), _| *j != journey);
        let Some((ws, trigger)) = self.date_trigger(journey) else {
            self.date_scanned.remove(&journey);
            return Ok(());
        };
        let now = now_ms(&self.engine);
        // Instants already passed today still fire (a run that was due
        // while the server was down enters now), so look back a day.
        let after = now - 86_400_000;
        let mut filter = kairos_store::ContactFilter::default();
        let mut tx = self.engine.store().begin().await?;
        loop {
            let page = tx.search_contacts(ws, &filter, 5_000).await?;
            for c in &page.contacts {
                self.schedule_date(journey, &trigger, c, after);
            }
            match page.next {
                Some(n) => filter.after = Some(n),
                None => break,
            }
        }
        tx.commit().await?;
        self.date_scanned.insert(journey, now);
        Ok(())
    }

    fn definition(&self, journey: JourneyId, version: i64) -> Option<Arc<Definition>> {
        self.journeys.get(&journey).and_then(|j| j.defs.get(&version)).cloned()
    }

    async fn reload_journey(&mut self, ws: WorkspaceId, id: JourneyId) -> Result<(), StoreError> {
        let mut tx = self.engine.store().begin().await?;
        let Some(j) = tx.journey(ws, id).await? else {
            self.journeys.remove(&id);
            self.refresh_interest();
            return Ok(());
        };
        let schema = self.engine.segment_schema(ws).await?;
        let mut defs = HashMap::new();
        let mut published_at = 0;
        for (v, def, at) in tx.journey_versions(ws, id).await? {
            if v == j.version {
                published_at = at;
            }
            if let Ok(d) = journey::parse(&def, &schema) {
                defs.insert(v, Arc::new(d));
            }
        }
        tx.commit().await?;
        if !self.journeys.contains_key(&id) {
            self.by_ws.entry(ws).or_default().push(id);
        }
        let resumed = j.status == "active";
        self.journeys.insert(id, LiveJourney { ws, status: j.status, version: j.version, defs, published_at });
        self.refresh_interest();
        self.scan_dates(id).await?;
        if resumed {
            // Timers that came due while the journey was paused fire now.
            let now = now_ms(&self.engine);
            for r in self.runs.values().filter(|r| r.journey == id) {
                if let Some(due) = r.run.due_at {
                    self.timers.push(Reverse((due.min(now), r.run.id.clone())));
                }
            }
        }
        Ok(())
    }

    /// Start a run if the entry rule allows; returns its id.
    #[allow(clippy::too_many_arguments)]
    async fn try_enter(
        &mut self,
        tx: &mut Tx,
        batch: &mut Batch,
        ws: WorkspaceId,
        journey: JourneyId,
        contact: ContactId,
        now: i64,
        seq: Option<i64>,
    ) -> Result<Result<String, String>, StoreError> {
        let Some(j) = self.journeys.get(&journey) else { return Ok(Err("no such journey".into())) };
        if j.status != "active" {
            return Ok(Err(format!("the journey is {}", j.status)));
        }
        let version = j.version;
        let Some(def) = self.definition(journey, version) else { return Ok(Err("no published version".into())) };
        let history = self.engine.inner.starts.history().get(&(journey, contact)).copied().unwrap_or_default();
        if let Err(refusal) = may_enter(&def.entry, history, now) {
            return Ok(Err(format!("{refusal:?}")));
        }
        let run = first_step(&self.engine, tx, batch, ws, journey, version, &def, contact, now).await?;
        let id = run.id.clone();
        // API and date triggers start here, not in the writer.
        let mut history = self.engine.inner.starts.history();
        let h = history.entry((journey, contact)).or_default();
        h.last_entered = Some(now);
        h.active = run.status.is_active();
        drop(history);
        batch.entered.push((id.clone(), seq, Instant::now()));
        self.by_contact.entry((ws, contact)).or_default().push(id.clone());
        self.runs.insert(id.clone(), LiveRun { ws, journey, version, run, entered_at: now, trigger_seq: seq });
        Ok(Ok(id))
    }

    /// Feed one input to a run.
    async fn feed(
        &mut self,
        tx: &mut Tx,
        batch: &mut Batch,
        id: &str,
        input: Input<'_>,
        now: i64,
    ) -> Result<(), StoreError> {
        let Some(live) = self.runs.get(id) else { return Ok(()) };
        let (ws, journey, version, contact) = (live.ws, live.journey, live.version, live.run.contact);
        if self.journeys.get(&journey).is_none_or(|j| j.status != "active") {
            return Ok(());
        }
        let Some(def) = self.definition(journey, version) else { return Ok(()) };
        let facts = contact_facts(&self.engine, tx, ws, journey, contact, &def).await?;
        let mut run = live.run.clone();
        let out = journey::step(&def, &mut run, input, now, &facts);
        if out.path.is_empty() && out.effects.is_empty() && run == live.run {
            return Ok(());
        }
        batch.record(ws, journey, version, &run, out, now);
        if let Some(l) = self.runs.get_mut(id) {
            l.run = run;
        }
        Ok(())
    }

    /// Handle messages, new events and due timers; `Ok(true)` when work was
    /// left for the next round (a full batch).
    async fn process(&mut self, msgs: Vec<Msg>) -> Result<bool, StoreError> {
        let mut more = false;
        let now = now_ms(&self.engine);
        let mut batch = Batch::default();
        let mut barriers = Vec::new();
        // Runs the writer started, before anything concerning them: their
        // delivery results, their contact's erasure.
        self.adopt_started();
        let mut tx = self.engine.store().begin().await?;
        for m in msgs {
            match m {
                // Only wakes the runner: the log is read from the cursor.
                Msg::Wake => {}
                Msg::Reload { ws, journey, done } => {
                    drop(tx);
                    self.reload_journey(ws, journey).await?;
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                    tx = self.engine.store().begin().await?;
                    if self.journeys.get(&journey).is_some_and(|j| j.status == "archived") {
                        self.adopt_started();
                        let ids: Vec<String> =
                            self.runs.values().filter(|r| r.journey == journey).map(|r| r.run.id.clone()).collect();
                        self.late_archived.retain(|id| !ids.contains(id));
                        self.exit_archived(&mut batch, ids, now);
                    }
                }
                Msg::Enter { ws, journey, contact, reply } => {
                    let r = match self.journeys.get(&journey) {
                        Some(j) if j.ws != ws => Err(JourneyRunError::NotActive(journey)),
                        Some(j) if j.status != "active" => Err(JourneyRunError::NotActive(journey)),
                        None => Err(JourneyRunError::NotActive(journey)),
                        Some(j) => match j.defs.get(&j.version).map(|d| &d.trigger) {
                            Some(Trigger::Api) => Ok(()),
                            _ => Err(JourneyRunError::NotApiTriggered(journey)),
                        },
                    };
                    match r {
                        Err(e) => {
                            let _ = reply.send(Err(e));
                        }
                        Ok(()) => match self.try_enter(&mut tx, &mut batch, ws, journey, contact, now, None).await? {
                            Ok(id) => batch.replies.push(Box::new(move |r| {
                                let _ = reply.send(
                                    r.map(|_| Some(id)).map_err(|e| JourneyRunError::Store(StoreError::Corrupt(e))),
                                );
                            })),
                            Err(why) => {
                                let _ = reply.send(Err(JourneyRunError::Refused(why)));
                            }
                        },
                    }
                }
                Msg::Delivered { ws, key, attempts, result } => {
                    let run_id = key.split(':').next().unwrap_or_default().to_string();
                    let input = match &result {
                        Ok(()) => Input::ActionDone,
                        Err(e) => Input::ActionFailed { error: e },
                    };
                    // Only the run's current action counts (a late result
                    // for a visit the run has left changes nothing).
                    let current = self.runs.get(&run_id).is_some_and(|l| {
                        key == format!("{}:{}:{}", l.run.id, l.run.node, l.run.visit)
                            && l.run.status == RunStatus::Acting
                    });
                    if current {
                        self.feed(&mut tx, &mut batch, &run_id, input, now).await?;
                    }
                    batch.delivered.push((ws, key, attempts, result));
                }
                Msg::Retry { ws, run, reply } => {
                    let failed = self.runs.get(&run).is_some_and(|l| l.ws == ws && l.run.status == RunStatus::Failed);
                    if failed {
                        self.feed(&mut tx, &mut batch, &run, Input::Retry, now).await?;
                        batch.replies.push(Box::new(move |r| {
                            let _ =
                                reply.send(r.map(|_| true).map_err(|e| JourneyRunError::Store(StoreError::Corrupt(e))));
                        }));
                    } else {
                        let _ = reply.send(Ok(false));
                    }
                }
                Msg::Migrate { ws, journey: jid, mapping, reply } => {
                    let Some(j) = self.journeys.get(&jid).filter(|j| j.ws == ws) else {
                        let _ = reply.send(Err(JourneyRunError::NotActive(jid)));
                        continue;
                    };
                    let current = j.version;
                    let Some(new) = j.defs.get(&current).cloned() else {
                        let _ =
                            reply.send(Err(JourneyRunError::Refused("the journey has no published version".into())));
                        continue;
                    };
                    if let Some((_, bad)) = mapping.iter().find(|(_, to)| !new.nodes.contains_key(*to)) {
                        let _ = reply.send(Err(JourneyRunError::Refused(format!(
                            "mapping: version {current} has no node \"{bad}\""
                        ))));
                        continue;
                    }
                    let ids: Vec<String> = self
                        .runs
                        .values()
                        .filter(|l| l.journey == jid && l.version != current && l.run.status.is_active())
                        .map(|l| l.run.id.clone())
                        .collect();
                    let (mut moved, mut stayed) = (0u64, Vec::new());
                    for id in ids {
                        let Some(l) = self.runs.get(&id) else { continue };
                        let Some(old) = self.definition(jid, l.version) else { continue };
                        match journey::migrate_node(&l.run, &old, &new, &mapping) {
                            Ok(target) => {
                                let from = (l.version, l.run.node.clone());
                                let Some(l) = self.runs.get_mut(&id) else { continue };
                                l.version = current;
                                l.run.node = target.clone();
                                let step = journey::PathStep {
                                    node: target,
                                    outcome: "migrated",
                                    detail: format!("from version {} node {}", from.0, from.1),
                                };
                                let (ws, run) = (l.ws, l.run.clone());
                                batch.record(
                                    ws,
                                    jid,
                                    current,
                                    &run,
                                    Outcome { effects: vec![], path: vec![step] },
                                    now,
                                );
                                moved += 1;
                            }
                            Err(why) => {
                                stayed.push(json!({"run": id, "node": l.run.node, "version": l.version, "why": why}))
                            }
                        }
                    }
                    let report = json!({"version": current, "moved": moved, "stayed": stayed});
                    batch.replies.push(Box::new(move |r| {
                        let _ =
                            reply.send(r.map(|_| report).map_err(|e| JourneyRunError::Store(StoreError::Corrupt(e))));
                    }));
                }
                Msg::Unsubscribed { ws, contact } => {
                    let ids = self.by_contact.get(&(ws, contact)).cloned().unwrap_or_default();
                    for id in ids {
                        self.feed(&mut tx, &mut batch, &id, Input::Unsubscribed, now).await?;
                    }
                }
                Msg::Erase { ws, contact, reply } => {
                    self.engine.inner.starts.forget(ws, contact);
                    let ids: HashSet<String> =
                        self.by_contact.remove(&(ws, contact)).unwrap_or_default().into_iter().collect();
                    for id in &ids {
                        self.runs.remove(id);
                        batch.runs.remove(id);
                    }
                    // Nothing of theirs may be written by this batch either.
                    batch.path.retain(|(_, p)| !ids.contains(&p.run_id));
                    batch.effects.retain(|(_, _, run, _, _)| !ids.contains(run));
                    batch.entered.retain(|(run, _, _)| !ids.contains(run));
                    self.date_next.retain(|(_, c), _| *c != contact);
                    batch.erased.push((ws, contact));
                    batch.replies.push(Box::new(move |_| {
                        let _ = reply.send(());
                    }));
                }
                Msg::Barrier(reply) => barriers.push(reply),
            }
        }
        // Delivery outcomes are recorded at once, apart from the heavier
        // work below: until they are, a crash would deliver them again.
        if !batch.delivered.is_empty() {
            drop(tx);
            self.commit(std::mem::take(&mut batch), now).await?;
            tx = self.engine.store().begin().await?;
        }
        // New events, in log order: only those an active journey can react
        // to (paused journeys ignore events, and a journey only starts with
        // events after its publish). Decoding every event would take a
        // core's share from ingestion; with no active journey nothing is read.
        if self.interest.is_empty() {
            self.cursor = self.cursor.max(tx.last_event_seq().await?.min(self.engine.inner.starts.through()));
        } else {
            more |= self.read_events(&mut tx, &mut batch, now).await?;
        }
        let late = std::mem::take(&mut self.late_archived);
        self.exit_archived(&mut batch, late, now);
        // Due timers.
        while let Some(Reverse((due, _))) = self.timers.peek() {
            if *due > now {
                break;
            }
            if batch.runs.len() >= STEPS_PER_BATCH {
                more = true;
                break;
            }
            let Some(Reverse((_, id))) = self.timers.pop() else { break };
            // Heap entries may be stale (the run moved on); the run's own
            // due instant decides.
            if let Some(due) = self.runs.get(&id).and_then(|l| l.run.due_at).filter(|d| *d <= now) {
                self.feed(&mut tx, &mut batch, &id, Input::Timer, now).await?;
                batch.fired.push(due);
            }
        }
        // Date-field triggers that came due.
        while let Some(Reverse((due, journey, contact))) = self.date_timers.peek().copied() {
            if due > now || batch.runs.len() >= STEPS_PER_BATCH {
                more |= due <= now;
                break;
            }
            self.date_timers.pop();
            if self.date_next.get(&(journey, contact)) != Some(&due) {
                continue;
            }
            self.date_next.remove(&(journey, contact));
            let Some((ws, trigger)) = self.date_trigger(journey) else { continue };
            let Some(c) = tx.contact(ws, contact).await? else { continue };
            // The field may have changed since this was scheduled.
            if self.next_date(journey, &trigger, &c, due - 1) != Some(due) {
                self.schedule_date(journey, &trigger, &c, now);
                continue;
            }
            let _ = self.try_enter(&mut tx, &mut batch, ws, journey, contact, now, None).await?;
            // Yearly triggers come round again.
            self.schedule_date(journey, &trigger, &c, due);
        }
        // A daily rescan catches field changes no event announced.
        let stale: Vec<JourneyId> =
            self.date_scanned.iter().filter(|(_, at)| now - **at > 86_400_000).map(|(j, _)| *j).collect();
        drop(tx);
        for j in stale {
            self.scan_dates(j).await?;
        }
        let had_work = !batch.runs.is_empty() || !batch.delivered.is_empty();
        // With nothing else to write, the log position is saved at most once
        // a second: replaying events that started nothing starts nothing.
        let cursor_due = self.cursor > self.saved_cursor && self.saved_at.elapsed() >= Duration::from_secs(1);
        if had_work || cursor_due {
            self.commit(batch, now).await?;
        } else {
            for r in batch.replies {
                r(Ok(()));
            }
        }
        self.engine.inner.commit_times.forget_through(self.cursor);
        if !more {
            for b in barriers {
                let _ = b.send(());
            }
        } else if !barriers.is_empty() {
            // Answered once the backlog is through.
            self.barriers.extend(barriers);
        }
        if !more {
            for b in self.barriers.drain(..) {
                let _ = b.send(());
            }
        }
        Ok(more)
    }

    /// Recompute what the log is read for, and which journeys the writer
    /// starts runs of, after the journeys changed. Paused journeys ignore
    /// events.
    fn refresh_interest(&mut self) {
        let mut out = EventInterest::default();
        let mut table = crate::journey_starts::StartTable::default();
        for (id, j) in self.journeys.iter().filter(|(_, j)| j.status == "active") {
            for d in j.defs.values() {
                out.add(&d.run_interest());
            }
            if let Some(def) = j.defs.get(&j.version) {
                let starts_on = def.start_interest();
                if !starts_on.is_empty() {
                    if matches!(def.trigger, Trigger::ContactCreated) {
                        table.on_creation = true;
                        table.interest.names.insert("Contact Created".to_string());
                    } else {
                        table.interest.add(&starts_on);
                    }
                    table.journeys.entry(j.ws).or_default().push(crate::journey_starts::Startable {
                        id: *id,
                        version: j.version,
                        def: def.clone(),
                        published_at: j.published_at,
                    });
                }
            }
        }
        self.interest = out;
        self.engine.inner.starts.publish(table);
    }

    /// Running contacts of an archived journey exit.
    fn exit_archived(&mut self, batch: &mut Batch, ids: Vec<String>, now: i64) {
        for id in ids {
            if let Some(l) = self.runs.get_mut(&id) {
                if !l.run.status.is_active() {
                    continue;
                }
                l.run.status = RunStatus::Exited;
                l.run.due_at = None;
                let step = journey::PathStep { node: l.run.node.clone(), outcome: "archived", detail: String::new() };
                let (ws, j, version, run) = (l.ws, l.journey, l.version, l.run.clone());
                batch.record(ws, j, version, &run, Outcome { effects: vec![], path: vec![step] }, now);
            }
        }
    }

    /// Take over the runs the writer started and committed. Those of a
    /// journey archived meanwhile (the writer started them by the table it
    /// had) exit in the next batch.
    fn adopt_started(&mut self) {
        for l in self.engine.inner.starts.take_started() {
            if self.journeys.get(&l.journey).is_none_or(|j| j.status == "archived") {
                self.late_archived.push(l.run.id.clone());
            }
            self.adopt(l);
        }
    }

    fn adopt(&mut self, l: LiveRun) {
        if self.runs.contains_key(&l.run.id) {
            return;
        }
        if let Some(due) = l.run.due_at {
            self.timers.push(Reverse((due, l.run.id.clone())));
        }
        self.by_contact.entry((l.ws, l.run.contact)).or_default().push(l.run.id.clone());
        self.runs.insert(l.run.id.clone(), l);
    }

    /// Feed the events of interest appended since the cursor to runs and
    /// triggers, until the log is read or the batch is full; `Ok(true)` when
    /// events were left. Other events are skipped in the store, undecoded.
    async fn read_events(&mut self, tx: &mut Tx, batch: &mut Batch, now: i64) -> Result<bool, StoreError> {
        // Not past the events whose starts are taken, and the runs they
        // started taken over first (the writer hands runs over before it
        // moves the position), so no run misses an event after its trigger.
        let through = self.engine.inner.starts.through();
        self.adopt_started();
        let end = tx.last_event_seq().await?.min(through);
        loop {
            let events = tx.events_of_interest(self.cursor, end, &self.interest, EVENTS_PER_BATCH).await?;
            let n = events.len();
            for e in events {
                self.cursor = self.cursor.max(e.seq);
                self.on_event(tx, batch, &e, now).await?;
            }
            if (n as i64) < EVENTS_PER_BATCH {
                self.cursor = self.cursor.max(end);
                return Ok(false);
            }
            if batch.runs.len() >= STEPS_PER_BATCH {
                return Ok(true);
            }
        }
    }

    async fn on_event(&mut self, tx: &mut Tx, batch: &mut Batch, e: &Event, now: i64) -> Result<(), StoreError> {
        let ws = e.workspace_id;
        if e.kind == kairos_core::event::EventKind::Identify {
            // Traits may have set or moved a date a journey starts from.
            let dated: Vec<(JourneyId, Trigger)> = self
                .by_ws
                .get(&ws)
                .into_iter()
                .flatten()
                .filter_map(|j| self.date_trigger(*j).map(|(_, t)| (*j, t)))
                .collect();
            if !dated.is_empty() {
                if let Some(c) = tx.contact(ws, e.contact_id).await? {
                    for (j, t) in dated {
                        self.schedule_date(j, &t, &c, now - 86_400_000);
                    }
                }
            }
        }
        let Some(name) = event_name(e.kind, e.name.as_deref()) else { return Ok(()) };
        // Runs this event or a later one started (in the writer's
        // transaction of that event) do not see it.
        let ids = self.by_contact.get(&(ws, e.contact_id)).cloned().unwrap_or_default();
        for id in ids {
            if self.runs.get(&id).is_some_and(|l| l.trigger_seq.is_some_and(|s| s >= e.seq)) {
                continue;
            }
            self.feed(tx, batch, &id, Input::Event { name, properties: &e.properties }, now).await?;
        }
        Ok(())
    }

    /// Write the batch in one transaction, then bring memory up to date.
    async fn commit(&mut self, batch: Batch, now: i64) -> Result<(), StoreError> {
        let engine = self.engine.clone();
        // Held until memory is up to date: the writer's entry rules read
        // which runs are under way.
        let mut state = engine.inner.state.lock().await;
        // Runs handed over meanwhile count below (entry rules' "under way").
        self.adopt_started();
        let mut tx = engine.store().begin_write().await?;
        let writing_at = Instant::now();
        let mut records = Vec::with_capacity(batch.runs.len());
        for id in &batch.runs {
            if let Some(l) = self.runs.get(id) {
                records.push(run_record(l, now));
            }
        }
        let runs = &self.runs;
        let meta = |id: &str| runs.get(id).map(|l| (l.version, l.trigger_seq)).unwrap_or((0, None));
        let written = write_batch(&mut tx, &engine, &mut state, &batch, &mut records, meta, now).await?;
        tx.set_journey_cursor(self.cursor).await?;
        let touched = tx.commit().await;
        if touched.is_ok() {
            self.saved_cursor = self.cursor;
            self.saved_at = Instant::now();
        }
        let replies = batch.replies;
        let touched = match touched {
            Ok(t) => t,
            Err(e) => {
                for r in replies {
                    r(Err(e.to_string()));
                }
                return Err(e);
            }
        };
        engine.wake_journeys(written.newest_crossed);
        engine.committed(touched, written.crossed);
        if !batch.delivered.is_empty() {
            let n = batch.delivered.len();
            let _ = engine.inner.unrecorded.fetch_update(
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
                |v| Some(v.saturating_sub(n)),
            );
        }
        let committed_at = Instant::now();
        {
            let mut lat = self.latencies.lock().unwrap_or_else(|e| e.into_inner());
            for (_, seq, read_at) in &batch.entered {
                if let Some(at) = seq.and_then(|s| engine.inner.commit_times.of(s)) {
                    lat.trigger.push(committed_at.saturating_duration_since(at));
                    lat.trigger_parts.push([
                        read_at.saturating_duration_since(at),
                        writing_at.saturating_duration_since(*read_at),
                        committed_at.saturating_duration_since(writing_at),
                    ]);
                }
            }
            let after = now_ms(&engine);
            for due in &batch.fired {
                lat.timer_lateness.push(Duration::from_millis((after - due).max(0) as u64));
            }
            lat.steps += batch.path.len() as u64;
        }
        for (run_id, why) in written.failed_runs {
            if let Some(l) = self.runs.get_mut(&run_id) {
                l.run.status = RunStatus::Failed;
                l.run.error = Some(why);
                l.run.due_at = None;
            }
        }
        // Timers for the runs that now wait; finished runs leave memory.
        let mut history = engine.inner.starts.history();
        for id in &batch.runs {
            let Some(l) = self.runs.get(id) else { continue };
            if let Some(due) = l.run.due_at {
                self.timers.push(Reverse((due, id.clone())));
            }
            if !l.run.status.is_active() {
                let key = (l.ws, l.run.contact);
                if let Some(h) = history.get_mut(&(l.journey, l.run.contact)) {
                    h.active = self.by_contact.get(&key).is_some_and(|ids| {
                        ids.iter().any(|i| {
                            i != id
                                && self.runs.get(i).is_some_and(|r| r.journey == l.journey && r.run.status.is_active())
                        })
                    });
                }
                if let Some(ids) = self.by_contact.get_mut(&key) {
                    ids.retain(|i| i != id);
                    if ids.is_empty() {
                        self.by_contact.remove(&key);
                    }
                }
                self.runs.remove(id);
            }
        }
        drop(history);
        drop(state);
        for i in written.intents.into_iter().filter(|i| i.status == "pending") {
            let _ = self.outbox.send(crate::outbox::Feed::Intent(Box::new(i)));
        }
        for r in replies {
            r(Ok(()));
        }
        Ok(())
    }
}

/// What [`write_batch`] wrote that the caller acts on after the commit.
pub(crate) struct Written {
    /// Every intent, pending ones (for the outbox) and those applied here.
    pub intents: Vec<Intent>,
    /// Runs whose internal effect could not apply, with why: parked.
    pub failed_runs: Vec<(String, String)>,
    /// The newest score threshold event the score changes logged.
    pub newest_crossed: Option<i64>,
    /// Threshold events of attribute scores the effects moved.
    pub crossed: Vec<crate::segments::LiveEvent>,
}

/// Write a batch of steps into `tx`: the effects on Kairos's own data
/// (applied here, so exactly once), the outbox intents for the others, the
/// runs (`records`, parked when their effect failed), path lines, delivery
/// outcomes and erasures. `meta` gives a run's version and trigger position.
/// The runner and the writer (first steps) both write through this.
pub(crate) async fn write_batch(
    tx: &mut Tx,
    engine: &Engine,
    state: &mut crate::WriterState,
    batch: &Batch,
    records: &mut [RunRecord],
    meta: impl Fn(&str) -> (i64, Option<i64>),
    now: i64,
) -> Result<Written, StoreError> {
    // Effects on Kairos's own data happen here, in the step's
    // transaction; the others become outbox intents.
    let mut intents = Vec::new();
    let mut failed_runs: Vec<(String, String)> = Vec::new();
    // Score changes go in together, one read and one write per score.
    let mut groups: BTreeMap<(WorkspaceId, &str), Vec<(usize, crate::scores::Adjustment)>> = BTreeMap::new();
    for (i, (ws, journey, _, contact, effect)) in batch.effects.iter().enumerate() {
        if let Action::ChangeScore { score, by } = &effect.action {
            let reason = format!("journey {journey}, node {}", effect.node);
            let change = crate::scores::Adjustment { contact: *contact, by: *by, reason };
            groups.entry((*ws, score.as_str())).or_default().push((i, change));
        }
    }
    let mut score_values: HashMap<usize, f64> = HashMap::new();
    let mut newest_crossed = None;
    for ((ws, name), items) in groups {
        let (indices, changes): (Vec<usize>, Vec<_>) = items.into_iter().unzip();
        let (values, crossed) = crate::scores::adjust(tx, &engine.inner, ws, name, &changes, now).await?;
        newest_crossed = newest_crossed.max(crossed.into_iter().max());
        score_values.extend(indices.into_iter().zip(values));
    }
    for (i, (ws, journey, run_id, contact, effect)) in batch.effects.iter().enumerate() {
        let (version, trigger_seq) = meta(run_id);
        let mut intent = Intent {
            workspace_id: *ws,
            key: effect.key.clone(),
            run_id: run_id.clone(),
            journey_id: *journey,
            node: effect.node.clone(),
            kind: effect.action.kind().to_string(),
            payload: Value::Null,
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            done_at: None,
        };
        if effect.action.is_external() {
            intent.payload = external_payload(tx, *ws, *journey, version, run_id, *contact, effect, now).await?;
            if let (Some(seq), Some(p)) = (trigger_seq, intent.payload.as_object_mut()) {
                p.insert("trigger_seq".into(), json!(seq));
            }
        } else if let (Action::ChangeScore { score, by }, Some(value)) = (&effect.action, score_values.get(&i)) {
            intent.status = "done".into();
            intent.done_at = Some(now);
            intent.attempts = 1;
            intent.payload = json!({"score": score, "by": by, "value": value});
        } else {
            intent.status = "done".into();
            intent.done_at = Some(now);
            intent.attempts = 1;
            match apply_internal(engine, state, tx, *ws, *contact, &effect.action, now).await? {
                Ok(summary) => intent.payload = summary,
                Err(why) => {
                    intent.status = "dead".into();
                    intent.last_error = Some(why.clone());
                    failed_runs.push((run_id.clone(), format!("{}: {why}", effect.node)));
                }
            }
        }
        intents.push(intent);
    }
    for (run_id, why) in &failed_runs {
        if let Some(r) = records.iter_mut().find(|r| &r.id == run_id) {
            r.status = RunStatus::Failed.as_str().into();
            r.error = Some(why.clone());
            r.due_at = None;
        }
    }
    tx.save_runs(records).await?;
    for (ws, contact) in &batch.erased {
        tx.erase_journey_rows(*ws, *contact).await?;
    }
    for ws in batch.path.iter().map(|(w, _)| *w).collect::<HashSet<_>>() {
        let lines: Vec<PathRecord> = batch.path.iter().filter(|(w, _)| *w == ws).map(|(_, p)| p.clone()).collect();
        tx.append_path(ws, &lines).await?;
    }
    tx.insert_intents(&intents).await?;
    for (ws, key, attempts, result) in &batch.delivered {
        let a = match result {
            Ok(()) => Attempt {
                status: "done",
                attempts: *attempts,
                next_attempt_at: now,
                last_error: None,
                done_at: Some(now),
            },
            Err(e) => Attempt {
                status: "dead",
                attempts: *attempts,
                next_attempt_at: now,
                last_error: Some(e),
                done_at: None,
            },
        };
        tx.set_intent_state(*ws, key, &a).await?;
    }
    // Attribute scores of the contacts the effects changed (in the writer's
    // transaction this re-reads the group's other contacts too: scoring is
    // idempotent, so only time is lost, and only when a first step changes
    // a profile or a list).
    let profiles_changed = batch.effects.iter().any(|(.., e)| {
        matches!(e.action, Action::UpdateContact { .. } | Action::AddToList(_) | Action::RemoveFromList(_))
    }) || !batch.erased.is_empty();
    let crossed =
        if profiles_changed { crate::scores::score_commit(tx, &engine.inner, &[], now).await? } else { Vec::new() };
    newest_crossed = newest_crossed.max(crossed.iter().map(|e| e.seq).max());
    Ok(Written { intents, failed_runs, newest_crossed, crossed })
}

pub(crate) fn run_record(l: &LiveRun, now: i64) -> RunRecord {
    RunRecord {
        workspace_id: l.ws,
        id: l.run.id.clone(),
        journey_id: l.journey,
        version: l.version,
        contact_id: l.run.contact,
        node: l.run.node.clone(),
        status: l.run.status.as_str().into(),
        visit: l.run.visit as i64,
        due_at: l.run.due_at,
        error: l.run.error.clone(),
        entered_at: l.entered_at,
        updated_at: now,
        trigger_seq: l.trigger_seq,
    }
}

/// What the outbox delivers for an external effect, fixed when the step
/// commits so every retry sends the same body.
#[allow(clippy::too_many_arguments)]
async fn external_payload(
    tx: &mut Tx,
    ws: WorkspaceId,
    journey: JourneyId,
    version: i64,
    run: &str,
    contact: ContactId,
    effect: &Effect,
    now: i64,
) -> Result<Value, StoreError> {
    let person = tx.contact(ws, contact).await?.map(|c| {
        json!({
            "id": c.id.to_string(), "external_id": c.external_id, "email": c.email, "phone": c.phone,
            "first_name": c.first_name, "last_name": c.last_name, "timezone": c.timezone, "locale": c.locale,
            "country": c.country, "custom": c.custom,
        })
    });
    let source = json!({"id": journey.to_string(), "version": version, "node": effect.node, "run": run});
    let timestamp = from_millis(now).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    Ok(match &effect.action {
        Action::Webhook { endpoint, payload } => json!({
            "endpoint": endpoint,
            "body": {"type": "journey.webhook", "timestamp": timestamp,
                     "data": {"journey": source, "contact": person, "payload": payload}},
        }),
        Action::Notify { email, endpoint, message } => json!({
            "endpoint": endpoint, "email": email,
            "body": {"type": "journey.notify", "timestamp": timestamp,
                     "data": {"journey": source, "contact": person, "message": message}},
        }),
        Action::Send { channel, template, transactional } => json!({
            "channel": channel.as_str(), "template": template, "transactional": transactional,
            "contact": contact.to_string(), "journey": source,
        }),
        _ => Value::Null,
    })
}

/// Carry out an effect on Kairos's own data inside the step's transaction.
/// `Ok(Err(why))` when the effect cannot apply to this contact (the run is
/// parked with the reason).
#[allow(clippy::too_many_arguments)]
async fn apply_internal(
    engine: &Engine,
    state: &mut crate::WriterState,
    tx: &mut Tx,
    ws: WorkspaceId,
    contact: ContactId,
    action: &Action,
    now: i64,
) -> Result<Result<Value, String>, StoreError> {
    match action {
        Action::UpdateContact { set } => {
            let Some(mut c) = tx.contact(ws, contact).await? else {
                return Ok(Err("the contact no longer exists".into()));
            };
            let patch = match ContactPatch::from_json(set) {
                Ok(p) => p,
                Err(e) => return Ok(Err(e.to_string())),
            };
            let types = crate::profile::field_types(&mut state.fields, tx, ws, FieldEntity::Contact).await?.clone();
            if let Err(e) = patch.apply(&mut c, from_millis(now), &|n| types.get(n).copied()) {
                return Ok(Err(e.to_string()));
            }
            tx.update_contact(&c).await?;
            state.forget_contact(contact);
            Ok(Ok(json!({"set": set})))
        }
        Action::AddToList(list) | Action::RemoveFromList(list) => {
            let add = matches!(action, Action::AddToList(_));
            if tx.list(ws, *list).await?.is_none() {
                return Ok(Err(format!("list {list} no longer exists")));
            }
            let changed = if add {
                tx.add_list_members(ws, *list, &[contact], "journey", now).await?
            } else {
                tx.remove_list_members(ws, *list, &[contact]).await?
            };
            let _ = engine;
            Ok(Ok(json!({"list": list.to_string(), "changed": !changed.is_empty()})))
        }
        _ => Ok(Err("not an internal action".into())),
    }
}

/// One line of a dry run: where the contact would be and when.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DryRunStep {
    pub node: String,
    pub outcome: String,
    pub detail: String,
    pub at: i64,
}

/// Why a journey request was refused.
#[derive(Debug, thiserror::Error)]
pub enum JourneyApiError {
    #[error("journey {0} not found")]
    NotFound(JourneyId),
    #[error("the journey definition is not valid: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<kairos_core::journey::JourneyError>),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Run(#[from] JourneyRunError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Most steps a dry run follows.
const DRY_RUN_STEPS: usize = 200;

impl Engine {
    fn journey_msg(&self, m: Msg) -> Result<(), JourneyRunError> {
        self.inner.journeys.send(m).map_err(|_| JourneyRunError::ShuttingDown)
    }

    /// Check a draft's shape against the workspace.
    async fn parse_draft(&self, ws: WorkspaceId, draft: &Value) -> Result<Definition, JourneyApiError> {
        let schema = self.segment_schema(ws).await?;
        journey::parse(draft, &schema).map_err(JourneyApiError::Invalid)
    }

    pub async fn create_journey(
        &self,
        ws: WorkspaceId,
        name: &str,
        draft: Value,
    ) -> Result<kairos_store::JourneyRecord, JourneyApiError> {
        self.parse_draft(ws, &draft).await?;
        let now = now_ms(self);
        let record = kairos_store::JourneyRecord {
            id: JourneyId::new(),
            name: name.to_string(),
            status: "draft".into(),
            draft,
            version: 0,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store().begin_write().await?;
        tx.insert_journey(ws, &record).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Change a journey's name or draft; running contacts are unaffected
    /// until the draft is published.
    pub async fn update_journey(
        &self,
        ws: WorkspaceId,
        id: JourneyId,
        name: Option<String>,
        draft: Option<Value>,
    ) -> Result<kairos_store::JourneyRecord, JourneyApiError> {
        if let Some(d) = &draft {
            self.parse_draft(ws, d).await?;
        }
        let mut tx = self.store().begin_write().await?;
        let mut j = tx.journey(ws, id).await?.ok_or(JourneyApiError::NotFound(id))?;
        if let Some(n) = name {
            j.name = n;
        }
        if let Some(d) = draft {
            j.draft = d;
        }
        j.updated_at = now_ms(self);
        tx.update_journey(ws, &j).await?;
        tx.commit().await?;
        Ok(j)
    }

    /// Every problem publishing this definition would meet (its shape, then
    /// the whole graph: reachability, exits, cycles, templates, endpoints),
    /// without saving anything: the journey builder's check while editing.
    pub async fn check_journey(
        &self,
        ws: WorkspaceId,
        definition: &Value,
    ) -> Result<Vec<kairos_core::journey::JourneyError>, JourneyApiError> {
        let def = match self.parse_draft(ws, definition).await {
            Ok(d) => d,
            Err(JourneyApiError::Invalid(problems)) => return Ok(problems),
            Err(e) => return Err(e),
        };
        let mut tx = self.store().begin().await?;
        let endpoints = tx.webhook_endpoints(ws).await?;
        let templates: HashSet<String> =
            tx.email_templates(ws).await?.into_iter().flat_map(|t| [t.id, t.name]).collect();
        tx.commit().await?;
        let catalog = kairos_core::journey::Catalog {
            schema: self.segment_schema(ws).await?,
            templates,
            webhook_endpoints: endpoints.into_iter().map(|e| e.id).collect(),
        };
        Ok(def.check(&catalog))
    }

    /// Publish the draft as a new version: checked whole (reachability,
    /// exits, cycles, templates, endpoints), then new entries use it while
    /// running contacts finish on their own version.
    pub async fn publish_journey(
        &self,
        ws: WorkspaceId,
        id: JourneyId,
    ) -> Result<kairos_store::JourneyRecord, JourneyApiError> {
        let mut tx = self.store().begin().await?;
        let j = tx.journey(ws, id).await?.ok_or(JourneyApiError::NotFound(id))?;
        tx.commit().await?;
        if j.status == "archived" {
            return Err(JourneyApiError::Conflict(
                "an archived journey cannot be published again; duplicate it".into(),
            ));
        }
        let problems = self.check_journey(ws, &j.draft).await?;
        if !problems.is_empty() {
            return Err(JourneyApiError::Invalid(problems));
        }
        let now = now_ms(self);
        let mut tx = self.store().begin_write().await?;
        let mut j = tx.journey(ws, id).await?.ok_or(JourneyApiError::NotFound(id))?;
        j.version += 1;
        if j.status == "draft" {
            j.status = "active".into();
        }
        j.updated_at = now;
        tx.insert_journey_version(ws, id, j.version, &j.draft, now).await?;
        tx.update_journey(ws, &j).await?;
        tx.commit().await?;
        self.reload_journey(ws, id).await;
        Ok(j)
    }

    /// Tell the runner a journey changed and wait until it has read it, so
    /// an event tracked after a publish is answered by the published
    /// journey (without a runner — a one-off command — it reads the journey
    /// when it next starts).
    async fn reload_journey(&self, ws: WorkspaceId, journey: JourneyId) {
        let (done, read) = oneshot::channel();
        if self.journey_msg(Msg::Reload { ws, journey, done: Some(done) }).is_ok() {
            let _ = read.await;
        }
    }

    /// Pause (`paused`), resume (`active`) or archive (`archived`: running
    /// contacts exit) a published journey.
    pub async fn set_journey_status(
        &self,
        ws: WorkspaceId,
        id: JourneyId,
        status: &str,
    ) -> Result<kairos_store::JourneyRecord, JourneyApiError> {
        let mut tx = self.store().begin_write().await?;
        let mut j = tx.journey(ws, id).await?.ok_or(JourneyApiError::NotFound(id))?;
        let allowed = matches!(
            (j.status.as_str(), status),
            ("active", "paused") | ("paused", "active") | ("active" | "paused" | "draft", "archived")
        );
        if !allowed {
            return Err(JourneyApiError::Conflict(format!("a journey that is {} cannot become {status}", j.status)));
        }
        j.status = status.to_string();
        j.updated_at = now_ms(self);
        tx.update_journey(ws, &j).await?;
        tx.commit().await?;
        self.reload_journey(ws, id).await;
        Ok(j)
    }

    /// Put a contact into an API-triggered journey; returns the run's id.
    pub async fn enter_journey(
        &self,
        ws: WorkspaceId,
        journey: JourneyId,
        contact: ContactId,
    ) -> Result<String, JourneyRunError> {
        let (reply, rx) = oneshot::channel();
        self.journey_msg(Msg::Enter { ws, journey, contact, reply })?;
        rx.await.map_err(|_| JourneyRunError::ShuttingDown)?.map(|id| id.unwrap_or_default())
    }

    /// Retry a parked run's failed action; false when the run is not parked.
    /// Move contacts waiting in older versions of a journey onto its current
    /// version, node by node (`mapping` from old node ids to new ones; a
    /// node keeps its id when unmapped). Runs that cannot move stay on
    /// their version; the report says which and why.
    pub async fn migrate_journey_runs(
        &self,
        ws: WorkspaceId,
        journey: JourneyId,
        mapping: std::collections::BTreeMap<String, String>,
    ) -> Result<Value, JourneyRunError> {
        let (reply, rx) = oneshot::channel();
        self.journey_msg(Msg::Migrate { ws, journey, mapping, reply })?;
        rx.await.map_err(|_| JourneyRunError::ShuttingDown)?
    }

    pub async fn retry_journey_run(&self, ws: WorkspaceId, run: &str) -> Result<bool, JourneyRunError> {
        let (reply, rx) = oneshot::channel();
        self.journey_msg(Msg::Retry { ws, run: run.to_string(), reply })?;
        rx.await.map_err(|_| JourneyRunError::ShuttingDown)?
    }

    /// Make the runner forget a contact being erased and delete their
    /// journey rows (a no-op when no runner is running).
    pub(crate) async fn journeys_forget(&self, ws: WorkspaceId, contact: ContactId) {
        let (reply, rx) = oneshot::channel();
        if self.journey_msg(Msg::Erase { ws, contact, reply }).is_ok() {
            let _ = rx.await;
        }
    }

    /// Wait until the runner has handled everything committed before.
    pub async fn journeys_settled(&self) {
        // Starts of events appended outside the writer first.
        let (done, committed) = oneshot::channel();
        if self.inner.jobs.send(crate::ingest::Job::Starts(Some(done))).await.is_ok() {
            let _ = committed.await;
        }
        let (reply, rx) = oneshot::channel();
        if self.journey_msg(Msg::Barrier(reply)).is_ok() {
            let _ = rx.await;
        }
    }

    pub(crate) fn contact_unsubscribed(&self, ws: WorkspaceId, contact: ContactId) {
        let _ = self.journey_msg(Msg::Unsubscribed { ws, contact });
    }

    /// Take what the runner measured since the last call (for the benchmark).
    pub fn take_journey_metrics(&self) -> JourneyMetrics {
        std::mem::take(&mut *self.inner.journey_latencies.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// How many contacts took each edge of a journey's published graph,
    /// and how many entered at its start (`from: None`): the path lines
    /// written under the current version (and those from before versions
    /// were recorded), so an exit re-routed by a later version is not drawn
    /// with the counts of its old route.
    /// `nodes` are the journey's node counts, read by the caller (its
    /// entries are the entry edge's count).
    pub async fn journey_edges(
        &self,
        ws: WorkspaceId,
        id: JourneyId,
        nodes: &[kairos_store::NodeCounts],
    ) -> Result<Vec<EdgeCount>, JourneyApiError> {
        let mut tx = self.store().begin().await?;
        let j = tx.journey(ws, id).await?.ok_or(JourneyApiError::NotFound(id))?;
        let Some((_, published, _)) = tx.journey_versions(ws, id).await?.into_iter().find(|(v, _, _)| *v == j.version)
        else {
            return Ok(Vec::new());
        };
        let lines = tx.journey_exit_lines(ws, id, j.version).await?;
        tx.commit().await?;
        let def = self.parse_draft(ws, &published).await?;
        let mut counts: BTreeMap<(Option<String>, String, String), i64> = BTreeMap::new();
        let started: i64 = nodes.iter().filter_map(|n| n.outcomes.get("entered")).sum();
        if started > 0 {
            counts.insert((None, def.start.clone(), String::new()), started);
        }
        for (node, outcome, detail, n) in lines {
            if let Some((to, label)) = def.edge_of(&node, &outcome, &detail) {
                *counts.entry((Some(node), to.clone(), label)).or_default() += n;
            }
        }
        Ok(counts.into_iter().map(|((from, to, label), count)| EdgeCount { from, to, label, count }).collect())
    }

    /// The path a contact would take through the journey's draft (or its
    /// published version), assuming every action succeeds and no awaited
    /// event arrives. Nothing is written and nothing is sent.
    pub async fn dry_run_journey(
        &self,
        ws: WorkspaceId,
        id: JourneyId,
        contact: ContactId,
        published: bool,
    ) -> Result<Vec<DryRunStep>, JourneyApiError> {
        let mut tx = self.store().begin().await?;
        let j = tx.journey(ws, id).await?.ok_or(JourneyApiError::NotFound(id))?;
        let definition = if published {
            let versions = tx.journey_versions(ws, id).await?;
            match versions.into_iter().find(|(v, _, _)| *v == j.version) {
                Some((_, d, _)) => d,
                None => return Err(JourneyApiError::Conflict("the journey has not been published".into())),
            }
        } else {
            j.draft.clone()
        };
        let person = tx.contact(ws, contact).await?;
        tx.commit().await?;
        let Some(person) = person else {
            return Err(JourneyApiError::Conflict(format!("contact {contact} not found")));
        };
        let def = self.parse_draft(ws, &definition).await?;
        let tz =
            person.timezone.as_deref().and_then(|t| jiff::tz::TimeZone::get(t).ok()).unwrap_or(jiff::tz::TimeZone::UTC);
        let best_hour = if has_best_hour_delays(&def) { self.best_send_hour(ws, contact).await?.hour } else { 9 };
        // A dry run takes the split's current verdict without saving it.
        let splits = if crate::splits::optimising(&def).is_empty() {
            None
        } else {
            let mut tx = self.store().begin().await?;
            let states = crate::splits::split_states(&mut tx, ws, id, &def, now_ms(self)).await?;
            tx.commit().await?;
            Some(Arc::new(states))
        };
        let facts = ContactFacts { engine: self, ws, contact, tz, best_hour, splits };
        let mut at = now_ms(self);
        let mut steps = Vec::new();
        let push = |steps: &mut Vec<DryRunStep>, out: Outcome, at: i64| {
            steps.extend(out.path.into_iter().map(|p| DryRunStep {
                node: p.node,
                outcome: p.outcome.into(),
                detail: p.detail,
                at,
            }));
        };
        let (mut run, out) = journey::enter(&def, "dry-run".into(), id.to_string(), contact, at, &facts);
        push(&mut steps, out, at);
        for _ in 0..DRY_RUN_STEPS {
            let input = match run.status {
                RunStatus::Delayed | RunStatus::Waiting => {
                    at = run.due_at.unwrap_or(at);
                    Input::Timer
                }
                RunStatus::Acting => Input::ActionDone,
                _ => break,
            };
            let out = journey::step(&def, &mut run, input, at, &facts);
            push(&mut steps, out, at);
        }
        Ok(steps)
    }

    /// Register a webhook endpoint; the secret is generated unless given.
    pub async fn create_webhook_endpoint(
        &self,
        ws: WorkspaceId,
        id: &str,
        url: &str,
        description: Option<String>,
        secret: Option<String>,
    ) -> Result<kairos_store::WebhookEndpoint, JourneyApiError> {
        let bad = |m: String| {
            JourneyApiError::Invalid(vec![kairos_core::journey::JourneyError {
                path: "$".into(),
                node: None,
                message: m,
            }])
        };
        if id.is_empty() || id.len() > 100 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(bad("the endpoint id is 1 to 100 letters, digits, '-' or '_'".into()));
        }
        crate::outbox::check_url(url, self.inner.outbox.allow_private_webhooks).await.map_err(bad)?;
        let secret = secret.unwrap_or_else(kairos_core::webhook::new_secret);
        kairos_core::webhook::check_secret(&secret).map_err(|e| bad(e.to_string()))?;
        let e = kairos_store::WebhookEndpoint {
            id: id.into(),
            url: url.into(),
            secret,
            description,
            created_at: now_ms(self),
        };
        let sealed = kairos_store::WebhookEndpoint { secret: self.inner.master_key.seal(&e.secret), ..e.clone() };
        let mut tx = self.store().begin_write().await?;
        tx.insert_webhook_endpoint(ws, &sealed).await.map_err(|err| match err {
            StoreError::Conflict(_) => JourneyApiError::Conflict(format!("a webhook endpoint \"{id}\" already exists")),
            other => other.into(),
        })?;
        tx.commit().await?;
        Ok(e)
    }
}
