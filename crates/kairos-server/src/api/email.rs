//! `/api/v1/email/*`: templates (checked on save with line and column),
//! snippets, previews for a chosen contact, test sends, sender identities
//! with their DKIM DNS records, one-off sends, the messages prepared (with
//! the captured message itself under the capture transport), per-template
//! reports, and the inbound endpoint for bounce (DSN) and complaint (ARF)
//! reports. The recipient-facing routes — open pixel, click redirect,
//! one-click unsubscribe — are in `email_links.rs`.

use super::{limit, object_body, only_keys, path_id};
use crate::auth::Caller;
use crate::problem::{ApiResult, FieldProblem, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kairos_core::ids::ContactId;
use kairos_email::dkim::{dns_name, dns_record, Algorithm};
use kairos_email::template::{BodyFormat, Problem as TemplateProblem, TemplateSource};
use kairos_engine::{EmailError, EmailRequest, NewSender};
use kairos_store::{SenderRecord, TemplateRecord};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/email/templates", get(list_templates).post(create_template))
        .route("/api/v1/email/templates/check", post(check_template))
        .route("/api/v1/email/templates/{id}", get(read_template).put(update_template).delete(delete_template))
        .route("/api/v1/email/templates/{id}/preview", post(preview))
        .route("/api/v1/email/templates/{id}/test-send", post(test_send))
        .route("/api/v1/email/templates/{id}/report", get(report))
        .route("/api/v1/email/snippets", get(list_snippets))
        .route("/api/v1/email/snippets/{name}", get(read_snippet).put(put_snippet).delete(delete_snippet))
        .route("/api/v1/email/senders", get(list_senders).post(create_sender))
        .route("/api/v1/email/senders/{id}", get(read_sender))
        .route("/api/v1/email/send", post(send))
        .route("/api/v1/email/messages", get(list_messages))
        .route("/api/v1/email/messages/{id}", get(read_message))
        .route("/api/v1/email/messages/{id}/raw", get(raw_message))
        .route("/api/v1/email/inbound", post(inbound))
}

impl From<EmailError> for Problem {
    fn from(e: EmailError) -> Self {
        match e {
            EmailError::NotFound(m) => Problem::not_found(m),
            EmailError::Invalid(m) => Problem::invalid("body", m),
            EmailError::Template(problems) => template_problem(problems),
            EmailError::Transient(m) => Problem::unavailable(m),
            EmailError::Permanent(m) => Problem::conflict(m),
            EmailError::Store(e) => e.into(),
        }
    }
}

fn template_problem(problems: Vec<TemplateProblem>) -> Problem {
    let mut p = Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        "The template has problems",
        problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "),
    );
    p.errors = problems
        .into_iter()
        .map(|t| FieldProblem { path: format!("{}:{}:{}", t.part, t.line, t.column), message: t.message })
        .collect();
    p
}

fn string_field(obj: &Map<String, Value>, key: &str, required: bool, max: usize) -> ApiResult<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => Err(Problem::invalid(key, "is required")),
        Some(Value::String(s)) if s.len() <= max => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(Problem::invalid(key, format!("is longer than {max} bytes"))),
        Some(_) => Err(Problem::invalid(key, "must be a string")),
    }
}

/// The template source from a request body (all of it, for create and
/// replace).
fn source_of(obj: &Map<String, Value>) -> ApiResult<TemplateSource> {
    let format = string_field(obj, "format", false, 10)?.unwrap_or_else(|| "mjml".into());
    let format =
        BodyFormat::parse(&format).ok_or_else(|| Problem::invalid("format", "must be \"mjml\" or \"html\""))?;
    Ok(TemplateSource {
        subject: string_field(obj, "subject", true, 998)?.unwrap_or_default(),
        body: string_field(obj, "body", true, 1 << 20)?.unwrap_or_default(),
        format,
        text: string_field(obj, "text", false, 1 << 20)?,
        layout: string_field(obj, "layout", false, 200)?,
    })
}

fn template_view(t: &TemplateRecord) -> Value {
    json!({"id": t.id, "name": t.name, "subject": t.subject, "body": t.body, "format": t.format,
           "text": t.text_body, "layout": t.layout, "created_at": t.created_at, "updated_at": t.updated_at})
}

fn now_ms(s: &AppState) -> i64 {
    s.engine.clock().now().timestamp_millis()
}

const TEMPLATE_KEYS: &[&str] = &["name", "subject", "body", "format", "text", "layout"];

/// Built-in templates (the double opt-in confirmation) are sent by names
/// starting `kairos:`; a stored template by such a name would never be used.
fn not_reserved(name: &str) -> ApiResult<()> {
    if name.trim().starts_with("kairos:") {
        return Err(Problem::invalid("name", "names starting with \"kairos:\" are reserved for built-in templates"));
    }
    Ok(())
}

/// Every template of the workspace.
#[utoipa::path(get, path = "/api/v1/email/templates", tag = "email",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn list_templates(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let ts = tx.email_templates(who.ws()).await?;
    tx.commit().await?;
    Ok(Json(json!({"data": ts.iter().map(template_view).collect::<Vec<_>>()})))
}

/// Create a template: `{"name", "subject", "body", "format": "mjml"|"html",
/// "text"?, "layout"?}`. Checked first: Liquid syntax, MJML, and every
/// variable; problems come back with part, line and column.
#[utoipa::path(post, path = "/api/v1/email/templates", tag = "email", request_body = inline(Object),
    responses((status = 201, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_template(
    State(s): State<AppState>,
    who: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let obj = object_body(&body)?;
    only_keys(&obj, TEMPLATE_KEYS)?;
    let name = string_field(&obj, "name", true, 200)?.unwrap_or_default();
    if name.trim().is_empty() {
        return Err(Problem::invalid("name", "a template needs a name"));
    }
    not_reserved(&name)?;
    let src = source_of(&obj)?;
    s.engine.check_email_template(who.ws(), &src).await?;
    let now = now_ms(&s);
    let t = TemplateRecord {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.trim().to_string(),
        subject: src.subject,
        body: src.body,
        format: src.format.as_str().into(),
        text_body: src.text,
        layout: src.layout,
        created_at: now,
        updated_at: now,
    };
    let mut tx = s.engine.store().begin_write().await?;
    if tx.email_template(who.ws(), &t.name).await?.is_some() {
        return Err(Problem::conflict(format!("a template named \"{}\" exists already", t.name)));
    }
    tx.insert_email_template(who.ws(), &t).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(template_view(&t))))
}

/// Check an unsaved template (the editor's inline errors); with
/// `contact_id` (and optionally `event`) also render it for that contact,
/// as the text stands (the editor's live preview): `preview` is
/// `{subject, html, text}` or `{skipped}` with the reason.
#[utoipa::path(post, path = "/api/v1/email/templates/check", tag = "email", request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn check_template(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<Value>> {
    let mut obj = object_body(&body)?;
    let preview_for = if obj.contains_key("contact_id") {
        // A preview shows a person's data: the same permission as the stored template's preview.
        if !who.role.allows(kairos_core::access::Permission::PeopleRead) {
            return Err(Problem::forbidden(format!(
                "your role ({}) may check templates but not preview them for a person",
                who.role.as_str()
            )));
        }
        let p = (contact_of(&obj)?, event_of(&obj)?);
        obj.remove("contact_id");
        obj.remove("event");
        Some(p)
    } else {
        None
    };
    only_keys(&obj, TEMPLATE_KEYS)?;
    let src = source_of(&obj)?;
    let Some((contact, event)) = preview_for else {
        s.engine.check_email_template(who.ws(), &src).await?;
        return Ok(Json(json!({"ok": true})));
    };
    let preview = match s.engine.preview_email_source(who.ws(), &src, contact, event).await? {
        Ok(r) => json!({"subject": r.subject, "html": r.html, "text": r.text}),
        Err(reason) => json!({"skipped": reason}),
    };
    Ok(Json(json!({"ok": true, "preview": preview})))
}

async fn template_or_404(s: &AppState, ws: kairos_core::ids::WorkspaceId, id: &str) -> ApiResult<TemplateRecord> {
    let mut tx = s.engine.store().begin().await?;
    let t = tx.email_template(ws, id).await?;
    tx.commit().await?;
    t.ok_or_else(|| Problem::not_found(format!("no email template with id or name {id:?}")))
}

#[utoipa::path(get, path = "/api/v1/email/templates/{id}", tag = "email", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read_template(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(template_view(&template_or_404(&s, who.ws(), &id).await?)))
}

/// Replace a template's content (checked as on create).
#[utoipa::path(put, path = "/api/v1/email/templates/{id}", tag = "email", params(("id" = String, Path)),
    request_body = inline(Object), responses((status = 200, body = inline(Object)), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_template(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let obj = object_body(&body)?;
    only_keys(&obj, TEMPLATE_KEYS)?;
    let old = template_or_404(&s, who.ws(), &id).await?;
    let src = source_of(&obj)?;
    s.engine.check_email_template(who.ws(), &src).await?;
    let name = string_field(&obj, "name", false, 200)?.map(|n| n.trim().to_string());
    if let Some(n) = &name {
        not_reserved(n)?;
    }
    let t = TemplateRecord {
        name: name.unwrap_or(old.name.clone()),
        subject: src.subject,
        body: src.body,
        format: src.format.as_str().into(),
        text_body: src.text,
        layout: src.layout,
        updated_at: now_ms(&s).max(old.updated_at + 1),
        ..old
    };
    let mut tx = s.engine.store().begin_write().await?;
    tx.update_email_template(who.ws(), &t).await?;
    tx.commit().await?;
    Ok(Json(template_view(&t)))
}

#[utoipa::path(delete, path = "/api/v1/email/templates/{id}", tag = "email", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn delete_template(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let t = template_or_404(&s, who.ws(), &id).await?;
    let mut tx = s.engine.store().begin_write().await?;
    tx.delete_email_template(who.ws(), &t.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

fn contact_of(obj: &Map<String, Value>) -> ApiResult<ContactId> {
    let raw = string_field(obj, "contact_id", true, 100)?.unwrap_or_default();
    raw.parse().map_err(|_| Problem::invalid("contact_id", format!("{raw:?} is not a contact id")))
}

fn event_of(obj: &Map<String, Value>) -> ApiResult<Option<Value>> {
    match obj.get("event") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(e)) => {
            only_keys(e, &["name", "timestamp", "properties"]).map_err(|p| {
                let mut p = p;
                p.errors.iter_mut().for_each(|f| f.path = format!("event.{}", f.path));
                p
            })?;
            let mut ev = json!({"name": null, "timestamp": null, "properties": {}});
            for (k, v) in e {
                ev[k] = v.clone();
            }
            if !ev["properties"].is_object() {
                return Err(Problem::invalid("event.properties", "must be an object"));
            }
            Ok(Some(ev))
        }
        Some(_) => Err(Problem::invalid("event", "must be an object with name, timestamp and properties")),
    }
}

/// Render a template for a chosen contact: `{"contact_id", "event"?}`.
/// Nothing is sent or recorded. When the template cannot personalise for
/// this contact, `skipped` says why.
#[utoipa::path(post, path = "/api/v1/email/templates/{id}/preview", tag = "email", params(("id" = String, Path)),
    request_body = inline(Object), responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn preview(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["contact_id", "event"])?;
    let contact = contact_of(&obj)?;
    let event = event_of(&obj)?;
    match s.engine.preview_email(who.ws(), &id, contact, event).await? {
        Ok(r) => Ok(Json(json!({"subject": r.subject, "html": r.html, "text": r.text}))),
        Err(reason) => Ok(Json(json!({"skipped": reason}))),
    }
}

/// Send a template to a team member's address, personalised for a chosen
/// contact: `{"to", "contact_id", "event"?}`. Marked as a test.
#[utoipa::path(post, path = "/api/v1/email/templates/{id}/test-send", tag = "email", params(("id" = String, Path)),
    request_body = inline(Object), responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn test_send(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["to", "contact_id", "event", "sender"])?;
    let to = string_field(&obj, "to", true, 320)?.unwrap_or_default();
    kairos_email::message::mailbox("to", None, &to).map_err(|e| Problem::invalid("to", e.to_string()))?;
    let req = EmailRequest {
        id: uuid::Uuid::now_v7(),
        contact: contact_of(&obj)?,
        template: id,
        sender: string_field(&obj, "sender", false, 100)?,
        transactional: true,
        event: event_of(&obj)?,
        source: "test".into(),
        intent_key: None,
        to_override: Some(to),
        can_delay: false,
        utm_campaign: None,
    };
    Ok(Json(serde_json::to_value(s.engine.send_email(who.ws(), req).await?).unwrap_or(Value::Null)))
}

/// Send one email now: `{"contact_id", "template", "transactional"?,
/// "event"?, "sender"?}`. Passes the gate like every other send.
#[utoipa::path(post, path = "/api/v1/email/send", tag = "email", request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn send(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<Value>> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["contact_id", "template", "transactional", "event", "sender", "campaign"])?;
    let transactional = match obj.get("transactional") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(Problem::invalid("transactional", "must be true or false")),
    };
    let req = EmailRequest {
        id: uuid::Uuid::now_v7(),
        contact: contact_of(&obj)?,
        template: string_field(&obj, "template", true, 200)?.unwrap_or_default(),
        sender: string_field(&obj, "sender", false, 100)?,
        transactional,
        event: event_of(&obj)?,
        source: "api".into(),
        intent_key: None,
        to_override: None,
        can_delay: false,
        utm_campaign: string_field(&obj, "campaign", false, 200)?,
    };
    Ok(Json(serde_json::to_value(s.engine.send_email(who.ws(), req).await?).unwrap_or(Value::Null)))
}

/// Totals and clicks per link over a template's messages.
#[utoipa::path(get, path = "/api/v1/email/templates/{id}/report", tag = "email", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn report(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let t = template_or_404(&s, who.ws(), &id).await?;
    let mut tx = s.engine.store().begin().await?;
    let totals = tx.email_totals(who.ws(), None, Some(&t.id)).await?;
    let links = tx.email_link_clicks(who.ws(), &t.id).await?;
    tx.commit().await?;
    Ok(Json(json!({"template": t.id, "totals": totals, "links": links})))
}

#[utoipa::path(get, path = "/api/v1/email/snippets", tag = "email",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn list_snippets(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let all = tx.email_snippets(who.ws()).await?;
    tx.commit().await?;
    Ok(Json(json!({"data": all})))
}

/// One snippet: its name, body and when it last changed.
#[utoipa::path(get, path = "/api/v1/email/snippets/{name}", tag = "email", params(("name" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read_snippet(State(s): State<AppState>, who: Caller, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let found = tx.email_snippets(who.ws()).await?.into_iter().find(|x| x.name == name);
    tx.commit().await?;
    let snippet = found.ok_or_else(|| Problem::not_found(format!("no snippet named {name:?}")))?;
    Ok(Json(json!(snippet)))
}

/// Whether a Liquid text includes the snippet `name`.
fn includes(text: &str, name: &str) -> bool {
    text.contains(&format!("include '{name}'")) || text.contains(&format!("include \"{name}\""))
}

/// Create or replace a snippet: `{"body"}`. Included with
/// `{% include 'name' %}`; a layout holds `{{ content }}`. Answers with the
/// snippet as stored (`updated_at` in milliseconds).
#[utoipa::path(put, path = "/api/v1/email/snippets/{name}", tag = "email", params(("name" = String, Path)),
    request_body = inline(Object), responses((status = 200, body = inline(Object)), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn put_snippet(
    State(s): State<AppState>,
    who: Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["body"])?;
    if name.is_empty() || name.len() > 100 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(Problem::invalid("name", "a snippet name is 1 to 100 letters, digits, '_' or '-'"));
    }
    let text = string_field(&obj, "body", true, 1 << 20)?.unwrap_or_default();
    // Checked as the body of an HTML template that includes nothing else.
    let mut schema = s.engine.email_schema(who.ws()).await?;
    schema.snippets.insert(name.clone(), text.clone());
    let src = TemplateSource {
        subject: "x".into(),
        body: text.clone(),
        format: BodyFormat::Html,
        text: Some(String::new()),
        layout: None,
    };
    if let Err(problems) = kairos_email::template::compile(&src, &schema) {
        let problems = problems
            .into_iter()
            .map(|mut p| {
                if p.part == "body" {
                    p.part = format!("snippet {name}");
                }
                p
            })
            .collect();
        return Err(template_problem(problems));
    }
    let now = now_ms(&s);
    let mut tx = s.engine.store().begin_write().await?;
    tx.put_email_snippet(who.ws(), &name, &text, now).await?;
    tx.commit().await?;
    Ok(Json(json!({"name": name, "body": text, "updated_at": now})))
}

/// Delete a snippet; refused (409, naming them) while templates or other
/// snippets include it or templates use it as their layout, since they
/// could no longer be rendered.
#[utoipa::path(delete, path = "/api/v1/email/snippets/{name}", tag = "email", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn delete_snippet(State(s): State<AppState>, who: Caller, Path(name): Path<String>) -> ApiResult<StatusCode> {
    let mut tx = s.engine.store().begin_write().await?;
    let mut users: Vec<String> = tx
        .email_templates(who.ws())
        .await?
        .into_iter()
        .filter(|t| {
            t.layout.as_deref() == Some(name.as_str())
                || includes(&t.subject, &name)
                || includes(&t.body, &name)
                || t.text_body.as_deref().is_some_and(|b| includes(b, &name))
        })
        .map(|t| format!("template {:?}", t.name))
        .collect();
    users.extend(
        tx.email_snippets(who.ws())
            .await?
            .into_iter()
            .filter(|x| x.name != name && includes(&x.body, &name))
            .map(|x| format!("snippet {:?}", x.name)),
    );
    if !users.is_empty() {
        return Err(Problem::conflict(format!(
            "snippet {name:?} is used by {}: change them first, or they could no longer be rendered",
            users.join(", ")
        )));
    }
    let gone = tx.delete_email_snippet(who.ws(), &name).await?;
    tx.commit().await?;
    if gone {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("no snippet named {name:?}")))
    }
}

fn sender_view(r: &SenderRecord) -> Value {
    let alg = Algorithm::parse(&r.dkim_algorithm).unwrap_or(Algorithm::Rsa2048);
    json!({
        "id": r.id, "name": r.name, "email": r.email, "reply_to": r.reply_to, "default": r.is_default,
        "dkim": {"domain": r.dkim_domain, "selector": r.dkim_selector, "algorithm": r.dkim_algorithm,
                 "dns_name": dns_name(&r.dkim_selector, &r.dkim_domain), "dns_type": "TXT",
                 "dns_value": dns_record(alg, &r.dkim_public_key)},
        "created_at": r.created_at,
    })
}

#[utoipa::path(get, path = "/api/v1/email/senders", tag = "email",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn list_senders(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let all = tx.email_senders(who.ws()).await?;
    tx.commit().await?;
    Ok(Json(json!({"data": all.iter().map(sender_view).collect::<Vec<_>>()})))
}

/// Create a sender identity: `{"email", "name"?, "reply_to"?,
/// "dkim_selector"?, "dkim_algorithm": "ed25519"|"rsa2048", "default"?}`. A
/// new DKIM key is generated; the answer gives the TXT record to publish.
#[utoipa::path(post, path = "/api/v1/email/senders", tag = "email", request_body = inline(Object),
    responses((status = 201, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_sender(
    State(s): State<AppState>,
    who: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["email", "name", "reply_to", "dkim_selector", "dkim_algorithm", "default"])?;
    let email = string_field(&obj, "email", true, 320)?.unwrap_or_default();
    let name = string_field(&obj, "name", false, 200)?;
    if let Some(n) = &name {
        kairos_email::message::check_display_name("name", n).map_err(|e| Problem::invalid("name", e.to_string()))?;
    }
    kairos_email::message::mailbox("email", None, &email).map_err(|e| Problem::invalid("email", e.to_string()))?;
    let reply_to = string_field(&obj, "reply_to", false, 320)?;
    if let Some(r) = &reply_to {
        kairos_email::message::mailbox("reply_to", None, r).map_err(|e| Problem::invalid("reply_to", e.to_string()))?;
    }
    let selector = string_field(&obj, "dkim_selector", false, 63)?.unwrap_or_else(|| "kairos".into());
    kairos_email::dkim::check_name("selector", &selector)
        .map_err(|e| Problem::invalid("dkim_selector", e.to_string()))?;
    let alg_raw = string_field(&obj, "dkim_algorithm", false, 20)?.unwrap_or_else(|| "rsa2048".into());
    let alg = Algorithm::parse(&alg_raw)
        .ok_or_else(|| Problem::invalid("dkim_algorithm", format!("{alg_raw:?} is not \"rsa2048\" or \"ed25519\"")))?;
    let is_default = matches!(obj.get("default"), Some(Value::Bool(true)));
    let new = NewSender { name, email, reply_to, dkim_selector: selector, algorithm: alg, is_default };
    let r = s.engine.create_email_sender(who.ws(), new).await?;
    Ok((StatusCode::CREATED, Json(sender_view(&r))))
}

#[utoipa::path(get, path = "/api/v1/email/senders/{id}", tag = "email", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read_sender(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let r = tx.email_sender(who.ws(), Some(&id)).await?;
    tx.commit().await?;
    r.map(|r| Json(sender_view(&r))).ok_or_else(|| Problem::not_found(format!("no sender identity with id {id:?}")))
}

/// Messages, newest first: `?contact_id=&limit=&cursor=` (cursor: the
/// previous page's `next_cursor`).
#[utoipa::path(get, path = "/api/v1/email/messages", tag = "email",
    params(("contact_id" = Option<String>, Query), ("limit" = Option<i64>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn list_messages(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let n = limit(q.get("limit"))?;
    let after = match q.get("cursor") {
        None => None,
        Some(c) => {
            let bad = || Problem::invalid("cursor", format!("not a cursor this API returned: {c:?}"));
            let (at, id) = c.split_once(':').ok_or_else(bad)?;
            Some((at.parse::<i64>().map_err(|_| bad())?, id.to_string()))
        }
    };
    if let Some(c) = q.get("contact_id") {
        let _: ContactId = path_id(c, "contact")?;
    }
    let mut tx = s.engine.store().begin().await?;
    let page = tx.email_messages(who.ws(), q.get("contact_id").map(String::as_str), after, n).await?;
    tx.commit().await?;
    let next = if page.len() as i64 == n { page.last().map(|m| format!("{}:{}", m.created_at, m.id)) } else { None };
    Ok(Json(json!({"data": page, "next_cursor": next})))
}

async fn message_or_404(s: &AppState, who: &Caller, id: &str) -> ApiResult<kairos_store::MessageRecord> {
    let mut tx = s.engine.store().begin().await?;
    let m = tx.email_message(who.ws(), id).await?;
    tx.commit().await?;
    m.ok_or_else(|| Problem::not_found(format!("no email message with id {id:?}")))
}

/// One message; under the capture transport `raw` is the full message as
/// it would have been sent.
#[utoipa::path(get, path = "/api/v1/email/messages/{id}", tag = "email", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read_message(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(serde_json::to_value(message_or_404(&s, &who, &id).await?).unwrap_or(Value::Null)))
}

/// The captured message as `message/rfc822`.
#[utoipa::path(get, path = "/api/v1/email/messages/{id}/raw", tag = "email", params(("id" = String, Path)),
    responses((status = 200, content_type = "message/rfc822"), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn raw_message(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let m = message_or_404(&s, &who, &id).await?;
    let raw = m.raw.ok_or_else(|| {
        Problem::not_found("this message was not captured (only the capture transport keeps messages)")
    })?;
    Ok(([(header::CONTENT_TYPE, "message/rfc822")], raw).into_response())
}

/// A bounce (RFC 3464 DSN) or complaint (RFC 5965 ARF) report as received
/// by the bounce mailbox, posted raw (`Content-Type: message/rfc822`).
/// Hard bounces and complaints suppress the address; complaints also
/// withdraw email marketing consent.
#[utoipa::path(post, path = "/api/v1/email/inbound", tag = "email", request_body(content = String, content_type = "message/rfc822"),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn inbound(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<Value>> {
    if body.is_empty() {
        return Err(Problem::bad_request("post the report message itself as the body (message/rfc822)"));
    }
    let report = kairos_email::bounce::parse(&body).map_err(|e| Problem::invalid("body", e.to_string()))?;
    Ok(Json(s.engine.apply_email_report(who.ws(), &report).await?))
}
