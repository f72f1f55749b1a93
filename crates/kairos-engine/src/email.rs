//! The email channel at run time: for one contact and template, pass the
//! gate (suppression, consent, caps, quiet hours), render, add the footer a
//! marketing email must carry, rewrite links for click tracking, add the
//! open pixel, compose, DKIM-sign with the sender identity's key, record the
//! message, and hand it to the transport — SMTP (lettre, pooled, with
//! per-domain concurrency and rate limits) or the capture transport that
//! keeps every message for viewing instead of sending. Each send is keyed
//! by a message id the caller fixes (journeys derive it from the outbox
//! intent), so a repeated delivery finds the message already recorded and
//! does not send it twice. Sends, bounces, opens, clicks, unsubscribes and
//! complaints are written to the event log against the contact.

use crate::relays::Route;
use crate::smtp::{SmtpFailure, SmtpRelay};
use crate::Engine;
use kairos_core::consent::{Channel, ConsentChange, ConsentState, LawfulBasis, Proof, Purpose};
use kairos_core::gate::{self, ContactFacts, Decision, SendIntent, SuppressionReason};
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_email::dkim::{Algorithm, Signer};
use kairos_email::message::{self, Outgoing, Sender, Unsubscribe};
use kairos_email::template::{self, BodyFormat, Problem, Schema, Template, TemplateSource};
use kairos_email::tracking;
use kairos_store::{MessageRecord, SenderRecord, StoreError, TemplateRecord};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Where messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailTransport {
    /// Not configured: sends fail with an error saying so.
    Disabled,
    /// Keep every message in the store (viewable through the API and UI)
    /// and send nothing: for the embedded default and the demo.
    Capture,
    /// An SMTP relay, as a lettre URL: `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS required), `smtps://user:pass@host:465` (TLS from the
    /// start), `smtp://host:25?tls=opportunistic`, or plain `smtp://host:port`
    /// (no TLS: only for a relay on the same machine or a test server).
    Smtp(String),
}

impl EmailTransport {
    /// What the operator chose, by the name the API uses.
    pub fn kind(&self) -> &'static str {
        match self {
            EmailTransport::Disabled => "disabled",
            EmailTransport::Capture => "capture",
            EmailTransport::Smtp(_) => "smtp",
        }
    }
}

/// Check an SMTP URL before starting (the operator sees a bad one at once).
pub fn check_smtp_url(url: &str) -> Result<(), String> {
    SmtpRelay::from_url(url, 1).map(|_| ())
}

/// How a workspace's email leaves this server: through the workspace's own
/// relay when it has set one, otherwise as the operator started the server
/// (`--email-transport`, `--smtp-url` and friends).
#[derive(Debug, Clone, serde::Serialize)]
pub struct EmailTransportView {
    /// `disabled`, `capture` (kept in the store, nothing sent) or `smtp`.
    pub kind: &'static str,
    /// `workspace` (its own relay) or `server` (the operator's transport).
    pub source: &'static str,
    /// The operator's transport, which applies without a workspace relay.
    pub server_kind: &'static str,
    pub workspace_relay: Option<crate::relays::WorkspaceRelayView>,
    pub relay: Option<crate::smtp::RelayInfo>,
    /// What keeps email from going out, if anything.
    pub problem: Option<String>,
    pub public_url: String,
    pub per_domain_concurrency: usize,
    pub per_domain_rate: Option<f64>,
    pub pool_size: u32,
    /// Whether an extra CA certificate is trusted for the relay.
    pub extra_ca: bool,
    /// Whether the operator lets workspaces send through their own relay.
    pub workspace_relays_allowed: bool,
}

#[derive(Debug, Clone)]
pub struct EmailOptions {
    pub transport: EmailTransport,
    /// Base URL of this server as recipients reach it (tracking and
    /// unsubscribe links), without a trailing slash.
    pub public_url: String,
    /// Connections at once per recipient domain.
    pub per_domain_concurrency: usize,
    /// Messages per second per recipient domain (`None`: unlimited).
    pub per_domain_rate: Option<f64>,
    /// SMTP connections kept open.
    pub pool_size: u32,
    /// Extra CA certificate(s), PEM, to trust for the SMTP relay.
    pub smtp_ca_pem: Option<Vec<u8>>,
    /// Let workspace relays be on loopback or private-network addresses
    /// (refused by default: a workspace admin must not reach the server's
    /// own network through them).
    pub allow_private_relays: bool,
    /// Refuse workspaces their own SMTP relay: every send takes the
    /// operator's transport (a demo or test server that captures email
    /// must not start sending real mail because a workspace saved a relay).
    pub forbid_workspace_relays: bool,
}

impl Default for EmailOptions {
    fn default() -> Self {
        EmailOptions {
            transport: EmailTransport::Disabled,
            public_url: "http://127.0.0.1:8080".into(),
            per_domain_concurrency: 8,
            per_domain_rate: None,
            pool_size: 16,
            smtp_ca_pem: None,
            allow_private_relays: false,
            forbid_workspace_relays: false,
        }
    }
}

/// What a send is asked to do.
#[derive(Debug, Clone)]
pub struct EmailRequest {
    /// The message id; the same id means the same message.
    pub id: uuid::Uuid,
    pub contact: ContactId,
    /// Template id or name.
    pub template: String,
    /// Sender identity id; the workspace default when `None`.
    pub sender: Option<String>,
    pub transactional: bool,
    /// The triggering event: `{name, timestamp, properties}`.
    pub event: Option<Value>,
    /// `journey:<id>`, `api`, `test`, `campaign:<id>`.
    pub source: String,
    pub intent_key: Option<String>,
    /// Send to this address instead of the contact's (test sends; the gate
    /// is then applied as for a transactional message).
    pub to_override: Option<String>,
    /// The caller can hold the message until quiet hours end.
    pub can_delay: bool,
    /// UTM campaign name for links (`None`: no UTM parameters).
    pub utm_campaign: Option<String>,
}

/// What became of a send.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum EmailOutcome {
    /// Accepted by the SMTP server, or kept by the capture transport.
    Sent { message_id: String, status: String },
    /// The gate refused it (recorded with the reason).
    Refused { message_id: String, reason: String },
    /// The template cannot personalise for this contact (recorded).
    Skipped { message_id: String, reason: String },
    /// Quiet hours: try again at this instant (ms).
    Delayed { until: i64 },
    /// The SMTP server refused permanently: a hard bounce; suppressed.
    Bounced { message_id: String, reason: String },
    /// This message was handled before; nothing was sent again.
    Repeat { message_id: String, status: String },
}

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// The template does not check (for previews and saves).
    #[error("the template has problems")]
    Template(Vec<Problem>),
    /// Worth trying again later (SMTP 4xx, connection failures).
    #[error("temporary delivery failure: {0}")]
    Transient(String),
    /// Trying again would fail the same way.
    #[error("{0}")]
    Permanent(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Compiled templates by workspace and id, with the `updated_at` and
/// schema hash they were compiled at.
type CompiledTemplates = HashMap<(WorkspaceId, String), (i64, u64, Arc<Template>)>;

/// A sender identity to create.
#[derive(Debug, Clone)]
pub struct NewSender {
    pub name: Option<String>,
    pub email: String,
    pub reply_to: Option<String>,
    pub dkim_selector: String,
    pub algorithm: Algorithm,
    pub is_default: bool,
}

struct Domain {
    slots: Arc<Semaphore>,
    next_slot_ms: Mutex<i64>,
}

/// The email channel's shared state.
pub(crate) struct EmailChannel {
    pub options: EmailOptions,
    smtp: Option<Arc<SmtpRelay>>,
    /// Workspace relays in use, with the stored row they were built from
    /// (a new save always differs: its sealed password has a fresh nonce).
    workspace_relays: Mutex<HashMap<WorkspaceId, (kairos_store::RelayRecord, Arc<SmtpRelay>)>>,
    templates: Mutex<CompiledTemplates>,
    signers: Mutex<HashMap<(WorkspaceId, String), Arc<Signer>>>,
    domains: Mutex<HashMap<String, Arc<Domain>>>,
}

impl EmailChannel {
    pub fn new(options: EmailOptions) -> EmailChannel {
        let smtp = match &options.transport {
            EmailTransport::Smtp(url) => {
                match SmtpRelay::with_root(url, options.pool_size as usize, options.smtp_ca_pem.as_deref()) {
                    Ok(relay) => Some(Arc::new(relay)),
                    Err(e) => {
                        tracing::error!(error = %e, "the SMTP URL is not usable; email will not be sent");
                        None
                    }
                }
            }
            _ => None,
        };
        EmailChannel {
            options,
            smtp,
            workspace_relays: Mutex::new(HashMap::new()),
            templates: Mutex::new(HashMap::new()),
            signers: Mutex::new(HashMap::new()),
            domains: Mutex::new(HashMap::new()),
        }
    }

    /// How email leaves this server for a workspace without its own relay.
    pub fn transport_view(&self) -> EmailTransportView {
        let o = &self.options;
        let problem = match self.server_route() {
            crate::relays::Route::Unusable(why) => Some(why),
            _ => None,
        };
        EmailTransportView {
            kind: o.transport.kind(),
            source: "server",
            server_kind: o.transport.kind(),
            workspace_relay: None,
            relay: self.smtp.as_ref().map(|r| r.info()),
            problem,
            public_url: o.public_url.clone(),
            per_domain_concurrency: o.per_domain_concurrency,
            per_domain_rate: o.per_domain_rate,
            pool_size: o.pool_size,
            extra_ca: o.smtp_ca_pem.is_some(),
            workspace_relays_allowed: !o.forbid_workspace_relays,
        }
    }

    /// Where email goes for a workspace without its own relay.
    pub(crate) fn server_route(&self) -> crate::relays::Route {
        use crate::relays::Route;
        match (&self.options.transport, &self.smtp) {
            (EmailTransport::Disabled, _) => Route::Unusable(
                "no email transport is configured: set an SMTP relay for this workspace, or start the server \
                 with --email-transport smtp --smtp-url … (or capture)"
                    .into(),
            ),
            (EmailTransport::Capture, _) => Route::Capture,
            (EmailTransport::Smtp(_), Some(relay)) => Route::Smtp(relay.clone()),
            (EmailTransport::Smtp(url), None) => Route::Unusable(match SmtpRelay::from_url(url, 1) {
                Err(e) => format!("the server's SMTP URL is not usable: {e}; fix --smtp-url and restart"),
                Ok(_) => "the server's SMTP relay could not be set up (see the server log)".to_string(),
            }),
        }
    }

    /// The workspace's relay built from exactly this stored row, if it is kept.
    pub(crate) fn cached_relay(&self, ws: WorkspaceId, row: &kairos_store::RelayRecord) -> Option<Arc<SmtpRelay>> {
        let m = self.workspace_relays.lock().unwrap_or_else(|e| e.into_inner());
        m.get(&ws).filter(|(built_from, _)| built_from == row).map(|(_, r)| r.clone())
    }

    /// Keep a workspace's relay (and its connections) for the next sends.
    pub(crate) fn keep_relay(
        &self,
        ws: WorkspaceId,
        row: kairos_store::RelayRecord,
        relay: SmtpRelay,
    ) -> Arc<SmtpRelay> {
        let relay = Arc::new(relay);
        let mut m = self.workspace_relays.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(ws, (row, relay.clone()));
        relay
    }

    pub(crate) fn forget_relay(&self, ws: WorkspaceId) {
        self.workspace_relays.lock().unwrap_or_else(|e| e.into_inner()).remove(&ws);
    }

    /// The limits of one recipient domain through one relay: a workspace's
    /// slow or stuck relay holds only its own slots.
    fn domain(&self, relay: &SmtpRelay, d: &str) -> Arc<Domain> {
        let mut m = self.domains.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(format!("{} {d}", relay.address_key()))
            .or_insert_with(|| {
                Arc::new(Domain {
                    slots: Arc::new(Semaphore::new(self.options.per_domain_concurrency.max(1))),
                    next_slot_ms: Mutex::new(0),
                })
            })
            .clone()
    }

    /// Deliver a signed message through SMTP, within the recipient domain's
    /// limits. `Ok(Err(reason))` is a permanent refusal (hard bounce).
    async fn deliver_smtp(
        &self,
        smtp: &SmtpRelay,
        from: &str,
        to: &str,
        raw: &[u8],
    ) -> Result<Result<(), String>, EmailError> {
        let domain = self.domain(smtp, to.rsplit('@').next().unwrap_or_default());
        let _permit = domain.slots.clone().acquire_owned().await.map_err(|e| EmailError::Transient(e.to_string()))?;
        if let Some(rate) = self.options.per_domain_rate.filter(|r| *r > 0.0) {
            let wait = {
                let mut next = domain.next_slot_ms.lock().unwrap_or_else(|e| e.into_inner());
                take_slot(&mut next, chrono::Utc::now().timestamp_millis(), rate)
            };
            if wait > 0 {
                tokio::time::sleep(Duration::from_millis(wait as u64)).await;
            }
        }
        let envelope = lettre::address::Envelope::new(
            Some(from.parse().map_err(|e| EmailError::Permanent(format!("sender address: {e}")))?),
            vec![to.parse().map_err(|e| EmailError::Permanent(format!("recipient address: {e}")))?],
        )
        .map_err(|e| EmailError::Permanent(e.to_string()))?;
        match smtp.send(&envelope, raw).await {
            Ok(()) => Ok(Ok(())),
            Err(SmtpFailure::Permanent(e)) => Ok(Err(e)),
            Err(SmtpFailure::Transient(e)) => Err(EmailError::Transient(e)),
        }
    }
}

/// The per-domain rate limit: reserve the next send slot at or after `now`
/// (slots are `1000 / rate` ms apart) and say how long to wait for it.
fn take_slot(next: &mut i64, now: i64, rate: f64) -> i64 {
    let slot = (*next).max(now);
    *next = slot + (1000.0 / rate) as i64;
    slot - now
}

fn now_ms(engine: &Engine) -> i64 {
    engine.clock().now().timestamp_millis()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(s: &str) -> Result<Vec<u8>, EmailError> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|_| EmailError::Permanent("the sender's stored DKIM key is corrupt".into()))
}

/// The message id a journey's send intent gets: the same key, the same id.
pub fn message_id_for_intent(ws: WorkspaceId, key: &str) -> uuid::Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new().chain_update(ws.0.as_bytes()).chain_update(key.as_bytes()).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// The workspace's key for open, click and unsubscribe tokens, from its
/// address salt; the one place it is derived (sends sign with it, the
/// server's link routes check with it through [`Engine::email_tracking_key`]).
fn tracking_key_of(salt: &str) -> [u8; 32] {
    kairos_core::links::link_key(salt, "email-tracking")
}

/// [`tracking_key_of`] the workspace, reading its salt.
pub(crate) async fn tracking_key(engine: &Engine, ws: WorkspaceId) -> Result<[u8; 32], StoreError> {
    let mut tx = engine.store().begin().await?;
    let secret = tx.address_salt(ws).await?;
    tx.commit().await?;
    Ok(tracking_key_of(&secret))
}

/// The source of a template from its stored record.
pub fn template_source(t: &TemplateRecord) -> Result<TemplateSource, EmailError> {
    let format = BodyFormat::parse(&t.format)
        .ok_or_else(|| EmailError::Invalid(format!("format {:?} is not mjml or html", t.format)))?;
    Ok(TemplateSource {
        subject: t.subject.clone(),
        body: t.body.clone(),
        format,
        text: t.text_body.clone(),
        layout: t.layout.clone(),
    })
}

fn schema_hash(s: &Schema) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.contact_fields.hash(&mut h);
    s.company_fields.hash(&mut h);
    s.snippets.hash(&mut h);
    h.finish()
}

impl Engine {
    /// The key the workspace's email links are signed with.
    pub async fn email_tracking_key(&self, ws: WorkspaceId) -> Result<[u8; 32], StoreError> {
        tracking_key(self, ws).await
    }
}

impl Engine {
    pub(crate) fn email(&self) -> &EmailChannel {
        &self.inner.email
    }

    /// What templates of a workspace can refer to: its custom fields and
    /// snippets.
    pub async fn email_schema(&self, ws: WorkspaceId) -> Result<Schema, StoreError> {
        let mut tx = self.store().begin().await?;
        let fields = tx.list_fields(ws).await?;
        let snippets = tx.email_snippets(ws).await?;
        tx.commit().await?;
        use kairos_core::fields::FieldEntity;
        Ok(Schema {
            contact_fields: fields
                .iter()
                .filter(|f| f.entity == FieldEntity::Contact)
                .map(|f| f.name.clone())
                .collect(),
            company_fields: fields
                .iter()
                .filter(|f| f.entity == FieldEntity::Company)
                .map(|f| f.name.clone())
                .collect(),
            snippets: snippets.into_iter().map(|s| (s.name, s.body)).collect(),
        })
    }

    /// Check a template source against the workspace (on save).
    pub async fn check_email_template(&self, ws: WorkspaceId, src: &TemplateSource) -> Result<(), EmailError> {
        let schema = self.email_schema(ws).await?;
        template::compile(src, &schema).map(|_| ()).map_err(EmailError::Template)
    }

    /// Check an unsaved template and render it for a chosen contact: the
    /// editor's live preview, as the text stands.
    pub async fn preview_email_source(
        &self,
        ws: WorkspaceId,
        src: &TemplateSource,
        contact: ContactId,
        event: Option<Value>,
    ) -> Result<Result<template::Rendered, String>, EmailError> {
        let schema = self.email_schema(ws).await?;
        let compiled = template::compile(src, &schema).map_err(EmailError::Template)?;
        self.render_for(ws, &compiled, &schema, contact, event).await
    }

    /// A stored template, compiled (cached until it or the schema changes).
    pub async fn compiled_template(
        &self,
        ws: WorkspaceId,
        id_or_name: &str,
    ) -> Result<(TemplateRecord, Arc<Template>, Schema), EmailError> {
        let t = if id_or_name == crate::forms::BUILTIN_CONFIRMATION {
            Some(crate::forms::builtin_confirmation())
        } else {
            let mut tx = self.store().begin().await?;
            let t = tx.email_template(ws, id_or_name).await?;
            tx.commit().await?;
            t
        };
        let t = t.ok_or_else(|| EmailError::NotFound(format!("email template \"{id_or_name}\" does not exist")))?;
        let schema = self.email_schema(ws).await?;
        let sh = schema_hash(&schema);
        let key = (ws, t.id.clone());
        if let Some((at, h, c)) = self.email().templates.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            if *at == t.updated_at && *h == sh {
                return Ok((t, c.clone(), schema));
            }
        }
        let compiled = Arc::new(template::compile(&template_source(&t)?, &schema).map_err(EmailError::Template)?);
        self.email()
            .templates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (t.updated_at, sh, compiled.clone()));
        Ok((t, compiled, schema))
    }

    fn signer(&self, ws: WorkspaceId, s: &SenderRecord) -> Result<Arc<Signer>, EmailError> {
        let key = (ws, s.id.clone());
        if let Some(sig) = self.email().signers.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(sig.clone());
        }
        let alg = Algorithm::parse(&s.dkim_algorithm)
            .ok_or_else(|| EmailError::Permanent(format!("unknown DKIM algorithm {:?}", s.dkim_algorithm)))?;
        let private =
            self.inner.master_key.open(&s.dkim_private_key).map_err(|e| EmailError::Permanent(e.to_string()))?;
        let signer = Arc::new(
            Signer::new(alg, &s.dkim_domain, &s.dkim_selector, &unb64(&private)?)
                .map_err(|e| EmailError::Permanent(e.to_string()))?,
        );
        self.email().signers.lock().unwrap_or_else(|e| e.into_inner()).insert(key, signer.clone());
        Ok(signer)
    }

    /// Create a sender identity with a new DKIM key; returns it (the DNS
    /// record to publish is derived from its public key).
    pub async fn create_email_sender(&self, ws: WorkspaceId, new: NewSender) -> Result<SenderRecord, EmailError> {
        let NewSender { name, email, reply_to, dkim_selector, algorithm, is_default } = new;
        let sender = Sender { name: name.clone(), email: email.clone(), reply_to: reply_to.clone() };
        sender.check().map_err(|e| EmailError::Invalid(e.to_string()))?;
        let domain = sender.domain().to_ascii_lowercase();
        kairos_email::dkim::check_name("selector", &dkim_selector).map_err(|e| EmailError::Invalid(e.to_string()))?;
        let pair = tokio::task::spawn_blocking(move || kairos_email::dkim::generate(algorithm))
            .await
            .map_err(|e| EmailError::Permanent(e.to_string()))?
            .map_err(|e| EmailError::Permanent(e.to_string()))?;
        let record = SenderRecord {
            id: uuid::Uuid::now_v7().to_string(),
            name,
            email,
            reply_to,
            dkim_domain: domain,
            dkim_selector,
            dkim_algorithm: algorithm.as_str().into(),
            dkim_private_key: self.inner.master_key.seal(&b64(&pair.private_der)),
            dkim_public_key: pair.public_b64,
            is_default,
            created_at: now_ms(self),
        };
        let mut tx = self.store().begin_write().await?;
        let first = tx.email_senders(ws).await?.is_empty();
        let record = SenderRecord { is_default: is_default || first, ..record };
        tx.insert_email_sender(ws, &record).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The JSON context a template renders with for one contact.
    #[allow(clippy::too_many_arguments)]
    pub async fn email_context(
        &self,
        ws: WorkspaceId,
        contact: &kairos_core::contact::Contact,
        schema: &Schema,
        event: Option<&Value>,
        message: uuid::Uuid,
        sender: Option<&SenderRecord>,
        source: &str,
        salt: &str,
    ) -> Result<template::Context, EmailError> {
        let mut tx = self.store().begin().await?;
        let company = match contact.company_ids.first() {
            Some(id) => tx.company(ws, *id).await?,
            None => None,
        };
        let now = self.clock().now().timestamp_millis();
        let scores: Vec<(String, f64)> = tx
            .scores_of(ws, contact.id)
            .await?
            .into_iter()
            .map(|s| (s.score, (s.state.value_at(s.half_life_days, now) * 100.0).round() / 100.0))
            .collect();
        let policy = tx.workspace_policy(ws).await?;
        let segments = tx.segments(ws).await?;
        tx.commit().await?;
        let member_of: BTreeSet<_> = self.contact_segments(ws, contact.id).into_iter().collect();
        let segment_names: Vec<String> =
            segments.into_iter().filter(|s| member_of.contains(&s.id)).map(|s| s.name).collect();
        let key = tracking_key_of(salt);
        let base = self.email().options.public_url.trim_end_matches('/');
        let unsubscribe = format!("{base}/u/{}", tracking::unsubscribe_token(&key, ws.0, message, contact.id.0));
        let pref_key = kairos_core::links::link_key(salt, "preferences");
        let expires = self.clock().now().timestamp() + 400 * 86_400;
        let preferences =
            format!("{base}/preferences/{}", kairos_core::links::sign(&pref_key, ws, contact.id, expires));
        let mut ctx = template::Context::new();
        ctx.insert("contact".into(), template::contact_object(contact, &schema.contact_fields));
        ctx.insert("company".into(), template::company_object(company.as_ref(), &schema.company_fields));
        ctx.insert(
            "event".into(),
            event.cloned().unwrap_or_else(|| json!({"name": null, "timestamp": null, "properties": {}})),
        );
        ctx.insert("segments".into(), json!(segment_names));
        ctx.insert("scores".into(), Value::Object(scores.into_iter().map(|(k, v)| (k, json!(v))).collect()));
        ctx.insert("links".into(), json!({"unsubscribe": unsubscribe, "preferences": preferences}));
        ctx.insert(
            "sender".into(),
            json!({"name": sender.and_then(|s| s.name.clone()), "email": sender.map(|s| s.email.clone()),
                   "postal_address": policy.postal_address}),
        );
        ctx.insert(
            "message".into(),
            json!({"id": message.to_string(), "campaign": null, "journey": null, "source": source}),
        );
        Ok(ctx)
    }

    /// Send one email to one contact (see the module doc for the steps).
    pub async fn send_email(&self, ws: WorkspaceId, req: EmailRequest) -> Result<EmailOutcome, EmailError> {
        let now = now_ms(self);
        let id = req.id.to_string();
        let mut tx = self.store().begin().await?;
        if let Some(m) = tx.email_message(ws, &id).await? {
            if !matches!(m.status.as_str(), "queued" | "deferred") {
                tx.commit().await?;
                return Ok(EmailOutcome::Repeat { message_id: id, status: m.status });
            }
        }
        let contact = tx.contact(ws, req.contact).await?;
        let policy = tx.workspace_policy(ws).await?;
        tx.commit().await?;
        let Some(contact) = contact else {
            return Ok(EmailOutcome::Skipped { message_id: id, reason: "the contact no longer exists".into() });
        };
        let test = req.to_override.is_some();
        let transactional = req.transactional || test;
        let kind = if transactional { "transactional" } else { "marketing" };
        let base_record = |status: &str, detail: Option<String>, to: Option<String>| MessageRecord {
            id: id.clone(),
            contact_id: Some(contact.id.to_string()),
            template_id: None,
            sender_id: None,
            source: req.source.clone(),
            intent_key: req.intent_key.clone(),
            to_email: to,
            subject: None,
            kind: kind.into(),
            status: status.into(),
            detail,
            raw: None,
            opens: 0,
            machine_opens: 0,
            clicks: 0,
            first_opened_at: None,
            first_clicked_at: None,
            created_at: now,
            sent_at: None,
            unsubscribed_at: None,
        };
        let Some(to) = req.to_override.clone().or_else(|| contact.email.clone()) else {
            let reason = "the contact has no email address".to_string();
            self.record_message(ws, &base_record("skipped", Some(reason.clone()), None)).await?;
            return Ok(EmailOutcome::Skipped { message_id: id, reason });
        };

        // The gate.
        let facts = self.gate_facts(ws, contact.id, &to, contact.timezone.clone(), now).await?;
        let intent = SendIntent {
            channel: Channel::Email,
            purpose: Purpose::Marketing,
            transactional,
            can_delay: req.can_delay,
        };
        match gate::decide(&intent, &facts, &policy, self.clock().now()) {
            Decision::Send => {}
            Decision::Delay { until } => return Ok(EmailOutcome::Delayed { until: until.timestamp_millis() }),
            Decision::Refuse(r) => {
                let reason = r.to_string();
                self.record_message(ws, &base_record("refused", Some(reason.clone()), Some(to))).await?;
                return Ok(EmailOutcome::Refused { message_id: id, reason });
            }
        }

        let (t, compiled, schema) = self.compiled_template(ws, &req.template).await.map_err(|e| match e {
            EmailError::Template(p) => EmailError::Permanent(format!(
                "template \"{}\" does not check: {}",
                req.template,
                p.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ")
            )),
            other => other,
        })?;
        let mut tx = self.store().begin().await?;
        let sender = tx.email_sender(ws, req.sender.as_deref()).await?;
        // Read once: the links in the body and the tracking below sign with it.
        let salt = tx.address_salt(ws).await?;
        tx.commit().await?;
        let sender = sender.ok_or_else(|| {
            EmailError::Permanent(match &req.sender {
                Some(s) => format!("sender identity \"{s}\" does not exist"),
                None => "no sender identity is configured; create one with POST /api/v1/email/senders".into(),
            })
        })?;
        let ctx = self
            .email_context(ws, &contact, &schema, req.event.as_ref(), req.id, Some(&sender), &req.source, &salt)
            .await?;
        let mut rendered = match compiled.render(&ctx) {
            Ok(r) => r,
            Err(skip) => {
                let mut r = base_record("skipped", Some(skip.0.clone()), Some(to));
                r.template_id = Some(t.id.clone());
                self.record_message(ws, &r).await?;
                tracing::info!(workspace = %ws, contact = %contact.id, template = %t.name, reason = %skip, "email skipped");
                return Ok(EmailOutcome::Skipped { message_id: id, reason: skip.0 });
            }
        };
        let links = ctx.get("links").cloned().unwrap_or(Value::Null);
        let link = |k: &str| links.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let unsubscribe_url = link("unsubscribe");
        let template_has_footer = compiled.has_unsubscribe_link && compiled.has_postal_address;
        if !transactional && !template_has_footer {
            let postal = policy.postal_address.clone().unwrap_or_default();
            let pref = link("preferences");
            rendered.html =
                message::add_footer(&rendered.html, &message::footer_html(&unsubscribe_url, &pref, &postal));
            rendered.text.push_str(&message::footer_text(&unsubscribe_url, &pref, &postal));
        }
        if let Some(line) = policy.transparency.as_ref().and_then(|t| t.disclosure()) {
            rendered.html = message::add_footer(&rendered.html, &message::disclosure_html(&line));
            rendered.text.push_str(&format!("\n{line}\n"));
        }
        // Tracking: signed click links (with UTM parameters) and the pixel.
        let key = tracking_key_of(&salt);
        let base = self.email().options.public_url.trim_end_matches('/').to_string();
        let utm = tracking::Utm {
            source: "kairos".into(),
            medium: "email".into(),
            // Without a campaign name, links are attributed to the template.
            campaign: req.utm_campaign.clone().unwrap_or_else(|| t.name.clone()),
        };
        rendered.html = tracking::rewrite_links(&rendered.html, |url| {
            if url.starts_with(&base) {
                return None;
            }
            let target = tracking::with_utm(url, &utm);
            Some(format!("{base}/t/c/{}", tracking::click_token(&key, ws.0, req.id, &target)))
        });
        rendered.html = tracking::add_pixel(
            &rendered.html,
            &format!("{base}/t/o/{}.gif", tracking::open_token(&key, ws.0, req.id)),
        );

        let mailto_domain = sender.email.rsplit('@').next().unwrap_or_default().to_string();
        let unsubscribe = Unsubscribe {
            one_click_url: unsubscribe_url.clone(),
            mailto: Some(format!(
                "mailto:unsubscribe@{mailto_domain}?subject=unsubscribe%20{}",
                unsubscribe_url.rsplit('/').next().unwrap_or_default()
            )),
        };
        let identity =
            Sender { name: sender.name.clone(), email: sender.email.clone(), reply_to: sender.reply_to.clone() };
        let feedback = format!("{}:{}:kairos", t.id.split('-').next().unwrap_or_default(), kind);
        let raw = message::compose(&Outgoing {
            id: req.id,
            sender: &identity,
            to_name: contact.first_name.as_deref(),
            to_email: &to,
            content: &rendered,
            date: self.clock().now(),
            unsubscribe: if transactional { None } else { Some(&unsubscribe) },
            feedback_id: Some(&feedback),
        })
        .map_err(|e| EmailError::Permanent(e.to_string()))?;
        let signed = self.signer(ws, &sender)?.sign_message(&raw).map_err(|e| EmailError::Permanent(e.to_string()))?;

        let mut record = base_record("queued", None, Some(to.clone()));
        record.template_id = Some(t.id.clone());
        record.sender_id = Some(sender.id.clone());
        record.subject = Some(rendered.subject.clone());
        self.record_message(ws, &record).await?;

        let sent_at = now_ms(self);
        let outcome =
            match self.email_route(ws).await? {
                Route::Unusable(why) => {
                    self.set_message_status(ws, &id, "failed", Some(&why), None, None).await?;
                    return Err(EmailError::Permanent(why));
                }
                Route::Capture => {
                    let text = String::from_utf8_lossy(&signed).into_owned();
                    self.set_message_status(ws, &id, "captured", None, Some(&text), Some(sent_at)).await?;
                    EmailOutcome::Sent { message_id: id.clone(), status: "captured".into() }
                }
                Route::Smtp(relay) => {
                    match self.email().deliver_smtp(&relay, &sender.email, &to, &signed).await {
                        Ok(Ok(())) => {
                            self.set_message_status(ws, &id, "sent", None, None, Some(sent_at)).await?;
                            EmailOutcome::Sent { message_id: id.clone(), status: "sent".into() }
                        }
                        Ok(Err(reason)) => {
                            self.set_message_status(ws, &id, "bounced", Some(&reason), None, None).await?;
                            self.suppress_email(ws, &to, SuppressionReason::HardBounce, &reason).await?;
                            self.log_email_event(ws, contact.id, "Email Bounced", json!({
                        "message_id": id, "template": t.name, "type": "hard", "reason": reason, "at_send": true,
                    }))
                    .await?;
                            return Ok(EmailOutcome::Bounced { message_id: id, reason });
                        }
                        Err(EmailError::Transient(e)) => {
                            self.set_message_status(ws, &id, "deferred", Some(&e), None, None).await?;
                            return Err(EmailError::Transient(e));
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
        self.log_email_event(
            ws,
            contact.id,
            "Email Sent",
            json!({
                "message_id": id, "template": t.name, "template_id": t.id, "subject": rendered.subject,
                "kind": kind, "source": req.source,
            }),
        )
        .await?;
        Ok(outcome)
    }

    /// What the gate needs to know about a contact and address.
    async fn gate_facts(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        to: &str,
        timezone: Option<String>,
        now: i64,
    ) -> Result<ContactFacts, StoreError> {
        let mut tx = self.store().begin().await?;
        let consent = tx
            .consents_of(ws, contact)
            .await?
            .into_iter()
            .find(|c| c.channel == Channel::Email && c.purpose == Purpose::Marketing)
            .map(|c| c.state);
        let salt = tx.address_salt(ws).await?;
        let mut suppressions = Vec::new();
        if let Ok(canonical) = gate::canonical_address(Channel::Email, to) {
            if let Some(s) =
                tx.suppression(ws, Channel::Email, &gate::address_hash(&salt, Channel::Email, &canonical)).await?
            {
                if let Some(r) = SuppressionReason::parse(&s.reason) {
                    suppressions.push(r);
                }
            }
        }
        let c = contact.to_string();
        let sent_last_day = tx.marketing_emails_since(ws, &c, now - 86_400_000).await? as u32;
        let sent_last_week = tx.marketing_emails_since(ws, &c, now - 7 * 86_400_000).await? as u32;
        tx.commit().await?;
        Ok(ContactFacts { consent, suppressions, timezone, sent_last_day, sent_last_week })
    }

    async fn record_message(&self, ws: WorkspaceId, m: &MessageRecord) -> Result<(), StoreError> {
        let mut tx = self.store().begin_write().await?;
        if !tx.insert_email_message(ws, m).await? {
            tx.set_email_status(ws, &m.id, &m.status, m.detail.as_deref(), None, None).await?;
        }
        tx.commit().await.map(|_| ())
    }

    async fn set_message_status(
        &self,
        ws: WorkspaceId,
        id: &str,
        status: &str,
        detail: Option<&str>,
        raw: Option<&str>,
        sent_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.store().begin_write().await?;
        tx.set_email_status(ws, id, status, detail, raw, sent_at).await?;
        tx.commit().await.map(|_| ())
    }

    /// Put an address on the email suppression list.
    pub async fn suppress_email(
        &self,
        ws: WorkspaceId,
        address: &str,
        reason: SuppressionReason,
        note: &str,
    ) -> Result<(), StoreError> {
        let Ok(canonical) = gate::canonical_address(Channel::Email, address) else { return Ok(()) };
        let mut tx = self.store().begin_write().await?;
        let salt = tx.address_salt(ws).await?;
        let hash = gate::address_hash(&salt, Channel::Email, &canonical);
        tx.suppress(ws, Channel::Email, &hash, Some(&canonical), reason, Some(note), now_ms(self)).await?;
        tx.commit().await.map(|_| ())
    }

    /// Append an email event (`Email Sent`, `Email Opened`, …) to the log.
    pub async fn log_email_event(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        name: &str,
        properties: Value,
    ) -> Result<(), StoreError> {
        self.log_own_event(ws, contact, "email", name, properties).await
    }

    /// Render a template for a contact without sending or recording
    /// anything (the preview).
    pub async fn preview_email(
        &self,
        ws: WorkspaceId,
        template: &str,
        contact: ContactId,
        event: Option<Value>,
    ) -> Result<Result<template::Rendered, String>, EmailError> {
        let (_, compiled, schema) = self.compiled_template(ws, template).await?;
        self.render_for(ws, &compiled, &schema, contact, event).await
    }

    /// Render a compiled template for a contact without sending or recording
    /// anything; `Ok(Err(why))` when it cannot personalise for them.
    async fn render_for(
        &self,
        ws: WorkspaceId,
        compiled: &Template,
        schema: &Schema,
        contact: ContactId,
        event: Option<Value>,
    ) -> Result<Result<template::Rendered, String>, EmailError> {
        let mut tx = self.store().begin().await?;
        let c = tx.contact(ws, contact).await?;
        let sender = tx.email_sender(ws, None).await?;
        let salt = tx.address_salt(ws).await?;
        tx.commit().await?;
        let c = c.ok_or_else(|| EmailError::NotFound(format!("contact {contact} does not exist")))?;
        let ctx = self
            .email_context(ws, &c, schema, event.as_ref(), uuid::Uuid::nil(), sender.as_ref(), "preview", &salt)
            .await?;
        Ok(compiled.render(&ctx).map_err(|s| s.0))
    }

    /// A one-click or link unsubscribe: withdraw email marketing consent,
    /// suppress the address, log `Unsubscribed`, take the contact out of
    /// journeys that exit on unsubscribe.
    pub async fn unsubscribe_email(
        &self,
        ws: WorkspaceId,
        message: uuid::Uuid,
        contact: ContactId,
        source: &str,
        proof: Proof,
    ) -> Result<bool, StoreError> {
        let change = ConsentChange {
            channel: Channel::Email,
            purpose: Purpose::Marketing,
            state: ConsentState::Withdrawn,
            source: source.to_string(),
            lawful_basis: LawfulBasis::Consent,
            wording: None,
            wording_version: None,
            proof,
            at: self.clock().now(),
        };
        let Some(_) = self.record_consent(ws, contact, &change).await? else { return Ok(false) };
        let mut tx = self.store().begin_write().await?;
        tx.mark_unsubscribed(ws, &message.to_string(), now_ms(self)).await?;
        tx.commit().await?;
        let mut tx = self.store().begin().await?;
        let c = tx.contact(ws, contact).await?;
        tx.commit().await?;
        if let Some(email) = c.and_then(|c| c.email) {
            self.suppress_email(ws, &email, SuppressionReason::Unsubscribed, source).await?;
        }
        self.log_email_event(
            ws,
            contact,
            "Unsubscribed",
            json!({"message_id": message.to_string(), "channel": "email",
            "source": source}),
        )
        .await?;
        Ok(true)
    }

    /// A bounce or complaint report received after sending.
    pub async fn apply_email_report(
        &self,
        ws: WorkspaceId,
        report: &kairos_email::bounce::Report,
    ) -> Result<Value, StoreError> {
        use kairos_email::bounce::Report;
        let (recipient, message, status, name, reason, props) = match report {
            Report::NoFailure => {
                return Ok(json!({"applied": false, "reason": "the report does not say delivery failed"}))
            }
            Report::Bounce { recipient, hard, status, diagnostic, message, .. } => (
                Some(recipient.clone()),
                *message,
                if *hard { "bounced" } else { "deferred" },
                "Email Bounced",
                if *hard { Some(SuppressionReason::HardBounce) } else { None },
                json!({"type": if *hard { "hard" } else { "soft" }, "status": status, "reason": diagnostic}),
            ),
            Report::Complaint { recipient, feedback_type, message, .. } => (
                recipient.clone(),
                *message,
                "complained",
                "Email Complained",
                Some(SuppressionReason::Complaint),
                json!({"feedback_type": feedback_type}),
            ),
        };
        let mut tx = self.store().begin().await?;
        let record = match message {
            Some(m) => tx.email_message(ws, &m.to_string()).await?,
            None => None,
        };
        tx.commit().await?;
        let recipient = recipient.or_else(|| record.as_ref().and_then(|r| r.to_email.clone()));
        if let Some(r) = &record {
            self.set_message_status(ws, &r.id, status, Some(&props.to_string()), None, None).await?;
        }
        if let (Some(reason), Some(addr)) = (reason, &recipient) {
            self.suppress_email(ws, addr, reason, &props.to_string()).await?;
        }
        let contact = record.as_ref().and_then(|r| r.contact_id.as_ref()).and_then(|c| c.parse().ok()).map(ContactId);
        if let Some(c) = contact {
            let mut p = props.clone();
            p["message_id"] = json!(record.as_ref().map(|r| r.id.clone()));
            self.log_email_event(ws, c, name, p).await?;
            if matches!(report, Report::Complaint { .. }) {
                let change = ConsentChange {
                    channel: Channel::Email,
                    purpose: Purpose::Marketing,
                    state: ConsentState::Withdrawn,
                    source: "complaint".into(),
                    lawful_basis: LawfulBasis::Consent,
                    wording: None,
                    wording_version: None,
                    proof: Proof::default(),
                    at: self.clock().now(),
                };
                self.record_consent(ws, c, &change).await?;
            }
        }
        Ok(json!({"applied": true, "status": status, "recipient": recipient,
                  "message_id": record.map(|r| r.id), "suppressed": reason.map(|r| r.as_str())}))
    }

    /// The message an open or click is about, whether a machine made it,
    /// and when; `None` for a message that no longer exists (erased).
    async fn tracked(
        &self,
        ws: WorkspaceId,
        message: uuid::Uuid,
        user_agent: Option<&str>,
        head: bool,
        is_click: bool,
    ) -> Result<Option<(MessageRecord, Option<tracking::Machine>, i64)>, StoreError> {
        let mut tx = self.store().begin().await?;
        let m = tx.email_message(ws, &message.to_string()).await?;
        tx.commit().await?;
        let now = now_ms(self);
        Ok(m.map(|m| {
            let after = (now - m.sent_at.unwrap_or(now)) / 1000;
            let machine = tracking::classify(user_agent, head, after, is_click);
            (m, machine, now)
        }))
    }

    /// Log an open or click against the message's contact.
    async fn log_tracked(
        &self,
        ws: WorkspaceId,
        m: &MessageRecord,
        name: &str,
        properties: Value,
    ) -> Result<(), StoreError> {
        match m.contact_id.as_ref().and_then(|c| c.parse().ok()).map(ContactId) {
            Some(c) => self.log_email_event(ws, c, name, properties).await,
            None => Ok(()),
        }
    }

    /// An open of the pixel: counted (machine opens apart) and logged.
    pub async fn record_email_open(
        &self,
        ws: WorkspaceId,
        message: uuid::Uuid,
        user_agent: Option<&str>,
        head: bool,
    ) -> Result<(), StoreError> {
        let Some((m, machine, now)) = self.tracked(ws, message, user_agent, head, false).await? else { return Ok(()) };
        let mut tx = self.store().begin_write().await?;
        tx.record_email_open(ws, &m.id, machine.is_some(), now).await?;
        tx.commit().await?;
        let props = json!({"message_id": m.id, "template_id": m.template_id, "machine": machine});
        self.log_tracked(ws, &m, "Email Opened", props).await
    }

    /// A click on a tracked link: counted per link and logged.
    pub async fn record_email_click(
        &self,
        ws: WorkspaceId,
        message: uuid::Uuid,
        url: &str,
        user_agent: Option<&str>,
        head: bool,
    ) -> Result<(), StoreError> {
        let Some((m, machine, now)) = self.tracked(ws, message, user_agent, head, true).await? else { return Ok(()) };
        let mut tx = self.store().begin_write().await?;
        tx.record_email_click(ws, &m.id, url, machine.map(tracking::Machine::as_str), now).await?;
        tx.commit().await?;
        let props = json!({"message_id": m.id, "template_id": m.template_id, "url": url, "machine": machine});
        self.log_tracked(ws, &m, "Email Clicked", props).await
    }

    /// A team notification by email (a journey's notify node).
    pub async fn send_notification_email(
        &self,
        ws: WorkspaceId,
        id: uuid::Uuid,
        to: &str,
        subject: &str,
        text: &str,
    ) -> Result<(), EmailError> {
        let mut tx = self.store().begin().await?;
        let sender = tx.email_sender(ws, None).await?;
        let done = tx.email_message(ws, &id.to_string()).await?.is_some_and(|m| m.status != "queued");
        tx.commit().await?;
        if done {
            return Ok(());
        }
        let sender = sender.ok_or_else(|| {
            EmailError::Permanent("no sender identity is configured; create one with POST /api/v1/email/senders".into())
        })?;
        let html =
            format!("<pre style=\"font-family:sans-serif\">{}</pre>", text.replace('&', "&amp;").replace('<', "&lt;"));
        let content = template::Rendered { subject: subject.to_string(), html, text: text.to_string() };
        let identity =
            Sender { name: sender.name.clone(), email: sender.email.clone(), reply_to: sender.reply_to.clone() };
        let raw = message::compose(&Outgoing {
            id,
            sender: &identity,
            to_name: None,
            to_email: to,
            content: &content,
            date: self.clock().now(),
            unsubscribe: None,
            feedback_id: None,
        })
        .map_err(|e| EmailError::Permanent(e.to_string()))?;
        let signed = self.signer(ws, &sender)?.sign_message(&raw).map_err(|e| EmailError::Permanent(e.to_string()))?;
        let now = now_ms(self);
        let record = MessageRecord {
            id: id.to_string(),
            contact_id: None,
            template_id: None,
            sender_id: Some(sender.id.clone()),
            source: "notify".into(),
            intent_key: None,
            to_email: Some(to.to_string()),
            subject: Some(subject.to_string()),
            kind: "transactional".into(),
            status: "queued".into(),
            detail: None,
            raw: None,
            opens: 0,
            machine_opens: 0,
            clicks: 0,
            first_opened_at: None,
            first_clicked_at: None,
            created_at: now,
            sent_at: None,
            unsubscribed_at: None,
        };
        self.record_message(ws, &record).await?;
        match self.email_route(ws).await? {
            Route::Unusable(why) => {
                self.set_message_status(ws, &record.id, "failed", Some(&why), None, None).await?;
                Err(EmailError::Permanent(why))
            }
            Route::Capture => {
                let text = String::from_utf8_lossy(&signed).into_owned();
                Ok(self.set_message_status(ws, &record.id, "captured", None, Some(&text), Some(now)).await?)
            }
            Route::Smtp(relay) => match self.email().deliver_smtp(&relay, &sender.email, to, &signed).await? {
                Ok(()) => Ok(self.set_message_status(ws, &record.id, "sent", None, None, Some(now)).await?),
                Err(reason) => {
                    self.set_message_status(ws, &record.id, "bounced", Some(&reason), None, None).await?;
                    Err(EmailError::Permanent(reason))
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::take_slot;

    #[test]
    fn the_domain_rate_spaces_sends() {
        // 4 messages/s: a burst of five at t=1000 goes out at 0, 250, 500,
        // 750 and 1000 ms from now; after a quiet spell, at once again.
        let mut next = 0;
        let waits: Vec<i64> = (0..5).map(|_| take_slot(&mut next, 1_000, 4.0)).collect();
        assert_eq!(waits, vec![0, 250, 500, 750, 1000]);
        assert_eq!(take_slot(&mut next, 10_000, 4.0), 0);
        assert_eq!(take_slot(&mut next, 10_100, 4.0), 150);
    }
}
