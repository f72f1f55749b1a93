//! Data-subject rights: `POST /api/v1/contacts/{id}/erase` erases a person
//! everywhere (leaving salted address hashes in the suppression list), `GET
//! /api/v1/contacts/{id}/export` returns everything Kairos holds about them
//! as one JSON document, and `GET /api/v1/audit` lists the audit trail that
//! records both.

use super::path_id;
use crate::auth::Admin;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use kairos_core::ids::ContactId;
use kairos_store::Erasure;
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/contacts/{id}/erase", post(erase))
        .route("/api/v1/contacts/{id}/export", get(export))
        .route("/api/v1/audit", get(audit))
}

fn actor(admin: &Admin) -> String {
    format!("api_key:{} ({})", admin.0.id.0, admin.0.name)
}

/// Erase a contact everywhere: profile, events, identities, consent,
/// memberships, merge records. Their email and phone stay suppressed as
/// salted hashes so a later import cannot bring them back. Audited.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/erase", tag = "privacy", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn erase(State(s): State<AppState>, admin: Admin, Path(id): Path<String>) -> ApiResult<Json<Erasure>> {
    let id: ContactId = path_id(&id, "contact")?;
    let erasure = s
        .engine
        .erase_contact(admin.ws(), id, &actor(&admin))
        .await?
        .ok_or_else(|| Problem::not_found(format!("no contact with id {id}")))?;
    Ok(Json(erasure))
}

/// Everything held about a contact: profile, companies, identities, events,
/// consent with history, segments, lists and merges. Audited.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/export", tag = "privacy", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn export(State(s): State<AppState>, admin: Admin, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let ws = admin.ws();
    let id: ContactId = path_id(&id, "contact")?;
    let mut tx = s.engine.store().begin().await?;
    let contact = tx.contact(ws, id).await?.ok_or_else(|| Problem::not_found(format!("no contact with id {id}")))?;
    let mut companies = Vec::new();
    for co in &contact.company_ids {
        if let Some(c) = tx.company(ws, *co).await? {
            companies.push(c);
        }
    }
    let anonymous_ids = tx.anonymous_ids_of(ws, id).await?;
    let mut events = Vec::new();
    let mut before = None;
    loop {
        let page = tx.contact_events(ws, id, before, 1000).await?;
        let Some(last) = page.last() else { break };
        before = Some(kairos_store::EventCursor { timestamp_ms: last.timestamp.timestamp_millis(), seq: last.seq });
        events.extend(page);
    }
    let consents = tx.consents_of(ws, id).await?;
    let consent_history = tx.consent_history_of(ws, id).await?;
    let segments = tx.segment_entries_of(ws, id).await?;
    let lists = tx.lists_of(ws, id).await?;
    let merges = tx.merges_of(ws, id).await?;
    tx.commit().await?;
    let now = s.engine.clock().now();
    let mut w = s.engine.store().begin_write().await?;
    w.audit(ws, now.timestamp_millis(), &actor(&admin), "contact.exported", &id.to_string(), &json!({})).await?;
    w.commit().await?;
    Ok(Json(json!({
        "exported_at": now,
        "contact": contact,
        "companies": companies,
        "anonymous_ids": anonymous_ids,
        "events": events,
        "consent": {"current": consents, "history": consent_history},
        "segments": segments.into_iter().map(|(s, since)| json!({"segment_id": s, "since": since})).collect::<Vec<_>>(),
        "lists": lists,
        "merges": merges,
    })))
}

/// The audit trail, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "privacy", params(("limit" = Option<i64>, Query)),
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn audit(
    State(s): State<AppState>,
    admin: Admin,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let n = super::limit(q.get("limit"))?;
    let mut tx = s.engine.store().begin().await?;
    let entries = tx.audit_entries(admin.ws(), n).await?;
    tx.commit().await?;
    Ok(Json(json!({"data": entries})))
}
