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
use axum::http::header;
use axum::response::{IntoResponse, Response};
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
/// consent with history, segments, lists and merges — as JSON, or with
/// `format=zip` as one archive holding that JSON and CSV files. Audited.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/export", tag = "privacy", params(("id" = String, Path), ("format" = Option<String>, Query)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn export(
    State(s): State<AppState>,
    admin: Admin,
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
        .export_contact(admin.ws(), id, &actor(&admin))
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
