//! `/api/v1/settings`: the workspace's sending policy — frequency caps per
//! channel, quiet hours, default time zone — and the sender's postal address
//! (CAN-SPAM: marketing email is refused until it is set). Validated as a
//! whole on every change.

use super::json_body;
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use kairos_core::gate::GatePolicy;
use serde_json::Value;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/settings", get(read).put(write))
}

/// The workspace's settings.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller) -> ApiResult<Json<GatePolicy>> {
    let mut tx = s.engine.store().begin().await?;
    let p = tx.workspace_policy(who.ws()).await?;
    tx.commit().await?;
    Ok(Json(p))
}

/// Replace the workspace's settings.
#[utoipa::path(put, path = "/api/v1/settings", tag = "settings", request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn write(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<GatePolicy>> {
    let v: Value = json_body(&body)?;
    let policy = GatePolicy::from_json(&v).map_err(|(field, message)| Problem::invalid(field, message))?;
    let now = s.engine.clock().now().timestamp_millis();
    let mut tx = s.engine.store().begin_write().await?;
    tx.set_workspace_policy(who.ws(), &policy, now).await?;
    tx.audit(who.ws(), now, &who.actor(), "settings.changed", &who.ws().to_string(), &v).await?;
    tx.commit().await?;
    Ok(Json(policy))
}
