//! `/api/v1/scores`: rule-based lead scores — named point rules on events
//! (with property filters and caps per period) and on attributes, decay by
//! half-life, and thresholds that log `Score Threshold Crossed`. Definitions
//! are checked by `kairos-core::score` with the JSON path of every problem;
//! saving one recomputes the score from the whole log in the background
//! (`status`, `progress`). A contact's scores and their history with the
//! reason for each change are under `/api/v1/contacts/{id}/scores`.

use super::{audit, json_body, path_id};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use kairos_core::ids::ContactId;
use kairos_engine::ScoreApiError;
use kairos_store::ScoreRecord;
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/scores", get(list).post(create))
        .route("/api/v1/scores/{name}", get(read).put(replace).delete(remove))
        .route("/api/v1/contacts/{id}/scores", get(contact_scores))
        .route("/api/v1/contacts/{id}/scores/history", get(contact_history))
}

impl From<ScoreApiError> for Problem {
    fn from(e: ScoreApiError) -> Self {
        match e {
            ScoreApiError::Invalid(e) => {
                let mut p = Problem::invalid(e.path.trim_start_matches("$.").to_string(), e.message.clone());
                p.detail = format!("the score definition is invalid at {}: {}", e.path, e.message);
                p
            }
            ScoreApiError::NotFound(n) => Problem::not_found(format!("no score named {n:?}")),
            ScoreApiError::Exists(n) => {
                Problem::conflict(format!("a score named {n:?} already exists; PUT /api/v1/scores/{n} to change it"))
            }
            ScoreApiError::Store(e) => e.into(),
        }
    }
}

fn view(r: &ScoreRecord) -> Value {
    let definition: Value = serde_json::from_str(&r.definition).unwrap_or(Value::Null);
    json!({
        "name": r.name, "definition": definition, "version": r.version, "live_version": r.live_version,
        "status": r.status, "error": r.error,
        "progress": {"events_done": r.progress_done, "events_total": r.progress_total},
        "created_at": r.created_at, "updated_at": r.updated_at,
    })
}

#[utoipa::path(get, path = "/api/v1/scores", tag = "scores",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let all = s.engine.scores(who.ws()).await?;
    Ok(Json(json!({"data": all.iter().map(view).collect::<Vec<_>>()})))
}

/// Create a score: `{"name": "engagement", "description"?, "half_life_days"?: 30,
/// "events"?: [{"event": "Page Viewed", "where"?: [{"property": "path", "op": "starts_with", "value": "/pricing"}],
/// "points": 5, "cap"?: {"points": 20, "per": "day"|"week"|"month"|"ever"}}],
/// "attributes"?: [{"when": {"field": "country", "op": "in", "value": ["DE"]}, "points": 10}],
/// "thresholds"?: [{"name": "MQL", "value": 100}]}`. The score is computed over the whole log at once
/// (`status: recomputing` until done).
#[utoipa::path(post, path = "/api/v1/scores", tag = "scores", request_body = inline(Object),
    responses((status = 201, body = inline(Object)), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let def: Value = json_body(&body)?;
    let r = s.engine.save_score(who.ws(), &def, true).await?;
    audit(&s, &who, "score.created", &r.name, json!({"version": r.version})).await?;
    Ok((StatusCode::CREATED, Json(view(&r))))
}

#[utoipa::path(get, path = "/api/v1/scores/{name}", tag = "scores", params(("name" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let all = s.engine.scores(who.ws()).await?;
    let r =
        all.iter().find(|r| r.name == name).ok_or_else(|| Problem::not_found(format!("no score named {name:?}")))?;
    Ok(Json(view(r)))
}

/// Replace a score's definition (same shape as create; `name` may be left
/// out). A new version is recomputed from the log; until it is ready the
/// previous values stay visible.
#[utoipa::path(put, path = "/api/v1/scores/{name}", tag = "scores", params(("name" = String, Path)),
    request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn replace(
    State(s): State<AppState>,
    who: Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut def: Value = json_body(&body)?;
    let Some(obj) = def.as_object_mut() else {
        return Err(Problem::invalid("body", "must be a JSON object"));
    };
    match obj.get("name") {
        None => {
            obj.insert("name".into(), Value::String(name.clone()));
        }
        Some(Value::String(n)) if *n == name => {}
        Some(_) => {
            return Err(Problem::invalid(
                "name",
                format!("must be {name:?}, the score in the path (scores cannot be renamed)"),
            ))
        }
    }
    let r = s.engine.save_score(who.ws(), &def, false).await?;
    audit(&s, &who, "score.updated", &r.name, json!({"version": r.version})).await?;
    Ok(Json(view(&r)))
}

/// Delete a score with every contact's value and history of it.
#[utoipa::path(delete, path = "/api/v1/scores/{name}", tag = "scores", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn remove(State(s): State<AppState>, who: Caller, Path(name): Path<String>) -> ApiResult<StatusCode> {
    if !s.engine.delete_score(who.ws(), &name).await? {
        return Err(Problem::not_found(format!("no score named {name:?}")));
    }
    audit(&s, &who, "score.deleted", &name, json!({})).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn contact_of(s: &AppState, who: &Caller, raw: &str) -> ApiResult<ContactId> {
    let id = ContactId(path_id::<Uuid>(raw, "contact")?);
    let mut tx = s.engine.store().begin().await?;
    let found = tx.contact(who.ws(), id).await?.is_some();
    tx.commit().await?;
    if !found {
        return Err(Problem::not_found(format!("no contact with id {id}")));
    }
    Ok(id)
}

/// A contact's scores, valued now (decay applied), with the highest
/// threshold each is at or above.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/scores", tag = "scores", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn contact_scores(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = contact_of(&s, &who, &id).await?;
    let scores = s.engine.contact_scores(who.ws(), id).await?;
    Ok(Json(json!({"data": scores})))
}

/// Every change of a contact's scores with its reason, the latest recorded first (`value` is the score
/// right after the change, in that order; `at` is when the event happened):
/// `score` narrows to one, `cursor` pages on, `limit` (1–1000, default 50).
#[utoipa::path(get, path = "/api/v1/contacts/{id}/scores/history", tag = "scores",
    params(("id" = String, Path), ("score" = Option<String>, Query), ("cursor" = Option<String>, Query),
        ("limit" = Option<i64>, Query)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn contact_history(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let id = contact_of(&s, &who, &id).await?;
    let before = match q.get("cursor") {
        None => None,
        Some(c) => match Uuid::parse_str(c) {
            Ok(id) => Some(id.to_string()),
            Err(_) => return Err(Problem::invalid("cursor", format!("not a cursor this API returned: {c:?}"))),
        },
    };
    let limit = super::limit(q.get("limit"))?;
    let rows = s.engine.score_history(who.ws(), id, q.get("score").map(String::as_str), before, limit).await?;
    let next = (rows.len() as i64 == limit).then(|| rows.last().map(|r| r.id.clone())).flatten();
    Ok(Json(json!({"data": rows, "next_cursor": next})))
}
