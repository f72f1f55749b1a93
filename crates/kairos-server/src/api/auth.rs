//! `/api/v1/auth/*`: signing in to the UI with an email and a password,
//! the session it opens (an HttpOnly, SameSite=Strict cookie plus a CSRF
//! token for unsafe requests), switching workspace, changing the password,
//! signing out. Failed sign-ins lock the account after
//! [`LOCKOUT_AFTER`] tries and are limited per client address; every sign-in,
//! failure and lock is written to the audit trail of the user's workspaces.

use super::{json_body, object_body, only_keys};
use crate::auth::{Caller, Principal, SESSION_COOKIE};
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, Duration, Utc};
use kairos_core::access::{
    after_failed_sign_in, check_new_password, decoy_hash, hash_password, random_token, verify_password, Role,
    LOCKOUT_AFTER,
};
use kairos_core::apikey::secret_digest;
use kairos_core::ids::WorkspaceId;
use kairos_store::{SessionRecord, User};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;
use utoipa::ToSchema;

/// How long a session lasts from sign-in.
pub const SESSION_HOURS: i64 = 12;
/// Failed sign-ins one client address may make per window before it is
/// refused without checking (guards against guessing across many accounts).
pub const FAILURES_PER_ADDRESS: usize = 20;
const ADDRESS_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Recent failed sign-ins per client address.
#[derive(Default)]
pub struct SignInLimiter(Mutex<HashMap<IpAddr, Vec<Instant>>>);

impl SignInLimiter {
    fn blocked(&self, ip: Option<IpAddr>) -> bool {
        let (Some(ip), Ok(mut m)) = (ip, self.0.lock()) else { return false };
        let v = m.entry(ip).or_default();
        v.retain(|t| t.elapsed() < ADDRESS_WINDOW);
        v.len() >= FAILURES_PER_ADDRESS
    }
    fn failed(&self, ip: Option<IpAddr>) {
        if let (Some(ip), Ok(mut m)) = (ip, self.0.lock()) {
            m.entry(ip).or_default().push(Instant::now());
        }
    }
}

/// Public: signing in needs no session.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/api/v1/auth/login", post(login))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/session", get(session))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/switch", post(switch))
        .route("/api/v1/auth/password", post(password))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// Workspace name or id to open; the first by name when absent.
    pub workspace: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkspaceRole {
    pub id: String,
    pub name: String,
    pub role: String,
}

/// Who is calling and what they may do.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// `user` (signed in) or `key` (an API key).
    pub principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserView>,
    /// The key's name and prefix, for key callers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub workspace: WorkspaceRole,
    pub role: String,
    /// Every permission the role holds, e.g. `people:read`.
    pub permissions: Vec<String>,
    /// The workspaces a user may switch to, with their role in each.
    pub workspaces: Vec<WorkspaceRole>,
    /// Send as `X-CSRF-Token` with every POST, PUT, PATCH and DELETE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

async fn view(s: &AppState, caller: &Caller) -> ApiResult<SessionView> {
    let mut tx = s.engine.store().begin().await?;
    let name = tx.workspace(caller.ws()).await?.map(|w| w.name).unwrap_or_default();
    let workspace = WorkspaceRole { id: caller.ws().to_string(), name, role: caller.role.as_str().into() };
    let permissions = caller.role.permissions().iter().map(|p| p.as_str().to_string()).collect();
    Ok(match &caller.principal {
        Principal::Key(k) => SessionView {
            principal: "key".into(),
            user: None,
            key: Some(format!("{} ({})", k.name, k.prefix)),
            workspaces: vec![workspace.clone()],
            workspace,
            role: caller.role.as_str().into(),
            permissions,
            csrf_token: None,
            expires_at: k.expires_at,
        },
        Principal::User { user, csrf, expires_at, .. } => {
            let workspaces = tx
                .memberships(user.id)
                .await?
                .into_iter()
                .map(|(id, name, role)| WorkspaceRole { id: id.to_string(), name, role: role.as_str().into() })
                .collect();
            SessionView {
                principal: "user".into(),
                user: Some(UserView { id: user.id.to_string(), email: user.email.clone(), name: user.name.clone() }),
                key: None,
                workspace,
                role: caller.role.as_str().into(),
                permissions,
                workspaces,
                csrf_token: Some(csrf.clone()),
                expires_at: Some(*expires_at),
            }
        }
    })
}

/// The Set-Cookie value for a session secret (or for clearing it).
fn session_cookie(s: &AppState, secret: &str, max_age: i64) -> HeaderValue {
    // Secure whenever Kairos is reached over HTTPS; a plain-HTTP public URL
    // (a laptop, the demo) would otherwise never get its cookie back.
    let secure = if s.engine.public_url().starts_with("https://") { "; Secure" } else { "" };
    let v = format!("{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("kairos_session=; Max-Age=0"))
}

/// Write one audit entry in each of `workspaces`.
async fn audit_all(
    s: &AppState,
    workspaces: &[WorkspaceId],
    actor: &str,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
) -> ApiResult<()> {
    if workspaces.is_empty() {
        return Ok(());
    }
    let now = s.engine.clock().now().timestamp_millis();
    let mut tx = s.engine.store().begin_write().await?;
    for ws in workspaces {
        tx.audit(*ws, now, actor, action, subject, &detail).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn user_agent(h: &HeaderMap) -> Option<String> {
    h.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|s| s.chars().take(300).collect())
}

/// Sign in; sets the session cookie and returns the CSRF token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginInput,
    responses((status = 200, body = SessionView), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn login(
    State(s): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["email", "password", "workspace"])?;
    let input: LoginInput = json_body(&body)?;
    let ip = connect.map(|Extension(ConnectInfo(a))| a.ip());
    if s.sign_ins.blocked(ip) {
        let p = Problem::too_many("too many failed sign-ins from this address; wait 15 minutes");
        return Ok(retry_after(p, ADDRESS_WINDOW.as_secs() as i64));
    }
    let email = super::users::account_email(&input.email).unwrap_or_default();
    let now = s.engine.clock().now();
    let mut tx = s.engine.store().begin().await?;
    let found = if email.is_empty() { None } else { tx.user_by_email(&email).await? };
    drop(tx);
    let Some((user, hash)) = found else {
        // Spend the same time as a real check so accounts cannot be found by timing.
        let pw = input.password.clone();
        let _ = tokio::task::spawn_blocking(move || verify_password(&pw, decoy_hash())).await;
        s.sign_ins.failed(ip);
        tracing::warn!(%email, ?ip, "sign-in for an unknown email");
        return Err(Problem::unauthorized("wrong email or password"));
    };
    let mut tx = s.engine.store().begin().await?;
    let memberships = tx.memberships(user.id).await?;
    let last = tx.last_workspace(user.id).await?;
    drop(tx);
    let spaces: Vec<WorkspaceId> = memberships.iter().map(|(id, _, _)| *id).collect();
    let actor = format!("user:{}", user.email);
    if let Some(until) = user.locked_until.filter(|t| *t > now) {
        s.sign_ins.failed(ip);
        return Ok(retry_after(locked(until, now), (until - now).num_seconds()));
    }
    let pw = input.password.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash)).await.unwrap_or(false);
    if !ok {
        s.sign_ins.failed(ip);
        let (failures, lock) = after_failed_sign_in(user.failed_sign_ins, now);
        let mut tx = s.engine.store().begin_write().await?;
        tx.set_sign_in_state(user.id, failures, lock).await?;
        tx.commit().await?;
        let ip_text = ip.map(|i| i.to_string());
        audit_all(&s, &spaces, &actor, "user.sign_in_failed", &user.id.to_string(), json!({"ip": ip_text})).await?;
        if let Some(until) = lock {
            audit_all(&s, &spaces, &actor, "user.locked", &user.id.to_string(), json!({"until": until, "ip": ip_text}))
                .await?;
            return Ok(retry_after(locked(until, now), (until - now).num_seconds()));
        }
        return Err(Problem::unauthorized("wrong email or password"));
    }
    let chosen = match input.workspace.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        // Where they last worked, while still a member there.
        None => last.and_then(|l| memberships.iter().find(|(id, _, _)| *id == l)).or(memberships.first()),
        Some(w) => memberships.iter().find(|(id, name, _)| name == w || id.to_string() == w),
    };
    let Some((ws, _, _)) = chosen else {
        return Err(match input.workspace {
            Some(w) => Problem::forbidden(format!("you are not a member of workspace {w:?}")),
            None => Problem::forbidden("you are not a member of any workspace; ask an owner to add you"),
        });
    };
    let secret = random_token(32);
    let record = SessionRecord {
        user_id: user.id,
        workspace_id: *ws,
        csrf: random_token(24),
        created_at: now,
        expires_at: now + Duration::hours(SESSION_HOURS),
        ip: ip.map(|i| i.to_string()),
        user_agent: user_agent(&headers),
    };
    let mut tx = s.engine.store().begin_write().await?;
    tx.set_sign_in_state(user.id, 0, None).await?;
    tx.delete_expired_sessions(now).await?;
    tx.insert_session(&secret_digest(&secret), &record).await?;
    tx.set_last_workspace(user.id, *ws).await?;
    tx.audit(*ws, now.timestamp_millis(), &actor, "user.signed_in", &user.id.to_string(), &json!({"ip": record.ip}))
        .await?;
    tx.commit().await?;
    let role = memberships.iter().find(|(id, _, _)| id == ws).map(|(_, _, r)| *r).unwrap_or(Role::Analyst);
    let caller = Caller {
        workspace: *ws,
        role,
        principal: Principal::User {
            user,
            session: secret_digest(&secret),
            csrf: record.csrf.clone(),
            expires_at: record.expires_at,
        },
    };
    let v = view(&s, &caller).await?;
    let mut resp = Json(v).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, session_cookie(&s, &secret, SESSION_HOURS * 3600));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// A 429 saying, in `Retry-After`, how many seconds to wait.
fn retry_after(p: Problem, seconds: i64) -> Response {
    let mut resp = p.into_response();
    if let Ok(v) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> Problem {
    let minutes = ((until - now).num_seconds() + 59) / 60;
    Problem::too_many(format!(
        "this account is locked after {LOCKOUT_AFTER} failed sign-ins; try again in {minutes} minutes (at {}) or ask an admin to unlock it",
        until.to_rfc3339()
    ))
}

/// Who is calling, with their role and permissions (and, for a signed-in
/// user, the CSRF token and the workspaces they can switch to).
#[utoipa::path(get, path = "/api/v1/auth/session", tag = "auth",
    responses((status = 200, body = SessionView), (status = 401, body = Problem)), security(("bearer" = []), ("session" = [])))]
pub async fn session(State(s): State<AppState>, who: Caller) -> ApiResult<Json<SessionView>> {
    Ok(Json(view(&s, &who).await?))
}

/// Sign out: the session ends at once and the cookie is cleared.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 400, body = Problem)), security(("session" = [])))]
pub async fn logout(State(s): State<AppState>, who: Caller) -> ApiResult<Response> {
    let Principal::User { session, user, .. } = &who.principal else {
        return Err(Problem::bad_request("API keys do not sign out; revoke the key instead"));
    };
    let now = s.engine.clock().now().timestamp_millis();
    let mut tx = s.engine.store().begin_write().await?;
    tx.delete_session(session).await?;
    tx.audit(who.ws(), now, &who.actor(), "user.signed_out", &user.id.to_string(), &json!({})).await?;
    tx.commit().await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(header::SET_COOKIE, session_cookie(&s, "", 0));
    Ok(resp)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SwitchInput {
    /// Workspace name or id.
    pub workspace: String,
}

/// Work in another workspace the user belongs to.
#[utoipa::path(post, path = "/api/v1/auth/switch", tag = "auth", request_body = SwitchInput,
    responses((status = 200, body = SessionView), (status = 403, body = Problem)), security(("session" = [])))]
pub async fn switch(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<SessionView>> {
    let input: SwitchInput = json_body(&body)?;
    let Principal::User { session, user, .. } = &who.principal else {
        return Err(Problem::bad_request("an API key belongs to one workspace; use a key of the other workspace"));
    };
    let mut tx = s.engine.store().begin_write().await?;
    let target = tx
        .memberships(user.id)
        .await?
        .into_iter()
        .find(|(id, name, _)| *name == input.workspace || id.to_string() == input.workspace)
        .ok_or_else(|| Problem::forbidden(format!("you are not a member of workspace {:?}", input.workspace)))?;
    tx.set_session_workspace(session, target.0).await?;
    tx.set_last_workspace(user.id, target.0).await?;
    tx.commit().await?;
    let caller = Caller { workspace: target.0, role: target.2, principal: who.principal.clone() };
    Ok(Json(view(&s, &caller).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordInput {
    pub current_password: String,
    pub new_password: String,
}

/// Change one's password; every other session of the user ends.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordInput,
    responses((status = 204), (status = 422, body = Problem)), security(("session" = [])))]
pub async fn password(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<StatusCode> {
    let input: PasswordInput = json_body(&body)?;
    let Principal::User { session, user, .. } = &who.principal else {
        return Err(Problem::bad_request("API keys have no password"));
    };
    check_new_password(&input.new_password, &user.email)
        .map_err(|e| Problem::invalid("new_password", e.to_string()))?;
    let mut tx = s.engine.store().begin().await?;
    let (_, hash) = tx.user(user.id).await?.ok_or_else(|| Problem::unauthorized("this user no longer exists"))?;
    drop(tx);
    let current = input.current_password.clone();
    if !tokio::task::spawn_blocking(move || verify_password(&current, &hash)).await.unwrap_or(false) {
        return Err(Problem::invalid("current_password", "is wrong"));
    }
    let new = input.new_password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&new)).await.map_err(Problem::internal)?;
    let now = s.engine.clock().now();
    let mut tx = s.engine.store().begin_write().await?;
    tx.set_password(user.id, &hash, now).await?;
    let ended = tx.delete_user_sessions(user.id, Some(session)).await?;
    tx.audit(
        who.ws(),
        now.timestamp_millis(),
        &who.actor(),
        "user.password_changed",
        &user.id.to_string(),
        &json!({"other_sessions_ended": ended}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user as members see them.
pub fn user_view(u: &User) -> UserView {
    UserView { id: u.id.to_string(), email: u.email.clone(), name: u.name.clone() }
}
