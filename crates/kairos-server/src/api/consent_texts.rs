//! `/api/v1/consent-texts`: the workspace's library of consent wordings
//! (what a form or preference page shows when it asks for consent to a
//! channel and purpose). Changing a text adds a version and keeps the old
//! ones, so the words a contact agreed to stay provable; every change is in
//! the audit trail. A form may ask with a library text (its `consent_text`),
//! and then shows the text's newest version; a text no form uses can be
//! retired.

use super::object_body;
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use kairos_core::consent_text::{self, ConsentText};
use kairos_engine::{ConsentTextError, FormUsingText};
use kairos_store::Retirement;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/consent-texts", get(list).post(create))
        .route("/api/v1/consent-texts/{key}", get(read).put(revise))
        .route("/api/v1/consent-texts/{key}/retire", post(retire))
        .route("/api/v1/consent-texts/{key}/reinstate", post(reinstate))
}

impl From<ConsentTextError> for Problem {
    fn from(e: ConsentTextError) -> Self {
        match e {
            ConsentTextError::NotFound(m) => Problem::not_found(m),
            ConsentTextError::Conflict(m) => Problem::conflict(m),
            ConsentTextError::Store(e) => e.into(),
        }
    }
}

/// What the library says of a text beside its words: whether it is retired
/// (when, by whom) and which forms ask with it.
fn standing(out: &mut Value, retired: Option<&Retirement>, users: Option<&Vec<FormUsingText>>) {
    out["retired_at"] = json!(retired.map(|r| kairos_core::clock::from_millis(r.at)));
    out["retired_by"] = json!(retired.map(|r| r.by.clone()));
    out["used_by"] = json!(users
        .map(|u| u.iter().map(|f| json!({"id": f.id, "name": f.name})).collect::<Vec<_>>())
        .unwrap_or_default());
}

fn view(t: &ConsentText) -> Value {
    json!({"key": t.key, "version": t.version, "wording_version": t.wording_version(), "channel": t.channel,
        "purpose": t.purpose, "language": t.language, "text": t.text,
        "created_at": kairos_core::clock::from_millis(t.created_at), "created_by": t.created_by})
}

fn refused((field, message): consent_text::Refusal) -> Problem {
    Problem::invalid(field, message)
}

/// The current version of every text, by key, each with `retired_at` (null
/// while in use) and `used_by` (the forms asking with it).
#[utoipa::path(get, path = "/api/v1/consent-texts", tag = "consent",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let texts = tx.consent_texts(who.ws()).await?;
    tx.commit().await?;
    let retired = s.engine.consent_text_retirements(who.ws()).await?;
    let users = s.engine.consent_text_users(who.ws()).await?;
    let data: Vec<Value> = texts
        .iter()
        .map(|t| {
            let mut v = view(t);
            standing(&mut v, retired.iter().find(|r| r.key == t.key), users.get(&t.key));
            v
        })
        .collect();
    Ok(Json(json!({"data": data})))
}

/// Add a text: `{"key", "channel", "purpose", "language"?, "text"}`; its
/// first version. 409 when the key exists (add a version instead).
#[utoipa::path(post, path = "/api/v1/consent-texts", tag = "consent", request_body = inline(Object),
    responses((status = 201, body = inline(Object)), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let new = consent_text::parse_new(&object_body(&body)?).map_err(refused)?;
    let now = s.engine.clock().now().timestamp_millis();
    let t = ConsentText {
        key: new.key,
        version: 1,
        channel: new.channel,
        purpose: new.purpose,
        language: new.language,
        text: new.text,
        created_at: now,
        created_by: who.actor(),
    };
    let mut tx = s.engine.store().begin_write().await?;
    if !tx.consent_text_versions(who.ws(), &t.key).await?.is_empty() || !tx.insert_consent_text(who.ws(), &t).await? {
        return Err(Problem::conflict(format!(
            "a consent text \"{}\" exists; change it with PUT /api/v1/consent-texts/{} (a new version)",
            t.key, t.key
        )));
    }
    tx.audit(who.ws(), now, &who.actor(), "consent_text.created", &t.wording_version(), &view(&t)).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view(&t))))
}

/// A text's current version with every version, newest first, whether it
/// is retired, and the forms asking with it.
#[utoipa::path(get, path = "/api/v1/consent-texts/{key}", tag = "consent", params(("key" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let versions = tx.consent_text_versions(who.ws(), &key).await?;
    tx.commit().await?;
    let current = versions.first().ok_or_else(|| Problem::not_found(format!("no consent text \"{key}\"")))?;
    let mut out = view(current);
    let retired = s.engine.consent_text_retirements(who.ws()).await?;
    let users = s.engine.consent_text_users(who.ws()).await?;
    standing(&mut out, retired.iter().find(|r| r.key == key), users.get(&key));
    out["versions"] = json!(versions
        .iter()
        .map(|v| json!({"version": v.version, "wording_version": v.wording_version(), "text": v.text,
            "created_at": kairos_core::clock::from_millis(v.created_at), "created_by": v.created_by}))
        .collect::<Vec<_>>());
    Ok(Json(out))
}

/// New wording for a text: `{"text"}` adds the next version; earlier
/// versions are kept unchanged (consents given under them refer to them).
/// The same wording again adds nothing.
#[utoipa::path(put, path = "/api/v1/consent-texts/{key}", tag = "consent", params(("key" = String, Path)),
    request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn revise(
    State(s): State<AppState>,
    who: Caller,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let text = consent_text::parse_revision(&object_body(&body)?).map_err(refused)?;
    let t = s.engine.revise_consent_text(who.ws(), &key, text, &who.actor()).await?;
    Ok(Json(view(&t)))
}

/// Retire a text: it is offered to no new form and gains no version; every
/// version stays readable. 409 while a form asks with it, naming the forms.
#[utoipa::path(post, path = "/api/v1/consent-texts/{key}/retire", tag = "consent", params(("key" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn retire(State(s): State<AppState>, who: Caller, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    s.engine.retire_consent_text(who.ws(), &key, &who.actor()).await?;
    read(State(s), who, Path(key)).await
}

/// Put a retired text back in use.
#[utoipa::path(post, path = "/api/v1/consent-texts/{key}/reinstate", tag = "consent", params(("key" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn reinstate(State(s): State<AppState>, who: Caller, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    s.engine.reinstate_consent_text(who.ws(), &key, &who.actor()).await?;
    read(State(s), who, Path(key)).await
}
