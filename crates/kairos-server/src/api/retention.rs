//! `/api/v1/retention`: the workspace's retention policy (old events deleted
//! or anonymised, inactive contacts purged), running it now, and the report
//! of every run. The engine also applies it hourly.

use super::json_body;
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use kairos_core::retention::{RetentionPolicy, RetentionReport};
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/retention", get(read).put(write))
        .route("/api/v1/retention/run", post(run))
        .route("/api/v1/retention/runs", get(runs))
}

/// The retention policy (empty when none is set).
#[utoipa::path(get, path = "/api/v1/retention", tag = "privacy",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller) -> ApiResult<Json<RetentionPolicy>> {
    let mut tx = s.engine.store().begin().await?;
    let p = tx.retention_policy(who.ws()).await?.unwrap_or_default();
    tx.commit().await?;
    Ok(Json(p))
}

/// Set the retention policy.
#[utoipa::path(put, path = "/api/v1/retention", tag = "privacy", request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn write(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<RetentionPolicy>> {
    let v: Value = json_body(&body)?;
    let p = RetentionPolicy::from_json(&v).map_err(|(f, m)| Problem::invalid(f, m))?;
    let now = s.engine.clock().now().timestamp_millis();
    let mut tx = s.engine.store().begin_write().await?;
    tx.set_retention_policy(who.ws(), &p, now).await?;
    tx.audit(who.ws(), now, &who.actor(), "retention.changed", &who.ws().to_string(), &v).await?;
    tx.commit().await?;
    Ok(Json(p))
}

/// Apply the policy now and return the report.
#[utoipa::path(post, path = "/api/v1/retention/run", tag = "privacy",
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn run(State(s): State<AppState>, who: Caller) -> ApiResult<Json<RetentionReport>> {
    s.engine
        .run_retention(who.ws())
        .await?
        .map(Json)
        .ok_or_else(|| Problem::conflict("no retention policy is set; PUT /api/v1/retention first"))
}

/// Reports of past runs, newest first.
#[utoipa::path(get, path = "/api/v1/retention/runs", tag = "privacy",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn runs(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let r = tx.retention_runs(who.ws(), 100).await?;
    tx.commit().await?;
    Ok(Json(json!({"data": r})))
}
