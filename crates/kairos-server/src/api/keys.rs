//! `/api/v1/keys`: API keys of the workspace. The secret is returned once,
//! at creation; only its digest is stored.

use super::{json_body, path_id};
use crate::auth::Admin;
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
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    /// `write` (tracking only) or `admin`.
    pub scope: String,
    /// First characters of the secret.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
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
            secret: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct KeyInput {
    pub name: String,
    /// `write` or `admin`.
    pub scope: String,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/keys", get(list).post(create)).route("/api/v1/keys/{id}", delete(revoke))
}

/// Create and store a key; returns the stored key and its secret. Used by
/// the API and by `kairos key create`.
pub async fn issue_key(
    store: &Store,
    ws: WorkspaceId,
    name: &str,
    scope: Scope,
    now: DateTime<Utc>,
) -> Result<(ApiKey, String), kairos_store::StoreError> {
    let secret = generate_secret(scope);
    let key = ApiKey {
        id: ApiKeyId::new(),
        workspace_id: ws,
        name: name.to_string(),
        scope,
        prefix: secret_prefix(&secret),
        created_at: now,
        revoked_at: None,
    };
    let mut tx = store.begin_write().await?;
    tx.insert_api_key(&key, &secret_digest(&secret)).await?;
    tx.commit().await?;
    Ok((key, secret))
}

/// List the workspace's keys (without secrets).
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", responses((status = 200, body = Vec<KeyView>)), security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, admin: Admin) -> ApiResult<Json<Vec<KeyView>>> {
    let mut tx = s.engine.store().begin().await?;
    Ok(Json(tx.list_api_keys(admin.ws()).await?.into_iter().map(Into::into).collect()))
}

/// Create a key; the secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = KeyInput,
    responses((status = 201, body = KeyView), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create(State(s): State<AppState>, admin: Admin, body: Bytes) -> ApiResult<(StatusCode, Json<KeyView>)> {
    let input: KeyInput = json_body(&body)?;
    let scope = Scope::parse(&input.scope)
        .ok_or_else(|| Problem::invalid("scope", format!("must be write or admin, got {:?}", input.scope)))?;
    if input.name.trim().is_empty() || input.name.len() > 100 {
        return Err(Problem::invalid("name", "must be 1 to 100 characters"));
    }
    let (key, secret) =
        issue_key(s.engine.store(), admin.ws(), input.name.trim(), scope, s.engine.clock().now()).await?;
    let mut view = KeyView::from(key);
    view.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(view)))
}

/// Revoke a key; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "keys", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn revoke(State(s): State<AppState>, admin: Admin, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id: ApiKeyId = path_id(&id, "API key")?;
    let mut tx = s.engine.store().begin_write().await?;
    let done = tx.revoke_api_key(admin.ws(), id, s.engine.clock().now()).await?;
    tx.commit().await?;
    s.keys.forget(id);
    if done {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("no API key with id {id}")))
    }
}
