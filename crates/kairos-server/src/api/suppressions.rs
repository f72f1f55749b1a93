//! `/api/v1/suppressions`: the addresses that must not be sent to, per
//! channel, with the reason — add, check, list and remove. Addresses are
//! normalised (lower-case email, E.164 phone) and keyed by a salted hash.

use super::{limit, object_body};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use kairos_core::consent::Channel;
use kairos_core::gate::{address_hash, canonical_address, SuppressionReason};
use kairos_store::Suppression;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/suppressions", get(list).post(add).delete(remove))
        .route("/api/v1/suppressions/check", get(check))
}

/// An address to suppress.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct SuppressionInput {
    /// email, sms, push, in_app or phone
    pub channel: String,
    pub address: String,
    /// hard_bounce, complaint, unsubscribed or manual
    pub reason: String,
    pub note: Option<String>,
}

fn channel(raw: Option<&str>) -> ApiResult<Channel> {
    let raw = raw.ok_or_else(|| Problem::invalid("channel", format!("is required: one of {}", Channel::names())))?;
    Channel::parse(raw).ok_or_else(|| Problem::invalid("channel", format!("must be one of {}", Channel::names())))
}

async fn key(s: &AppState, who: &Caller, ch: Channel, address: Option<&str>) -> ApiResult<(String, String)> {
    let address = address.ok_or_else(|| Problem::invalid("address", "is required"))?;
    let canonical = canonical_address(ch, address).map_err(|e| Problem::invalid("address", e))?;
    let mut tx = s.engine.store().begin_write().await?;
    let salt = tx.address_salt(who.ws()).await?;
    tx.commit().await?;
    let hash = address_hash(&salt, ch, &canonical);
    Ok((canonical, hash))
}

/// Suppress an address on a channel.
#[utoipa::path(post, path = "/api/v1/suppressions", tag = "suppressions", request_body = SuppressionInput,
    responses((status = 201, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn add(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<(StatusCode, Json<Suppression>)> {
    let obj = object_body(&body)?;
    super::only_keys(&obj, &["channel", "address", "reason", "note"])?;
    let ch = channel(obj.get("channel").and_then(Value::as_str))?;
    let reason = obj
        .get("reason")
        .and_then(Value::as_str)
        .and_then(SuppressionReason::parse)
        .filter(|r| *r != SuppressionReason::Erased)
        .ok_or_else(|| {
            Problem::invalid("reason", "must be one of \"hard_bounce\", \"complaint\", \"unsubscribed\", \"manual\"")
        })?;
    let note = match obj.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if n.len() <= 1000 => Some(n.clone()),
        Some(_) => return Err(Problem::invalid("note", "must be a string of at most 1000 characters")),
    };
    let (canonical, hash) = key(&s, &who, ch, obj.get("address").and_then(Value::as_str)).await?;
    let now = s.engine.clock().now().timestamp_millis();
    let mut tx = s.engine.store().begin_write().await?;
    tx.suppress(who.ws(), ch, &hash, Some(&canonical), reason, note.as_deref(), now).await?;
    let saved = tx.suppression(who.ws(), ch, &hash).await?.ok_or_else(|| Problem::internal("suppression vanished"))?;
    let detail = json!({"channel": ch, "reason": saved.reason});
    tx.audit(who.ws(), now, &who.actor(), "suppression.added", &hash, &detail).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

/// Whether an address is suppressed on a channel, and why.
#[utoipa::path(get, path = "/api/v1/suppressions/check", tag = "suppressions",
    params(("channel" = String, Query), ("address" = String, Query)),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn check(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let ch = channel(q.get("channel").map(String::as_str))?;
    let (canonical, hash) = key(&s, &who, ch, q.get("address").map(String::as_str)).await?;
    let mut tx = s.engine.store().begin().await?;
    let found = tx.suppression(who.ws(), ch, &hash).await?;
    tx.commit().await?;
    Ok(Json(json!({"channel": ch, "address": canonical, "suppressed": found.is_some(),
                   "reason": found.as_ref().map(|f| f.reason.clone())})))
}

/// Suppressions, a page at a time (optionally of one channel).
#[utoipa::path(get, path = "/api/v1/suppressions", tag = "suppressions",
    params(("channel" = Option<String>, Query), ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let ch = q.get("channel").map(|c| channel(Some(c))).transpose()?;
    let n = limit(q.get("limit"))?;
    let after = match q.get("cursor") {
        None => None,
        Some(c) => Some(
            c.split_once(':')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| Problem::invalid("cursor", "is not a cursor this API returned"))?,
        ),
    };
    let mut tx = s.engine.store().begin().await?;
    let mut rows = tx.suppressions(who.ws(), ch, after, n + 1).await?;
    tx.commit().await?;
    let next = if rows.len() as i64 > n {
        rows.truncate(n as usize);
        rows.last().map(|r| format!("{}:{}", r.channel, r.address_hash))
    } else {
        None
    };
    Ok(Json(json!({"data": rows, "next_cursor": next})))
}

/// Lift a suppression (not one left by an erasure).
#[utoipa::path(delete, path = "/api/v1/suppressions", tag = "suppressions",
    params(("channel" = String, Query), ("address" = String, Query)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn remove(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<StatusCode> {
    let ch = channel(q.get("channel").map(String::as_str))?;
    let (canonical, hash) = key(&s, &who, ch, q.get("address").map(String::as_str)).await?;
    let mut tx = s.engine.store().begin_write().await?;
    match tx.suppression(who.ws(), ch, &hash).await? {
        None => return Err(Problem::not_found(format!("{canonical} is not suppressed on {ch}"))),
        Some(f) if f.reason == SuppressionReason::Erased.as_str() => {
            return Err(Problem::conflict("this address belongs to an erased person; it stays suppressed"))
        }
        Some(_) => {}
    }
    tx.unsuppress(who.ws(), ch, &hash).await?;
    let now = s.engine.clock().now().timestamp_millis();
    tx.audit(who.ws(), now, &who.actor(), "suppression.lifted", &hash, &json!({"channel": ch})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
