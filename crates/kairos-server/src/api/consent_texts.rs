//! `/api/v1/consent-texts`: the workspace's library of consent wordings
//! (what a form or preference page shows when it asks for consent to a
//! channel and purpose). Changing a text adds a version and keeps the old
//! ones, so the words a contact agreed to stay provable; every change is in
//! the audit trail.

use super::object_body;
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use kairos_core::consent_text::{self, ConsentText};
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/consent-texts", get(list).post(create))
        .route("/api/v1/consent-texts/{key}", get(read).put(revise))
}

fn view(t: &ConsentText) -> Value {
    json!({"key": t.key, "version": t.version, "wording_version": t.wording_version(), "channel": t.channel,
        "purpose": t.purpose, "language": t.language, "text": t.text,
        "created_at": kairos_core::clock::from_millis(t.created_at), "created_by": t.created_by})
}

fn refused((field, message): consent_text::Refusal) -> Problem {
    Problem::invalid(field, message)
}

/// The current version of every text, by key.
#[utoipa::path(get, path = "/api/v1/consent-texts", tag = "consent",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let texts = tx.consent_texts(who.ws()).await?;
    tx.commit().await?;
    Ok(Json(json!({"data": texts.iter().map(view).collect::<Vec<_>>()})))
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

/// A text's current version with every version, newest first.
#[utoipa::path(get, path = "/api/v1/consent-texts/{key}", tag = "consent", params(("key" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let versions = tx.consent_text_versions(who.ws(), &key).await?;
    tx.commit().await?;
    let current = versions.first().ok_or_else(|| Problem::not_found(format!("no consent text \"{key}\"")))?;
    let mut out = view(current);
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
    let now = s.engine.clock().now().timestamp_millis();
    let mut tx = s.engine.store().begin_write().await?;
    let versions = tx.consent_text_versions(who.ws(), &key).await?;
    let current = versions.first().ok_or_else(|| Problem::not_found(format!("no consent text \"{key}\"")))?;
    if current.text == text {
        return Ok(Json(view(current)));
    }
    let t =
        ConsentText { version: current.version + 1, text, created_at: now, created_by: who.actor(), ..current.clone() };
    if !tx.insert_consent_text(who.ws(), &t).await? {
        return Err(Problem::conflict(format!("\"{key}\" was changed at the same time; read it and try again")));
    }
    tx.audit(who.ws(), now, &who.actor(), "consent_text.revised", &t.wording_version(), &view(&t)).await?;
    tx.commit().await?;
    Ok(Json(view(&t)))
}
