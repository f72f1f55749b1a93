//! Ingest with group commit. HTTP handlers hand a validated batch to the
//! single writer task and wait; the writer drains every batch waiting at that
//! moment, resolves identities, appends the events and applies profile
//! changes in one transaction, commits, and only then answers each waiting
//! batch. One fsync thus covers many requests, and no request is answered
//! before its events are durable. If a group's transaction fails, each batch
//! is retried in a transaction of its own so one bad batch cannot fail the
//! others.

use crate::identity::Resolver;
use crate::segments::LiveEvent;
use crate::{Engine, Inner, WriterState};
use chrono::{DateTime, Utc};
use kairos_core::event::{Event, EventKind};
use kairos_core::ids::WorkspaceId;
use kairos_core::tracking::TrackingMessage;
use kairos_store::{MembershipChange, StoreError, Tx};
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

/// Most messages one commit group takes.
const GROUP_MESSAGES: usize = 20_000;

/// What happened to an accepted batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestReport {
    /// Messages newly appended to the log.
    pub accepted: usize,
    /// Messages whose messageId was already in the log (or repeated in the batch).
    pub duplicates: usize,
    /// Traits that could not be applied to a profile (the events are kept).
    pub warnings: Vec<String>,
}

#[derive(Debug, Error)]
pub enum IngestError {
    #[error("the event log is unavailable: {0}")]
    Store(#[from] StoreError),
    #[error("the engine is shutting down")]
    ShuttingDown,
}

/// Work for the single writer: tracked messages to ingest, or segment
/// changes to log. Both go through one queue so the segment worker never
/// competes with ingestion for the store's write lock (SQLite has one).
pub(crate) enum Job {
    Ingest {
        ws: WorkspaceId,
        messages: Vec<TrackingMessage>,
        received_at: DateTime<Utc>,
        reply: oneshot::Sender<Result<IngestReport, IngestError>>,
    },
    /// Membership changes and the `Segment Entered/Exited` events recording
    /// them; answered with the log position of each new event.
    Log {
        ws: WorkspaceId,
        changes: Vec<MembershipChange>,
        events: Vec<Event>,
        /// Pass the events on to the segment worker (events Kairos itself
        /// records, like email opens); the worker's own are not.
        feed_segments: bool,
        reply: oneshot::Sender<Result<HashMap<String, i64>, StoreError>>,
    },
    /// Re-level scores decay has taken below a threshold.
    ScoreDrops,
    /// Events were appended outside the writer: take their journey starts
    /// (and answer, when asked, once they are committed).
    Starts(Option<oneshot::Sender<()>>),
}

enum Outcome {
    Report(IngestReport),
    Logged(HashMap<String, i64>),
}

impl Job {
    fn size(&self) -> usize {
        match self {
            Job::Ingest { messages, .. } => messages.len(),
            Job::Log { events, .. } => events.len(),
            Job::ScoreDrops | Job::Starts(_) => 1,
        }
    }

    fn answer(self, result: Result<Outcome, StoreError>) {
        match self {
            Job::Ingest { reply, .. } => {
                let _ = reply.send(match result {
                    Ok(Outcome::Report(r)) => Ok(r),
                    Ok(Outcome::Logged(_)) => Ok(IngestReport::default()),
                    Err(e) => Err(e.into()),
                });
            }
            Job::Log { reply, .. } => {
                let _ = reply.send(match result {
                    Ok(Outcome::Logged(m)) => Ok(m),
                    Ok(Outcome::Report(_)) => Ok(HashMap::new()),
                    Err(e) => Err(e),
                });
            }
            Job::ScoreDrops => {
                if let Err(e) = result {
                    tracing::error!(error = %e, "re-levelling decayed scores failed");
                }
            }
            Job::Starts(reply) => {
                if let Err(e) = result {
                    tracing::error!(error = %e, "starting journey runs failed");
                }
                if let Some(reply) = reply {
                    let _ = reply.send(());
                }
            }
        }
    }
}

impl Engine {
    /// Append a validated batch to the log; returns once it is durable.
    pub async fn ingest(&self, ws: WorkspaceId, messages: Vec<TrackingMessage>) -> Result<IngestReport, IngestError> {
        let (reply, rx) = oneshot::channel();
        let job = Job::Ingest { ws, messages, received_at: self.inner.clock.now(), reply };
        self.inner.jobs.send(job).await.map_err(|_| IngestError::ShuttingDown)?;
        rx.await.map_err(|_| IngestError::ShuttingDown)?
    }
}

/// Log segment changes through the writer; returns the new events' positions.
pub(crate) async fn log_changes(
    jobs: &mpsc::Sender<Job>,
    ws: WorkspaceId,
    changes: Vec<MembershipChange>,
    events: Vec<Event>,
    feed_segments: bool,
) -> Result<HashMap<String, i64>, StoreError> {
    let (reply, rx) = oneshot::channel();
    let closed = || StoreError::Corrupt("the engine's writer has stopped".into());
    jobs.send(Job::Log { ws, changes, events, feed_segments, reply }).await.map_err(|_| closed())?;
    rx.await.map_err(|_| closed())?
}

pub(crate) async fn run_writer(inner: Arc<Inner>, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut size = first.size();
        let mut group = vec![first];
        while size < GROUP_MESSAGES {
            match rx.try_recv() {
                Ok(job) => {
                    size += job.size();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        let mut state = inner.state.lock().await;
        match commit_group(&inner, &mut state, &group).await {
            Ok(outcomes) => {
                for (job, outcome) in group.into_iter().zip(outcomes) {
                    job.answer(Ok(outcome));
                }
            }
            Err(e) if group.len() == 1 => {
                state.reset();
                tracing::error!(error = %e, "write transaction failed");
                if let Some(job) = group.pop() {
                    job.answer(Err(e));
                }
            }
            Err(e) => {
                state.reset();
                tracing::warn!(error = %e, jobs = group.len(), "group commit failed; retrying each job alone");
                for job in group {
                    let result = commit_group(&inner, &mut state, std::slice::from_ref(&job)).await;
                    if result.is_err() {
                        state.reset();
                    }
                    job.answer(result.and_then(|mut r| {
                        r.pop().ok_or_else(|| StoreError::Corrupt("a committed job had no outcome".into()))
                    }));
                }
            }
        }
    }
}

async fn commit_group(inner: &Arc<Inner>, state: &mut WriterState, group: &[Job]) -> Result<Vec<Outcome>, StoreError> {
    let mut tx = inner.store.begin_write().await?;
    let mut outcomes = Vec::with_capacity(group.len());
    let mut live = Vec::new();
    let watched = inner.activity.receiver_count() > 0;
    let mut active = Vec::new();
    for job in group {
        outcomes.push(match job {
            Job::Ingest { ws, messages, received_at, .. } => {
                Outcome::Report(apply_job(&mut tx, state, *ws, messages, *received_at, &mut live).await?)
            }
            Job::Log { ws, changes, events, feed_segments, .. } => {
                // A contact erased or merged away since the worker computed
                // its change must not reappear through it.
                let mut ids: Vec<_> =
                    changes.iter().map(|c| c.contact).chain(events.iter().map(|e| e.contact_id)).collect();
                ids.sort();
                ids.dedup();
                let alive = tx.existing_contacts(*ws, &ids).await?;
                let changes: Vec<_> = changes.iter().filter(|c| alive.contains(&c.contact)).copied().collect();
                let events: Vec<_> = events.iter().filter(|e| alive.contains(&e.contact_id)).cloned().collect();
                tx.apply_membership(*ws, &changes).await?;
                let inserted = tx.append_events(&events).await?;
                if watched {
                    let stored = events.iter().filter(|e| inserted.contains_key(&e.message_id));
                    active.extend(stored.map(|e| (*ws, e.contact_id)));
                }
                if *feed_segments {
                    live.extend(events.into_iter().filter_map(|e| {
                        let seq = *inserted.get(&e.message_id)?;
                        Some(LiveEvent::from_event(e, seq))
                    }));
                }
                Outcome::Logged(inserted)
            }
            Job::ScoreDrops => {
                let now = inner.clock.now().timestamp_millis();
                live.extend(crate::scores::score_drops(&mut tx, inner, now).await?);
                Outcome::Logged(HashMap::new())
            }
            Job::Starts(_) => Outcome::Logged(HashMap::new()),
        });
    }
    // Scores move with the events and profile changes of the same
    // transaction; their threshold events join what the others are told.
    let now = inner.clock.now().timestamp_millis();
    let crossed = crate::scores::score_commit(&mut tx, inner, &live, now).await?;
    live.extend(crossed);
    // Journey runs these events start take their first step here, so the
    // acknowledgement finds them committed.
    let engine = crate::Engine { inner: inner.clone() };
    // A failure there must not refuse the events: it is undone, logged and
    // tried again with the next transaction (the position did not move).
    let starts = if inner.starts.through() < 0 {
        None // no runner (yet): it takes them from its saved position
    } else {
        tx.begin_part().await?;
        match crate::journey_starts::start_runs(&mut tx, &engine, state, &live, now).await {
            Ok(s) => {
                tx.end_part(true).await?;
                s
            }
            Err(e) => {
                tracing::error!(error = %e, "starting journey runs failed; the events are kept and tried again");
                tx.end_part(false).await?;
                None
            }
        }
    };
    if let Some(p) = &starts {
        live.extend(p.crossed.iter().cloned());
    }
    let touched = tx.commit().await?;
    if let Some(p) = starts {
        p.hand_over(&engine);
    }
    if watched {
        active.extend(live.iter().map(|e| (e.ws, e.contact)));
        active.sort();
        active.dedup();
        for a in active {
            let _ = inner.activity.send(a);
        }
    }
    let newest = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Logged(m) => m.values().max().copied(),
            Outcome::Report(_) => None,
        })
        .chain(live.iter().map(|e| e.seq))
        .max();
    crate::journeys::wake(inner, newest);
    if !touched.is_empty() || !live.is_empty() {
        let at = std::time::Instant::now();
        let _ = inner.segments.send(crate::segments::Msg::Committed { touched, events: live, at });
    }
    Ok(outcomes)
}

async fn apply_job(
    tx: &mut Tx,
    state: &mut WriterState,
    ws: WorkspaceId,
    messages: &[TrackingMessage],
    received_at: DateTime<Utc>,
    live: &mut Vec<LiveEvent>,
) -> Result<IngestReport, StoreError> {
    let ids: Vec<&str> = messages.iter().map(|m| m.message_id.as_str()).collect();
    let mut seen: HashSet<String> = tx.existing_message_ids(ws, &ids).await?;
    let mut report = IngestReport::default();
    let mut resolver = Resolver::new(state, ws, received_at);
    resolver.prefetch(tx, messages).await?;
    let mut events = Vec::with_capacity(messages.len());
    let mut profile_updates = Vec::new();
    for m in messages {
        if !seen.insert(m.message_id.clone()) {
            report.duplicates += 1;
            continue;
        }
        let contact = resolver.resolve(tx, m).await?;
        match m.kind {
            EventKind::Identify => profile_updates.push((contact, m)),
            EventKind::Group => profile_updates.push((contact, m)),
            _ => {}
        }
        let mut properties = Value::Object(m.properties.clone());
        if let Some(p) = &m.previous_id {
            properties["previousId"] = Value::String(p.clone());
        }
        if let Some(g) = &m.group_id {
            properties["groupId"] = Value::String(g.clone());
        }
        events.push(Event {
            seq: 0,
            id: uuid::Uuid::now_v7(),
            workspace_id: ws,
            contact_id: contact,
            kind: m.kind,
            name: m.name.clone(),
            message_id: m.message_id.clone(),
            user_id: m.user_id.clone(),
            anonymous_id: m.anonymous_id.clone(),
            properties,
            context: Value::Object(m.context.clone()),
            timestamp: m.timestamp,
            received_at,
        });
    }
    // Events resolved to a contact that a later message in this job merged
    // away now belong to the survivor.
    for e in &mut events {
        if let Some(k) = resolver.survivor_of(e.contact_id) {
            e.contact_id = k;
        }
    }
    let inserted = tx.append_events(&events).await?;
    report.accepted = inserted.len();
    report.duplicates += events.len() - inserted.len();
    record_privacy_signals(tx, ws, &resolver, &events, received_at, &mut report.warnings).await?;
    live.extend(events.into_iter().filter_map(|e| {
        let seq = *inserted.get(&e.message_id)?;
        Some(LiveEvent::from_event(e, seq))
    }));
    for (contact, m) in profile_updates {
        let contact = resolver.survivor_of(contact).unwrap_or(contact);
        if m.kind == EventKind::Identify {
            resolver.apply_traits(tx, contact, m, &mut report.warnings).await?;
        } else {
            resolver.apply_group(tx, contact, m, &mut report.warnings).await?;
        }
    }
    Ok(report)
}

impl Engine {
    /// Append an event Kairos itself observed (`Email Opened`, `Form
    /// Submitted`, …) to the log through the one writer, so segments and
    /// journeys see it live; `library` names the part of Kairos in the
    /// event's context and message id.
    pub(crate) async fn log_own_event(
        &self,
        ws: WorkspaceId,
        contact: kairos_core::ids::ContactId,
        library: &str,
        name: &str,
        properties: Value,
    ) -> Result<(), StoreError> {
        let now = self.clock().now();
        let event = Event {
            seq: 0,
            id: uuid::Uuid::now_v7(),
            workspace_id: ws,
            contact_id: contact,
            kind: EventKind::Track,
            name: Some(name.to_string()),
            message_id: format!("kairos-{library}-{}", uuid::Uuid::now_v7()),
            user_id: None,
            anonymous_id: None,
            properties,
            context: serde_json::json!({"library": {"name": format!("kairos-{library}")}}),
            timestamp: now,
            received_at: now,
        };
        log_changes(&self.inner.jobs, ws, Vec::new(), vec![event], true).await.map(|_| ())
    }
}

/// Consent signals that travel with tracking calls, recorded on the contact
/// on every channel (they are about processing, not about a channel):
/// Global Privacy Control (`context.gpc`, set by the tracking endpoint from
/// `Sec-GPC: 1`) denies third-party sharing; an IAB TCF string in
/// `context.consent.tcString` grants or denies profiling and third-party
/// sharing as `kairos_core::tcf` maps it. A state already in place from the
/// same source is not recorded again (a page view carries the same string
/// every time), and a
/// TCF grant never lifts a GPC opt-out: the stricter signal wins. A string
/// that cannot be decoded is a warning; the event is kept.
async fn record_privacy_signals(
    tx: &mut Tx,
    ws: WorkspaceId,
    resolver: &Resolver<'_>,
    events: &[Event],
    received_at: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Result<(), StoreError> {
    use kairos_core::consent::{gpc_denial, on_every_channel, Channel, ConsentChange, LawfulBasis, Proof, Purpose};
    let mut seen = HashSet::new();
    for e in events {
        let gpc = e.context.get("gpc") == Some(&Value::Bool(true));
        let tc_string = e.context.get("consent").and_then(|c| c.get("tcString")).and_then(Value::as_str);
        if !gpc && tc_string.is_none() {
            continue;
        }
        let contact = resolver.survivor_of(e.contact_id).unwrap_or(e.contact_id);
        if !seen.insert((contact, gpc, tc_string.map(str::to_string))) {
            continue;
        }
        let ip = e.context.get("ip").and_then(Value::as_str).map(str::to_string);
        let user_agent = e.context.get("userAgent").and_then(Value::as_str).map(str::to_string);
        let mut wanted: Vec<ConsentChange> = Vec::new();
        if gpc {
            let proof = Proof {
                ip: ip.clone(),
                user_agent: user_agent.clone(),
                form_payload: Some(serde_json::json!({"message_id": e.message_id})),
            };
            wanted.push(gpc_denial(proof, received_at));
        }
        if let Some(raw) = tc_string {
            match kairos_core::tcf::decode(raw) {
                Err(err) => warnings.push(format!("message {}: context.consent.tcString: {err}", e.message_id)),
                Ok(tcf) => {
                    for (purpose, state) in tcf.implied() {
                        if gpc && purpose == Purpose::ThirdPartySharing {
                            continue;
                        }
                        wanted.push(ConsentChange {
                            channel: Channel::Email,
                            purpose,
                            state,
                            source: "tcf".into(),
                            lawful_basis: LawfulBasis::Consent,
                            wording: Some(tcf.wording()),
                            wording_version: Some(format!("tcf-policy-{}", tcf.policy_version)),
                            proof: Proof {
                                ip: ip.clone(),
                                user_agent: user_agent.clone(),
                                form_payload: Some(serde_json::json!({
                                    "message_id": e.message_id, "tc_string": raw, "decoded": tcf,
                                })),
                            },
                            at: received_at,
                        });
                    }
                }
            }
        }
        if wanted.is_empty() {
            continue;
        }
        let current = tx.consents_of(ws, contact).await?;
        for want in wanted {
            for change in on_every_channel(&current, &want) {
                tx.record_consent(ws, contact, &change).await?;
            }
        }
    }
    Ok(())
}
