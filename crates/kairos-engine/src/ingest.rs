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
use kairos_store::{StoreError, Tx};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;
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

pub(crate) struct Job {
    ws: WorkspaceId,
    messages: Vec<TrackingMessage>,
    received_at: DateTime<Utc>,
    reply: oneshot::Sender<Result<IngestReport, IngestError>>,
}

impl Engine {
    /// Append a validated batch to the log; returns once it is durable.
    pub async fn ingest(&self, ws: WorkspaceId, messages: Vec<TrackingMessage>) -> Result<IngestReport, IngestError> {
        let (reply, rx) = oneshot::channel();
        let job = Job { ws, messages, received_at: self.inner.clock.now(), reply };
        self.inner.jobs.send(job).await.map_err(|_| IngestError::ShuttingDown)?;
        rx.await.map_err(|_| IngestError::ShuttingDown)?
    }
}

pub(crate) async fn run_writer(inner: Arc<Inner>, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        let mut size = group[0].messages.len();
        while size < GROUP_MESSAGES {
            match rx.try_recv() {
                Ok(job) => {
                    size += job.messages.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        let mut state = inner.state.lock().await;
        match commit_group(&inner, &mut state, &group).await {
            Ok(reports) => {
                for (job, report) in group.into_iter().zip(reports) {
                    let _ = job.reply.send(Ok(report));
                }
            }
            Err(e) if group.len() == 1 => {
                state.reset();
                tracing::error!(error = %e, "ingest transaction failed");
                let _ = group.pop().map(|job| job.reply.send(Err(e.into())));
            }
            Err(e) => {
                state.reset();
                tracing::warn!(error = %e, jobs = group.len(), "group commit failed; retrying each batch alone");
                for job in group {
                    let result = commit_group(&inner, &mut state, std::slice::from_ref(&job)).await;
                    if result.is_err() {
                        state.reset();
                    }
                    let _ = job.reply.send(result.map(|mut r| r.pop().unwrap_or_default()).map_err(Into::into));
                }
            }
        }
    }
}

async fn commit_group(inner: &Inner, state: &mut WriterState, group: &[Job]) -> Result<Vec<IngestReport>, StoreError> {
    let mut tx = inner.store.begin_write().await?;
    let mut reports = Vec::with_capacity(group.len());
    let mut live = Vec::new();
    for job in group {
        reports.push(apply_job(&mut tx, state, job, &mut live).await?);
    }
    let touched = tx.commit().await?;
    if !touched.is_empty() || !live.is_empty() {
        let at = std::time::Instant::now();
        let _ = inner.segments.send(crate::segments::Msg::Committed { touched, events: live, at });
    }
    Ok(reports)
}

async fn apply_job(
    tx: &mut Tx,
    state: &mut WriterState,
    job: &Job,
    live: &mut Vec<LiveEvent>,
) -> Result<IngestReport, StoreError> {
    let ids: Vec<&str> = job.messages.iter().map(|m| m.message_id.as_str()).collect();
    let mut seen: HashSet<String> = tx.existing_message_ids(job.ws, &ids).await?;
    let mut report = IngestReport::default();
    let mut resolver = Resolver::new(state, job.ws, job.received_at);
    let mut events = Vec::with_capacity(job.messages.len());
    let mut profile_updates = Vec::new();
    for m in &job.messages {
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
            workspace_id: job.ws,
            contact_id: contact,
            kind: m.kind,
            name: m.name.clone(),
            message_id: m.message_id.clone(),
            user_id: m.user_id.clone(),
            anonymous_id: m.anonymous_id.clone(),
            properties,
            context: Value::Object(m.context.clone()),
            timestamp: m.timestamp,
            received_at: job.received_at,
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
