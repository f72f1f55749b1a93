//! `/api/v1/contacts/{id}/consents`: record a consent change for a contact
//! (with its source, lawful basis, wording and proof — the request's IP and
//! user agent when the body gives none) and read the current state with the
//! full history.

use super::{object_body, path_id};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap};
use axum::routing::get;
use axum::{Extension, Json, Router};
use kairos_core::consent::{ConsentChange, Proof};
use kairos_core::ids::ContactId;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/contacts/{id}/consents", get(read).put(record))
}

/// A consent change.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ConsentInput {
    /// email, sms, push, in_app or phone
    pub channel: String,
    /// marketing, product_updates, profiling or third_party_sharing
    pub purpose: String,
    /// granted, denied, withdrawn or pending_double_opt_in
    pub state: String,
    /// Where it came from (default `api`): `form:<id>`, `import`, `preference_centre`, ...
    pub source: Option<String>,
    /// GDPR Art. 6 basis (default `consent`).
    pub lawful_basis: Option<String>,
    /// The exact text shown; required to grant on the basis of consent.
    pub wording: Option<String>,
    pub wording_version: Option<String>,
    /// `ip`, `user_agent`, `form_payload`; the request's own IP and user agent otherwise.
    #[schema(value_type = Object)]
    pub proof: Option<Value>,
}

fn view(current: &[ConsentChange], history: Option<&[ConsentChange]>) -> Value {
    let mut v = json!({"current": current});
    if let Some(h) = history {
        v["history"] = json!(h);
    }
    v
}

/// Record a consent change; answers with the contact's current consent.
#[utoipa::path(put, path = "/api/v1/contacts/{id}/consents", tag = "consent", params(("id" = String, Path)),
    request_body = ConsentInput, responses((status = 200, body = inline(Object)), (status = 404, body = Problem),
    (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn record(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let id: ContactId = path_id(&id, "contact")?;
    let obj = object_body(&body)?;
    let proof = Proof {
        ip: connect.map(|Extension(ConnectInfo(a))| a.ip().to_string()),
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string),
        form_payload: None,
    };
    let change = ConsentChange::from_json(&obj, s.engine.clock().now(), proof)
        .map_err(|e| Problem::invalid(e.field.clone(), e.reason.clone()))?;
    let current = s
        .engine
        .record_consent(who.ws(), id, &change)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no contact with id {id}")))?;
    let detail = json!({"channel": change.channel, "purpose": change.purpose, "state": change.state});
    super::audit(&s, &who, "consent.changed", &id.to_string(), detail).await?;
    Ok(Json(view(&current, None)))
}

/// A contact's current consent per channel and purpose, and every change.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/consents", tag = "consent", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id: ContactId = path_id(&id, "contact")?;
    let mut tx = s.engine.store().begin().await?;
    if tx.contact(who.ws(), id).await?.is_none() {
        return Err(Problem::not_found(format!("no contact with id {id}")));
    }
    let current = tx.consents_of(who.ws(), id).await?;
    let history = tx.consent_history_of(who.ws(), id).await?;
    tx.commit().await?;
    Ok(Json(view(&current, Some(&history))))
}
