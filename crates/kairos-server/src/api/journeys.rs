//! `/api/v1/journeys` and `/api/v1/webhook-endpoints`: journeys as drafts,
//! published versions, pause/resume/archive, live counts per node, runs and
//! a contact's path, dry runs, API entries, retries of parked runs, the
//! outbox's dead letters, and the webhook endpoints journeys call.

use super::{json_body, limit, object_body, only_keys, path_id};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use kairos_core::ids::{ContactId, JourneyId};
use kairos_engine::{JourneyApiError, JourneyRunError};
use kairos_store::JourneyRecord;
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/journeys", get(list).post(create))
        .route("/api/v1/journeys/check", post(check))
        .route("/api/v1/journeys/{id}", get(read).patch(update))
        .route("/api/v1/journeys/{id}/publish", post(publish))
        .route("/api/v1/journeys/{id}/pause", post(pause))
        .route("/api/v1/journeys/{id}/resume", post(resume))
        .route("/api/v1/journeys/{id}/archive", post(archive))
        .route("/api/v1/journeys/{id}/versions", get(versions))
        .route("/api/v1/journeys/{id}/stats", get(stats))
        .route("/api/v1/journeys/{id}/runs", get(runs))
        .route("/api/v1/journeys/{id}/entries", post(enter))
        .route("/api/v1/journeys/{id}/dry-run", post(dry_run))
        .route("/api/v1/journey-runs/{run}", get(run))
        .route("/api/v1/journey-runs/{run}/retry", post(retry))
        .route("/api/v1/journeys/{id}/migrate", post(migrate))
        .route("/api/v1/contacts/{id}/journeys", get(contact_runs))
        .route("/api/v1/outbox/dead-letters", get(dead_letters))
        .route("/api/v1/webhook-endpoints", get(endpoints).post(create_endpoint))
        .route("/api/v1/webhook-endpoints/{id}", axum::routing::delete(delete_endpoint))
}

impl From<JourneyApiError> for Problem {
    fn from(e: JourneyApiError) -> Self {
        match e {
            JourneyApiError::NotFound(id) => Problem::not_found(format!("no journey with id {id}")),
            JourneyApiError::Invalid(errors) => {
                let mut p = Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    "The journey definition is not valid",
                    errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "),
                );
                p.errors = errors
                    .into_iter()
                    .map(|e| crate::problem::FieldProblem {
                        path: e.path,
                        message: match e.node {
                            Some(n) => format!("node \"{n}\": {}", e.message),
                            None => e.message,
                        },
                    })
                    .collect();
                p
            }
            JourneyApiError::Conflict(m) => Problem::conflict(m),
            JourneyApiError::Run(e) => e.into(),
            JourneyApiError::Store(e) => e.into(),
        }
    }
}

impl From<JourneyRunError> for Problem {
    fn from(e: JourneyRunError) -> Self {
        match e {
            JourneyRunError::NotActive(_) | JourneyRunError::NotApiTriggered(_) | JourneyRunError::Refused(_) => {
                Problem::conflict(e.to_string())
            }
            JourneyRunError::Store(e) => e.into(),
            JourneyRunError::ShuttingDown => Problem::unavailable(e.to_string()),
        }
    }
}

fn journey_id(raw: &str) -> ApiResult<JourneyId> {
    path_id(raw, "journey")
}

fn view(j: &JourneyRecord) -> Value {
    json!({
        "id": j.id, "name": j.name, "status": j.status, "version": j.version, "definition": j.draft,
        "created_at": j.created_at, "updated_at": j.updated_at,
    })
}

/// Every journey of the workspace.
#[utoipa::path(get, path = "/api/v1/journeys", tag = "journeys",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let js = tx.journeys(who.ws()).await?;
    tx.commit().await?;
    Ok(Json(json!({"data": js.iter().map(view).collect::<Vec<_>>()})))
}

/// Create a journey as a draft: `{"name": ..., "definition": {...}}`. The
/// definition's shape is checked now; the whole graph on publish.
#[utoipa::path(post, path = "/api/v1/journeys", tag = "journeys", request_body = inline(Object),
    responses((status = 201, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["name", "definition"])?;
    let name = super::name_of(&obj)?.ok_or_else(|| Problem::invalid("name", "a journey needs a name"))?;
    let definition = obj.get("definition").cloned().ok_or_else(|| Problem::invalid("definition", "required"))?;
    let j = s.engine.create_journey(who.ws(), &name, definition).await?;
    Ok((StatusCode::CREATED, Json(view(&j))))
}

/// Check a definition as publishing would, without saving it:
/// `{"definition": {...}}` → `{"problems": [{"path", "node", "message"}]}`,
/// every problem found (empty when it would publish). The builder calls it
/// while the marketer edits, to mark the nodes at fault.
#[utoipa::path(post, path = "/api/v1/journeys/check", tag = "journeys", request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn check(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<Value>> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["definition"])?;
    let definition = obj.get("definition").ok_or_else(|| Problem::invalid("definition", "required"))?;
    let problems = s.engine.check_journey(who.ws(), definition).await?;
    let problems: Vec<Value> =
        problems.into_iter().map(|e| json!({"path": e.path, "node": e.node, "message": e.message})).collect();
    Ok(Json(json!({ "problems": problems })))
}

#[utoipa::path(get, path = "/api/v1/journeys/{id}", tag = "journeys",
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = journey_id(&id)?;
    let mut tx = s.engine.store().begin().await?;
    let j = tx.journey(who.ws(), id).await?;
    tx.commit().await?;
    j.map(|j| Json(view(&j))).ok_or_else(|| Problem::not_found(format!("no journey with id {id}")))
}

/// Change the name or the draft definition.
#[utoipa::path(patch, path = "/api/v1/journeys/{id}", tag = "journeys", request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn update(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let id = journey_id(&id)?;
    let obj = object_body(&body)?;
    only_keys(&obj, &["name", "definition"])?;
    let j = s.engine.update_journey(who.ws(), id, super::name_of(&obj)?, obj.get("definition").cloned()).await?;
    Ok(Json(view(&j)))
}

/// Publish the draft as a new version (checked whole first).
#[utoipa::path(post, path = "/api/v1/journeys/{id}/publish", tag = "journeys",
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn publish(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let j = s.engine.publish_journey(who.ws(), journey_id(&id)?).await?;
    let v = view(&j);
    let detail = json!({"name": v["name"], "version": v["version"]});
    super::audit(&s, &who, "journey.published", &id, detail).await?;
    Ok(Json(v))
}

#[utoipa::path(post, path = "/api/v1/journeys/{id}/pause", tag = "journeys",
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn pause(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(view(&s.engine.set_journey_status(who.ws(), journey_id(&id)?, "paused").await?)))
}

#[utoipa::path(post, path = "/api/v1/journeys/{id}/resume", tag = "journeys",
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn resume(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(view(&s.engine.set_journey_status(who.ws(), journey_id(&id)?, "active").await?)))
}

/// Archive: no more entries, and running contacts exit.
#[utoipa::path(post, path = "/api/v1/journeys/{id}/archive", tag = "journeys",
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn archive(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(view(&s.engine.set_journey_status(who.ws(), journey_id(&id)?, "archived").await?)))
}

/// Every published version with its definition.
#[utoipa::path(get, path = "/api/v1/journeys/{id}/versions", tag = "journeys",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn versions(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = journey_id(&id)?;
    let mut tx = s.engine.store().begin().await?;
    let vs = tx.journey_versions(who.ws(), id).await?;
    tx.commit().await?;
    Ok(Json(
        json!({"data": vs.into_iter().map(|(v, d, at)| json!({"version": v, "definition": d, "published_at": at})).collect::<Vec<_>>()}),
    ))
}

/// Live counts per node: contacts there now by status (`delayed`,
/// `waiting`, `acting`, `failed`, `completed`, `converted`, `exited`) and
/// how often each outcome happened there (`entered`, `passed`, `arrived`,
/// `left`, `exit`, `converted`, `unsubscribed`, `failed`); how many
/// contacts took each edge of the published graph (`edges`: `from` (null
/// for the entry), `to`, `label` of the exit, `count`); for each
/// optimising split, each path's trials and conversions, the probability
/// that it is best and the winner once declared; and the journey's email:
/// totals (sent, bounced, opens, clicks, unsubscribes…), clicks per link
/// and a series per day.
#[utoipa::path(get, path = "/api/v1/journeys/{id}/stats", tag = "journeys",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn stats(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = journey_id(&id)?;
    let mut tx = s.engine.store().begin().await?;
    if tx.journey(who.ws(), id).await?.is_none() {
        return Err(Problem::not_found(format!("no journey with id {id}")));
    }
    let nodes = tx.journey_node_counts(who.ws(), id).await?;
    let source = format!("journey:{id}");
    let today = s.engine.clock().now().timestamp_millis().div_euclid(86_400_000);
    let email = json!({"totals": tx.email_totals(who.ws(), Some(&source), None).await?,
                       "links": tx.email_link_clicks_of_source(who.ws(), &source).await?,
                       "series": tx.email_series(who.ws(), Some(&source), None, today).await?});
    tx.commit().await?;
    let mut totals: HashMap<String, i64> = HashMap::new();
    for n in &nodes {
        for (status, c) in &n.current {
            *totals.entry(status.clone()).or_default() += c;
        }
    }
    let splits = s.engine.journey_splits(who.ws(), id).await?;
    let edges = s.engine.journey_edges(who.ws(), id, &nodes).await?;
    Ok(Json(json!({"nodes": nodes, "edges": edges, "runs": totals, "splits": splits, "email": email})))
}

/// A journey's runs, optionally in one status; `cursor` pages on.
#[utoipa::path(get, path = "/api/v1/journeys/{id}/runs", tag = "journeys",
    params(("status" = Option<String>, Query), ("limit" = Option<i64>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn runs(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let id = journey_id(&id)?;
    let n = limit(q.get("limit"))?;
    let status = q.get("status").map(String::as_str);
    if let Some(st) = status {
        if kairos_core::journey::RunStatus::parse(st).is_none() {
            return Err(Problem::invalid(
                "status",
                "expected delayed, waiting, acting, failed, completed, converted or exited",
            ));
        }
    }
    let mut tx = s.engine.store().begin().await?;
    let rs = tx.runs_of_journey(who.ws(), id, status, q.get("cursor").map(String::as_str).unwrap_or(""), n).await?;
    tx.commit().await?;
    let next = (rs.len() as i64 == n).then(|| rs.last().map(|r| r.id.clone())).flatten();
    Ok(Json(json!({"data": rs, "next_cursor": next})))
}

/// One run with its path through the journey.
#[utoipa::path(get, path = "/api/v1/journey-runs/{run}", tag = "journeys",
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn run(State(s): State<AppState>, who: Caller, Path(run): Path<String>) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let r = tx.run(who.ws(), &run).await?.ok_or_else(|| Problem::not_found(format!("no journey run {run:?}")))?;
    let path = tx.path_of_run(who.ws(), &run).await?;
    tx.commit().await?;
    Ok(Json(json!({"run": r, "path": path})))
}

/// Retry a parked run's failed action.
#[utoipa::path(post, path = "/api/v1/journey-runs/{run}/retry", tag = "journeys",
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn retry(State(s): State<AppState>, who: Caller, Path(run): Path<String>) -> ApiResult<Json<Value>> {
    if s.engine.retry_journey_run(who.ws(), &run).await? {
        Ok(Json(json!({"retried": run})))
    } else {
        Err(Problem::conflict(format!("run {run:?} is not parked in an error state")))
    }
}

/// Move contacts waiting in older versions onto the current version:
/// `{"mapping": {"old node id": "new node id", ...}}` (unmapped nodes keep
/// their id). Each run must land on the same kind of node; runs that cannot
/// move stay on their version and are listed with the reason.
#[utoipa::path(post, path = "/api/v1/journeys/{id}/migrate", tag = "journeys", params(("id" = String, Path)),
    request_body = inline(Object), responses((status = 200, body = inline(Object)), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn migrate(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let id = journey_id(&id)?;
    let mapping = if body.is_empty() {
        Default::default()
    } else {
        let obj = object_body(&body)?;
        only_keys(&obj, &["mapping"])?;
        match obj.get("mapping") {
            None | Some(Value::Null) => Default::default(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(to) => Ok((k.clone(), to.clone())),
                    _ => Err(Problem::invalid(format!("mapping.{k}"), "must be a node id of the current version")),
                })
                .collect::<ApiResult<std::collections::BTreeMap<_, _>>>()?,
            Some(_) => return Err(Problem::invalid("mapping", "must be an object from old node ids to new ones")),
        }
    };
    Ok(Json(s.engine.migrate_journey_runs(who.ws(), id, mapping).await?))
}

/// A contact's runs (every journey), newest first, each with its path.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/journeys", tag = "journeys",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn contact_runs(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let contact: ContactId = path_id(&id, "contact")?;
    let mut tx = s.engine.store().begin().await?;
    let rs = tx.runs_of_contact(who.ws(), contact).await?;
    let mut out = Vec::new();
    for r in rs {
        let path = tx.path_of_run(who.ws(), &r.id).await?;
        out.push(json!({"run": r, "path": path}));
    }
    tx.commit().await?;
    Ok(Json(json!({"data": out})))
}

/// Put a contact into an API-triggered journey: `{"contact_id": ...}`.
#[utoipa::path(post, path = "/api/v1/journeys/{id}/entries", tag = "journeys", request_body = inline(Object),
    responses((status = 201, body = inline(Object)), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn enter(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = journey_id(&id)?;
    let obj = object_body(&body)?;
    only_keys(&obj, &["contact_id"])?;
    let contact: ContactId = obj
        .get("contact_id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Problem::invalid("contact_id", "expected a contact id"))?;
    let mut tx = s.engine.store().begin().await?;
    let exists = tx.contact(who.ws(), contact).await?.is_some();
    tx.commit().await?;
    if !exists {
        return Err(Problem::not_found(format!("no contact with id {contact}")));
    }
    let run = s.engine.enter_journey(who.ws(), id, contact).await?;
    Ok((StatusCode::CREATED, Json(json!({"run": run}))))
}

/// The path a contact would take, without writing or sending anything:
/// `{"contact_id": ..., "version": "draft" | "published"}`.
#[utoipa::path(post, path = "/api/v1/journeys/{id}/dry-run", tag = "journeys", request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn dry_run(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let id = journey_id(&id)?;
    let obj = object_body(&body)?;
    only_keys(&obj, &["contact_id", "version"])?;
    let contact: ContactId = obj
        .get("contact_id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Problem::invalid("contact_id", "expected a contact id"))?;
    let published = match obj.get("version").and_then(Value::as_str) {
        None | Some("draft") => false,
        Some("published") => true,
        Some(_) => return Err(Problem::invalid("version", "expected \"draft\" or \"published\"")),
    };
    let steps = s.engine.dry_run_journey(who.ws(), id, contact, published).await?;
    Ok(Json(json!({"path": steps, "assumes": "every action succeeds and no awaited event arrives before its timeout"})))
}

/// Effects the outbox gave up on, newest first.
#[utoipa::path(get, path = "/api/v1/outbox/dead-letters", tag = "journeys",
    params(("limit" = Option<i64>, Query)),
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn dead_letters(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let n = limit(q.get("limit"))?;
    let mut tx = s.engine.store().begin().await?;
    let dead = tx.intents_with_status(who.ws(), "dead", n).await?;
    tx.commit().await?;
    Ok(Json(json!({"data": dead})))
}

#[utoipa::path(get, path = "/api/v1/webhook-endpoints", tag = "journeys",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn endpoints(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let es = tx.webhook_endpoints(who.ws()).await?;
    tx.commit().await?;
    Ok(Json(json!({"data": es})))
}

/// Register an endpoint: `{"id": "crm", "url": "https://...", "description": ...,
/// "secret": "whsec_..."}` (the secret is generated when absent, and shown
/// only in this response).
#[utoipa::path(post, path = "/api/v1/webhook-endpoints", tag = "journeys", request_body = inline(Object),
    responses((status = 201, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_endpoint(
    State(s): State<AppState>,
    who: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let v: Value = json_body(&body)?;
    let obj = v.as_object().ok_or_else(|| Problem::invalid("body", "must be a JSON object"))?;
    only_keys(obj, &["id", "url", "description", "secret"])?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
    let id = text("id").ok_or_else(|| Problem::invalid("id", "required: a short name such as \"crm\""))?;
    let url = text("url").ok_or_else(|| Problem::invalid("url", "required"))?;
    let e = s.engine.create_webhook_endpoint(who.ws(), &id, &url, text("description"), text("secret")).await?;
    let mut out = serde_json::to_value(&e).unwrap_or_default();
    out["secret"] = json!(e.secret);
    Ok((StatusCode::CREATED, Json(out)))
}

#[utoipa::path(delete, path = "/api/v1/webhook-endpoints/{id}", tag = "journeys",
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn delete_endpoint(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let mut tx = s.engine.store().begin_write().await?;
    let gone = tx.delete_webhook_endpoint(who.ws(), &id).await?;
    tx.commit().await?;
    if gone {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("no webhook endpoint {id:?}")))
    }
}
