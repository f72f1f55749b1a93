//! `/api/v1/settings`: the workspace's sending policy — frequency caps per
//! channel, quiet hours, default time zone — the sender's postal address
//! (CAN-SPAM: marketing email is refused until it is set) and transparency
//! (the automation disclosure and the public page). Validated as a whole on
//! every change, every problem named. Also how the workspace's email leaves the server:
//! the operator's transport, or the workspace's own SMTP relay set here
//! (password write-only), and a check that a relay answers, before or after
//! it is saved.

use super::json_body;
use crate::auth::Caller;
use crate::problem::{ApiResult, Invalid, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use kairos_core::gate::GatePolicy;
use kairos_engine::smtp::{RelaySettings, Security};
use kairos_engine::{RelayChange, RelayError};
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/settings", get(read).put(write).patch(change))
        .route("/api/v1/settings/email-transport", get(email_transport))
        .route("/api/v1/settings/email-transport/check", axum::routing::post(check_email_transport))
        .route("/api/v1/settings/email-transport/relay", axum::routing::put(set_relay).delete(remove_relay))
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
    let policy = GatePolicy::from_json(&v).map_err(Invalid::of)?;
    let now = s.engine.clock().now().timestamp_millis();
    let mut tx = s.engine.store().begin_write().await?;
    tx.set_workspace_policy(who.ws(), &policy, now).await?;
    tx.audit(who.ws(), now, &who.actor(), "settings.changed", &who.ws().to_string(), &v).await?;
    tx.commit().await?;
    Ok(Json(policy))
}

/// Change some settings, as a JSON Merge Patch (RFC 7396): what is given
/// replaces what is stored, objects merge key by key (`{"caps": {"sms":
/// {"per_week": 2}}}` leaves the email caps alone), `null` removes (`{"caps":
/// {"email": null}}` lifts the email caps, `{"quiet_hours": null}` turns
/// them off), and what is left out stays. The result is validated as a
/// whole, but only problems in what this change touches refuse it: a setting
/// stored before a rule was tightened stays until it is changed. Two people
/// changing different settings at once do not undo each other's change, as
/// two whole-document PUTs would.
#[utoipa::path(patch, path = "/api/v1/settings", tag = "settings", request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn change(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<GatePolicy>> {
    let v: Value = json_body(&body)?;
    let Value::Object(changes) = &v else { return Err(Problem::invalid("body", "must be a JSON object")) };
    let now = s.engine.clock().now().timestamp_millis();
    let mut tx = s.engine.store().begin_write().await?;
    let current = tx.workspace_policy_for_update(who.ws(), now).await?;
    let mut merged = serde_json::to_value(&current).map_err(Problem::internal)?;
    merge_patch(&mut merged, &v);
    let policy = match GatePolicy::from_json(&merged) {
        Ok(p) => p,
        Err(problems) => {
            let touches = |path: &str| {
                changes.keys().any(|k| path == k || path.strip_prefix(k.as_str()).is_some_and(|r| r.starts_with('.')))
            };
            let touched: Vec<_> = problems.into_iter().filter(|(path, _)| touches(path)).collect();
            if !touched.is_empty() {
                return Err(Invalid::of(touched));
            }
            serde_json::from_value(merged).map_err(|e| Problem::invalid("body", e.to_string()))?
        }
    };
    tx.set_workspace_policy(who.ws(), &policy, now).await?;
    tx.audit(who.ws(), now, &who.actor(), "settings.changed", &who.ws().to_string(), &v).await?;
    tx.commit().await?;
    Ok(Json(policy))
}

/// RFC 7396: apply `patch` to `target`.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in changes {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// How the workspace's email leaves this server: `kind` is `capture` (kept,
/// viewable in the outbox, nothing sent), `smtp` or `disabled`; `source` says
/// whether that is the workspace's own relay (`workspace`, described in
/// `workspace_relay`) or the transport the operator started the server with
/// (`server`, of kind `server_kind`); `relay` is where SMTP goes (host,
/// port, security, user, never the password); `problem` anything that keeps
/// email from going out.
#[utoipa::path(get, path = "/api/v1/settings/email-transport", tag = "settings",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn email_transport(
    State(s): State<AppState>,
    who: Caller,
) -> ApiResult<Json<kairos_engine::EmailTransportView>> {
    Ok(Json(s.engine.email_transport(who.ws()).await?))
}

/// Connect to an SMTP relay as a send would (TLS, login) and hang up,
/// sending nothing. With a body (the same fields as setting the relay, the
/// password optional to use the stored one), the relay described, not yet
/// saved; without one, wherever the workspace's email goes now. Answers
/// `{"ok": true, "server", "encrypted", "authenticated", "elapsed_ms"}`, or
/// `{"ok": false, "error"}` saying what failed.
#[utoipa::path(post, path = "/api/v1/settings/email-transport/check", tag = "settings",
    request_body(content = inline(Object), description = "optional: a relay to check before saving it"),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn check_email_transport(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<Value>> {
    let change = if body.iter().all(u8::is_ascii_whitespace) { None } else { Some(relay_change(&json_body(&body)?)?) };
    Ok(Json(match s.engine.check_email_transport(who.ws(), change).await.map_err(relay_problem)? {
        Ok(c) => json!({"ok": true, "server": c.server, "encrypted": c.encrypted,
            "authenticated": c.authenticated, "elapsed_ms": c.elapsed_ms}),
        Err(e) => json!({"ok": false, "error": e}),
    }))
}

/// Send this workspace's email through its own SMTP relay:
/// `{"host", "port", "security": "none"|"starttls"|"starttls_if_offered"|"tls",
/// "user", "password"}`. `port` defaults to the usual one for `security`
/// (25, 587 or 465); leave `password` out to keep the stored one. Every
/// wrong field is named in one 422; the password is stored sealed and never
/// returned. Connecting is not tried here: check it with `…/check` first.
#[utoipa::path(put, path = "/api/v1/settings/email-transport/relay", tag = "settings", request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn set_relay(
    State(s): State<AppState>,
    who: Caller,
    body: Bytes,
) -> ApiResult<Json<kairos_engine::EmailTransportView>> {
    let change = relay_change(&json_body(&body)?)?;
    s.engine.set_workspace_relay(who.ws(), change, &who.actor()).await.map_err(relay_problem)?;
    Ok(Json(s.engine.email_transport(who.ws()).await?))
}

/// Stop using the workspace's relay: its email goes as the server's
/// transport says again. 404 when it has none.
#[utoipa::path(delete, path = "/api/v1/settings/email-transport/relay", tag = "settings",
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn remove_relay(
    State(s): State<AppState>,
    who: Caller,
) -> ApiResult<Json<kairos_engine::EmailTransportView>> {
    if !s.engine.remove_workspace_relay(who.ws(), &who.actor()).await? {
        return Err(Problem::not_found("this workspace has no SMTP relay of its own"));
    }
    Ok(Json(s.engine.email_transport(who.ws()).await?))
}

fn relay_problem(e: RelayError) -> Problem {
    match e {
        RelayError::Invalid(problems) => Invalid::of(problems),
        RelayError::Forbidden => Problem::forbidden(kairos_engine::RELAY_FORBIDDEN),
        RelayError::Store(e) => e.into(),
    }
}

/// A relay from a request body, every wrong field named at once.
fn relay_change(v: &Value) -> ApiResult<RelayChange> {
    const FIELDS: [&str; 5] = ["host", "port", "security", "user", "password"];
    let obj = v.as_object().ok_or_else(|| Problem::invalid("body", "must be a JSON object"))?;
    let mut bad = Invalid::default();
    for k in obj.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        bad.push(k.as_str(), format!("unknown field; expected {}", FIELDS.join(", ")));
    }
    let text = |bad: &mut Invalid, field: &str, required: bool| -> Option<String> {
        match obj.get(field) {
            None | Some(Value::Null) if !required => None,
            Some(Value::String(s)) if !s.trim().is_empty() || !required => Some(s.trim().to_string()),
            None | Some(Value::Null) | Some(Value::String(_)) => {
                bad.push(field, "is required");
                None
            }
            Some(other) => {
                bad.push(field, format!("must be a string, got {other}"));
                None
            }
        }
    };
    let host = text(&mut bad, "host", true);
    let security = text(&mut bad, "security", true).and_then(|s| {
        let parsed = Security::parse(&s);
        if parsed.is_none() {
            let names: Vec<&str> = Security::ALL.iter().map(|x| x.as_str()).collect();
            bad.push("security", format!("{s:?} is not one of {}", names.join(", ")));
        }
        parsed
    });
    let port = match obj.get("port") {
        None | Some(Value::Null) => security.map(Security::default_port),
        Some(p) => match p.as_u64().and_then(|n| u16::try_from(n).ok()).filter(|n| *n > 0) {
            Some(n) => Some(n),
            None => {
                bad.push("port", format!("must be a whole number from 1 to 65535, got {p}"));
                None
            }
        },
    };
    let user = text(&mut bad, "user", false).filter(|u| !u.is_empty());
    // Passwords are taken as typed: spaces may be part of them.
    let password = match obj.get("password") {
        None => None,
        Some(Value::String(p)) => Some(p.clone()),
        Some(Value::Null) => None,
        Some(other) => {
            bad.push("password", format!("must be a string, got {other}"));
            None
        }
    };
    // A request refused here never reaches the engine's check, so the host's
    // own problems are named now too (the login, which depends on what is
    // stored, is the engine's to check).
    if let Some(h) = host.as_ref().filter(|_| !bad.is_empty()) {
        let probe = RelaySettings { host: h.clone(), port: 25, security: Security::Plain, user: None, password: None };
        for (_, message) in probe.problems().into_iter().filter(|(f, _)| *f == "host") {
            bad.push("host", message);
        }
    }
    bad.finish()?;
    match (host, security, port) {
        (Some(host), Some(security), Some(port)) => Ok(RelayChange { host, port, security, user, password }),
        _ => Err(Problem::bad_request("the relay settings are not usable")),
    }
}
