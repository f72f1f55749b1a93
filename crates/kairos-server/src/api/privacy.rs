//! Data-subject rights: `POST /api/v1/contacts/{id}/erase` erases a person
//! everywhere (leaving salted address hashes in the suppression list), `GET
//! /api/v1/contacts/{id}/export` returns everything Kairos holds about them
//! as one JSON document, and `GET /api/v1/audit` lists the audit trail that
//! records both.

use super::path_id;
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::DateTime;
use kairos_core::ids::ContactId;
use kairos_store::{AuditFilter, Erasure};
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/contacts/{id}/erase", post(erase))
        .route("/api/v1/contacts/{id}/export", get(export))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/audit.csv", get(audit_csv))
}

/// Erase a contact everywhere: profile, events, identities, consent,
/// memberships, merge records. Their email and phone stay suppressed as
/// salted hashes so a later import cannot bring them back. Audited.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/erase", tag = "privacy", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn erase(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Erasure>> {
    let id: ContactId = path_id(&id, "contact")?;
    let erasure = s
        .engine
        .erase_contact(who.ws(), id, &who.actor())
        .await?
        .ok_or_else(|| Problem::not_found(format!("no contact with id {id}")))?;
    Ok(Json(erasure))
}

/// Everything held about a contact: profile, companies, identities, events,
/// consent with history, segments, lists and merges — as JSON, or with
/// `format=zip` as one archive holding that JSON and CSV files. Audited.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/export", tag = "privacy", params(("id" = String, Path), ("format" = Option<String>, Query)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn export(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let zip = match q.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("zip") => true,
        Some(other) => return Err(Problem::invalid("format", format!("must be \"json\" or \"zip\", got {other:?}"))),
    };
    let id: ContactId = path_id(&id, "contact")?;
    let document = s
        .engine
        .export_contact(who.ws(), id, &who.actor())
        .await?
        .ok_or_else(|| Problem::not_found(format!("no contact with id {id}")))?;
    if !zip {
        return Ok(Json(document).into_response());
    }
    let archive = archive(&document).map_err(Problem::internal)?;
    let name = format!("attachment; filename=\"contact-{id}.zip\"");
    Ok(([(header::CONTENT_TYPE, "application/zip".to_string()), (header::CONTENT_DISPOSITION, name)], archive)
        .into_response())
}

/// The export as a zip: the whole document as JSON, and the lists in it as
/// CSV files a spreadsheet opens.
fn archive(doc: &Value) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let e = |e: zip::result::ZipError| e.to_string();
    zip.start_file("person.json", opts).map_err(e)?;
    zip.write_all(serde_json::to_string_pretty(doc).unwrap_or_default().as_bytes()).map_err(|e| e.to_string())?;
    let tables: [(&str, &Value, &[&str]); 4] = [
        (
            "profile.csv",
            &doc["contact"],
            &[
                "id",
                "external_id",
                "email",
                "phone",
                "first_name",
                "last_name",
                "country",
                "timezone",
                "locale",
                "created_at",
                "updated_at",
            ],
        ),
        ("events.csv", &doc["events"], &["timestamp", "kind", "name", "message_id", "properties", "context"]),
        (
            "consent_history.csv",
            &doc["consent"]["history"],
            &["at", "channel", "purpose", "state", "source", "lawful_basis", "wording", "wording_version", "proof"],
        ),
        ("segments.csv", &doc["segments"], &["segment_id", "since"]),
    ];
    for (name, rows, columns) in tables {
        let rows: Vec<&Value> = match rows {
            Value::Array(items) => items.iter().collect(),
            Value::Null => Vec::new(),
            one => vec![one],
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(columns).map_err(|e| e.to_string())?;
        for r in rows {
            let cells: Vec<String> = columns
                .iter()
                .map(|c| match &r[*c] {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            w.write_record(&cells).map_err(|e| e.to_string())?;
        }
        let bytes = w.into_inner().map_err(|e| e.to_string())?;
        zip.start_file(name, opts).map_err(e)?;
        zip.write_all(&bytes).map_err(|e| e.to_string())?;
    }
    Ok(zip.finish().map_err(e)?.into_inner())
}

/// Read the audit filter from the query: `action` (prefix), `who` (actor or
/// subject), `since`/`until` (RFC 3339), `cursor`, `limit`.
fn audit_filter(q: &HashMap<String, String>, max: i64) -> ApiResult<AuditFilter> {
    let time = |name: &str| -> ApiResult<Option<i64>> {
        q.get(name)
            .map(|raw| {
                DateTime::parse_from_rfc3339(raw).map(|t| t.timestamp_millis()).map_err(|e| {
                    Problem::invalid(
                        name,
                        format!("must be an RFC 3339 time like 2026-11-29T10:00:00Z, got {raw:?}: {e}"),
                    )
                })
            })
            .transpose()
    };
    let before = match q.get("cursor") {
        None => None,
        Some(c) => {
            let bad = || Problem::invalid("cursor", format!("not a cursor this API returned: {c:?}"));
            let (at, id) = c.split_once(':').ok_or_else(bad)?;
            Some((at.parse::<i64>().map_err(|_| bad())?, id.to_string()))
        }
    };
    let limit = super::whole_number(q.get("limit"), "limit", 1, max, super::DEFAULT_LIMIT.min(max))?;
    Ok(AuditFilter {
        action: q.get("action").cloned().filter(|s| !s.is_empty()),
        who: q.get("who").cloned().filter(|s| !s.is_empty()),
        since: time("since")?,
        until: time("until")?,
        before,
        limit,
    })
}

/// The audit trail, newest first: sign-ins, key and member changes,
/// consent changes, journey publishes, imports, exports, erasures.
#[utoipa::path(get, path = "/api/v1/audit", tag = "privacy",
    params(("action" = Option<String>, Query, description = "actions starting with this, e.g. user. or contact.erased"),
        ("who" = Option<String>, Query, description = "actor (user:EMAIL, key:PREFIX (NAME)) or subject id"),
        ("since" = Option<String>, Query), ("until" = Option<String>, Query),
        ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = []), ("session" = [])))]
pub async fn audit(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let f = audit_filter(&q, super::MAX_LIMIT)?;
    let mut tx = s.engine.store().begin().await?;
    let entries = tx.audit_entries(who.ws(), &f).await?;
    drop(tx);
    let next =
        (entries.len() as i64 == f.limit).then(|| entries.last().map(|e| format!("{}:{}", e.at, e.id))).flatten();
    Ok(Json(json!({"data": entries, "next_cursor": next})))
}

/// The audit trail as CSV (same filters; up to a million entries).
#[utoipa::path(get, path = "/api/v1/audit.csv", tag = "privacy",
    params(("action" = Option<String>, Query), ("who" = Option<String>, Query), ("since" = Option<String>, Query),
        ("until" = Option<String>, Query)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn audit_csv(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let mut f = audit_filter(&q, 1_000_000)?;
    f.limit = 1_000_000;
    let mut tx = s.engine.store().begin().await?;
    let entries = tx.audit_entries(who.ws(), &f).await?;
    drop(tx);
    let mut w = csv::Writer::from_writer(Vec::new());
    let rows = std::iter::once(["id", "at", "actor", "action", "subject", "detail"].map(String::from)).chain(
        entries.into_iter().map(|e| {
            let at = chrono::DateTime::from_timestamp_millis(e.at).map(|t| t.to_rfc3339()).unwrap_or_default();
            [e.id, at, e.actor, e.action, e.subject, e.detail.to_string()]
        }),
    );
    for r in rows {
        w.write_record(&r).map_err(Problem::internal)?;
    }
    let body = w.into_inner().map_err(Problem::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"audit.csv\""),
        ],
        body,
    )
        .into_response())
}
