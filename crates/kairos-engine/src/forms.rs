//! Subscription forms at run time, with double opt-in. A submission is
//! validated whole before anything is written; then the contact is created
//! or updated through the engine's contact path (so segments and journeys
//! see it), consent is recorded with proof — `pending_double_opt_in` until
//! the person confirms, or granted at once on a single opt-in form — and a
//! `Form Submitted` event is logged. The confirmation email goes through
//! the normal send path as a transactional message: it cannot need the
//! marketing consent it asks for, but suppression (bounces, complaints,
//! erasure) still stops it. Its link carries an HMAC-signed, expiring token
//! naming the pending confirmation; confirming grants consent with the
//! confirmation's own proof and adds the contact to the form's list. A
//! small task reminds pending confirmations on the form's schedule, with
//! message ids fixed per reminder so a retried tick never mails twice, and
//! closes them at expiry without granting anything. A `Sec-GPC: 1` request
//! records the person's opt-out of sale and sharing of their data.

use crate::email::{message_id_for_intent, EmailError, EmailOutcome, EmailRequest};
use crate::{ContactWriteError, Engine, UpsertKey};
use kairos_core::consent::{gpc_denial, on_every_channel, ConsentChange, ConsentState, LawfulBasis, Proof, Purpose};
use kairos_core::contact::ContactPatch;
use kairos_core::form::{FormDefinition, Submission};
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_core::links::{claimed_workspace, link_key, sign_subject, verify_subject, LinkError};
use kairos_store::{ConfirmationRecord, FormRecord, StoreError, TemplateRecord};
use serde_json::{json, Map, Value};
use std::time::Duration;

/// The template name the built-in confirmation message is sent under when a
/// form names none.
pub const BUILTIN_CONFIRMATION: &str = "kairos:confirm-subscription";
/// How often the reminder task looks for due reminders.
const TICK: Duration = Duration::from_millis(500);
/// How often it closes expired confirmations: a write, so not every tick
/// (an expired link is refused by its token whether or not it is closed).
const SWEEP: Duration = Duration::from_secs(60);
/// A reminder that failed for a passing reason is tried again this much later.
const RETRY_MS: i64 = 5 * 60_000;

#[derive(Debug, thiserror::Error)]
pub enum FormsError {
    #[error("{0}")]
    NotFound(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &str, message: impl Into<String>) -> FormsError {
    FormsError::Invalid { field: field.into(), message: message.into() }
}

impl From<kairos_core::form::FormError> for FormsError {
    fn from(e: kairos_core::form::FormError) -> Self {
        FormsError::Invalid { field: e.field, message: e.reason }
    }
}

/// The request a submission or confirmation came with.
#[derive(Debug, Clone, Default)]
pub struct FormRequest {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// `Sec-GPC: 1` was sent.
    pub gpc: bool,
}

/// What a submission did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SubmitOutcome {
    pub contact_id: ContactId,
    /// `pending_confirmation` (double opt-in) or `subscribed`.
    pub status: &'static str,
    /// What became of the confirmation email, when one was due.
    pub confirmation_email: Option<Value>,
}

/// A confirmation link, opened.
#[derive(Debug, Clone)]
pub struct OpenConfirmation {
    pub ws: WorkspaceId,
    pub record: ConfirmationRecord,
    pub definition: FormDefinition,
    pub email: Option<String>,
}

/// What confirming did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    Now,
    Already,
}

/// The built-in confirmation message: plain, and everything it prints is
/// escaped (the wording and form name come from the workspace's admins,
/// the names from the public).
pub(crate) fn builtin_confirmation() -> TemplateRecord {
    TemplateRecord {
        id: BUILTIN_CONFIRMATION.into(),
        name: BUILTIN_CONFIRMATION.into(),
        subject: "Please confirm your subscription".into(),
        body: "<p>Hello{% if contact.first_name %} {{ contact.first_name | escape }}{% endif %},</p>\n\
               <p>Please confirm that you want to subscribe to {{ event.properties.form_name | escape }} \
               with {{ contact.email | escape }}. You are agreeing to:</p>\n\
               <blockquote>{{ event.properties.wording | escape }}</blockquote>\n\
               <p><a href=\"{{ event.properties.confirm_url }}\">Confirm my subscription</a></p>\n\
               <p>The link works until {{ event.properties.expires_at }}. If you did not ask for this, \
               ignore this email: you will not be subscribed.</p>"
            .into(),
        format: "html".into(),
        text_body: None,
        layout: None,
        created_at: 0,
        updated_at: 0,
    }
}

fn now_ms(e: &Engine) -> i64 {
    e.clock().now().timestamp_millis()
}

pub(crate) fn definition_of(text: &str) -> Result<FormDefinition, StoreError> {
    let v: Value = serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("form definition: {e}")))?;
    let obj = v.as_object().ok_or_else(|| StoreError::Corrupt("form definition is not an object".into()))?;
    FormDefinition::from_json(obj).map_err(|e| StoreError::Corrupt(format!("form definition: {e}")))
}

/// What the audit trail keeps of a form change: enough to tell which
/// wording was live when.
pub(crate) fn audit_detail(def: &FormDefinition) -> Value {
    json!({"name": def.name, "purposes": def.purposes, "wording_version": def.wording_version,
           "double_opt_in": def.double_opt_in})
}

fn iso(ms: i64) -> String {
    kairos_core::clock::from_millis(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Engine {
    /// Check what a definition refers to: the list, the template (which must
    /// print the confirmation link) and the sender.
    async fn check_form(&self, ws: WorkspaceId, def: &FormDefinition) -> Result<(), FormsError> {
        let mut tx = self.store().begin().await?;
        if let Some(l) = def.list_id {
            if tx.list(ws, l).await?.is_none() {
                return Err(invalid("list_id", format!("no static list with id {l}")));
            }
        }
        if let Some(s) = &def.sender {
            if tx.email_sender(ws, Some(s)).await?.is_none() {
                return Err(invalid("sender", format!("no sender identity with id {s:?}")));
            }
        }
        tx.commit().await?;
        if let Some(t) = &def.confirmation_template {
            let (record, _, _) = self.compiled_template(ws, t).await.map_err(|e| match e {
                EmailError::Store(s) => FormsError::Store(s),
                EmailError::Template(_) => invalid("confirmation_template", format!("template {t:?} does not check")),
                other => invalid("confirmation_template", other.to_string()),
            })?;
            let prints_link = [Some(&record.body), record.text_body.as_ref()]
                .into_iter()
                .flatten()
                .any(|b| b.contains("event.properties.confirm_url"));
            if !prints_link {
                return Err(invalid(
                    "confirmation_template",
                    format!("template {t:?} must print the confirmation link {{{{ event.properties.confirm_url }}}}"),
                ));
            }
        }
        Ok(())
    }

    /// Give a definition that names a library text that text's current
    /// version (see [`FormDefinition::ask_with`]); a retired or unknown text
    /// is refused by name.
    async fn ask_with_library_text(&self, ws: WorkspaceId, def: &mut FormDefinition) -> Result<(), FormsError> {
        let Some(key) = def.consent_text.clone() else { return Ok(()) };
        let mut tx = self.store().begin().await?;
        let current = tx.consent_text_versions(ws, &key).await?.into_iter().next();
        let retired = crate::consent_texts::is_retired(&mut tx, ws, &key).await?;
        tx.commit().await?;
        let text =
            current.ok_or_else(|| invalid("consent_text", format!("no consent text \"{key}\" in the library")))?;
        if retired {
            return Err(invalid("consent_text", format!("\"{key}\" is retired: reinstate it, or choose another text")));
        }
        def.ask_with(&text)?;
        Ok(())
    }

    /// Create a form from its JSON definition (audited: its wording is what
    /// people will consent to).
    pub async fn create_form(
        &self,
        ws: WorkspaceId,
        obj: &Map<String, Value>,
        actor: &str,
    ) -> Result<(FormRecord, FormDefinition), FormsError> {
        let mut def = FormDefinition::from_json(obj)?;
        self.ask_with_library_text(ws, &mut def).await?;
        self.check_form(ws, &def).await?;
        let now = now_ms(self);
        let record = FormRecord {
            id: uuid::Uuid::now_v7().to_string(),
            name: def.name.clone(),
            definition: Value::Object(def.to_json()).to_string(),
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store().begin_write().await?;
        tx.insert_form(ws, &record).await?;
        tx.audit(ws, now, actor, "form.created", &record.id, &audit_detail(&def)).await?;
        tx.commit().await?;
        Ok((record, def))
    }

    /// Change some keys of a form's definition (the rest stay); audited.
    pub async fn update_form(
        &self,
        ws: WorkspaceId,
        id: &str,
        changes: &Map<String, Value>,
        actor: &str,
    ) -> Result<(FormRecord, FormDefinition), FormsError> {
        let (mut record, old) =
            self.form(ws, id).await?.ok_or_else(|| FormsError::NotFound(format!("no form with id {id:?}")))?;
        if let Some(k) = changes.keys().find(|k| !FormDefinition::KEYS.contains(&k.as_str())) {
            return Err(invalid(k, format!("unknown key; expected one of {}", FormDefinition::KEYS.join(", "))));
        }
        let mut merged = old.to_json();
        // A form given a library text takes its words; the old words belonged to the old ask.
        if changes.get("consent_text").is_some_and(|t| !t.is_null()) {
            for k in ["wording", "wording_version"] {
                if !changes.contains_key(k) {
                    merged.remove(k);
                }
            }
        }
        merged.extend(changes.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut def = FormDefinition::from_json(&merged)?;
        self.ask_with_library_text(ws, &mut def).await?;
        if def.wording != old.wording && def.wording_version == old.wording_version {
            // Consents name the words they were given under by this version.
            return Err(invalid(
                "wording_version",
                format!(
                    "the wording changed but its version is still {:?}: give the new words a new version, so each \
                     consent names the words it was given under",
                    def.wording_version
                ),
            ));
        }
        self.check_form(ws, &def).await?;
        record.name = def.name.clone();
        record.definition = Value::Object(def.to_json()).to_string();
        record.updated_at = now_ms(self);
        let mut tx = self.store().begin_write().await?;
        if !tx.update_form(ws, &record).await? {
            return Err(FormsError::NotFound(format!("no form with id {id:?}")));
        }
        tx.audit(ws, record.updated_at, actor, "form.updated", &record.id, &audit_detail(&def)).await?;
        tx.commit().await?;
        Ok((record, def))
    }

    /// Delete a form (audited); `false` if there is none.
    pub async fn delete_form(&self, ws: WorkspaceId, id: &str, actor: &str) -> Result<bool, StoreError> {
        let mut tx = self.store().begin_write().await?;
        let deleted = tx.delete_form(ws, id).await?;
        if deleted {
            tx.audit(ws, now_ms(self), actor, "form.deleted", id, &json!({})).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// A form and its definition.
    pub async fn form(&self, ws: WorkspaceId, id: &str) -> Result<Option<(FormRecord, FormDefinition)>, StoreError> {
        let mut tx = self.store().begin().await?;
        let f = tx.form(ws, id).await?;
        tx.commit().await?;
        f.map(|f| Ok((definition_of(&f.definition)?, f))).transpose().map(|o| o.map(|(d, f)| (f, d)))
    }

    /// A form by id alone (the public page), with its workspace.
    pub async fn public_form(&self, id: &str) -> Result<Option<(WorkspaceId, FormRecord, FormDefinition)>, StoreError> {
        let mut tx = self.store().begin().await?;
        let f = tx.form_anywhere(id).await?;
        tx.commit().await?;
        match f {
            None => Ok(None),
            Some((ws, f)) => {
                let def = definition_of(&f.definition)?;
                Ok(Some((ws, f, def)))
            }
        }
    }

    /// Take a submission of a form (see the module doc for the steps).
    pub async fn submit_form(
        &self,
        ws: WorkspaceId,
        form: &FormRecord,
        def: &FormDefinition,
        fields: &Map<String, Value>,
        strict: bool,
        request: &FormRequest,
    ) -> Result<SubmitOutcome, FormsError> {
        let sub = Submission::parse(def, fields, strict)?;
        // A form is filled in by anyone: it fills in names we lack, never
        // overwrites ones we hold.
        let mut tx = self.store().begin().await?;
        let existing = tx.contact_by_email(ws, &sub.email).await?;
        tx.commit().await?;
        let mut patch = ContactPatch::default();
        for (key, value, held) in [
            ("first_name", &sub.first_name, existing.as_ref().and_then(|c| c.first_name.as_ref())),
            ("last_name", &sub.last_name, existing.as_ref().and_then(|c| c.last_name.as_ref())),
        ] {
            if let (Some(v), None) = (value, held) {
                patch.standard.insert(key.into(), Some(v.clone()));
            }
        }
        let (contact, _) =
            self.upsert_contact(ws, &UpsertKey::Email(sub.email.clone()), &patch).await.map_err(|e| match e {
                ContactWriteError::Invalid(c) => invalid(&c.field().unwrap_or_else(|| "email".into()), c.to_string()),
                ContactWriteError::Store(s) => FormsError::Store(s),
                other => invalid("email", other.to_string()),
            })?;

        let now = self.clock().now();
        let source = format!("form:{}", form.id);
        let proof = Proof {
            ip: request.ip.clone(),
            user_agent: request.user_agent.clone(),
            form_payload: Some(Value::Object(fields.clone())),
        };
        let mut tx = self.store().begin_write().await?;
        let current = tx.consents_of(ws, contact.id).await?;
        let granted = |p: Purpose| {
            current.iter().any(|c| c.channel == def.channel && c.purpose == p && c.state == ConsentState::Granted)
        };
        let mut pending = false;
        for &purpose in &def.purposes {
            if request.gpc && purpose == Purpose::ThirdPartySharing {
                // The browser's opt-out outranks a ticked box (CCPA).
                continue;
            }
            let state = if !def.double_opt_in {
                ConsentState::Granted
            } else if granted(purpose) {
                // Already confirmed: asking again must not take it away.
                continue;
            } else {
                pending = true;
                ConsentState::PendingDoubleOptIn
            };
            let change = ConsentChange {
                channel: def.channel,
                purpose,
                state,
                source: source.clone(),
                lawful_basis: LawfulBasis::Consent,
                wording: Some(def.wording.clone()),
                wording_version: Some(def.wording_version.clone()),
                proof: proof.clone(),
                at: now,
            };
            tx.record_consent(ws, contact.id, &change).await?;
        }
        if request.gpc {
            // Recorded as for tracking calls, with the form as the context.
            let gpc_proof = Proof {
                form_payload: Some(json!({"form_id": form.id, "headers": {"Sec-GPC": "1"}, "form": fields})),
                ..proof.clone()
            };
            for change in on_every_channel(&current, &gpc_denial(gpc_proof, now)) {
                tx.record_consent(ws, contact.id, &change).await?;
            }
        }
        let now_ms = now.timestamp_millis();
        let confirmation = if pending {
            let expires_at = now_ms + def.token_lifetime_hours as i64 * 3_600_000;
            let record = ConfirmationRecord {
                id: uuid::Uuid::now_v7().to_string(),
                form_id: form.id.clone(),
                contact_id: contact.id.to_string(),
                status: "pending".into(),
                definition: form.definition.clone(),
                proof: json!({"ip": proof.ip, "user_agent": proof.user_agent, "form_payload": fields,
                              "gpc": request.gpc, "at": iso(now_ms)})
                .to_string(),
                created_at: now_ms,
                expires_at,
                reminders_sent: 0,
                next_reminder_at: def.next_reminder_at(now_ms, 0, expires_at),
                confirmed_at: None,
            };
            tx.insert_confirmation(ws, &record).await?;
            Some(record)
        } else {
            None
        };
        if !def.double_opt_in {
            if let Some(list) = def.list_id {
                if tx.list(ws, list).await?.is_some() {
                    tx.add_list_members(ws, list, &[contact.id], &source, now_ms).await?;
                }
            }
        }
        self.commit(tx).await?;
        self.log_form_event(
            ws,
            contact.id,
            "Form Submitted",
            json!({"form_id": form.id, "form_name": def.name, "double_opt_in": def.double_opt_in, "gpc": request.gpc}),
        )
        .await?;
        let confirmation_email = match &confirmation {
            None => None,
            Some(r) => Some(match self.send_confirmation(ws, r, def, 0).await {
                Ok(outcome) => json!(outcome),
                Err(e) => {
                    // The submission stands. A passing failure (greylisting,
                    // a relay down) is retried soon by the reminder task;
                    // otherwise the first reminder is the next chance.
                    tracing::warn!(workspace = %ws, form = %form.id, error = %e, "confirmation email not sent");
                    if matches!(e, EmailError::Transient(_)) {
                        let retry = now_ms + RETRY_MS;
                        let next = r.next_reminder_at.map_or(retry, |n| n.min(retry));
                        let mut tx = self.store().begin_write().await?;
                        tx.set_reminder(ws, &r.id, 0, Some(next)).await?;
                        tx.commit().await?;
                    }
                    json!({"outcome": "failed", "reason": e.to_string()})
                }
            }),
        };
        Ok(SubmitOutcome {
            contact_id: contact.id,
            status: if def.double_opt_in { "pending_confirmation" } else { "subscribed" },
            confirmation_email,
        })
    }

    async fn confirmation_key(&self, ws: WorkspaceId) -> Result<[u8; 32], StoreError> {
        let mut tx = self.store().begin().await?;
        let secret = tx.address_salt(ws).await?;
        tx.commit().await?;
        Ok(link_key(&secret, "double-opt-in"))
    }

    /// The confirmation link of a pending confirmation.
    pub async fn confirmation_url(&self, ws: WorkspaceId, r: &ConfirmationRecord) -> Result<String, StoreError> {
        let id: uuid::Uuid = r.id.parse().map_err(|_| StoreError::Corrupt(format!("confirmation id {:?}", r.id)))?;
        let token = sign_subject(&self.confirmation_key(ws).await?, ws, id, r.expires_at.div_euclid(1000));
        Ok(format!("{}/confirm/{token}", self.email().options.public_url.trim_end_matches('/')))
    }

    /// Whether the first confirmation email is still owed: tried, but held
    /// back by a passing failure.
    async fn first_email_owed(&self, ws: WorkspaceId, r: &ConfirmationRecord) -> Result<bool, StoreError> {
        let id = message_id_for_intent(ws, &format!("form-confirmation:{}:0", r.id)).to_string();
        let mut tx = self.store().begin().await?;
        let m = tx.email_message(ws, &id).await?;
        tx.commit().await?;
        Ok(m.is_some_and(|m| matches!(m.status.as_str(), "queued" | "deferred")))
    }

    /// Send the confirmation email (`n` = 0) or its `n`th reminder.
    async fn send_confirmation(
        &self,
        ws: WorkspaceId,
        r: &ConfirmationRecord,
        def: &FormDefinition,
        n: i64,
    ) -> Result<EmailOutcome, EmailError> {
        let contact = ContactId(
            r.contact_id.parse().map_err(|_| EmailError::Permanent(format!("contact id {:?}", r.contact_id)))?,
        );
        let url = self.confirmation_url(ws, r).await?;
        let req = EmailRequest {
            id: message_id_for_intent(ws, &format!("form-confirmation:{}:{n}", r.id)),
            contact,
            template: def.confirmation_template.clone().unwrap_or_else(|| BUILTIN_CONFIRMATION.into()),
            sender: def.sender.clone(),
            transactional: true,
            event: Some(json!({"name": "Form Submitted", "timestamp": iso(r.created_at), "properties": {
                "form_id": r.form_id, "form_name": def.name, "wording": def.wording, "confirm_url": url,
                "expires_at": iso(r.expires_at), "reminder": n}})),
            source: format!("form:{}", r.form_id),
            intent_key: None,
            to_override: None,
            can_delay: false,
            utm_campaign: None,
        };
        self.send_email(ws, req).await
    }

    /// Check a confirmation token and find what it confirms. The inner
    /// error is what the person is told; nothing is changed here (a GET of
    /// the link, which scanners make, must not confirm).
    pub async fn open_confirmation(&self, token: &str) -> Result<Result<OpenConfirmation, LinkError>, StoreError> {
        let ws = match claimed_workspace(token) {
            Ok(ws) => ws,
            Err(e) => return Ok(Err(e)),
        };
        let mut tx = self.store().begin().await?;
        if tx.workspace(ws).await?.is_none() {
            return Ok(Err(LinkError::Invalid));
        }
        tx.commit().await?;
        let key = self.confirmation_key(ws).await?;
        let (ws, id) = match verify_subject(&key, token, self.clock().now().timestamp()) {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        let mut tx = self.store().begin().await?;
        let Some(record) = tx.confirmation(ws, &id.to_string()).await? else { return Ok(Err(LinkError::Invalid)) };
        let contact = match record.contact_id.parse() {
            Ok(c) => tx.contact(ws, ContactId(c)).await?,
            Err(_) => None,
        };
        tx.commit().await?;
        // The contact was erased: the link has nothing left to confirm.
        let Some(contact) = contact else { return Ok(Err(LinkError::Invalid)) };
        if record.status == "expired" {
            return Ok(Err(LinkError::Expired));
        }
        let definition = definition_of(&record.definition)?;
        Ok(Ok(OpenConfirmation { ws, record, definition, email: contact.email }))
    }

    /// Confirm: grant the consent the form asked for, with the proof of this
    /// request, and add the contact to the form's list. A second
    /// confirmation changes nothing.
    pub async fn confirm_subscription(
        &self,
        token: &str,
        request: &FormRequest,
    ) -> Result<Result<(OpenConfirmation, Confirmed), LinkError>, StoreError> {
        let open = match self.open_confirmation(token).await? {
            Ok(o) => o,
            Err(e) => return Ok(Err(e)),
        };
        if open.record.status == "confirmed" {
            return Ok(Ok((open, Confirmed::Already)));
        }
        let (ws, r, def) = (open.ws, &open.record, &open.definition);
        let contact = ContactId(r.contact_id.parse().map_err(|_| StoreError::Corrupt("confirmation contact".into()))?);
        let submitted: Value = serde_json::from_str(&r.proof).unwrap_or(Value::Null);
        let gpc = submitted.get("gpc").and_then(Value::as_bool).unwrap_or(false);
        let now = self.clock().now();
        let mut tx = self.store().begin_write().await?;
        if !tx.mark_confirmed(ws, r, now.timestamp_millis()).await? {
            tx.commit().await?;
            return Ok(Ok((open, Confirmed::Already)));
        }
        let proof = Proof {
            ip: request.ip.clone(),
            user_agent: request.user_agent.clone(),
            form_payload: Some(json!({"confirmation_id": r.id, "submission": submitted})),
        };
        for &purpose in &def.purposes {
            if gpc && purpose == Purpose::ThirdPartySharing {
                continue;
            }
            let change = ConsentChange {
                channel: def.channel,
                purpose,
                state: ConsentState::Granted,
                source: format!("form:{}:double_opt_in", r.form_id),
                lawful_basis: LawfulBasis::Consent,
                wording: Some(def.wording.clone()),
                wording_version: Some(def.wording_version.clone()),
                proof: proof.clone(),
                at: now,
            };
            tx.record_consent(ws, contact, &change).await?;
        }
        if let Some(list) = def.list_id {
            if tx.list(ws, list).await?.is_some() {
                tx.add_list_members(ws, list, &[contact], &format!("form:{}", r.form_id), now.timestamp_millis())
                    .await?;
            }
        }
        self.commit(tx).await?;
        self.log_form_event(ws, contact, "Form Confirmed", json!({"form_id": r.form_id, "confirmation_id": r.id}))
            .await?;
        Ok(Ok((open, Confirmed::Now)))
    }

    /// Append a form event to the log (segments see it live).
    async fn log_form_event(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        name: &str,
        properties: Value,
    ) -> Result<(), StoreError> {
        self.log_own_event(ws, contact, "forms", name, properties).await
    }
}

/// The reminder task: started with the server (not by one-off commands).
pub(crate) fn start(engine: Engine) {
    tokio::spawn(async move {
        let mut swept: Option<std::time::Instant> = None;
        loop {
            tokio::time::sleep(TICK).await;
            if engine.inner.jobs.is_closed() {
                return;
            }
            if swept.is_none_or(|at| at.elapsed() >= SWEEP) {
                swept = Some(std::time::Instant::now());
                if let Err(e) = sweep(&engine).await {
                    tracing::error!(error = %e, "closing expired double opt-in confirmations failed");
                }
            }
            if let Err(e) = tick(&engine).await {
                tracing::error!(error = %e, "the double opt-in reminder task failed a tick");
            }
        }
    });
}

async fn sweep(engine: &Engine) -> Result<(), StoreError> {
    let mut tx = engine.store().begin_write().await?;
    let n = tx.expire_confirmations(now_ms(engine)).await?;
    tx.commit().await?;
    if n > 0 {
        tracing::info!(expired = n, "double opt-in confirmations expired unconfirmed");
    }
    Ok(())
}

async fn tick(engine: &Engine) -> Result<(), StoreError> {
    let now = now_ms(engine);
    let mut tx = engine.store().begin().await?;
    let due = tx.due_reminders(now, 100).await?;
    tx.commit().await?;
    for (ws, r) in due {
        let Ok(ws) = ws.parse::<WorkspaceId>() else { continue };
        let def = match definition_of(&r.definition) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(workspace = %ws, confirmation = %r.id, error = %e, "no reminder");
                let mut tx = engine.store().begin_write().await?;
                tx.set_reminder(ws, &r.id, r.reminders_sent, None).await?;
                tx.commit().await?;
                continue;
            }
        };
        // The first email, if a passing failure held it back, before any
        // reminder; it keeps its own message id, so it is never sent twice.
        let n = if engine.first_email_owed(ws, &r).await? { 0 } else { r.reminders_sent + 1 };
        let (sent, next) = match engine.send_confirmation(ws, &r, &def, n).await {
            Ok(outcome) => {
                tracing::info!(workspace = %ws, confirmation = %r.id, reminder = n, ?outcome, "double opt-in email");
                let sent = n.max(r.reminders_sent);
                (sent, def.next_reminder_at(r.created_at, sent as u32, r.expires_at))
            }
            Err(EmailError::Transient(e)) => {
                tracing::warn!(workspace = %ws, confirmation = %r.id, error = %e, "reminder deferred");
                (r.reminders_sent, Some(now + RETRY_MS))
            }
            Err(e) => {
                tracing::error!(workspace = %ws, confirmation = %r.id, error = %e, "reminder not sent; giving up");
                (r.reminders_sent, None)
            }
        };
        let mut tx = engine.store().begin_write().await?;
        tx.set_reminder(ws, &r.id, sent, next).await?;
        tx.commit().await?;
    }
    Ok(())
}
