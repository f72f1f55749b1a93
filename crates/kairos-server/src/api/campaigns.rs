//! `/api/v1/email/campaigns`: broadcast campaigns — create a draft (audience,
//! template or A/B variants, schedule, local send time, throttle, conversion
//! goal; checked with the path of each problem), launch, pause, resume,
//! cancel, and the report (sent, bounced, opened, clicked per link,
//! unsubscribed, complained, converted; per variant).

use super::{object_body, only_keys};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use kairos_engine::CampaignError;
use kairos_store::CampaignRecord;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/email/campaigns", get(list).post(create))
        .route("/api/v1/email/campaigns/{id}", get(read).patch(update))
        .route("/api/v1/email/campaigns/{id}/launch", post(launch))
        .route("/api/v1/email/campaigns/{id}/pause", post(pause))
        .route("/api/v1/email/campaigns/{id}/resume", post(resume))
        .route("/api/v1/email/campaigns/{id}/cancel", post(cancel))
        .route("/api/v1/email/campaigns/{id}/report", get(report))
}

impl From<CampaignError> for Problem {
    fn from(e: CampaignError) -> Self {
        match e {
            CampaignError::NotFound(id) => Problem::not_found(format!("no campaign with id {id:?}")),
            CampaignError::Invalid { path, message } => Problem::invalid(format!("definition.{path}"), message),
            CampaignError::Conflict(m) => Problem::conflict(m),
            CampaignError::Store(e) => e.into(),
        }
    }
}

fn view(c: &CampaignRecord) -> Value {
    json!({"id": c.id, "name": c.name, "definition": serde_json::from_str::<Value>(&c.definition).unwrap_or(Value::Null),
           "status": c.status, "winner": c.winner, "detail": c.detail, "created_at": c.created_at,
           "updated_at": c.updated_at, "started_at": c.started_at, "finished_at": c.finished_at})
}

#[utoipa::path(get, path = "/api/v1/email/campaigns", tag = "email",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let all = tx.campaigns(who.ws()).await?;
    tx.commit().await?;
    Ok(Json(json!({"data": all.iter().map(view).collect::<Vec<_>>()})))
}

/// Create a draft: `{"name", "definition": {"audience": {"segment"|"list": ID},
/// "template" | "ab": {"variants", "sample_percent", "wait_minutes", "metric"},
/// "send_at"?, "local_time"?, "per_minute"?, "conversion"?: {"event", "days"}, "sender"?}}`.
#[utoipa::path(post, path = "/api/v1/email/campaigns", tag = "email", request_body = inline(Object),
    responses((status = 201, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["name", "definition"])?;
    let name = super::name_of(&obj)?.ok_or_else(|| Problem::invalid("name", "a campaign needs a name"))?;
    let def = obj.get("definition").ok_or_else(|| Problem::invalid("definition", "is required"))?;
    let c = s.engine.create_campaign(who.ws(), &name, def).await?;
    Ok((StatusCode::CREATED, Json(view(&c))))
}

#[utoipa::path(get, path = "/api/v1/email/campaigns/{id}", tag = "email", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let c = tx.campaign(who.ws(), &id).await?;
    tx.commit().await?;
    c.map(|c| Json(view(&c))).ok_or_else(|| Problem::not_found(format!("no campaign with id {id:?}")))
}

/// Change a draft's name or definition.
#[utoipa::path(patch, path = "/api/v1/email/campaigns/{id}", tag = "email", params(("id" = String, Path)),
    request_body = inline(Object), responses((status = 200, body = inline(Object)), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn update(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["name", "definition"])?;
    let name = super::name_of(&obj)?;
    let c = s.engine.update_campaign(who.ws(), &id, name.as_deref(), obj.get("definition")).await?;
    Ok(Json(view(&c)))
}

/// Fix the audience now and start sending (or wait for `send_at`).
#[utoipa::path(post, path = "/api/v1/email/campaigns/{id}/launch", tag = "email", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn launch(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(view(&s.engine.launch_campaign(who.ws(), &id).await?)))
}

#[utoipa::path(post, path = "/api/v1/email/campaigns/{id}/pause", tag = "email", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn pause(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(view(&s.engine.set_campaign_status(who.ws(), &id, "pause").await?)))
}

#[utoipa::path(post, path = "/api/v1/email/campaigns/{id}/resume", tag = "email", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn resume(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(view(&s.engine.set_campaign_status(who.ws(), &id, "resume").await?)))
}

#[utoipa::path(post, path = "/api/v1/email/campaigns/{id}/cancel", tag = "email", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn cancel(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(view(&s.engine.set_campaign_status(who.ws(), &id, "cancel").await?)))
}

#[utoipa::path(get, path = "/api/v1/email/campaigns/{id}/report", tag = "email", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn report(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(s.engine.campaign_report(who.ws(), &id).await?))
}
