//! Authentication by API key. REST calls carry `Authorization: Bearer KEY`
//! and need an admin key; tracking calls carry the write key as the Basic
//! auth user name (how Segment and RudderStack SDKs send it) or as
//! `writeKey` in the body, and accept write or admin keys. Keys are looked up
//! by digest and cached briefly; revoking through the API drops the cache
//! entry at once.

use crate::problem::Problem;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use base64::Engine as _;
use kairos_core::apikey::{secret_digest, ApiKey, Scope};
use kairos_core::ids::WorkspaceId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a looked-up key is trusted without asking the store again.
const KEY_TTL: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<String, (ApiKey, Instant)>>);

impl KeyCache {
    pub fn forget(&self, key_id: kairos_core::ids::ApiKeyId) {
        if let Ok(mut m) = self.0.lock() {
            m.retain(|_, (k, _)| k.id != key_id);
        }
    }
}

/// Resolve a secret to a live key.
pub async fn authenticate(state: &AppState, secret: &str) -> Result<ApiKey, Problem> {
    let digest = secret_digest(secret);
    if let Ok(m) = state.keys.0.lock() {
        if let Some((k, at)) = m.get(&digest) {
            if at.elapsed() < KEY_TTL {
                return Ok(k.clone());
            }
        }
    }
    let mut tx = state.engine.store().begin().await?;
    let key = tx.api_key_by_digest(&digest).await?;
    drop(tx);
    match key {
        Some(k) if k.revoked_at.is_none() => {
            if let Ok(mut m) = state.keys.0.lock() {
                m.insert(digest, (k.clone(), Instant::now()));
            }
            Ok(k)
        }
        Some(_) => Err(Problem::unauthorized("this API key has been revoked")),
        None => Err(Problem::unauthorized("unknown API key")),
    }
}

/// The key of an admin REST call.
pub struct Admin(pub ApiKey);

impl Admin {
    pub fn ws(&self) -> WorkspaceId {
        self.0.workspace_id
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Problem::unauthorized("send an admin API key as 'Authorization: Bearer KEY'"))?;
        let secret = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| Problem::unauthorized("the Authorization header must be 'Bearer KEY'"))?;
        let key = authenticate(state, secret.trim()).await?;
        if key.scope != Scope::Admin {
            return Err(Problem::forbidden(
                "this is a write key: it can only send events to /v1/*; use an admin key for /api/v1",
            ));
        }
        Ok(Admin(key))
    }
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
