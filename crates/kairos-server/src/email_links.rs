//! The routes a recipient's mail client and browser reach: the open pixel
//! (`/t/o/{token}.gif`), tracked links (`/t/c/{token}`, a 302 to the signed
//! target; a tampered token is a 400, never a redirect elsewhere) and
//! unsubscribe (`/u/{token}`): a POST — the RFC 8058 one-click request a
//! mailbox provider sends, or the button of the page — unsubscribes at once,
//! without login or confirmation; a GET shows that button (a GET never
//! unsubscribes, because link scanners fetch every URL in a message).

use crate::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use kairos_core::consent::Proof;
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_email::tracking;
use serde_json::json;
use std::net::SocketAddr;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/t/o/{token}", get(open))
        .route("/t/c/{token}", get(click))
        .route("/u/{token}", get(unsubscribe_page).post(unsubscribe))
}

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
    0x02, 0x44, 0x01, 0x00, 0x3b,
];

async fn key(s: &AppState, token: &str) -> Option<[u8; 32]> {
    let ws = tracking::claimed_workspace(token).ok()?;
    s.engine.email_tracking_key(WorkspaceId(ws)).await.ok()
}

fn user_agent(h: &HeaderMap) -> Option<String> {
    h.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string)
}

fn bad_link() -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "This link is malformed or has been altered.\n",
    )
        .into_response()
}

pub async fn open(
    State(s): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let token = token.trim_end_matches(".gif");
    let pixel = ([(header::CONTENT_TYPE, "image/gif"), (header::CACHE_CONTROL, "no-store, max-age=0")], PIXEL);
    let Some(k) = key(&s, token).await else { return bad_link() };
    let Ok((ws, msg)) = tracking::check_open(&k, token) else { return bad_link() };
    if let Err(e) =
        s.engine.record_email_open(WorkspaceId(ws), msg, user_agent(&headers).as_deref(), method == Method::HEAD).await
    {
        tracing::warn!(error = %e, "recording an open failed");
    }
    pixel.into_response()
}

pub async fn click(
    State(s): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let Some(k) = key(&s, &token).await else { return bad_link() };
    let Ok((ws, msg, url)) = tracking::check_click(&k, &token) else { return bad_link() };
    if let Err(e) = s
        .engine
        .record_email_click(WorkspaceId(ws), msg, &url, user_agent(&headers).as_deref(), method == Method::HEAD)
        .await
    {
        tracing::warn!(error = %e, "recording a click failed");
    }
    (StatusCode::FOUND, [(header::LOCATION, url.as_str()), (header::CACHE_CONTROL, "no-store")]).into_response()
}

fn page(title: &str, body: &str, status: StatusCode) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{title}</title><style>body{{font-family:system-ui,\
         sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}button{{font-size:1rem;\
         padding:.6rem 1.2rem}}</style></head><body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    (status, Html(html)).into_response()
}

async fn verify(s: &AppState, token: &str) -> Option<(WorkspaceId, uuid::Uuid, ContactId)> {
    let k = key(s, token).await?;
    let (ws, msg, contact) = tracking::check_unsubscribe(&k, token).ok()?;
    Some((WorkspaceId(ws), msg, ContactId(contact)))
}

pub async fn unsubscribe_page(State(s): State<AppState>, Path(token): Path<String>) -> Response {
    if verify(&s, &token).await.is_none() {
        return page(
            "Link not valid",
            "<p>This unsubscribe link is malformed or has been altered.</p>",
            StatusCode::BAD_REQUEST,
        );
    }
    page(
        "Unsubscribe",
        &format!(
            "<p>Stop receiving marketing email from us at this address.</p>\
             <form method=\"post\" action=\"/u/{token}\"><input type=\"hidden\" name=\"List-Unsubscribe\" \
             value=\"One-Click\"><button type=\"submit\">Unsubscribe</button></form>"
        ),
        StatusCode::OK,
    )
}

pub async fn unsubscribe(
    State(s): State<AppState>,
    Path(token): Path<String>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((ws, msg, contact)) = verify(&s, &token).await else {
        return page(
            "Link not valid",
            "<p>This unsubscribe link is malformed or has been altered.</p>",
            StatusCode::BAD_REQUEST,
        );
    };
    let form = String::from_utf8_lossy(&body[..body.len().min(4096)]).into_owned();
    let one_click = form.contains("List-Unsubscribe=One-Click");
    let proof = Proof {
        ip: connect.map(|Extension(ConnectInfo(a))| a.ip().to_string()),
        user_agent: user_agent(&headers),
        form_payload: Some(json!({"body": form, "message_id": msg.to_string()})),
    };
    let source = if one_click { "one_click" } else { "unsubscribe_link" };
    match s.engine.unsubscribe_email(ws, msg, contact, source, proof).await {
        Ok(_) => page(
            "You are unsubscribed",
            "<p>You will not receive marketing email from us at this address any more.</p>",
            StatusCode::OK,
        ),
        Err(e) => {
            tracing::error!(error = %e, "unsubscribe failed");
            page("Something went wrong", "<p>Please try again in a minute.</p>", StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}
