//! `/api/v1/models/clv`: train the customer-lifetime model (BG/NBD purchases,
//! Gamma-Gamma spend) on the workspace's purchase events and read it; and
//! `/api/v1/contacts/{id}/clv`: a contact's probability of still being a
//! customer, expected purchases and revenue over the next N days.
//! `/api/v1/models/conversion`: train a conversion model (time-based
//! hold-out, promotion only when better, fairness audit by a sensitive
//! attribute) and list its versions; `/api/v1/contacts/{id}/conversion`: a
//! contact's probability with the features behind it; `/api/v1/models`:
//! every model of the workspace with its headline figures.

use super::{object_body, path_id};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use kairos_core::ids::ContactId;
use kairos_engine::{
    AuditRequest, ClvModel, ContactClv, ContactConversion, ConversionError, ConversionRequest, ConversionVersion,
    ModelError,
};
use kairos_store::FairnessAudit;
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/models/clv", get(read).post(train))
        .route("/api/v1/contacts/{id}/clv", get(contact))
        .route("/api/v1/models/clusters", axum::routing::post(clusters))
        .route("/api/v1/models", get(list))
        .route("/api/v1/models/conversion", get(conversion_versions).post(train_conversion))
        .route("/api/v1/models/conversion/{id}", get(conversion_version))
        .route("/api/v1/models/conversion/scores", get(conversion_scores))
        .route("/api/v1/models/conversion/schedules", get(schedules).put(schedule))
        .route("/api/v1/models/conversion/schedules/{event}", axum::routing::delete(unschedule))
        .route("/api/v1/contacts/{id}/conversion", get(contact_conversion))
        .route("/api/v1/contacts/{id}/send-time", get(send_time))
        .route("/api/v1/models/conversion/{id}/fairness", axum::routing::post(audit_conversion))
        .route("/api/v1/scores/{name}/fairness", axum::routing::post(audit_score))
        .route("/api/v1/fairness-audits", get(audits))
}

fn conversion_problem(e: ConversionError) -> Problem {
    match e {
        ConversionError::Invalid(m) => match m.split_once(": ") {
            Some((field, why)) if !field.contains(' ') => Problem::invalid(field, why),
            _ => Problem::bad_request(m),
        },
        ConversionError::NotTrained(m) => Problem::conflict(m),
        ConversionError::NoModel => Problem::conflict(e.to_string()),
        ConversionError::Store(s) => s.into(),
    }
}

fn version_summary(v: &ConversionVersion) -> Value {
    json!({
        "id": v.id, "event": v.event, "horizon_days": v.horizon_days, "trained_at": v.trained_at,
        "promoted": v.promoted, "promotion": v.promotion,
        "holdout": {"auc": v.holdout.auc, "log_loss": v.holdout.log_loss, "lift_top_decile": v.holdout.lift_top_decile,
                    "rows": v.holdout.rows, "positives": v.holdout.positives},
        "fairness_warning": v.fairness.as_ref().and_then(|f| f.warning.clone()),
    })
}

/// Train a conversion model: `{"event": "Demo Booked", "horizon_days": 30, "sensitive_attribute"?: "gender",
/// "allow_sensitive"?: false, "fairness_threshold"?: 0.2, "l2"?: 1.0, "exclude_fields"?: ["lifetime_value"]}`
/// (profile fields are read as they are now, so leave out any derived from the outcome). Features as of `now − 2·horizon`
/// are trained on conversions in the horizon after; the hold-out is the same one horizon later. The new
/// version is promoted only when it beats the current one on that hold-out. 409 with the reason when no
/// model can be trained (e.g. fewer than 50 conversions).
#[utoipa::path(post, path = "/api/v1/models/conversion", tag = "models", request_body = inline(Object),
    responses((status = 201, body = inline(Object)), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn train_conversion(
    State(s): State<AppState>,
    who: Caller,
    body: Bytes,
) -> ApiResult<(axum::http::StatusCode, Json<ConversionVersion>)> {
    let req: ConversionRequest = super::json_body(&body)?;
    let v = s.engine.train_conversion(who.ws(), &req).await.map_err(conversion_problem)?;
    super::audit(&s, &who, "model.trained", &v.id, json!({"kind": "conversion", "promoted": v.promoted})).await?;
    Ok((axum::http::StatusCode::CREATED, Json(v)))
}

/// The promoted conversion model and every version with its hold-out figures.
#[utoipa::path(get, path = "/api/v1/models/conversion", tag = "models",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn conversion_versions(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let all = s.engine.conversion_versions(who.ws()).await?;
    let current = all.iter().find(|v| v.promoted).map(|v| v.id.clone());
    Ok(Json(json!({"current": current, "versions": all.iter().map(version_summary).collect::<Vec<_>>()})))
}

/// One version in full: feature spec, coefficients, dropped features, hold-out metrics with the calibration
/// curve, the current model's figures on the same hold-out, and the fairness audit.
#[utoipa::path(get, path = "/api/v1/models/conversion/{id}", tag = "models", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn conversion_version(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ConversionVersion>> {
    let all = s.engine.conversion_versions(who.ws()).await?;
    all.into_iter()
        .find(|v| v.id == id)
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("no conversion model version {id:?}")))
}

/// A contact's conversion probability from the promoted model (of `event`, when given; else the newest
/// promoted), as of now, with the `top` (default 5) features that moved it most.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/conversion", tag = "models",
    params(("id" = String, Path), ("event" = Option<String>, Query), ("top" = Option<usize>, Query)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn contact_conversion(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<ContactConversion>> {
    let id = ContactId(path_id(&id, "contact")?);
    let top = super::whole_number(q.get("top"), "top", 1, 50, 5)? as usize;
    match s.engine.contact_conversion(who.ws(), id, q.get("event").map(String::as_str), top).await {
        Ok(c) => Ok(Json(c)),
        Err(ConversionError::Invalid(m)) if m.starts_with("no contact") => Err(Problem::not_found(m)),
        Err(e) => Err(conversion_problem(e)),
    }
}

/// Every model of the workspace: the customer-lifetime model and each conversion version, with headline
/// figures.
#[utoipa::path(get, path = "/api/v1/models", tag = "models",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let mut data = Vec::new();
    if let Some(m) = s.engine.clv_model(who.ws()).await.map_err(problem)? {
        data.push(json!({"kind": "clv", "id": m.id, "trained_at": m.trained_at, "event": m.event,
                         "customers": m.customers, "log_likelihood": m.log_likelihood}));
    }
    for v in s.engine.conversion_versions(who.ws()).await? {
        let mut row = version_summary(&v);
        row["kind"] = json!("conversion");
        data.push(row);
    }
    Ok(Json(json!({"data": data})))
}

fn problem(e: ModelError) -> Problem {
    match e {
        ModelError::NotEnoughData(m) => Problem::conflict(m),
        ModelError::NoModel => Problem::conflict(e.to_string()),
        ModelError::Store(s) => s.into(),
    }
}

/// Train a new version on every purchase event so far.
#[utoipa::path(post, path = "/api/v1/models/clv", tag = "models", request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn train(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<ClvModel>> {
    let obj = if body.is_empty() { Default::default() } else { object_body(&body)? };
    super::only_keys(&obj, &["event", "value_property"])?;
    let text = |k: &str| match obj.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(v)) if !v.trim().is_empty() && v.len() <= 200 => Ok(Some(v.clone())),
        Some(_) => Err(Problem::invalid(k, "must be a non-empty string")),
    };
    let event = text("event")?.unwrap_or_else(|| "Order Completed".into());
    let value = text("value_property")?;
    s.engine.fit_clv(who.ws(), &event, value.as_deref()).await.map(Json).map_err(problem)
}

/// The latest trained model.
#[utoipa::path(get, path = "/api/v1/models/clv", tag = "models",
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller) -> ApiResult<Json<ClvModel>> {
    s.engine
        .clv_model(who.ws())
        .await
        .map_err(problem)?
        .map(Json)
        .ok_or_else(|| Problem::not_found("no customer-lifetime model has been trained yet"))
}

/// A contact's lifetime outlook over `days` (default 90).
#[utoipa::path(get, path = "/api/v1/contacts/{id}/clv", tag = "models", params(("id" = String, Path), ("days" = Option<f64>, Query)),
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn contact(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<ContactClv>> {
    let id: ContactId = path_id(&id, "contact")?;
    let days = match q.get("days") {
        None => 90.0,
        Some(d) => match d.parse::<f64>() {
            Ok(n) if n > 0.0 && n <= 3650.0 => n,
            _ => return Err(Problem::invalid("days", format!("must be a number of days from 1 to 3650, got {d:?}"))),
        },
    };
    let mut tx = s.engine.store().begin().await?;
    if tx.contact(who.ws(), id).await?.is_none() {
        return Err(Problem::not_found(format!("no contact with id {id}")));
    }
    tx.commit().await?;
    s.engine.contact_clv(who.ws(), id, days).await.map(Json).map_err(problem)
}

/// Cluster customers on recency, frequency and value. With
/// `"save_as_lists": true` each cluster becomes a static list (named by its
/// description) that segments can refer to.
#[utoipa::path(post, path = "/api/v1/models/clusters", tag = "models", request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn clusters(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<Value>> {
    let obj = if body.is_empty() { Default::default() } else { object_body(&body)? };
    super::only_keys(&obj, &["event", "value_property", "k", "save_as_lists"])?;
    let event = obj.get("event").and_then(Value::as_str).unwrap_or("Order Completed").to_string();
    let value = obj.get("value_property").and_then(Value::as_str).map(str::to_string);
    let k = match obj.get("k") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(n) if (2..=20).contains(&n) => Some(n as usize),
            _ => return Err(Problem::invalid("k", "must be a whole number from 2 to 20")),
        },
    };
    let save = obj.get("save_as_lists").and_then(Value::as_bool).unwrap_or(false);
    let (clustering, ids) = s.engine.cluster_customers(who.ws(), &event, value.as_deref(), k).await.map_err(problem)?;
    let mut lists = Vec::new();
    if save {
        let now = s.engine.clock().now().timestamp_millis();
        for c in &clustering.clusters {
            let list = kairos_store::ListRecord {
                id: kairos_core::ids::ListId::new(),
                name: format!("Cluster {} of {}: {} ({})", c.index + 1, clustering.k, c.description, now),
                description: Some(format!(
                    "k-means on {} of {event:?} buyers",
                    kairos_engine::CLUSTER_FEATURES.join(", ")
                )),
                created_at: now,
                updated_at: now,
            };
            let mut tx = s.engine.store().begin_write().await?;
            tx.insert_list(who.ws(), &list).await?;
            tx.commit().await?;
            let members: Vec<ContactId> =
                ids.iter().zip(&clustering.assignment).filter(|(_, a)| **a == c.index).map(|(id, _)| *id).collect();
            s.engine.change_list_members(who.ws(), list.id, &members, true, "clustering").await?;
            lists.push(serde_json::json!({"cluster": c.index, "list_id": list.id.to_string(), "name": list.name}));
        }
    }
    Ok(Json(serde_json::json!({
        "k": clustering.k,
        "silhouette": clustering.silhouette,
        "tried": clustering.tried,
        "features": kairos_engine::CLUSTER_FEATURES,
        "clusters": clustering.clusters,
        "lists": lists,
    })))
}

/// Contacts by conversion probability, highest first (the promoted model of `event`, default the newest
/// promoted), kept current as events arrive: `limit` (1–1000, default 50), `cursor`.
#[utoipa::path(get, path = "/api/v1/models/conversion/scores", tag = "models",
    params(("event" = Option<String>, Query), ("limit" = Option<i64>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = inline(Object)), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn conversion_scores(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let v = s
        .engine
        .conversion_model(who.ws(), q.get("event").map(String::as_str))
        .await?
        .ok_or_else(|| conversion_problem(ConversionError::NoModel))?;
    let limit = super::limit(q.get("limit"))?;
    let before = match q.get("cursor") {
        None => None,
        Some(c) => {
            let bad = || Problem::invalid("cursor", format!("not a cursor this API returned: {c:?}"));
            let (p, id) = c.split_once('_').ok_or_else(bad)?;
            Some((p.parse::<f64>().map_err(|_| bad())?, id.to_string()))
        }
    };
    let mut tx = s.engine.store().begin().await?;
    let rows = tx.top_model_scores(who.ws(), &v.event, before, limit).await?;
    let scored = tx.count_model_scores(who.ws(), &v.event, &v.id).await?;
    let contacts = tx.count_contacts(who.ws()).await?;
    tx.commit().await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| format!("{}_{}", r.probability, r.contact_id)))
        .flatten();
    Ok(Json(json!({"event": v.event, "model_id": v.id, "scored_contacts": scored, "contacts": contacts,
                   "data": rows, "next_cursor": next})))
}

/// Scheduled retraining, per conversion event.
#[utoipa::path(get, path = "/api/v1/models/conversion/schedules", tag = "models",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn schedules(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let rows = tx.model_schedules(who.ws()).await?;
    tx.commit().await?;
    let data: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let request: Value = serde_json::from_str(&r.request).unwrap_or(Value::Null);
            json!({"event": r.event, "request": request, "every_days": r.every_days, "next_at": r.next_at,
                   "last_run_at": r.last_run_at, "last_result": r.last_result})
        })
        .collect();
    Ok(Json(json!({"data": data})))
}

/// Retrain a conversion model on a schedule: `{"every_days": 7, "request": {…as POST /models/conversion…}}`.
/// The first run is now; each run is promoted only if it beats the current model, and its outcome is kept in
/// `last_result`. One schedule per conversion event (a PUT replaces it).
#[utoipa::path(put, path = "/api/v1/models/conversion/schedules", tag = "models", request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn schedule(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<Value>> {
    let obj = object_body(&body)?;
    super::only_keys(&obj, &["every_days", "request"])?;
    let every = obj
        .get("every_days")
        .and_then(Value::as_i64)
        .filter(|d| (1..=365).contains(d))
        .ok_or_else(|| Problem::invalid("every_days", "expected a whole number of days from 1 to 365"))?;
    let raw =
        obj.get("request").cloned().ok_or_else(|| Problem::invalid("request", "expected the training request"))?;
    let req: ConversionRequest =
        serde_json::from_value(raw.clone()).map_err(|e| Problem::invalid("request", e.to_string()))?;
    s.engine.check_conversion_request(who.ws(), &req).await.map_err(|e| match e {
        ConversionError::Invalid(m) => match m.split_once(": ") {
            Some((field, why)) => Problem::invalid(format!("request.{field}"), why),
            None => Problem::invalid("request", m),
        },
        other => conversion_problem(other),
    })?;
    let sched = s.engine.schedule_conversion(who.ws(), &req, &raw, every).await?;
    super::audit(&s, &who, "model.scheduled", &sched.event, json!({"every_days": every})).await?;
    Ok(Json(json!({"event": sched.event, "request": raw, "every_days": every, "next_at": sched.next_at})))
}

#[utoipa::path(delete, path = "/api/v1/models/conversion/schedules/{event}", tag = "models",
    params(("event" = String, Path)), responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn unschedule(
    State(s): State<AppState>,
    who: Caller,
    Path(event): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    let mut tx = s.engine.store().begin_write().await?;
    let found = tx.delete_model_schedule(who.ws(), &event).await?;
    tx.commit().await?;
    if !found {
        return Err(Problem::not_found(format!("no retraining schedule for {event:?}")));
    }
    super::audit(&s, &who, "model.unscheduled", &event, json!({})).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// A contact's best local hour to receive a message, learned from when they opened and clicked (180 days),
/// shrunk towards the workspace's pattern: `hour` (0–23, in the contact's zone), `share`, and
/// `personal_weight` (0: the workspace's pattern only, towards 1: their own).
#[utoipa::path(get, path = "/api/v1/contacts/{id}/send-time", tag = "models", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn send_time(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = ContactId(path_id(&id, "contact")?);
    let mut tx = s.engine.store().begin().await?;
    let person = tx.contact(who.ws(), id).await?;
    tx.commit().await?;
    let person = person.ok_or_else(|| Problem::not_found(format!("no contact with id {id}")))?;
    let best = s.engine.best_send_hour(who.ws(), id).await?;
    Ok(Json(json!({"hour": best.hour, "share": best.share, "personal_weight": best.personal_weight,
                   "timezone": person.timezone})))
}

fn audit_problem(e: ConversionError) -> Problem {
    match e {
        ConversionError::Invalid(m) if m.starts_with("no ") => Problem::not_found(m),
        other => conversion_problem(other),
    }
}

/// Audit a conversion model version's fairness on its hold-out: `{"sensitive_attribute": "gender",
/// "threshold"?: 0.3}` (default: its top decile is selected). The audit is stored with the version.
#[utoipa::path(post, path = "/api/v1/models/conversion/{id}/fairness", tag = "models", params(("id" = String, Path)),
    request_body = inline(Object),
    responses((status = 201, body = inline(Object)), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn audit_conversion(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(axum::http::StatusCode, Json<FairnessAudit>)> {
    let req: AuditRequest = super::json_body(&body)?;
    let a = s.engine.audit_conversion(who.ws(), &id, &req).await.map_err(audit_problem)?;
    Ok((axum::http::StatusCode::CREATED, Json(a)))
}

/// Audit a rule-based score's fairness as it stands now: `{"sensitive_attribute": "country",
/// "threshold"?: 50 | "MQL" (default: its highest threshold), "outcome_event": "Order Completed",
/// "outcome_days"?: 30}` — selected when the score is at or above the threshold, converted when the outcome
/// happened in the last days. Stored with the score's live version.
#[utoipa::path(post, path = "/api/v1/scores/{name}/fairness", tag = "scores", params(("name" = String, Path)),
    request_body = inline(Object),
    responses((status = 201, body = inline(Object)), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn audit_score(
    State(s): State<AppState>,
    who: Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<(axum::http::StatusCode, Json<FairnessAudit>)> {
    let req: AuditRequest = super::json_body(&body)?;
    let a = s.engine.audit_score(who.ws(), &name, &req).await.map_err(audit_problem)?;
    Ok((axum::http::StatusCode::CREATED, Json(a)))
}

/// Stored fairness audits, newest first: `subject` = `score:NAME` or `conversion:MODEL ID` narrows them.
#[utoipa::path(get, path = "/api/v1/fairness-audits", tag = "models", params(("subject" = Option<String>, Query)),
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn audits(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let all = s.engine.fairness_audits(who.ws(), q.get("subject").map(String::as_str)).await?;
    Ok(Json(json!({"data": all})))
}
