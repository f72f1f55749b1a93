//! Who is calling. REST calls carry either an API key (`Authorization:
//! Bearer KEY`, acting with the role its scope names) or the session cookie
//! the UI received at sign-in (acting with the member's current role in the
//! session's workspace; unsafe methods must echo the session's CSRF token in
//! `X-CSRF-Token`). Tracking calls carry a write key as the Basic auth user
//! name (how Segment and RudderStack SDKs send it) or as `writeKey` in the
//! body. Keys are looked up by digest and cached briefly; revoking through
//! the API drops the cache entry at once. Sessions are read from the store on
//! every call, so a sign-out or a role change takes effect immediately.
//! Whether the caller may use a route is decided in `access.rs`.

use crate::problem::Problem;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use kairos_core::access::Role;
use kairos_core::apikey::{secret_digest, ApiKey};
use kairos_core::ids::WorkspaceId;
use kairos_store::User;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a looked-up key is trusted without asking the store again.
const KEY_TTL: Duration = Duration::from_secs(30);

/// The cookie holding a session's secret.
pub const SESSION_COOKIE: &str = "kairos_session";
/// The header unsafe requests of a session must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<String, (ApiKey, Instant)>>);

impl KeyCache {
    pub fn forget(&self, key_id: kairos_core::ids::ApiKeyId) {
        if let Ok(mut m) = self.0.lock() {
            m.retain(|_, (k, _)| k.id != key_id);
        }
    }
}

/// Resolve a secret to a usable key (not revoked, not expired).
pub async fn authenticate(state: &AppState, secret: &str) -> Result<ApiKey, Problem> {
    let digest = secret_digest(secret);
    let now = state.engine.clock().now();
    let cached = state
        .keys
        .0
        .lock()
        .ok()
        .and_then(|m| m.get(&digest).filter(|(_, at)| at.elapsed() < KEY_TTL).map(|(k, _)| k.clone()));
    let key = match cached {
        Some(k) => k,
        None => {
            let mut tx = state.engine.store().begin().await?;
            let key = tx.api_key_by_digest(&digest).await?;
            drop(tx);
            let key = key.ok_or_else(|| Problem::unauthorized("unknown API key"))?;
            if let Ok(mut m) = state.keys.0.lock() {
                m.insert(digest, (key.clone(), Instant::now()));
            }
            key
        }
    };
    match key.unusable(now) {
        Some(why) => Err(Problem::unauthorized(why)),
        None => Ok(key),
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Principal {
    Key(ApiKey),
    /// A signed-in person; `session` is the digest of their cookie.
    User {
        user: User,
        session: String,
        csrf: String,
        expires_at: DateTime<Utc>,
    },
}

/// The authenticated caller of a REST route, placed in the request by the
/// access middleware once it has checked the route's permission.
#[derive(Debug, Clone)]
pub struct Caller {
    pub workspace: WorkspaceId,
    pub role: Role,
    pub principal: Principal,
}

impl Caller {
    pub fn ws(&self) -> WorkspaceId {
        self.workspace
    }

    /// How the audit trail names the caller.
    pub fn actor(&self) -> String {
        match &self.principal {
            Principal::Key(k) => format!("key:{} ({})", k.prefix, k.name),
            Principal::User { user, .. } => format!("user:{}", user.email),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        // Only the access middleware puts a caller here; a handler reached
        // without it is a routing mistake, and it must not run unchecked.
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Problem::internal(format!("route {} has no access check", parts.uri.path())))
    }
}

/// The bearer secret of the request, if it carries one.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, Problem> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| Problem::unauthorized("the Authorization header is not text"))?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(|s| Some(s.trim()))
        .ok_or_else(|| Problem::unauthorized("the Authorization header must be 'Bearer KEY'"))
}

/// The value of a cookie of the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Methods that change nothing, so need no CSRF token.
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Work out who is calling a REST route: a key, or a session (checking its
/// CSRF token on unsafe methods).
pub async fn identify(state: &AppState, method: &Method, headers: &HeaderMap) -> Result<Caller, Problem> {
    if let Some(secret) = bearer(headers)? {
        let key = authenticate(state, secret).await?;
        let role = key.scope.role().ok_or_else(|| {
            Problem::forbidden("this is a write key: it can only send events to /v1/*; use a REST key for /api/v1")
        })?;
        return Ok(Caller { workspace: key.workspace_id, role, principal: Principal::Key(key) });
    }
    let Some(secret) = cookie(headers, SESSION_COOKIE) else {
        return Err(Problem::unauthorized("sign in, or send an API key as 'Authorization: Bearer KEY'"));
    };
    let digest = secret_digest(secret);
    let now = state.engine.clock().now();
    let mut tx = state.engine.store().begin().await?;
    let session = tx.session(&digest).await?.filter(|s| s.expires_at > now);
    let Some(session) = session else {
        return Err(Problem::unauthorized("your session has ended; sign in again"));
    };
    let role = tx
        .member_role(session.workspace_id, session.user_id)
        .await?
        .ok_or_else(|| Problem::unauthorized("you are no longer a member of this workspace; sign in again"))?;
    let (user, _) =
        tx.user(session.user_id).await?.ok_or_else(|| Problem::unauthorized("this user no longer exists"))?;
    drop(tx);
    if !is_safe(method) {
        let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !constant_time_eq(sent.as_bytes(), session.csrf.as_bytes()) {
            return Err(Problem::forbidden(
                "missing or wrong X-CSRF-Token header: send the csrf_token from sign-in with every change",
            ));
        }
    }
    Ok(Caller {
        workspace: session.workspace_id,
        role,
        principal: Principal::User { user, session: digest, csrf: session.csrf, expires_at: session.expires_at },
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The write key from a Basic authorization header (`KEY:` base64-encoded).
pub fn basic_auth_user(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let user = text.split(':').next().unwrap_or_default().trim().to_string();
    (!user.is_empty()).then_some(user)
}
