//! Starting journey runs in the transaction that appends their trigger.
//! The writer, before it commits a group, reads the group's events an active
//! journey can start on (a named event, a form submission, a segment entry or
//! exit, a contact's first event), applies each journey's entry rule, takes
//! the new run's first step and writes the run, its path and its outbox
//! intents in the same transaction. So when a tracking call is acknowledged,
//! the runs it started and their first effects are already durable: there is
//! no second commit to wait for, and nothing to replay after a crash.
//!
//! The runner owns runs once they exist. Every event up to [`Starts`]'
//! position has had its starts taken and the runs handed over, and the
//! runner reads the log no further, so it never sees an event before the
//! runs that event started. Appends outside the writer (REST contact writes,
//! the runner's own score changes) nudge the writer, whose next transaction
//! takes their starts. All of this happens under the writer's lock, which
//! every event append holds, so the position is exact.

use crate::journeys::{first_step, write_batch, Batch, LiveRun};
use crate::segments::LiveEvent;
use crate::Engine;
use kairos_core::event::Event;
use kairos_core::ids::{ContactId, JourneyId, WorkspaceId};
use kairos_core::journey::{self, may_enter, Definition, EntryHistory, EventInterest, Trigger};
use kairos_core::segment::event_name;
use kairos_core::segment::reference::event_passes;
use kairos_store::{Intent, StoreError, Tx};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// The store's name for the position starts have been taken through.
pub(crate) const STARTS_CURSOR: &str = "journey-starts";

/// Events read per query while taking starts.
const EVENTS_PER_READ: i64 = 5_000;
/// Events of interest one transaction takes the starts of at most (a
/// backlog, after a restart or offline appends, is taken over several
/// transactions instead of making one long one).
const EVENTS_PER_PASS: usize = 20_000;

/// How often the position is saved when nothing was started (a restart
/// then reads again only events that can start nothing).
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// A journey that starts on events, as the writer sees it.
pub(crate) struct Startable {
    pub id: JourneyId,
    pub version: i64,
    pub def: Arc<Definition>,
    /// Events received earlier do not start it.
    pub published_at: i64,
}

/// The active journeys that start on events, by workspace, and the events
/// that can start one; published by the runner whenever journeys change.
#[derive(Default)]
pub(crate) struct StartTable {
    pub journeys: HashMap<WorkspaceId, Vec<Startable>>,
    /// The events read back from the log for starts. A `contact_created`
    /// trigger adds only `Contact Created` (REST-created contacts): the
    /// contacts the writer creates are known without reading anything.
    pub interest: EventInterest,
    /// Whether any journey starts on a contact's creation.
    pub on_creation: bool,
}

/// What the writer and the runner share about starting runs.
pub(crate) struct Starts {
    table: RwLock<Arc<StartTable>>,
    /// Entry history per journey and contact (entry rules read it); changed
    /// only under the writer's lock.
    history: Mutex<HashMap<(JourneyId, ContactId), EntryHistory>>,
    /// Runs started and committed, not yet taken by the runner.
    started: Mutex<Vec<LiveRun>>,
    /// While the runner reloads: the entry history handed over meanwhile.
    recording: Mutex<Option<Vec<HistoryEntry>>>,
    /// Starts are taken through this log position; -1 until the runner has
    /// loaded (nothing is started before it knows the runs).
    through: AtomicI64,
    /// The position last saved, and when.
    saved: Mutex<(i64, Option<Instant>)>,
    /// Where each journey's optimising splits stand, and when that was read.
    pub(crate) splits: Mutex<HashMap<JourneyId, crate::journeys::SplitCache>>,
    /// Where new intents go (set when journeys run in this process).
    outbox: OnceLock<tokio::sync::mpsc::UnboundedSender<crate::outbox::Feed>>,
}

impl Default for Starts {
    fn default() -> Self {
        Starts {
            table: Default::default(),
            history: Default::default(),
            started: Default::default(),
            recording: Default::default(),
            through: AtomicI64::new(-1),
            saved: Mutex::new((-1, None)),
            splits: Default::default(),
            outbox: OnceLock::new(),
        }
    }
}

type HistoryEntry = ((JourneyId, ContactId), EntryHistory);

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Starts {
    pub(crate) fn history(&self) -> MutexGuard<'_, HashMap<(JourneyId, ContactId), EntryHistory>> {
        guard(&self.history)
    }

    pub(crate) fn publish(&self, table: StartTable) {
        *self.table.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(table);
    }

    fn table(&self) -> Arc<StartTable> {
        self.table.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// From now until [`Starts::stop_recording`], keep the history handed
    /// over; call under the writer's lock, so no pass is half recorded.
    pub(crate) fn start_recording(&self) {
        *guard(&self.recording) = Some(Vec::new());
    }

    /// The history handed over since [`Starts::record_handovers`]; call
    /// under the writer's lock.
    pub(crate) fn stop_recording(&self) -> Vec<HistoryEntry> {
        guard(&self.recording).take().unwrap_or_default()
    }

    /// The runs started since the last call.
    pub(crate) fn take_started(&self) -> Vec<LiveRun> {
        std::mem::take(&mut *guard(&self.started))
    }

    /// Forget a contact being erased: started runs and entry history.
    pub(crate) fn forget(&self, ws: WorkspaceId, contact: ContactId) {
        guard(&self.started).retain(|l| !(l.ws == ws && l.run.contact == contact));
        self.history().retain(|(_, c), _| *c != contact);
    }

    /// How far the runner may read the log.
    pub(crate) fn through(&self) -> i64 {
        self.through.load(Ordering::Acquire)
    }

    /// Set once the runner has loaded: starts are taken from `seq` on.
    pub(crate) fn resume_from(&self, seq: i64, outbox: tokio::sync::mpsc::UnboundedSender<crate::outbox::Feed>) {
        let _ = self.outbox.set(outbox);
        if self.through() < 0 {
            *guard(&self.saved) = (seq, Some(Instant::now()));
            self.through.store(seq, Ordering::Release);
        }
    }
}

/// What one transaction's starts wrote; handed over once it commits.
pub(crate) struct Pass {
    through: i64,
    /// Whether `through` is saved by this transaction.
    save: bool,
    /// Whether events were left for the next transaction.
    more: bool,
    runs: Vec<LiveRun>,
    history: HashMap<(JourneyId, ContactId), EntryHistory>,
    intents: Vec<Intent>,
    /// Score threshold events the first steps' score changes logged.
    pub crossed: Vec<LiveEvent>,
}

impl Pass {
    /// A contact's entry history for a journey: as this pass left it, else
    /// as committed.
    fn history_of(&self, engine: &Engine, key: (JourneyId, ContactId)) -> EntryHistory {
        match self.history.get(&key) {
            Some(h) => *h,
            None => engine.inner.starts.history().get(&key).copied().unwrap_or_default(),
        }
    }

    /// After the commit: the runner gets the runs, the entry rules their
    /// history, the outbox the intents, and the runner may read on.
    pub(crate) fn hand_over(self, engine: &Engine) {
        let starts = &engine.inner.starts;
        if !self.runs.is_empty() {
            if let Some(r) = guard(&starts.recording).as_mut() {
                r.extend(self.history.iter().map(|(k, v)| (*k, *v)));
            }
            let mut h = starts.history();
            for (k, v) in self.history {
                h.insert(k, v);
            }
        }
        let active: Vec<LiveRun> = self.runs.into_iter().filter(|l| l.run.status.is_active()).collect();
        let entered = active.len();
        guard(&starts.started).extend(active);
        if self.save {
            *guard(&starts.saved) = (self.through, Some(Instant::now()));
        }
        let before = starts.through.fetch_max(self.through, Ordering::AcqRel);
        if let Some(outbox) = starts.outbox.get() {
            for i in self.intents.into_iter().filter(|i| i.status == "pending") {
                let _ = outbox.send(crate::outbox::Feed::Intent(Box::new(i)));
            }
        }
        // The runner may read further (events appended outside the writer
        // wake nobody else), and has runs to take.
        if self.through > before || entered > 0 {
            let _ = engine.inner.journeys.send(crate::journeys::Msg::Wake);
        }
        if self.more {
            let _ = engine.inner.jobs.try_send(crate::ingest::Job::Starts(None));
        }
        if entered > 0 {
            let mut m = engine.inner.journey_latencies.lock().unwrap_or_else(|e| e.into_inner());
            m.started_with_trigger += entered as u64;
        }
    }
}

/// Take the starts of every event appended since the last pass, in the
/// transaction `tx` (the writer's, before it commits); `None` while the
/// runner has not loaded.
pub(crate) async fn start_runs(
    tx: &mut Tx,
    engine: &Engine,
    state: &mut crate::WriterState,
    live: &[LiveEvent],
    now: i64,
) -> Result<Option<Pass>, StoreError> {
    let starts = &engine.inner.starts;
    let from = starts.through();
    if from < 0 {
        return Ok(None);
    }
    let table = starts.table();
    let mut pass = Pass {
        through: from,
        save: false,
        more: false,
        runs: Vec::new(),
        history: HashMap::new(),
        intents: Vec::new(),
        crossed: Vec::new(),
    };
    let mut read_any = false;
    let mut first_round = true;
    // First steps may change scores, whose threshold events can start runs
    // too: read again after writing, a few rounds at most (what is left
    // is read by the next transaction, which is asked for).
    let mut rounds = 0;
    loop {
        if rounds == 4 {
            pass.more = true;
            break;
        }
        rounds += 1;
        let end = tx.last_event_seq().await?;
        if end <= pass.through {
            break;
        }
        if table.interest.is_empty() && !table.on_creation {
            pass.through = end;
            break;
        }
        let mut batch = Batch::default();
        let first_new = pass.runs.len();
        if std::mem::take(&mut first_round) && table.on_creation {
            start_on_creation(tx, engine, &table, &mut pass, &mut batch, live, now).await?;
        }
        let mut after = pass.through;
        let mut read = 0;
        loop {
            let events = tx.events_of_interest(after, end, &table.interest, EVENTS_PER_READ).await?;
            let n = events.len();
            read += n;
            read_any |= n > 0;
            for e in &events {
                after = e.seq;
                start_on(tx, engine, &table, &mut pass, &mut batch, e, now).await?;
            }
            if (n as i64) < EVENTS_PER_READ {
                after = end;
                break;
            }
            if read >= EVENTS_PER_PASS {
                pass.more = true;
                break;
            }
        }
        pass.through = after;
        if batch.runs.is_empty() {
            break;
        }
        let meta: HashMap<String, (i64, Option<i64>)> =
            pass.runs[first_new..].iter().map(|l| (l.run.id.clone(), (l.version, l.trigger_seq))).collect();
        let mut records: Vec<_> = pass.runs[first_new..].iter().map(|l| crate::journeys::run_record(l, now)).collect();
        let written =
            write_batch(tx, engine, state, &batch, &mut records, |id| meta.get(id).copied().unwrap_or((0, None)), now)
                .await?;
        // A first step whose internal effect failed parks the run.
        for (id, why) in written.failed_runs {
            if let Some(l) = pass.runs.iter_mut().find(|l| l.run.id == id) {
                l.run.status = journey::RunStatus::Failed;
                l.run.error = Some(why);
                l.run.due_at = None;
            }
        }
        pass.intents.extend(written.intents);
        pass.crossed.extend(written.crossed);
        if written.newest_crossed.is_none() || pass.more {
            break;
        }
    }
    let (saved_at, when) = *guard(&starts.saved);
    let due = when.is_none_or(|at| at.elapsed() >= SAVE_EVERY);
    if pass.through > saved_at && (read_any || due) {
        tx.set_log_cursor(STARTS_CURSOR, pass.through).await?;
        pass.save = true;
    }
    Ok(Some(pass))
}

/// Start the runs of `contact_created` journeys for the contacts this
/// transaction created, at each one's first event in it: the transaction
/// records its inserts, so no event is read back or decoded for them.
async fn start_on_creation(
    tx: &mut Tx,
    engine: &Engine,
    table: &StartTable,
    pass: &mut Pass,
    batch: &mut Batch,
    live: &[LiveEvent],
    now: i64,
) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    for e in live {
        if e.seq <= pass.through || !tx.created_contact(e.ws, e.contact) || !seen.insert((e.ws, e.contact)) {
            continue;
        }
        let Some(journeys) = table.journeys.get(&e.ws) else { continue };
        for s in journeys.iter().filter(|s| matches!(s.def.trigger, Trigger::ContactCreated)) {
            if now < s.published_at {
                continue;
            }
            let history = pass.history_of(engine, (s.id, e.contact));
            if history.last_entered.is_some() || may_enter(&s.def.entry, history, now).is_err() {
                continue;
            }
            enter(tx, engine, pass, batch, s, e.ws, e.contact, e.seq, now).await?;
        }
    }
    Ok(())
}

/// Start a run of `s` for `contact`, triggered by the event at `seq`.
#[allow(clippy::too_many_arguments)]
async fn enter(
    tx: &mut Tx,
    engine: &Engine,
    pass: &mut Pass,
    batch: &mut Batch,
    s: &Startable,
    ws: WorkspaceId,
    contact: ContactId,
    seq: i64,
    now: i64,
) -> Result<(), StoreError> {
    let run = first_step(engine, tx, batch, ws, s.id, s.version, &s.def, contact, now).await?;
    pass.history.insert((s.id, contact), EntryHistory { last_entered: Some(now), active: run.status.is_active() });
    pass.runs.push(LiveRun { ws, journey: s.id, version: s.version, run, entered_at: now, trigger_seq: Some(seq) });
    Ok(())
}

/// Start the runs one event triggers.
async fn start_on(
    tx: &mut Tx,
    engine: &Engine,
    table: &StartTable,
    pass: &mut Pass,
    batch: &mut Batch,
    e: &Event,
    now: i64,
) -> Result<(), StoreError> {
    let ws = e.workspace_id;
    let Some(name) = event_name(e.kind, e.name.as_deref()) else { return Ok(()) };
    let Some(journeys) = table.journeys.get(&ws) else { return Ok(()) };
    for s in journeys {
        if e.received_at.timestamp_millis() < s.published_at {
            continue;
        }
        let mut history = pass.history_of(engine, (s.id, e.contact_id));
        let hit = match &s.def.trigger {
            Trigger::Event(c) => event_passes(c, name, &e.properties, now),
            Trigger::FormSubmitted { form } => {
                name == journey::definition::FORM_SUBMITTED
                    && e.properties.get("form_id").and_then(Value::as_str) == Some(form.as_str())
            }
            Trigger::SegmentEntered(seg) | Trigger::SegmentExited(seg) => {
                let want = if matches!(s.def.trigger, Trigger::SegmentEntered(_)) {
                    "Segment Entered"
                } else {
                    "Segment Exited"
                };
                name == want && e.properties.get("segment_id").and_then(Value::as_str) == Some(seg.to_string().as_str())
            }
            // Contacts the writer creates start in `start_on_creation`; a
            // REST-created one announces itself with a `Contact Created`
            // event its own transaction appended. A contact is created
            // once, so it enters once. The contact is read all the same: an
            // SDK may track an event of that name.
            Trigger::ContactCreated if history.last_entered.is_none() && name == "Contact Created" => {
                match tx.contact(ws, e.contact_id).await? {
                    Some(c) => (c.created_at - e.received_at).num_milliseconds().abs() <= 1_000,
                    None => false,
                }
            }
            Trigger::ContactCreated => false,
            Trigger::DateField { .. } | Trigger::Api => false,
        };
        if !hit {
            continue;
        }
        // A run under way that this same event converts (a goal) is over
        // by the time the runner has read the event: it does not hold the
        // contact back from a new run.
        if history.active && s.def.goals.iter().any(|g| event_passes(g, name, &e.properties, now)) {
            history.active = false;
        }
        // A refused entry (entry rule) is the rule working, not an error.
        if may_enter(&s.def.entry, history, now).is_err() {
            continue;
        }
        enter(tx, engine, pass, batch, s, ws, e.contact_id, e.seq, now).await?;
    }
    Ok(())
}
