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

use crate::journeys::{Msg, OutboxBell};
use crate::Engine;
use kairos_core::ids::WorkspaceId;
use kairos_store::{Intent, StoreError};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};

/// Deliveries in flight at once.
const CONCURRENCY: usize = 64;
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

pub(crate) fn start(engine: Engine, runner: mpsc::UnboundedSender<Msg>, bell: OutboxBell, options: OutboxOptions) {
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
            in_flight: HashSet::new(),
            settling: HashMap::new(),
            slots: Arc::new(Semaphore::new(CONCURRENCY)),
        };
        outbox.run(bell).await;
    });
}

struct Outbox {
    engine: Engine,
    runner: mpsc::UnboundedSender<Msg>,
    options: OutboxOptions,
    client: reqwest::Client,
    breakers: HashMap<(WorkspaceId, String), Breaker>,
    in_flight: HashSet<(WorkspaceId, String)>,
    /// Effects whose outcome went to the runner but may not be committed
    /// yet; not dispatched again unless the runner never records them.
    settling: HashMap<(WorkspaceId, String), std::time::Instant>,
    slots: Arc<Semaphore>,
}

/// How long an outcome handed to the runner may stay unrecorded before
/// the effect is delivered again.
const SETTLE_GRACE: Duration = Duration::from_secs(60);

impl Outbox {
    async fn run(&mut self, bell: OutboxBell) {
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
        loop {
            if let Err(e) = self.dispatch_due(&done_tx).await {
                tracing::error!(error = %e, "reading the outbox failed");
            }
            let mut finished = Vec::new();
            tokio::select! {
                _ = bell.notified() => {}
                d = done_rx.recv() => if let Some(d) = d { finished.push(d) },
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
            while let Ok(d) = done_rx.try_recv() {
                finished.push(d);
            }
            if !finished.is_empty() {
                if let Err(e) = self.settle(finished).await {
                    tracing::error!(error = %e, "recording delivery attempts failed");
                }
            }
            if self.runner.is_closed() {
                return;
            }
        }
    }

    async fn dispatch_due(&mut self, done: &mpsc::UnboundedSender<Done>) -> Result<(), StoreError> {
        let now = self.engine.clock().now().timestamp_millis();
        let free = self.slots.available_permits();
        if free == 0 {
            return Ok(());
        }
        let mut tx = self.engine.store().begin().await?;
        let due = tx.due_intents(now, (CONCURRENCY * 4) as i64).await?;
        let mut endpoints = HashMap::new();
        for i in &due {
            if let Some(id) = i.payload.get("endpoint").and_then(Value::as_str) {
                if !endpoints.contains_key(&(i.workspace_id, id.to_string())) {
                    let e = tx.webhook_endpoint(i.workspace_id, id).await?;
                    endpoints.insert((i.workspace_id, id.to_string()), e);
                }
            }
        }
        tx.commit().await?;
        self.settling.retain(|_, at| at.elapsed() < SETTLE_GRACE);
        for intent in due {
            let flight = (intent.workspace_id, intent.key.clone());
            if self.in_flight.contains(&flight) || self.settling.contains_key(&flight) {
                continue;
            }
            let endpoint_id = intent.payload.get("endpoint").and_then(Value::as_str).map(str::to_string);
            if let Some(id) = &endpoint_id {
                let b = self.breakers.entry((intent.workspace_id, id.clone())).or_default();
                if b.open_until > now {
                    continue;
                }
            }
            let Ok(permit) = self.slots.clone().try_acquire_owned() else { break };
            self.in_flight.insert(flight);
            let endpoint = endpoint_id
                .as_ref()
                .and_then(|id| endpoints.get(&(intent.workspace_id, id.clone())).cloned().flatten());
            let client = self.client.clone();
            let allow_private = self.options.allow_private_webhooks;
            let done = done.clone();
            // Receivers check the timestamp against their own clock (replay
            // protection), so it is the wall clock, not the engine's.
            let now_s = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(now / 1000);
            tokio::spawn(async move {
                let result = match (intent.kind.as_str(), &endpoint_id) {
                    ("webhook", _) | ("notify", Some(_)) => match &endpoint {
                        Some(e) => {
                            let body = intent.payload.get("body").cloned().unwrap_or(Value::Null);
                            post_webhook(&client, &e.url, &e.secret, &intent.key, now_s, &body, allow_private).await
                        }
                        None => Err(Failure::Permanent(format!(
                            "webhook endpoint \"{}\" no longer exists",
                            endpoint_id.as_deref().unwrap_or_default()
                        ))),
                    },
                    _ => Err(Failure::Permanent(
                        "no email channel is configured on this server yet; the message was not sent".into(),
                    )),
                };
                drop(permit);
                let _ = done.send(Done { intent, endpoint: endpoint_id, result });
            });
        }
        Ok(())
    }

    /// Record attempts: successes and final failures go to the runner (one
    /// transaction with the run's next step); retries are scheduled here.
    async fn settle(&mut self, finished: Vec<Done>) -> Result<(), StoreError> {
        let now = self.engine.clock().now().timestamp_millis();
        let mut retries = Vec::new();
        for d in finished {
            let ws = d.intent.workspace_id;
            self.in_flight.remove(&(ws, d.intent.key.clone()));
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
                    Err(Failure::Permanent(_)) => {}
                }
            }
            let attempts = d.intent.attempts + 1;
            let result = match d.result {
                Ok(()) => Ok(()),
                Err(Failure::Transient(e)) if attempts < self.options.max_attempts as i64 => {
                    let delay = self.options.retry_base.as_millis() as i64 * (1i64 << (attempts - 1).min(20));
                    retries.push((ws, d.intent.key, attempts, now + delay, e));
                    continue;
                }
                Err(Failure::Transient(e)) => Err(format!("gave up after {attempts} attempts: {e}")),
                Err(Failure::Permanent(e)) => Err(e),
            };
            self.settling.insert((ws, d.intent.key.clone()), std::time::Instant::now());
            let _ = self.runner.send(Msg::Delivered { ws, key: d.intent.key, result });
        }
        if !retries.is_empty() {
            let mut tx = self.engine.store().begin_write().await?;
            for (ws, key, attempts, next, error) in &retries {
                tx.set_intent_state(*ws, key, "pending", *attempts, *next, Some(error), None).await?;
            }
            tx.commit().await?;
        }
        Ok(())
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
