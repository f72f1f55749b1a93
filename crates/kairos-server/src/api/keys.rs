//! `/api/v1/keys`: API keys of the workspace. The secret is returned once,
//! at creation; only its digest is stored. A key acts with the role its scope
//! names (or only tracks, for `write`), may expire, and stops working the
//! moment it is revoked. Creating and revoking keys is audited.

use super::{json_body, path_id};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use kairos_core::apikey::{generate_secret, secret_digest, secret_prefix, ApiKey, Scope};
use kairos_core::ids::{ApiKeyId, WorkspaceId};
use kairos_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    /// `write` (tracking only), `admin`, `marketer`, `analyst` or `compliance`.
    pub scope: String,
    /// First characters of the secret.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Who made it (`user:…`, `key:…`); absent for keys made on the command line.
    pub created_by: Option<String>,
    /// Only in the answer to the creating request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<ApiKey> for KeyView {
    fn from(k: ApiKey) -> Self {
        KeyView {
            id: k.id.to_string(),
            name: k.name,
            scope: k.scope.as_str().into(),
            prefix: k.prefix,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
            expires_at: k.expires_at,
            created_by: k.created_by,
            secret: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct KeyInput {
    pub name: String,
    /// `write`, `admin`, `marketer`, `analyst` or `compliance`.
    pub scope: String,
    /// When the key stops working (RFC 3339); never when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/keys", get(list).post(create)).route("/api/v1/keys/{id}", delete(revoke))
}

/// Create and store a key that never expires; returns the stored key and
/// its secret. Used by `kairos key create`, the demo and tests.
pub async fn issue_key(
    store: &Store,
    ws: WorkspaceId,
    name: &str,
    scope: Scope,
    now: DateTime<Utc>,
) -> Result<(ApiKey, String), kairos_store::StoreError> {
    let (key, secret) = new_key(ws, name, scope, now, None, None);
    let mut tx = store.begin_write().await?;
    tx.insert_api_key(&key, &secret_digest(&secret)).await?;
    tx.commit().await?;
    Ok((key, secret))
}

fn new_key(
    ws: WorkspaceId,
    name: &str,
    scope: Scope,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    created_by: Option<String>,
) -> (ApiKey, String) {
    let secret = generate_secret(scope);
    let key = ApiKey {
        id: ApiKeyId::new(),
        workspace_id: ws,
        name: name.to_string(),
        scope,
        prefix: secret_prefix(&secret),
        created_at: now,
        revoked_at: None,
        expires_at,
        created_by,
    };
    (key, secret)
}

/// List the workspace's keys (without secrets).
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", responses((status = 200, body = Vec<KeyView>)), security(("bearer" = []), ("session" = [])))]
pub async fn list(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Vec<KeyView>>> {
    let mut tx = s.engine.store().begin().await?;
    Ok(Json(tx.list_api_keys(who.ws()).await?.into_iter().map(Into::into).collect()))
}

/// Create a key; the secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = KeyInput,
    responses((status = 201, body = KeyView), (status = 422, body = Problem)), security(("bearer" = []), ("session" = [])))]
pub async fn create(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<(StatusCode, Json<KeyView>)> {
    super::only_keys(&super::object_body(&body)?, &["name", "scope", "expires_at"])?;
    let input: KeyInput = json_body(&body)?;
    let scope = Scope::parse(&input.scope).ok_or_else(|| {
        Problem::invalid(
            "scope",
            format!("must be write, admin, marketer, analyst or compliance, got {:?}", input.scope),
        )
    })?;
    if let Some(role) = scope.role() {
        if !who.role.may_assign(role) {
            return Err(Problem::forbidden(format!(
                "the {} role cannot make {} keys",
                who.role.as_str(),
                role.as_str()
            )));
        }
    }
    if input.name.trim().is_empty() || input.name.len() > 100 {
        return Err(Problem::invalid("name", "must be 1 to 100 characters"));
    }
    let now = s.engine.clock().now();
    if let Some(at) = input.expires_at {
        if at <= now {
            return Err(Problem::invalid("expires_at", format!("must be in the future, got {}", at.to_rfc3339())));
        }
    }
    let (key, secret) = new_key(who.ws(), input.name.trim(), scope, now, input.expires_at, Some(who.actor()));
    let mut tx = s.engine.store().begin_write().await?;
    tx.insert_api_key(&key, &secret_digest(&secret)).await?;
    let detail = json!({"name": key.name, "scope": scope.as_str(), "prefix": key.prefix, "expires_at": key.expires_at});
    tx.audit(who.ws(), now.timestamp_millis(), &who.actor(), "key.created", &key.id.to_string(), &detail).await?;
    tx.commit().await?;
    let mut view = KeyView::from(key);
    view.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(view)))
}

/// Revoke a key; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "keys", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = []), ("session" = [])))]
pub async fn revoke(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id: ApiKeyId = path_id(&id, "API key")?;
    let now = s.engine.clock().now();
    let mut tx = s.engine.store().begin_write().await?;
    let done = tx.revoke_api_key(who.ws(), id, now).await?;
    if done {
        tx.audit(who.ws(), now.timestamp_millis(), &who.actor(), "key.revoked", &id.to_string(), &json!({})).await?;
    }
    tx.commit().await?;
    s.keys.forget(id);
    if done {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("no API key with id {id}")))
    }
}
