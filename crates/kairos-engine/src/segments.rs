//! Segment maintenance: the I/O around `kairos_core::segment::SegmentRuntime`.
//!
//! One worker task owns every write to segment state. It receives, in commit
//! order, what each transaction changed (contacts, companies, list members)
//! and the events it appended; it feeds them to the workspace's runtime,
//! persists the resulting membership changes and writes each as a
//! `Segment Entered` / `Segment Exited` event to the log (with a message id
//! derived from segment, contact and instant, so writing one twice stores it
//! once). A timer tick moves time forward so sliding windows close on time.
//!
//! Creating or editing a segment compiles it at once; when it needs event
//! history the worker scans the log up to a snapshot position in chunks
//! interleaved with live traffic (events after the snapshot arrive live), and
//! activates the segment when the scan is done. On start every workspace
//! with segments is rebuilt from the store and diffed against the persisted
//! membership, so nothing that happened while the process was down is lost.
//!
//! The segment builder's live count is a preview of an unsaved rule: from
//! memory when every condition it has is tallied already, otherwise through
//! a temporary segment backfilled like any other. The tallies such a
//! backfill made are then held (the last few, per workspace, while the
//! builder is in use), so the marketer's next edits with the same
//! conditions are counted from memory instead of reading the log again.

use crate::Engine;
use kairos_core::clock::from_millis;
use kairos_core::consent::{Channel, ConsentChange, ConsentState, Purpose};
use kairos_core::event::{Event, EventKind};
use kairos_core::fields::{FieldEntity, FieldType};
use kairos_core::ids::{CompanyId, ContactId, ListId, SegmentId, WorkspaceId};
use kairos_core::segment::rule::{parse, Rule, RuleError, Schema};
use kairos_core::segment::runtime::{Change, EventInput, HeldTallies, SegmentRuntime};
use kairos_core::segment::{event_name, Profile};
use kairos_store::{LogEvent, MembershipChange, SegmentRecord, Store, StoreError, Touched};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

/// Events per backfill chunk.
const CHUNK: i64 = 20_000;
/// Preview backfills whose tallies a workspace keeps live.
const HELD_PREVIEWS: usize = 4;
/// Held preview tallies are released this long after the last preview.
const HELD_FOR_MS: i64 = 15 * 60 * 1000;
/// Rounds of feeding `Segment Entered/Exited` events back in before stopping
/// (rules may refer to those events; each round needs a real change).
const MAX_ROUNDS: usize = 8;

/// An appended event, as the segment worker receives it after commit.
#[derive(Debug, Clone)]
pub(crate) struct LiveEvent {
    pub ws: WorkspaceId,
    pub seq: i64,
    pub contact: ContactId,
    pub kind: EventKind,
    pub name: Option<String>,
    pub timestamp: i64,
    pub properties: Value,
}

impl LiveEvent {
    pub fn from_event(e: Event, seq: i64) -> LiveEvent {
        LiveEvent {
            ws: e.workspace_id,
            seq,
            contact: e.contact_id,
            kind: e.kind,
            name: e.name,
            timestamp: e.timestamp.timestamp_millis(),
            properties: e.properties,
        }
    }
}

pub(crate) enum Msg {
    /// Answered once everything sent before it has been handled.
    Barrier(oneshot::Sender<()>),
    Committed {
        touched: Touched,
        events: Vec<LiveEvent>,
        /// When the transaction committed (its events were acknowledged).
        at: Instant,
    },
    /// (Re)load a segment from its stored definition.
    Load {
        ws: WorkspaceId,
        id: SegmentId,
        reply: oneshot::Sender<Result<(), SegmentError>>,
    },
    Remove {
        ws: WorkspaceId,
        id: SegmentId,
        reply: oneshot::Sender<Result<(), SegmentError>>,
    },
    Chunk {
        ws: WorkspaceId,
        id: SegmentId,
        events: Vec<LogEvent>,
        done: u64,
    },
    Finish {
        ws: WorkspaceId,
        id: SegmentId,
        result: Result<(), String>,
    },
    /// Count an unsaved rule that needs a backfill, as a temporary segment.
    Preview {
        ws: WorkspaceId,
        rule: Rule,
        sample: usize,
        reply: PreviewReply,
    },
    FieldsChanged {
        ws: WorkspaceId,
    },
    /// Rebuild a workspace from the store (after the log was rewritten,
    /// e.g. by retention).
    Reload {
        ws: WorkspaceId,
    },
    Tick,
}

#[derive(Debug, Error)]
pub enum SegmentError {
    #[error("invalid rule: {0}")]
    Invalid(#[from] RuleError),
    #[error("segment {0} not found")]
    NotFound(SegmentId),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the segment engine is shutting down")]
    ShuttingDown,
}

/// Where a segment stands, for the API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentStatus {
    /// `building`, `active` or `failed`.
    pub state: String,
    /// How far the running backfill has read the log, and where it stops
    /// (log positions).
    pub backfill_done: u64,
    pub backfill_total: u64,
    pub error: Option<String>,
}

struct Pending {
    snapshot: i64,
    waiting: Vec<oneshot::Sender<Result<(), SegmentError>>>,
    /// A preview waiting for this temporary segment: how many members to
    /// sample, and where the answer goes.
    preview: Option<(usize, PreviewReply)>,
}

/// What an unsaved rule matches now: the segment builder's live count and
/// sample members.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentPreview {
    pub count: u64,
    /// Up to the number asked for, each match equally likely.
    pub sample: Vec<ContactId>,
    /// Whether the stored log had to be read (a condition not tallied in
    /// memory yet); otherwise the count came from memory.
    pub read_history: bool,
}

type PreviewReply = oneshot::Sender<Result<SegmentPreview, SegmentError>>;

/// One workspace's segment state.
pub(crate) struct Workspace {
    pub rt: SegmentRuntime,
    names: HashMap<SegmentId, String>,
    pub status: HashMap<SegmentId, SegmentStatus>,
    pending: HashMap<SegmentId, Pending>,
    contact_types: HashMap<String, FieldType>,
    company_types: HashMap<String, FieldType>,
    /// Events up to here were read by the load scan; later ones arrive live.
    loaded_seq: i64,
    /// Tallies of recent preview backfills, oldest first, and when a
    /// preview last asked (ms).
    held: VecDeque<HeldTallies>,
    held_used_at: i64,
}

impl Workspace {
    /// Keep a finished preview's tallies for the builder's next counts.
    fn hold(&mut self, preview: SegmentId, now: i64) {
        let held = self.rt.hold_tallies(preview);
        if !held.is_empty() {
            self.held.push_back(held);
        }
        while self.held.len() > HELD_PREVIEWS {
            if let Some(oldest) = self.held.pop_front() {
                self.rt.release_held(oldest);
            }
        }
        self.held_used_at = now;
    }

    /// Release held tallies once the builder has not been used for a while.
    fn release_idle(&mut self, now: i64) {
        if now - self.held_used_at > HELD_FOR_MS {
            while let Some(h) = self.held.pop_front() {
                self.rt.release_held(h);
            }
        }
    }
}

/// Shared between the worker (writes) and API readers (counts, members).
pub(crate) type Hub = Arc<Mutex<HashMap<WorkspaceId, Workspace>>>;

/// For each commit that changed a membership: the time from the commit
/// (the acknowledgement of its events) to the entries and exits it caused
/// being committed to the log. Read by the benchmark.
pub(crate) type Latencies = Arc<Mutex<Vec<Duration>>>;

fn lock(hub: &Hub) -> std::sync::MutexGuard<'_, HashMap<WorkspaceId, Workspace>> {
    hub.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) struct Worker {
    /// The engine's writer queue, through which changes are logged.
    jobs: mpsc::Sender<crate::ingest::Job>,
    latencies: Latencies,
    store: Store,
    clock: Arc<dyn kairos_core::clock::Clock>,
    hub: Hub,
    tx: mpsc::UnboundedSender<Msg>,
}

fn now_ms(clock: &dyn kairos_core::clock::Clock) -> i64 {
    clock.now().timestamp_millis()
}

/// Start the worker; returns its inbox.
pub(crate) fn start(
    store: Store,
    clock: Arc<dyn kairos_core::clock::Clock>,
    hub: Hub,
    latencies: Latencies,
    jobs: mpsc::Sender<crate::ingest::Job>,
) -> mpsc::UnboundedSender<Msg> {
    let (tx, rx) = mpsc::unbounded_channel();
    let worker = Worker { jobs, latencies, store, clock, hub, tx: tx.clone() };
    tokio::spawn(worker.run(rx));
    let ticker = tx.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(250));
        loop {
            every.tick().await;
            if ticker.send(Msg::Tick).is_err() {
                return;
            }
        }
    });
    tx
}

impl Worker {
    async fn run(self, mut rx: mpsc::UnboundedReceiver<Msg>) {
        if let Err(e) = self.load_all().await {
            tracing::error!(error = %e, "loading segments failed; segments stay unavailable until restart");
        }
        let mut next = None;
        loop {
            let msg = match next.take() {
                Some(m) => m,
                None => match rx.recv().await {
                    Some(m) => m,
                    None => return,
                },
            };
            // Under load, commits queue up: take them together so one
            // transaction logs the changes of many.
            let msg = match msg {
                Msg::Committed { mut touched, mut events, at } => {
                    let mut ats = vec![at];
                    while ats.len() < 256 {
                        match rx.try_recv() {
                            Ok(Msg::Committed { touched: t, events: e, at }) => {
                                merge_touched(&mut touched, t);
                                events.extend(e);
                                ats.push(at);
                            }
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    if let Err(e) = self.committed(touched, events, ats).await {
                        tracing::error!(error = %e, "segment maintenance failed");
                    }
                    continue;
                }
                other => other,
            };
            if let Err(e) = self.handle(msg).await {
                tracing::error!(error = %e, "segment maintenance failed");
            }
        }
    }

    async fn handle(&self, msg: Msg) -> Result<(), StoreError> {
        match msg {
            Msg::Committed { touched, events, at } => self.committed(touched, events, vec![at]).await,
            Msg::Load { ws, id, reply } => {
                let r = self.load_segment(ws, id, Some(reply)).await;
                if let Err((e, Some(reply))) = r {
                    let _ = reply.send(Err(e));
                }
                Ok(())
            }
            Msg::Remove { ws, id, reply } => {
                let r = {
                    let mut hub = lock(&self.hub);
                    match hub.get_mut(&ws) {
                        Some(w) => match w.rt.remove_segment(id) {
                            Ok(()) => {
                                w.names.remove(&id);
                                w.status.remove(&id);
                                w.pending.remove(&id);
                                Ok(())
                            }
                            Err(kairos_core::segment::runtime::RuntimeError::UnknownSegment(_)) => Ok(()),
                            Err(e) => Err(SegmentError::Conflict(e.to_string())),
                        },
                        None => Ok(()),
                    }
                };
                let _ = reply.send(r);
                Ok(())
            }
            Msg::Chunk { ws, id, events, done } => {
                let mut hub = lock(&self.hub);
                if let Some(w) = hub.get_mut(&ws) {
                    if !w.pending.contains_key(&id) {
                        return Ok(());
                    }
                    for e in &events {
                        if let Some(input) = log_input(e) {
                            w.rt.backfill_event(e.contact_id, &input);
                        }
                    }
                    if let Some(s) = w.status.get_mut(&id) {
                        s.backfill_done = done;
                    }
                }
                Ok(())
            }
            Msg::Finish { ws, id, result } => self.finish(ws, id, result).await,
            Msg::Preview { ws, rule, sample, reply } => {
                self.preview(ws, rule, sample, reply).await;
                Ok(())
            }
            Msg::FieldsChanged { ws } => {
                let (contact_types, company_types) = self.field_types(ws).await?;
                if let Some(w) = lock(&self.hub).get_mut(&ws) {
                    w.contact_types = contact_types;
                    w.company_types = company_types;
                }
                Ok(())
            }
            Msg::Reload { ws } => {
                let mut tx = self.store.begin().await?;
                let segments = tx.segments(ws).await?;
                tx.commit().await?;
                lock(&self.hub).remove(&ws);
                if !segments.is_empty() {
                    self.load_workspace(ws, segments).await?;
                }
                Ok(())
            }
            Msg::Barrier(reply) => {
                let _ = reply.send(());
                Ok(())
            }
            Msg::Tick => {
                let now = now_ms(&*self.clock);
                let mut all = Vec::new();
                {
                    let mut hub = lock(&self.hub);
                    for (ws, w) in hub.iter_mut() {
                        w.release_idle(now);
                        let changes = w.rt.advance(now);
                        if !changes.is_empty() {
                            all.push((*ws, changes));
                        }
                    }
                }
                for (ws, changes) in all {
                    self.persist(ws, changes).await?;
                }
                Ok(())
            }
        }
    }

    async fn field_types(
        &self,
        ws: WorkspaceId,
    ) -> Result<(HashMap<String, FieldType>, HashMap<String, FieldType>), StoreError> {
        let mut tx = self.store.begin().await?;
        let defs = tx.list_fields(ws).await?;
        tx.commit().await?;
        Ok(split_field_types(defs))
    }

    /// Rebuild every workspace that has segments.
    async fn load_all(&self) -> Result<(), StoreError> {
        let mut tx = self.store.begin().await?;
        let workspaces = tx.list_workspaces().await?;
        tx.commit().await?;
        for w in workspaces {
            let mut tx = self.store.begin().await?;
            let segments = tx.segments(w.id).await?;
            tx.commit().await?;
            if segments.is_empty() {
                continue;
            }
            self.load_workspace(w.id, segments).await?;
        }
        Ok(())
    }

    /// Build a workspace's runtime from the store: contacts, companies,
    /// lists, then every segment with one scan of the log; then report the
    /// difference from the persisted membership as changes.
    async fn load_workspace(&self, ws: WorkspaceId, segments: Vec<SegmentRecord>) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let (contact_types, company_types) = self.field_types(ws).await?;
        let now = now_ms(&*self.clock);
        let mut rt = SegmentRuntime::new();
        let mut tx = self.store.begin().await?;
        let snapshot = tx.max_seq(ws).await?;
        let mut links: HashMap<ContactId, Vec<CompanyId>> = HashMap::new();
        for (c, co) in tx.all_company_links(ws).await? {
            links.entry(c).or_default().push(co);
        }
        let mut consents: HashMap<ContactId, Vec<(Channel, Purpose, ConsentState)>> = HashMap::new();
        for (c, channel, purpose, state) in tx.all_consent_states(ws).await? {
            consents.entry(c).or_default().push((channel, purpose, state));
        }
        let mut scores: HashMap<ContactId, Vec<(String, kairos_core::score::ScoreState, Option<f64>)>> = HashMap::new();
        for r in tx.score_definitions(ws).await? {
            for (c, state, h) in tx.all_score_states(ws, &r.name).await? {
                scores.entry(c).or_default().push((r.name.clone(), state, h));
            }
        }
        let mut after = None;
        let mut contacts = 0usize;
        loop {
            let page = tx.contacts_after(ws, after, 5000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for c in &page {
                let p = Profile::of_contact(c, &contact_types)
                    .with_consents(consents.remove(&c.id).unwrap_or_default())
                    .with_scores(scores.remove(&c.id).unwrap_or_default());
                rt.set_contact(c.id, &p, links.get(&c.id).map(Vec::as_slice).unwrap_or(&[]), now);
            }
            contacts += page.len();
        }
        let mut after = None;
        loop {
            let (companies, next) = tx.list_companies(ws, None, after, 5000).await?;
            for co in &companies {
                rt.set_company(co.id, &Profile::of_company(co, &company_types), now);
            }
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        for (list, contact) in tx.all_list_members(ws).await? {
            rt.set_list_member(list, contact, true, now);
        }
        tx.commit().await?;
        // Compile in dependency order, then one scan feeds every tally.
        let mut schema = schema_of(&contact_types, &company_types);
        let mut lists_tx = self.store.begin().await?;
        schema.lists = lists_tx.lists(ws).await?.into_iter().map(|l| l.id).collect();
        schema.scores = lists_tx.score_definitions(ws).await?.into_iter().map(|r| r.name).collect();
        lists_tx.commit().await?;
        let mut names = HashMap::new();
        let mut status = HashMap::new();
        let mut loaded = Vec::new();
        let mut ordered = Vec::new();
        let not_active: Vec<SegmentId> = segments.iter().filter(|s| s.status != "active").map(|s| s.id).collect();
        let mut remaining: Vec<SegmentRecord> = segments;
        for s in &remaining {
            schema.segments.insert(s.id, Vec::new());
        }
        while !remaining.is_empty() {
            let before = remaining.len();
            let mut next = Vec::new();
            for s in remaining {
                match parse(&s.rule, &schema, Some(s.id)) {
                    Ok(rule) => {
                        let refs = rule.segment_refs();
                        if refs.iter().all(|r| loaded.contains(r)) {
                            schema.segments.insert(s.id, refs);
                            ordered.push((s.id, rule));
                            loaded.push(s.id);
                            names.insert(s.id, s.name.clone());
                            status.insert(s.id, SegmentStatus::active());
                        } else {
                            next.push(s);
                        }
                    }
                    Err(e) => {
                        // The schema changed under the rule (a field was
                        // deleted): the segment fails visibly, it does not empty.
                        names.insert(s.id, s.name.clone());
                        status.insert(s.id, SegmentStatus::failed(e.to_string()));
                        self.mark(ws, s.id, "failed", Some(&e.to_string())).await?;
                    }
                }
            }
            if next.len() == before {
                for s in &next {
                    status.insert(s.id, SegmentStatus::failed("refers to a segment that failed".into()));
                    names.insert(s.id, s.name.clone());
                    self.mark(ws, s.id, "failed", Some("refers to a segment that failed")).await?;
                }
                break;
            }
            remaining = next;
        }
        let plan = rt.load_segments(&ordered, snapshot).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let scan_names = plan.events;
        let mut scanned = 0usize;
        let mut tx = self.store.begin().await?;
        let mut after_seq = 0;
        while !scan_names.is_empty() {
            let chunk = tx.log_events(ws, after_seq, snapshot, CHUNK, Some(&scan_names)).await?;
            let Some(last) = chunk.last() else { break };
            after_seq = last.seq;
            for e in &chunk {
                if let Some(input) = log_input(e) {
                    rt.backfill_event(e.contact_id, &input);
                }
            }
            scanned += chunk.len();
        }
        let mut persisted: HashMap<SegmentId, HashSet<ContactId>> = HashMap::new();
        for id in &loaded {
            persisted.insert(*id, tx.segment_member_ids(ws, *id).await?.into_iter().collect());
        }
        tx.commit().await?;
        let now = now_ms(&*self.clock);
        let changes = rt.activate_many(&loaded, now).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        for id in loaded.iter().filter(|id| not_active.contains(id)) {
            // Built now (created or edited while the process was down, or
            // the first segment of the workspace).
            self.mark(ws, *id, "active", None).await?;
        }
        // Activation reports every member as entering; only differences from
        // what was persisted are real changes.
        let mut real: Vec<Change> = changes
            .into_iter()
            .filter(|c| !(c.entered && persisted.get(&c.segment).is_some_and(|p| p.contains(&c.contact))))
            .collect();
        for id in &loaded {
            for c in persisted.get(id).into_iter().flatten() {
                if !rt.is_member(*id, *c) {
                    real.push(Change { segment: *id, contact: *c, entered: false, at: now });
                }
            }
        }
        tracing::info!(
            workspace = %ws, segments = loaded.len(), contacts, events = scanned, changes = real.len(),
            elapsed_ms = started.elapsed().as_millis() as u64, "segments loaded"
        );
        lock(&self.hub).insert(
            ws,
            Workspace {
                rt,
                names,
                status,
                pending: HashMap::new(),
                contact_types,
                company_types,
                loaded_seq: snapshot,
                held: VecDeque::new(),
                held_used_at: 0,
            },
        );
        self.persist(ws, real).await
    }

    async fn mark(&self, ws: WorkspaceId, id: SegmentId, status: &str, error: Option<&str>) -> Result<(), StoreError> {
        let mut tx = self.store.begin_write().await?;
        tx.set_segment_status(ws, id, status, error).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Compile a stored segment and start its backfill.
    async fn load_segment(
        &self,
        ws: WorkspaceId,
        id: SegmentId,
        reply: Option<oneshot::Sender<Result<(), SegmentError>>>,
    ) -> Result<(), (SegmentError, Option<oneshot::Sender<Result<(), SegmentError>>>)> {
        let fail = |e: SegmentError, reply| Err((e, reply));
        let loaded = lock(&self.hub).contains_key(&ws);
        if !loaded {
            // First segment of the workspace: build everything from the store
            // (which includes this segment).
            let segments = async {
                let mut tx = self.store.begin().await?;
                let s = tx.segments(ws).await?;
                tx.commit().await?;
                Ok::<_, StoreError>(s)
            }
            .await;
            let segments = match segments {
                Ok(s) => s,
                Err(e) => return fail(e.into(), reply),
            };
            if let Err(e) = self.load_workspace(ws, segments).await {
                return fail(e.into(), reply);
            }
            if let Some(r) = reply {
                let _ = r.send(Ok(()));
            }
            return Ok(());
        }
        let record = async {
            let mut tx = self.store.begin().await?;
            let r = tx.segment(ws, id).await?;
            let lists = tx.lists(ws).await?;
            let all = tx.segments(ws).await?;
            let snapshot = tx.max_seq(ws).await?;
            let scores = tx.score_definitions(ws).await?.into_iter().map(|r| r.name).collect();
            tx.commit().await?;
            Ok::<_, StoreError>((r, lists, all, snapshot, scores))
        }
        .await;
        let (record, lists, all, snapshot, scores) = match record {
            Ok(x) => x,
            Err(e) => return fail(e.into(), reply),
        };
        let Some(record) = record else { return fail(SegmentError::NotFound(id), reply) };
        let plan = {
            let mut hub = lock(&self.hub);
            let w = hub.get_mut(&ws).expect("checked above");
            let mut schema = schema_of(&w.contact_types, &w.company_types);
            schema.lists = lists.into_iter().map(|l| l.id).collect();
            schema.scores = scores;
            for s in &all {
                if w.rt.is_active(s.id) || s.id == id {
                    schema.segments.insert(s.id, Vec::new());
                }
            }
            let rule = match parse(&record.rule, &schema, None) {
                Ok(r) => r,
                Err(e) => {
                    drop(hub);
                    return fail(e.into(), reply);
                }
            };
            let plan = match w.rt.load_segment(id, &rule, snapshot.max(w.loaded_seq)) {
                Ok(p) => p,
                Err(e) => {
                    drop(hub);
                    return fail(SegmentError::Conflict(e.to_string()), reply);
                }
            };
            w.names.insert(id, record.name.clone());
            w.status.insert(id, SegmentStatus::building(0));
            w.pending
                .insert(id, Pending { snapshot: plan.snapshot, waiting: reply.into_iter().collect(), preview: None });
            plan
        };
        self.spawn_backfill(ws, id, plan.events, plan.snapshot);
        Ok(())
    }

    /// Scan the log up to `snapshot` in a task of its own, sending chunks
    /// back through the inbox so live traffic interleaves with them.
    fn spawn_backfill(&self, ws: WorkspaceId, id: SegmentId, names: Vec<String>, snapshot: i64) {
        let store = self.store.clone();
        let tx = self.tx.clone();
        let hub = self.hub.clone();
        tokio::spawn(async move {
            if names.is_empty() {
                let _ = tx.send(Msg::Finish { ws, id, result: Ok(()) });
                return;
            }
            let result = async {
                let mut t = store.begin().await?;
                // Progress is measured in log positions up to the snapshot.
                if let Some(w) = lock(&hub).get_mut(&ws) {
                    if let Some(s) = w.status.get_mut(&id) {
                        s.backfill_total = snapshot.max(0) as u64;
                    }
                }
                let mut after = 0;
                loop {
                    let events = t.log_events(ws, after, snapshot, CHUNK, Some(&names)).await?;
                    let Some(last) = events.last() else { break };
                    after = last.seq;
                    let done = last.seq as u64;
                    if tx.send(Msg::Chunk { ws, id, events, done }).is_err() {
                        break;
                    }
                }
                t.commit().await?;
                Ok::<_, StoreError>(())
            }
            .await;
            let _ = tx.send(Msg::Finish { ws, id, result: result.map_err(|e| e.to_string()) });
        });
    }

    async fn finish(&self, ws: WorkspaceId, id: SegmentId, result: Result<(), String>) -> Result<(), StoreError> {
        let now = now_ms(&*self.clock);
        let (changes, pending) = {
            let mut hub = lock(&self.hub);
            let Some(w) = hub.get_mut(&ws) else { return Ok(()) };
            let Some(pending) = w.pending.remove(&id) else { return Ok(()) };
            match &result {
                Ok(()) => {
                    let changes = w.rt.activate(id, now).unwrap_or_default();
                    if pending.preview.is_some() {
                        // The preview's own entries are not memberships; the
                        // saved segments' timers that fired on the way are.
                        (changes.into_iter().filter(|c| c.segment != id).collect(), pending)
                    } else {
                        w.status.insert(id, SegmentStatus::active());
                        (changes, pending)
                    }
                }
                Err(e) => {
                    let _ = w.rt.remove_segment(id);
                    w.status.insert(id, SegmentStatus::failed(format!("backfill failed: {e}")));
                    (Vec::new(), pending)
                }
            }
        };
        let _ = pending.snapshot;
        if let Some((sample, reply)) = pending.preview {
            let preview = {
                let mut hub = lock(&self.hub);
                let w = hub.get_mut(&ws);
                let count = w.as_ref().and_then(|w| w.rt.count(id)).unwrap_or(0);
                let sample = w.as_ref().map(|w| w.rt.member_sample(id, sample, &mut rand::thread_rng()));
                if let Some(w) = w {
                    if result.is_ok() {
                        w.hold(id, now);
                    }
                    let _ = w.rt.remove_segment(id);
                    w.status.remove(&id);
                }
                SegmentPreview { count, sample: sample.unwrap_or_default(), read_history: true }
            };
            let _ = reply.send(match result {
                Ok(()) => Ok(preview),
                Err(e) => Err(SegmentError::Conflict(format!("preview failed: {e}"))),
            });
            return self.persist(ws, changes).await;
        }
        match &result {
            Ok(()) => self.mark(ws, id, "active", None).await?,
            Err(e) => self.mark(ws, id, "failed", Some(&format!("backfill failed: {e}"))).await?,
        }
        self.persist(ws, changes).await?;
        for r in pending.waiting {
            let _ = r.send(result.clone().map_err(SegmentError::Conflict));
        }
        Ok(())
    }

    async fn preview(&self, ws: WorkspaceId, rule: Rule, sample: usize, reply: PreviewReply) {
        let snapshot = async {
            let mut tx = self.store.begin().await?;
            let s = tx.max_seq(ws).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(s)
        }
        .await;
        let snapshot = match snapshot {
            Ok(s) => s,
            Err(e) => {
                let _ = reply.send(Err(e.into()));
                return;
            }
        };
        let id = SegmentId::new();
        let plan = {
            let mut hub = lock(&self.hub);
            let Some(w) = hub.get_mut(&ws) else {
                let _ = reply.send(Err(SegmentError::Conflict("segments are still loading".into())));
                return;
            };
            match w.rt.load_segment(id, &rule, snapshot.max(w.loaded_seq)) {
                Ok(plan) => {
                    w.pending.insert(
                        id,
                        Pending { snapshot: plan.snapshot, waiting: Vec::new(), preview: Some((sample, reply)) },
                    );
                    plan
                }
                Err(e) => {
                    let _ = reply.send(Err(SegmentError::Conflict(e.to_string())));
                    return;
                }
            }
        };
        self.spawn_backfill(ws, id, plan.events, plan.snapshot);
    }

    /// Apply a committed transaction's changes and events.
    async fn committed(&self, touched: Touched, events: Vec<LiveEvent>, at: Vec<Instant>) -> Result<(), StoreError> {
        let mut workspaces: HashSet<WorkspaceId> = HashSet::new();
        {
            let hub = lock(&self.hub);
            let mut note = |ws: &WorkspaceId| {
                if hub.contains_key(ws) {
                    workspaces.insert(*ws);
                }
            };
            touched.contacts.iter().for_each(|(w, _)| note(w));
            touched.deleted.iter().for_each(|(w, _)| note(w));
            touched.histories.iter().for_each(|(w, _)| note(w));
            touched.companies.iter().for_each(|(w, _)| note(w));
            touched.list_members.iter().for_each(|(w, ..)| note(w));
            events.iter().for_each(|e| note(&e.ws));
        }
        for ws in workspaces {
            self.committed_in(ws, &touched, &events, &at).await?;
        }
        Ok(())
    }

    async fn committed_in(
        &self,
        ws: WorkspaceId,
        touched: &Touched,
        events: &[LiveEvent],
        at: &[Instant],
    ) -> Result<(), StoreError> {
        // Read what changed (outside the lock), then apply in one go.
        let mut contacts = Vec::new();
        let mut companies = Vec::new();
        let mut histories = Vec::new();
        let reads = touched.contacts.len() + touched.histories.len() + touched.companies.len();
        if reads > 0 {
            self.read_changed(ws, touched, &mut contacts, &mut companies, &mut histories).await?;
        }
        self.apply_changed(ws, touched, events, at, contacts, companies, histories).await
    }

    async fn read_changed(
        &self,
        ws: WorkspaceId,
        touched: &Touched,
        contacts: &mut Vec<ChangedContact>,
        companies: &mut Vec<kairos_core::company::Company>,
        histories: &mut Vec<(ContactId, Vec<LogEvent>)>,
    ) -> Result<(), StoreError> {
        let mut tx = self.store.begin().await?;
        let mut seen = HashSet::new();
        for (w, id) in touched.contacts.iter().chain(touched.histories.iter()) {
            if *w != ws || touched.deleted.contains(&(ws, *id)) || !seen.insert(*id) {
                continue;
            }
            if let Some(c) = tx.contact(ws, *id).await? {
                let consents = tx.consents_of(ws, *id).await?;
                let scores = tx.scores_of(ws, *id).await?;
                contacts.push((c, consents, scores));
            }
        }
        for (w, id) in &touched.companies {
            if *w == ws {
                if let Some(c) = tx.company(ws, *id).await? {
                    companies.push(c);
                }
            }
        }
        for (w, id) in &touched.histories {
            if *w == ws && !touched.deleted.contains(&(ws, *id)) {
                histories.push((*id, contact_history(&mut tx, ws, *id).await?));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply_changed(
        &self,
        ws: WorkspaceId,
        touched: &Touched,
        events: &[LiveEvent],
        at: &[Instant],
        contacts: Vec<ChangedContact>,
        companies: Vec<kairos_core::company::Company>,
        histories: Vec<(ContactId, Vec<LogEvent>)>,
    ) -> Result<(), StoreError> {
        let now = now_ms(&*self.clock);
        let mut changes = Vec::new();
        {
            let mut hub = lock(&self.hub);
            let Some(w) = hub.get_mut(&ws) else { return Ok(()) };
            for (dw, id) in &touched.deleted {
                if *dw == ws {
                    w.rt.remove_contact(*id);
                }
            }
            for co in &companies {
                changes.extend(w.rt.set_company(co.id, &Profile::of_company(co, &w.company_types), now));
            }
            for (c, consents, scores) in &contacts {
                let profile = Profile::of_contact(c, &w.contact_types)
                    .with_consents(consents.iter().map(|k| (k.channel, k.purpose, k.state)))
                    .with_scores(scores.iter().map(|s| (s.score.clone(), s.state, s.half_life_days)));
                changes.extend(w.rt.set_contact(c.id, &profile, &c.company_ids, now));
            }
            for (lw, list, contact, member) in &touched.list_members {
                if *lw == ws && !touched.deleted.contains(&(ws, *contact)) {
                    changes.extend(w.rt.set_list_member(*list, *contact, *member, now));
                }
            }
            for (id, history) in &histories {
                w.rt.reset_history(*id);
                for e in history {
                    if let Some(input) = log_input(e) {
                        w.rt.replay_event(*id, &input);
                    }
                }
                changes.extend(w.rt.touch(*id, now));
            }
            for e in events {
                if e.ws != ws || e.seq <= w.loaded_seq {
                    continue;
                }
                if let Some(name) = event_name(e.kind, e.name.as_deref()) {
                    let input = EventInput { seq: e.seq, name, timestamp: e.timestamp, properties: &e.properties };
                    changes.extend(w.rt.apply_event(e.contact, &input, now));
                }
            }
        }
        let caused = !changes.is_empty();
        let applied = Instant::now();
        let n = changes.len();
        self.persist(ws, changes).await?;
        tracing::debug!(
            events = events.len(),
            commits = at.len(),
            changes = n,
            oldest_ms = at.first().map(|a| a.elapsed().as_millis() as u64).unwrap_or(0),
            persist_ms = applied.elapsed().as_millis() as u64,
            "segment changes logged"
        );
        if caused {
            let mut l = self.latencies.lock().unwrap_or_else(|e| e.into_inner());
            if l.len() < 1_000_000 {
                l.extend(at.iter().map(Instant::elapsed));
            }
        }
        Ok(())
    }

    /// Persist membership changes and write them to the log; the events
    /// written are fed back in, since rules may refer to them.
    async fn persist(&self, ws: WorkspaceId, mut changes: Vec<Change>) -> Result<(), StoreError> {
        for _ in 0..MAX_ROUNDS {
            if changes.is_empty() {
                return Ok(());
            }
            let names = lock(&self.hub).get(&ws).map(|w| w.names.clone()).unwrap_or_default();
            let received = self.clock.now();
            let events: Vec<Event> = changes
                .iter()
                .map(|c| {
                    let name = if c.entered { "Segment Entered" } else { "Segment Exited" };
                    Event {
                        seq: 0,
                        id: uuid::Uuid::now_v7(),
                        workspace_id: ws,
                        contact_id: c.contact,
                        kind: EventKind::Track,
                        name: Some(name.to_string()),
                        message_id: change_message_id(c),
                        user_id: None,
                        anonymous_id: None,
                        properties: json!({
                            "segment_id": c.segment.to_string(),
                            "segment_name": names.get(&c.segment).cloned().unwrap_or_default(),
                        }),
                        context: json!({"library": {"name": "kairos-segments"}}),
                        timestamp: from_millis(c.at),
                        received_at: received,
                    }
                })
                .collect();
            let membership: Vec<MembershipChange> = changes
                .iter()
                .map(|c| MembershipChange { segment: c.segment, contact: c.contact, entered: c.entered, at: c.at })
                .collect();
            let seqs = crate::ingest::log_changes(&self.jobs, ws, membership, events.clone(), false).await?;
            let now = now_ms(&*self.clock);
            let mut next = Vec::new();
            let mut hub = lock(&self.hub);
            let Some(w) = hub.get_mut(&ws) else { return Ok(()) };
            for e in &events {
                let Some(&seq) = seqs.get(&e.message_id) else { continue };
                let input = EventInput {
                    seq,
                    name: e.name.as_deref().unwrap_or_default(),
                    timestamp: e.timestamp.timestamp_millis(),
                    properties: &e.properties,
                };
                next.extend(w.rt.apply_event(e.contact_id, &input, now));
            }
            changes = next;
        }
        if !changes.is_empty() {
            tracing::warn!(workspace = %ws, "segment changes still cascading after {MAX_ROUNDS} rounds; rules refer to their own entry events");
        }
        Ok(())
    }
}

/// The message id of a change's log event: derived from segment, contact,
/// direction and instant, so logging it twice stores it once; hashed to 28
/// characters because it is a key of the log's busiest unique index.
fn change_message_id(c: &Change) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(c.segment.0.as_bytes());
    h.update(c.contact.0.as_bytes());
    h.update([c.entered as u8]);
    h.update(c.at.to_be_bytes());
    format!("seg-{}", hex::encode(&h.finalize()[..12]))
}

/// Contact and company field types from a workspace's definitions.
pub(crate) fn split_field_types(
    defs: Vec<kairos_core::fields::FieldDefinition>,
) -> (HashMap<String, FieldType>, HashMap<String, FieldType>) {
    let mut contact = HashMap::new();
    let mut company = HashMap::new();
    for d in defs {
        match d.entity {
            FieldEntity::Contact => contact.insert(d.name, d.field_type),
            FieldEntity::Company => company.insert(d.name, d.field_type),
        };
    }
    (contact, company)
}

/// A stored event as the runtime takes it (`None` for kinds rules ignore).
fn log_input(e: &LogEvent) -> Option<EventInput<'_>> {
    let name = event_name(e.kind, e.name.as_deref())?;
    Some(EventInput { seq: e.seq, name, timestamp: e.timestamp, properties: &e.properties })
}

fn merge_touched(into: &mut Touched, from: Touched) {
    into.contacts.extend(from.contacts);
    into.deleted.extend(from.deleted);
    into.histories.extend(from.histories);
    into.companies.extend(from.companies);
    into.deleted_companies.extend(from.deleted_companies);
    into.list_members.extend(from.list_members);
}

async fn contact_history(
    tx: &mut kairos_store::Tx,
    ws: WorkspaceId,
    id: ContactId,
) -> Result<Vec<LogEvent>, StoreError> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let page = tx.contact_events(ws, id, before, 1000).await?;
        let Some(last) = page.last() else { break };
        before = Some(kairos_store::EventCursor { timestamp_ms: last.timestamp.timestamp_millis(), seq: last.seq });
        out.extend(page.into_iter().map(|e| LogEvent {
            seq: e.seq,
            contact_id: e.contact_id,
            kind: e.kind,
            name: e.name,
            timestamp: e.timestamp.timestamp_millis(),
            properties: e.properties,
        }));
    }
    Ok(out)
}

/// A touched contact as the segment worker reads it: profile, consent,
/// scores.
type ChangedContact = (kairos_core::contact::Contact, Vec<ConsentChange>, Vec<kairos_store::ContactScore>);

fn schema_of(contact: &HashMap<String, FieldType>, company: &HashMap<String, FieldType>) -> Schema {
    Schema::with_custom(contact.clone(), company.clone())
}

impl SegmentStatus {
    fn active() -> Self {
        SegmentStatus { state: "active".into(), backfill_done: 0, backfill_total: 0, error: None }
    }
    fn building(total: u64) -> Self {
        SegmentStatus { state: "building".into(), backfill_done: 0, backfill_total: total, error: None }
    }
    fn failed(error: String) -> Self {
        SegmentStatus { state: "failed".into(), backfill_done: 0, backfill_total: 0, error: Some(error) }
    }
}

/// The segment API of the engine.
impl Engine {
    /// The schema a rule is validated against in this workspace.
    pub async fn segment_schema(&self, ws: WorkspaceId) -> Result<Schema, StoreError> {
        let mut tx = self.inner.store.begin().await?;
        let defs = tx.list_fields(ws).await?;
        let segments = tx.segments(ws).await?;
        let lists = tx.lists(ws).await?;
        let scores = tx.score_definitions(ws).await?;
        tx.commit().await?;
        let (contact, company) = split_field_types(defs);
        let mut schema = Schema::with_custom(contact, company);
        schema.lists = lists.into_iter().map(|l| l.id).collect();
        schema.scores = scores.into_iter().map(|r| r.name).collect();
        // The references of each stored rule, for cycle detection, read with
        // every segment known; a rule that no longer parses refers to nothing.
        let mut loose = schema.clone();
        loose.segments = segments.iter().map(|s| (s.id, Vec::new())).collect();
        for s in &segments {
            let refs = parse(&s.rule, &loose, None).map(|r| r.segment_refs()).unwrap_or_default();
            schema.segments.insert(s.id, refs);
        }
        Ok(schema)
    }

    /// Compile and backfill a stored segment (after it was created or its
    /// rule changed); returns when it is active.
    pub async fn load_segment(&self, ws: WorkspaceId, id: SegmentId) -> Result<(), SegmentError> {
        let (reply, rx) = oneshot::channel();
        self.inner.segments.send(Msg::Load { ws, id, reply }).map_err(|_| SegmentError::ShuttingDown)?;
        rx.await.map_err(|_| SegmentError::ShuttingDown)?
    }

    /// Ask for a segment to be (re)loaded without waiting for its backfill.
    pub fn start_segment_load(&self, ws: WorkspaceId, id: SegmentId) -> Result<(), SegmentError> {
        let (reply, _rx) = oneshot::channel();
        self.inner.segments.send(Msg::Load { ws, id, reply }).map_err(|_| SegmentError::ShuttingDown)
    }

    pub async fn unload_segment(&self, ws: WorkspaceId, id: SegmentId) -> Result<(), SegmentError> {
        let (reply, rx) = oneshot::channel();
        self.inner.segments.send(Msg::Remove { ws, id, reply }).map_err(|_| SegmentError::ShuttingDown)?;
        rx.await.map_err(|_| SegmentError::ShuttingDown)?
    }

    /// Live status of a segment, if the engine knows it.
    pub fn segment_status(&self, ws: WorkspaceId, id: SegmentId) -> Option<SegmentStatus> {
        lock(&self.inner.hub).get(&ws).and_then(|w| w.status.get(&id).cloned())
    }

    /// Exact member count, when the segment is active.
    pub fn segment_count(&self, ws: WorkspaceId, id: SegmentId) -> Option<u64> {
        lock(&self.inner.hub).get(&ws).and_then(|w| w.rt.count(id))
    }

    pub fn segment_members(
        &self,
        ws: WorkspaceId,
        id: SegmentId,
        after: Option<ContactId>,
        limit: usize,
    ) -> Vec<ContactId> {
        lock(&self.inner.hub).get(&ws).map(|w| w.rt.members(id, after, limit)).unwrap_or_default()
    }

    /// The active segments a contact is in.
    pub fn contact_segments(&self, ws: WorkspaceId, contact: ContactId) -> Vec<SegmentId> {
        lock(&self.inner.hub).get(&ws).map(|w| w.rt.segments_of(contact)).unwrap_or_default()
    }

    /// Count the contacts an unsaved rule matches now, with up to `sample`
    /// of them picked at random.
    pub async fn preview_segment(
        &self,
        ws: WorkspaceId,
        rule: Rule,
        sample: usize,
    ) -> Result<SegmentPreview, SegmentError> {
        let now = now_ms(self.clock());
        // A count alone skips the sampling (a random draw per match).
        let answer = |w: &Workspace| match sample {
            0 => {
                w.rt.preview(&rule, now).map(|count| SegmentPreview { count, sample: Vec::new(), read_history: false })
            }
            n => w.rt.preview_sample(&rule, now, n, &mut rand::thread_rng()).map(|(count, sample)| SegmentPreview {
                count,
                sample,
                read_history: false,
            }),
        };
        let loaded = {
            let mut hub = lock(&self.inner.hub);
            match hub.get_mut(&ws) {
                Some(w) => {
                    w.held_used_at = now;
                    match answer(w) {
                        Some(p) => return Ok(p),
                        None => true,
                    }
                }
                None => false,
            }
        };
        if !loaded {
            // No segment yet in this workspace: load its state first.
            self.ensure_workspace(ws).await?;
            if let Some(p) = lock(&self.inner.hub).get(&ws).and_then(answer) {
                return Ok(p);
            }
        }
        let (reply, rx) = oneshot::channel();
        self.inner.segments.send(Msg::Preview { ws, rule, sample, reply }).map_err(|_| SegmentError::ShuttingDown)?;
        rx.await.map_err(|_| SegmentError::ShuttingDown)?
    }

    /// Load a workspace's segment state even if it has no segment yet.
    async fn ensure_workspace(&self, ws: WorkspaceId) -> Result<(), SegmentError> {
        if lock(&self.inner.hub).contains_key(&ws) {
            return Ok(());
        }
        // Loading with an unknown segment id builds the workspace and then
        // reports the segment missing, which is expected here.
        match self.load_segment(ws, SegmentId::new()).await {
            Ok(()) | Err(SegmentError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Whether a contact matches a rule right now (for `kairos segment eval`
    /// and journey branches).
    pub fn segment_matches(&self, ws: WorkspaceId, rule: &Rule, contact: ContactId) -> Option<bool> {
        let now = now_ms(self.clock());
        lock(&self.inner.hub).get(&ws).and_then(|w| w.rt.matches(rule, contact, now))
    }

    pub(crate) fn fields_changed(&self, ws: WorkspaceId) {
        let _ = self.inner.segments.send(Msg::FieldsChanged { ws });
    }

    /// Wait until segment maintenance has handled everything committed
    /// before this call (tests and benchmarks use it to start from rest).
    pub async fn segments_settled(&self) {
        let (reply, rx) = oneshot::channel();
        if self.inner.segments.send(Msg::Barrier(reply)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Take the recorded acknowledgement-to-logged-entry latencies.
    pub fn take_segment_latencies(&self) -> Vec<Duration> {
        std::mem::take(&mut *self.inner.latencies.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Hand a committed transaction's changes to segment maintenance.
    pub(crate) fn committed(&self, touched: Touched, events: Vec<LiveEvent>) {
        if touched.is_empty() && events.is_empty() {
            return;
        }
        let _ = self.inner.segments.send(Msg::Committed { touched, events, at: Instant::now() });
    }

    /// Static-list membership changes go through here so segments follow.
    pub async fn change_list_members(
        &self,
        ws: WorkspaceId,
        list: ListId,
        contacts: &[ContactId],
        add: bool,
        source: &str,
    ) -> Result<Vec<ContactId>, StoreError> {
        let mut tx = self.inner.store.begin_write().await?;
        let changed = if add {
            tx.add_list_members(ws, list, contacts, source, now_ms(self.clock())).await?
        } else {
            tx.remove_list_members(ws, list, contacts).await?
        };
        let touched = tx.commit().await?;
        self.committed(touched, Vec::new());
        Ok(changed)
    }

    /// Record a consent change for a contact; returns its current consent.
    pub async fn record_consent(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        change: &ConsentChange,
    ) -> Result<Option<Vec<ConsentChange>>, StoreError> {
        let mut tx = self.inner.store.begin_write().await?;
        if tx.contact(ws, contact).await?.is_none() {
            return Ok(None);
        }
        tx.record_consent(ws, contact, change).await?;
        let current = tx.consents_of(ws, contact).await?;
        self.commit(tx).await?;
        use kairos_core::consent::{Channel, ConsentState, Purpose};
        if change.channel == Channel::Email
            && change.purpose == Purpose::Marketing
            && matches!(change.state, ConsentState::Denied | ConsentState::Withdrawn)
        {
            self.contact_unsubscribed(ws, contact);
        }
        Ok(Some(current))
    }

    /// Apply the workspace's retention policy now; `None` without a policy.
    pub async fn run_retention(
        &self,
        ws: WorkspaceId,
    ) -> Result<Option<kairos_core::retention::RetentionReport>, StoreError> {
        let _writer = self.inner.state.lock().await;
        let mut tx = self.inner.store.begin_write().await?;
        let Some(policy) = tx.retention_policy(ws).await? else { return Ok(None) };
        let report = tx.apply_retention(ws, &policy, now_ms(self.clock())).await?;
        self.commit(tx).await?;
        if report.events_deleted + report.events_anonymised > 0 {
            // Segment tallies counted those events: rebuild from the log.
            let _ = self.inner.segments.send(Msg::Reload { ws });
        }
        Ok(Some(report))
    }

    /// Commit a transaction and pass what it changed on to derived state.
    /// Commit and pass on what changed, without scoring it (the scoring's
    /// own transactions).
    pub(crate) async fn commit_plain(&self, tx: kairos_store::Tx) -> Result<(), StoreError> {
        let touched = tx.commit().await?;
        self.committed(touched, Vec::new());
        Ok(())
    }

    /// Attribute scores of the contacts it touched are brought up to date
    /// in it first.
    pub async fn commit(&self, mut tx: kairos_store::Tx) -> Result<(), StoreError> {
        let now = now_ms(self.clock());
        let crossed = crate::scores::score_commit(&mut tx, &self.inner, &[], now).await?;
        let touched = tx.commit().await?;
        self.wake_journeys(crossed.iter().map(|e| e.seq).max());
        self.committed(touched, crossed);
        Ok(())
    }
}
