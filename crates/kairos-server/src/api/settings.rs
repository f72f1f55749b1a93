//! `/api/v1/settings`: the workspace's sending policy — frequency caps per
//! channel, quiet hours, default time zone — and the sender's postal address
//! (CAN-SPAM: marketing email is refused until it is set). Validated as a
//! whole on every change. Also how email leaves the server (the operator's
//! SMTP relay, read-only here) and a check that the relay answers.

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
    Router::new()
        .route("/api/v1/settings", get(read).put(write))
        .route("/api/v1/settings/email-transport", get(email_transport))
        .route("/api/v1/settings/email-transport/check", axum::routing::post(check_email_transport))
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

/// How email leaves this server: `capture` (kept, viewable in the outbox,
/// nothing sent), `smtp` with the relay's host, port, security and user
/// (never the password), or `disabled`; with anything that keeps email from
/// going out. The operator sets it when starting the server
/// (`--email-transport`, `--smtp-url`), so it is the same for every
/// workspace and read-only here.
#[utoipa::path(get, path = "/api/v1/settings/email-transport", tag = "settings",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn email_transport(State(s): State<AppState>, _who: Caller) -> Json<kairos_engine::EmailTransportView> {
    Json(s.engine.email_transport())
}

/// Connect to the SMTP relay as a send would (TLS, login) and hang up,
/// sending nothing: `{"ok": true, "server", "encrypted", "authenticated",
/// "elapsed_ms"}`, or `{"ok": false, "error"}` saying what failed.
#[utoipa::path(post, path = "/api/v1/settings/email-transport/check", tag = "settings",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn check_email_transport(State(s): State<AppState>, _who: Caller) -> Json<Value> {
    Json(match s.engine.check_email_transport().await {
        Ok(c) => serde_json::json!({"ok": true, "server": c.server, "encrypted": c.encrypted,
            "authenticated": c.authenticated, "elapsed_ms": c.elapsed_ms}),
        Err(e) => serde_json::json!({"ok": false, "error": e}),
    })
}
