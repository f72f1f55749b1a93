//! The Segment-compatible tracking endpoints (`/v1/track`, `/v1/identify`,
//! `/v1/page`, `/v1/screen`, `/v1/group`, `/v1/alias`, `/v1/batch`, plus
//! analytics.js's one-letter aliases). A request is answered 200 only after
//! its events are durable in the log; a 4xx says exactly what to fix; a 503
//! means nothing was stored and the SDK should retry.

use crate::auth::{authenticate, basic_auth_user};
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap};
use axum::routing::post;
use axum::{Json, Router};
use kairos_core::event::EventKind;
use kairos_core::tracking::{parse_batch, parse_single, Arrival, TrackingError, MAX_BATCH_BYTES};
use serde::Serialize;
use std::io::Read;
use std::net::SocketAddr;
use utoipa::ToSchema;

/// Answer to an accepted tracking request.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackingResponse {
    /// Always true: the messages are durable in the event log.
    pub success: bool,
    /// Messages newly appended.
    pub accepted: usize,
    /// Messages whose messageId had been received before (ignored).
    pub duplicates: usize,
    /// Traits that could not be applied to the profile; the events were kept.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

pub fn routes() -> Router<AppState> {
    let mut r = Router::new();
    for (paths, kind) in [
        (&["/v1/track", "/v1/t"][..], Some(EventKind::Track)),
        (&["/v1/identify", "/v1/i"][..], Some(EventKind::Identify)),
        (&["/v1/page", "/v1/p"][..], Some(EventKind::Page)),
        (&["/v1/screen", "/v1/s"][..], Some(EventKind::Screen)),
        (&["/v1/group", "/v1/g"][..], Some(EventKind::Group)),
        (&["/v1/alias", "/v1/a"][..], Some(EventKind::Alias)),
        (&["/v1/batch", "/v1/b", "/v1/import"][..], None),
    ] {
        for path in paths {
            r = r.route(path, post(move |state: State<AppState>, req: Request| ingest(state, req, kind)));
        }
    }
    r
}

/// The body as JSON bytes: gzip-decoded when the client says so, refused
/// when larger than a batch may be (before or after decoding).
fn decoded_body(headers: &HeaderMap, body: Bytes) -> ApiResult<Vec<u8>> {
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().eq_ignore_ascii_case("gzip"))
        .unwrap_or(false);
    if !gzip {
        if body.len() > MAX_BATCH_BYTES {
            return Err(Problem::too_large(format!(
                "the body is {} bytes; at most {MAX_BATCH_BYTES} bytes are accepted (split the batch)",
                body.len()
            )));
        }
        return Ok(body.to_vec());
    }
    let mut out = Vec::with_capacity(body.len() * 4);
    flate2::read::GzDecoder::new(&body[..])
        .take(MAX_BATCH_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| Problem::bad_request(format!("the body is not valid gzip: {e}")))?;
    if out.len() > MAX_BATCH_BYTES {
        return Err(Problem::too_large(format!(
            "the body decompresses to more than {MAX_BATCH_BYTES} bytes (split the batch)"
        )));
    }
    Ok(out)
}

fn tracking_problem(e: TrackingError) -> Problem {
    match e {
        TrackingError::TooLarge { .. } => Problem::too_large(e.to_string()),
        TrackingError::InvalidJson(m) => Problem::bad_request(format!("the body is not valid JSON: {m}")),
        TrackingError::EmptyBatch => Problem::bad_request("the batch is empty"),
        TrackingError::NotAnObject { path } => {
            let mut p = Problem::bad_request(format!("{path}: must be a JSON object"));
            p.errors.push(crate::problem::FieldProblem { path, message: "must be a JSON object".into() });
            p
        }
        TrackingError::Invalid { path, reason } => {
            let mut p = Problem::bad_request(format!("{path}: {reason}"));
            p.errors.push(crate::problem::FieldProblem { path, message: reason });
            p
        }
    }
}

async fn ingest(
    State(state): State<AppState>,
    req: Request,
    kind: Option<EventKind>,
) -> ApiResult<Json<TrackingResponse>> {
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let ci = parts.extensions.get::<ConnectInfo<SocketAddr>>().cloned();
    let body = axum::body::to_bytes(body, crate::BODY_LIMIT)
        .await
        .map_err(|_| Problem::too_large(format!("the body is larger than {} bytes", crate::BODY_LIMIT)))?;
    let body = decoded_body(&headers, body)?;
    let arrival = Arrival { received_at: state.engine.clock().now(), client_ip: ci.map(|c| c.0.ip().to_string()) };
    let request = match kind {
        Some(k) => parse_single(k, &body, &arrival),
        None => parse_batch(&body, &arrival),
    }
    .map_err(tracking_problem)?;
    let secret = basic_auth_user(&headers).or(request.write_key).ok_or_else(|| {
        Problem::unauthorized("send the write key as the Basic auth user name or as \"writeKey\" in the body")
    })?;
    let key = authenticate(&state, &secret).await?;
    let mut messages = request.messages;
    // Global Privacy Control: the browser says "do not sell or share". The
    // signal travels with each message (and is stored with it as proof);
    // the engine records the opt-out on the contact.
    if headers.get("sec-gpc").and_then(|v| v.to_str().ok()).map(str::trim) == Some("1") {
        let ua = headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
        for m in &mut messages {
            m.context.insert("gpc".into(), serde_json::Value::Bool(true));
            if let Some(ua) = &ua {
                m.context.entry("userAgent").or_insert_with(|| serde_json::Value::String(ua.clone()));
            }
        }
    }
    let report = state.engine.ingest(key.workspace_id, messages).await?;
    Ok(Json(TrackingResponse {
        success: true,
        accepted: report.accepted,
        duplicates: report.duplicates,
        warnings: report.warnings,
    }))
}
