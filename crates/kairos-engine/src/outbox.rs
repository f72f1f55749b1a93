//! The outbox: delivers the effects journeys committed (webhooks, team
//! notifications, messages) at least once, and reports each outcome back to
//! the journey runner, which records it with the run's next step in one
//! transaction — so an effect is applied exactly once even when delivered
//! twice. Webhooks are signed per Standard Webhooks with the intent's
//! idempotency key as `webhook-id`, so a receiver drops a repeat. Failures
//! on 5xx, 408, 429, timeouts and refused connections are retried with
//! exponential backoff; after the last attempt (or on any other 4xx) the
//! effect goes to the dead-letter list and the run is parked. Each endpoint
//! has a circuit breaker: after repeated failures its deliveries wait out a
//! cool-down instead of hammering a server that is down. Requests to
//! private and loopback addresses are refused unless the operator allows
//! them.

use crate::journeys::Msg;
use crate::Engine;
use kairos_core::ids::WorkspaceId;
use kairos_store::{Intent, StoreError};
use serde_json::Value;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};

/// Deliveries in flight at once.
const CONCURRENCY: usize = 64;
/// Outcomes not yet recorded by the runner beyond which nothing more is
/// dispatched.
const MAX_UNRECORDED: usize = 256;
/// Consecutive failures that open an endpoint's circuit.
const BREAKER_THRESHOLD: u32 = 5;

/// How the outbox delivers; the defaults suit production.
#[derive(Debug, Clone)]
pub struct OutboxOptions {
    /// Let webhooks reach loopback and private networks (tests, on-premises
    /// receivers). Off by default: a journey author must not be able to
    /// reach the operator's internal services.
    pub allow_private_webhooks: bool,
    /// The first retry's delay; each next one doubles it.
    pub retry_base: Duration,
    /// Attempts before an effect is dead-lettered.
    pub max_attempts: u32,
    /// How long an open circuit keeps an endpoint's deliveries waiting.
    pub breaker_cooldown: Duration,
    pub request_timeout: Duration,
}

impl Default for OutboxOptions {
    fn default() -> Self {
        OutboxOptions {
            allow_private_webhooks: false,
            retry_base: Duration::from_secs(2),
            max_attempts: 8,
            breaker_cooldown: Duration::from_secs(30),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Why a delivery did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Worth another try later.
    Transient(String),
    /// Another try would fail the same way.
    Permanent(String),
    /// Not now, and not a failure: try at this instant (ms), without
    /// counting an attempt (quiet hours in the contact's time zone).
    Later(i64),
}

#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: i64,
}

struct Done {
    intent: Intent,
    endpoint: Option<String>,
    result: Result<(), Failure>,
}

/// What the journey runner hands the outbox.
pub(crate) enum Feed {
    /// An intent just committed as pending.
    Intent(Box<Intent>),
    /// Read every pending intent from the store again (after the runner
    /// reloaded its state, some outcomes may not have been recorded).
    Rescan,
}

pub(crate) fn start(
    engine: Engine,
    runner: mpsc::UnboundedSender<Msg>,
    feed: mpsc::UnboundedReceiver<Feed>,
    options: OutboxOptions,
) {
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(options.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "the outbox cannot build its HTTP client; effects will not be delivered");
                return;
            }
        };
        let mut outbox = Outbox {
            engine,
            runner,
            options,
            client,
            breakers: HashMap::new(),
            known: HashSet::new(),
            queue: BinaryHeap::new(),
            waiting: HashMap::new(),
            next_id: 0,
            slots: Arc::new(Semaphore::new(CONCURRENCY)),
        };
        outbox.run(feed).await;
    });
}

/// The outbox keeps pending intents in memory, ordered by when they are
/// due: fed by the runner as it commits them, and read from the store on
/// start (what was pending when the process stopped) and on request. The
/// store is written only to schedule retries; the runner records outcomes.
struct Outbox {
    engine: Engine,
    runner: mpsc::UnboundedSender<Msg>,
    options: OutboxOptions,
    client: reqwest::Client,
    breakers: HashMap<(WorkspaceId, String), Breaker>,
    /// Intents queued or in flight.
    known: HashSet<(WorkspaceId, String)>,
    queue: BinaryHeap<Reverse<(i64, u64)>>,
    waiting: HashMap<u64, Intent>,
    next_id: u64,
    slots: Arc<Semaphore>,
}

impl Outbox {
    fn enqueue(&mut self, intent: Intent) {
        if !self.known.insert((intent.workspace_id, intent.key.clone())) {
            return;
        }
        self.push(intent);
    }

    fn push(&mut self, intent: Intent) {
        self.next_id += 1;
        self.queue.push(Reverse((intent.next_attempt_at, self.next_id)));
        self.waiting.insert(self.next_id, intent);
    }

    async fn rescan(&mut self) -> Result<(), StoreError> {
        let mut tx = self.engine.store().begin().await?;
        let pending = tx.due_intents(i64::MAX, i64::MAX).await?;
        tx.commit().await?;
        // Outcomes handed to the runner but not recorded are delivered again.
        let queued: HashSet<_> = self.waiting.values().map(|i| (i.workspace_id, i.key.clone())).collect();
        self.known = queued;
        for i in pending {
            self.enqueue(i);
        }
        Ok(())
    }

    async fn run(&mut self, mut feed: mpsc::UnboundedReceiver<Feed>) {
        while let Err(e) = self.rescan().await {
            tracing::error!(error = %e, "reading the outbox failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
        loop {
            self.dispatch_due(&done_tx).await;
            let now = self.engine.clock().now().timestamp_millis();
            let wait = match self.queue.peek() {
                Some(Reverse((due, _))) if self.slots.available_permits() > 0 => {
                    Duration::from_millis((*due - now).clamp(1, 1000) as u64)
                }
                _ => Duration::from_secs(1),
            };
            let mut finished = Vec::new();
            tokio::select! {
                f = feed.recv() => match f {
                    Some(f) => self.take(f).await,
                    None => return,
                },
                d = done_rx.recv() => if let Some(d) = d { finished.push(d) },
                _ = tokio::time::sleep(wait) => {}
            }
            while let Ok(f) = feed.try_recv() {
                self.take(f).await;
            }
            while let Ok(d) = done_rx.try_recv() {
                finished.push(d);
            }
            if !finished.is_empty() {
                if let Err(e) = self.settle(finished).await {
                    tracing::error!(error = %e, "recording delivery attempts failed");
                }
            }
        }
    }

    async fn take(&mut self, f: Feed) {
        match f {
            Feed::Intent(i) => self.enqueue(*i),
            Feed::Rescan => {
                if let Err(e) = self.rescan().await {
                    tracing::error!(error = %e, "reading the outbox failed");
                }
            }
        }
    }

    async fn dispatch_due(&mut self, done: &mpsc::UnboundedSender<Done>) {
        let now = self.engine.clock().now().timestamp_millis();
        let mut endpoints: HashMap<(WorkspaceId, String), Option<kairos_store::WebhookEndpoint>> = HashMap::new();
        while let Some(Reverse((due, id))) = self.queue.peek().copied() {
            if due > now
                || self.slots.available_permits() == 0
                || self.engine.inner.unrecorded.load(std::sync::atomic::Ordering::Relaxed) >= MAX_UNRECORDED
            {
                break;
            }
            self.queue.pop();
            let Some(intent) = self.waiting.remove(&id) else { continue };
            let endpoint_id = intent.payload.get("endpoint").and_then(Value::as_str).map(str::to_string);
            if let Some(eid) = &endpoint_id {
                let b = self.breakers.entry((intent.workspace_id, eid.clone())).or_default();
                if b.open_until > now {
                    let mut later = intent;
                    later.next_attempt_at = b.open_until;
                    self.push(later);
                    continue;
                }
                let key = (intent.workspace_id, eid.clone());
                if !endpoints.contains_key(&key) {
                    let found = match self.engine.store().begin().await {
                        Ok(mut tx) => {
                            let e = tx.webhook_endpoint(intent.workspace_id, eid).await;
                            let _ = tx.commit().await;
                            e
                        }
                        Err(e) => Err(e),
                    };
                    match found {
                        Ok(e) => {
                            endpoints.insert(key.clone(), e);
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "reading a webhook endpoint failed");
                            let mut later = intent;
                            later.next_attempt_at = now + 1000;
                            self.push(later);
                            continue;
                        }
                    }
                }
            }
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                self.push(intent);
                break;
            };
            let endpoint = endpoint_id
                .as_ref()
                .and_then(|eid| endpoints.get(&(intent.workspace_id, eid.clone())).cloned().flatten());
            let client = self.client.clone();
            let allow_private = self.options.allow_private_webhooks;
            let done = done.clone();
            // Receivers check the timestamp against their own clock (replay
            // protection), so it is the wall clock, not the engine's.
            let now_s = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(now / 1000);
            let engine = self.engine.clone();
            tokio::spawn(async move {
                let result = match (intent.kind.as_str(), &endpoint_id) {
                    ("webhook", _) | ("notify", Some(_)) => match &endpoint {
                        Some(e) => match engine.inner.master_key.open(&e.secret) {
                            Ok(secret) => {
                                let body = intent.payload.get("body").cloned().unwrap_or(Value::Null);
                                post_webhook(&client, &e.url, &secret, &intent.key, now_s, &body, allow_private).await
                            }
                            Err(err) => Err(Failure::Permanent(format!("endpoint \"{}\": {err}", e.id))),
                        },
                        None => Err(Failure::Permanent(format!(
                            "webhook endpoint \"{}\" no longer exists",
                            endpoint_id.as_deref().unwrap_or_default()
                        ))),
                    },
                    ("notify", None) => notify_by_email(&engine, &intent).await,
                    ("send", _) => send_message(&engine, &intent).await,
                    (other, _) => Err(Failure::Permanent(format!("unknown effect kind \"{other}\""))),
                };
                drop(permit);
                let _ = done.send(Done { intent, endpoint: endpoint_id, result });
            });
        }
    }

    /// Record attempts: successes and final failures go to the runner (one
    /// transaction with the run's next step); retries are scheduled here.
    async fn settle(&mut self, finished: Vec<Done>) -> Result<(), StoreError> {
        let now = self.engine.clock().now().timestamp_millis();
        let mut retries = Vec::new();
        for d in finished {
            let ws = d.intent.workspace_id;
            if let Some(id) = &d.endpoint {
                let b = self.breakers.entry((ws, id.clone())).or_default();
                match &d.result {
                    Ok(()) => *b = Breaker::default(),
                    Err(Failure::Transient(_)) => {
                        b.failures += 1;
                        if b.failures >= BREAKER_THRESHOLD {
                            b.open_until = now + self.options.breaker_cooldown.as_millis() as i64;
                            tracing::warn!(endpoint = %id, "webhook endpoint keeps failing; pausing its deliveries");
                        }
                    }
                    Err(Failure::Permanent(_)) | Err(Failure::Later(_)) => {}
                }
            }
            let attempts = d.intent.attempts + 1;
            let result = match d.result {
                Ok(()) => Ok(()),
                Err(Failure::Later(at)) => {
                    let mut again = d.intent;
                    again.next_attempt_at = at;
                    again.last_error = Some("held until quiet hours end in the contact's time zone".into());
                    retries.push(again);
                    continue;
                }
                Err(Failure::Transient(e)) if attempts < self.options.max_attempts as i64 => {
                    let delay = self.options.retry_base.as_millis() as i64 * (1i64 << (attempts - 1).min(20));
                    let mut again = d.intent;
                    again.attempts = attempts;
                    again.next_attempt_at = now + delay;
                    again.last_error = Some(e);
                    retries.push(again);
                    continue;
                }
                Err(Failure::Transient(e)) => Err(format!("gave up after {attempts} attempts: {e}")),
                Err(Failure::Permanent(e)) => Err(e),
            };
            self.known.remove(&(ws, d.intent.key.clone()));
            self.engine.inner.unrecorded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let _ = self.runner.send(Msg::Delivered { ws, key: d.intent.key, attempts, result });
        }
        if !retries.is_empty() {
            let mut tx = self.engine.store().begin_write().await?;
            for i in &retries {
                let a = kairos_store::Attempt {
                    status: "pending",
                    attempts: i.attempts,
                    next_attempt_at: i.next_attempt_at,
                    last_error: i.last_error.as_deref(),
                    done_at: None,
                };
                tx.set_intent_state(i.workspace_id, &i.key, &a).await?;
            }
            tx.commit().await?;
            for i in retries {
                self.push(i);
            }
        }
        Ok(())
    }
}

/// Deliver a journey's send intent through its channel.
async fn send_message(engine: &Engine, intent: &Intent) -> Result<(), Failure> {
    use crate::email::{EmailError, EmailOutcome, EmailRequest};
    let p = &intent.payload;
    let channel = p.get("channel").and_then(Value::as_str).unwrap_or("email");
    if channel != "email" {
        return Err(Failure::Permanent(format!("the {channel} channel is not available yet; only email is")));
    }
    let Some(contact) = p.get("contact").and_then(Value::as_str).and_then(|c| c.parse().ok()) else {
        return Err(Failure::Permanent("the send intent names no contact".into()));
    };
    let journey = p.get("journey").and_then(|j| j.get("id")).and_then(Value::as_str).unwrap_or_default();
    // The event that started the run: its properties personalise the message.
    let event = match p.get("trigger_seq").and_then(Value::as_i64) {
        Some(seq) => {
            let mut tx = engine.store().begin().await.map_err(|e| Failure::Transient(e.to_string()))?;
            let e = tx.event_at(intent.workspace_id, seq).await.map_err(|e| Failure::Transient(e.to_string()))?;
            let _ = tx.commit().await;
            e.map(|e| serde_json::json!({"name": e.name, "timestamp": e.timestamp.to_rfc3339(), "properties": e.properties}))
        }
        None => None,
    };
    let req = EmailRequest {
        id: crate::email::message_id_for_intent(intent.workspace_id, &intent.key),
        contact: kairos_core::ids::ContactId(contact),
        template: p.get("template").and_then(Value::as_str).unwrap_or_default().to_string(),
        sender: p.get("sender").and_then(Value::as_str).map(str::to_string),
        transactional: p.get("transactional").and_then(Value::as_bool).unwrap_or(false),
        event,
        source: format!("journey:{journey}"),
        intent_key: Some(intent.key.clone()),
        to_override: None,
        can_delay: true,
        utm_campaign: p.get("journey_name").and_then(Value::as_str).map(str::to_string),
    };
    match engine.send_email(intent.workspace_id, req).await {
        Ok(EmailOutcome::Delayed { until }) => Err(Failure::Later(until)),
        Ok(outcome) => {
            tracing::debug!(key = %intent.key, ?outcome, "journey email handled");
            Ok(())
        }
        Err(EmailError::Transient(e)) => Err(Failure::Transient(e)),
        Err(EmailError::Store(e)) => Err(Failure::Transient(e.to_string())),
        Err(e) => Err(Failure::Permanent(e.to_string())),
    }
}

/// A journey's notify node addressed to a team member's email.
async fn notify_by_email(engine: &Engine, intent: &Intent) -> Result<(), Failure> {
    use crate::email::EmailError;
    let p = &intent.payload;
    let Some(to) = p.get("email").and_then(Value::as_str) else {
        return Err(Failure::Permanent("the notification names neither an email address nor an endpoint".into()));
    };
    let data = p.get("body").and_then(|b| b.get("data")).cloned().unwrap_or(Value::Null);
    let message = data.get("message").and_then(Value::as_str).unwrap_or_default();
    let who = data.get("contact").and_then(|c| c.get("email")).and_then(Value::as_str).unwrap_or("a contact");
    let text =
        format!("{message}\n\nContact: {who}\nJourney: {}\n", data.get("journey").cloned().unwrap_or(Value::Null));
    let id = crate::email::message_id_for_intent(intent.workspace_id, &intent.key);
    match engine.send_notification_email(intent.workspace_id, id, to, &format!("[Kairos] {message}"), &text).await {
        Ok(()) => Ok(()),
        Err(EmailError::Transient(e)) => Err(Failure::Transient(e)),
        Err(EmailError::Store(e)) => Err(Failure::Transient(e.to_string())),
        Err(e) => Err(Failure::Permanent(e.to_string())),
    }
}

/// Check that a webhook URL is one the outbox may call.
pub(crate) async fn check_url(url: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("a webhook URL must start with https:// (or http://)".into());
    }
    let host = parsed.host_str().ok_or("the URL has no host")?.to_string();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let host_lookup = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let addrs: Vec<_> = tokio::net::lookup_host((host_lookup.as_str(), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    if !allow_private {
        if let Some(a) = addrs.iter().find(|a| kairos_core::webhook::is_private(a.ip())) {
            return Err(format!(
                "{host} resolves to {}, a private or loopback address; the operator must allow private webhooks \
                 (kairos serve --allow-private-webhooks) to call it",
                a.ip()
            ));
        }
    }
    Ok(parsed)
}

async fn post_webhook(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &Value,
    allow_private: bool,
) -> Result<(), Failure> {
    let url = check_url(url, allow_private).await.map_err(|e| {
        if e.starts_with("cannot resolve") {
            Failure::Transient(e)
        } else {
            Failure::Permanent(e)
        }
    })?;
    let bytes = serde_json::to_vec(body).map_err(|e| Failure::Permanent(e.to_string()))?;
    let signature =
        kairos_core::webhook::sign(secret, id, timestamp, &bytes).map_err(|e| Failure::Permanent(e.to_string()))?;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(bytes)
        .send()
        .await
        .map_err(|e| Failure::Transient(format!("request failed: {e}")))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else if status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429 {
        Err(Failure::Transient(format!("the endpoint answered {status}")))
    } else {
        Err(Failure::Permanent(format!("the endpoint answered {status}")))
    }
}
