//! The Kairos runtime.
//!
//! [`Engine`] owns the write path into the store: tracked messages are
//! resolved to contacts (identity resolution, merges), appended to the event
//! log and applied to profiles, all in one transaction per commit group, and
//! acknowledged only after that transaction has committed. Contact writes
//! from the REST API and imports go through the same engine so the identity
//! cache it keeps never disagrees with the store.

mod campaigns;
mod consent_texts;
mod contacts;
mod conversion;
mod email;
mod fairness;
mod forms;
mod identity;
mod ingest;
mod journey_starts;
mod journeys;
mod models;
mod outbox;
mod predictions;
mod profile;
mod relays;
pub mod reports;
mod scores;
mod segments;
mod send_time;
pub mod smtp;
mod splits;

pub use campaigns::CampaignError;
pub use consent_texts::{ConsentTextError, FormUsingText};
pub use contacts::{ContactWriteError, UpsertKey};
pub use conversion::{ContactConversion, ConversionError, ConversionRequest, ConversionVersion};
pub use email::{
    check_smtp_url, message_id_for_intent, EmailError, EmailOptions, EmailOutcome, EmailRequest, EmailTransport,
    EmailTransportView, NewSender,
};
pub use fairness::AuditRequest;
pub use forms::{Confirmed, FormRequest, FormsError, OpenConfirmation, SubmitOutcome, BUILTIN_CONFIRMATION};
pub use ingest::{IngestError, IngestReport};
pub use journeys::{DryRunStep, EdgeCount, JourneyApiError, JourneyMetrics, JourneyRunError};
pub use models::{ClvModel, ContactClv, ModelError, CLUSTER_FEATURES};
pub use outbox::OutboxOptions;
pub use relays::{RelayChange, RelayError, WorkspaceRelayView, FORBIDDEN as RELAY_FORBIDDEN};
pub use scores::{ContactScoreView, ScoreApiError};
pub use segments::{SegmentError, SegmentPreview, SegmentStatus};
pub use splits::{ArmView, SplitState};

use kairos_core::clock::Clock;
use kairos_core::fields::FieldType;
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, Mutex};

/// Which identifier of a contact a cache entry is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum IdKind {
    /// The customer's user id (`external_id`).
    User,
    /// An anonymous id or an alias.
    Alt,
}

/// What the engine remembers about a known identifier.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Known {
    pub contact: ContactId,
    /// Whether the contact has an external id (is a known person).
    pub identified: bool,
}

/// State only the writer may touch; holding its lock is the permission to
/// write contacts.
#[derive(Default)]
pub(crate) struct WriterState {
    pub identities: HashMap<(WorkspaceId, IdKind, String), Known>,
    pub fields: HashMap<WorkspaceId, HashMap<String, FieldType>>,
    pub company_fields: HashMap<WorkspaceId, HashMap<String, FieldType>>,
}

/// Entries kept in the identity cache before it is reset.
const IDENTITY_CACHE_LIMIT: usize = 2_000_000;

impl WriterState {
    /// Forget everything; called when a transaction fails, since the cache
    /// may hold entries that were never committed.
    pub fn reset(&mut self) {
        self.identities.clear();
        self.fields.clear();
        self.company_fields.clear();
    }

    pub fn remember(&mut self, ws: WorkspaceId, kind: IdKind, value: &str, known: Known) {
        if self.identities.len() >= IDENTITY_CACHE_LIMIT {
            self.identities.clear();
        }
        self.identities.insert((ws, kind, value.to_string()), known);
    }

    pub fn forget_contact(&mut self, contact: ContactId) {
        self.identities.retain(|_, k| k.contact != contact);
    }
}

pub(crate) struct Inner {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub state: Mutex<WriterState>,
    pub jobs: mpsc::Sender<ingest::Job>,
    pub hub: segments::Hub,
    pub segments: mpsc::UnboundedSender<segments::Msg>,
    pub latencies: segments::Latencies,
    pub journeys: mpsc::UnboundedSender<journeys::Msg>,
    pub journey_latencies: journeys::Latencies,
    pub commit_times: journeys::CommitTimes,
    /// Runs the writer starts in the transaction of their trigger.
    pub starts: journey_starts::Starts,
    pub outbox: OutboxOptions,
    /// Delivery outcomes the outbox handed to the journey runner that are
    /// not committed yet; the outbox stops dispatching while there are many,
    /// so a crash repeats few deliveries.
    pub unrecorded: std::sync::atomic::AtomicUsize,
    pub email: email::EmailChannel,
    /// Score definitions per workspace as scoring applies them; dropped
    /// when one is saved or a write fails.
    pub scores: std::sync::Mutex<HashMap<WorkspaceId, Arc<scores::WorkspaceScores>>>,
    /// Each workspace's engagement pattern by local hour, and when it was read.
    pub send_hours: std::sync::Mutex<HashMap<WorkspaceId, (i64, kairos_ml::send_time::HourCounts)>>,
    /// The task keeping conversion probabilities current (servers only).
    pub predictions: Option<mpsc::UnboundedSender<predictions::Msg>>,
    /// Seals DKIM keys and webhook secrets at rest.
    pub master_key: kairos_core::secrets::MasterKey,
    /// Contacts with newly stored events, after each commit, for whoever
    /// watches (a contact page's live timeline). Nothing is collected while
    /// nobody listens.
    pub activity: tokio::sync::broadcast::Sender<(WorkspaceId, ContactId)>,
}

/// How the engine runs; the defaults suit a server.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub outbox: OutboxOptions,
    /// Run journeys (the runner and the outbox), campaigns and double opt-in
    /// reminders. One-off commands turn this off: a server may be running on
    /// the same store, and two runners would both act on the same runs.
    pub journeys: bool,
    pub email: EmailOptions,
    /// The key stored secrets are sealed with. The default is a fresh key
    /// per process (tests); a server passes its persistent one.
    pub master_key: kairos_core::secrets::MasterKey,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            outbox: OutboxOptions::default(),
            journeys: true,
            email: EmailOptions::default(),
            master_key: kairos_core::secrets::MasterKey::generate(),
        }
    }
}

/// The runtime handle; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

/// Apply every workspace's retention policy once an hour (the first run a
/// minute after start).
async fn run_retention_hourly(engine: Engine) {
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        let workspaces = async {
            let mut tx = engine.store().begin().await?;
            let ws = tx.workspaces_with_retention().await?;
            tx.commit().await?;
            Ok::<_, kairos_store::StoreError>(ws)
        }
        .await;
        match workspaces {
            Ok(list) => {
                for ws in list {
                    match engine.run_retention(ws).await {
                        Ok(Some(r)) => tracing::info!(workspace = %ws, ?r, "retention applied"),
                        Ok(None) => {}
                        Err(e) => tracing::error!(workspace = %ws, error = %e, "retention failed"),
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "listing retention policies failed"),
        }
        if engine.inner.jobs.is_closed() {
            return;
        }
    }
}

/// Every few seconds, have the writer re-level scores that decay has taken
/// below a threshold (and log the crossings); first resume recomputes a stop
/// interrupted.
async fn sweep_score_drops(engine: Engine) {
    if let Err(e) = engine.resume_score_recomputes().await {
        tracing::error!(error = %e, "resuming score recomputes failed");
    }
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        every.tick().await;
        if engine.inner.jobs.send(ingest::Job::ScoreDrops).await.is_err() {
            return;
        }
    }
}

impl Engine {
    /// Start the engine's writer on the current tokio runtime.
    pub fn start(store: Store, clock: Arc<dyn Clock>) -> Engine {
        Engine::start_with(store, clock, EngineOptions::default())
    }

    /// Start the engine for a one-off command: everything but journeys,
    /// which belong to the server.
    pub fn start_offline(store: Store, clock: Arc<dyn Clock>) -> Engine {
        Engine::start_with(store, clock, EngineOptions { journeys: false, ..EngineOptions::default() })
    }

    /// Start the engine with explicit options.
    pub fn start_with(store: Store, clock: Arc<dyn Clock>, options: EngineOptions) -> Engine {
        let (tx, rx) = mpsc::channel(1024);
        let (journeys_tx, journeys_rx) = mpsc::unbounded_channel();
        let journey_latencies = journeys::Latencies::default();
        let hub = segments::Hub::default();
        let latencies = segments::Latencies::default();
        let (predictions_tx, predictions_rx) = mpsc::unbounded_channel();
        let seg_tx = segments::start(store.clone(), clock.clone(), hub.clone(), latencies.clone(), tx.clone());
        let inner = Arc::new(Inner {
            store,
            clock,
            state: Mutex::new(WriterState::default()),
            jobs: tx,
            hub,
            segments: seg_tx,
            latencies,
            journeys: journeys_tx.clone(),
            journey_latencies: journey_latencies.clone(),
            commit_times: Default::default(),
            starts: Default::default(),
            outbox: options.outbox.clone(),
            unrecorded: Default::default(),
            email: email::EmailChannel::new(options.email.clone()),
            master_key: options.master_key.clone(),
            scores: Default::default(),
            send_hours: Default::default(),
            predictions: options.journeys.then_some(predictions_tx),
            activity: tokio::sync::broadcast::channel(4096).0,
        });
        tokio::spawn(ingest::run_writer(inner.clone(), rx));
        let engine = Engine { inner };
        if options.journeys {
            let (outbox_tx, outbox_rx) = mpsc::unbounded_channel();
            journeys::start(engine.clone(), journeys_rx, journey_latencies, outbox_tx);
            outbox::start(engine.clone(), journeys_tx, outbox_rx, options.outbox);
            campaigns::start(engine.clone());
            forms::start(engine.clone());
            predictions::start(engine.clone(), predictions_rx);
        }
        tokio::spawn(run_retention_hourly(engine.clone()));
        tokio::spawn(sweep_score_drops(engine.clone()));
        engine
    }

    /// The address recipients and browsers reach this server at.
    pub fn public_url(&self) -> &str {
        &self.email().options.public_url
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.inner.clock
    }
}

impl Engine {
    /// Every contact that gets new events, as `(workspace, contact)`, once
    /// per commit that stored them. A receiver that falls behind gets
    /// `Lagged` and should treat every contact as changed.
    pub fn contact_activity(&self) -> tokio::sync::broadcast::Receiver<(WorkspaceId, ContactId)> {
        self.inner.activity.subscribe()
    }
}
