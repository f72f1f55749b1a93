//! The hosted preference centre: a page reached by a signed link (no login)
//! where a contact sees and changes consent for each channel and purpose, or
//! unsubscribes from everything. Plain HTML forms: it works without
//! JavaScript, every control is labelled, and every change is recorded as a
//! consent change with the label text as its wording and the request as
//! proof. Admins mint links with `POST /api/v1/contacts/{id}/preference-link`.

use crate::api::path_id;
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use kairos_core::consent::{Channel, ConsentChange, ConsentState, LawfulBasis, Proof, Purpose};
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_core::links::{claimed_workspace, link_key, sign, verify, LinkError};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

/// How long a preference link stays valid.
const LINK_DAYS: i64 = 90;
const WORDING_VERSION: &str = "preference-centre-1";

/// The preference-link route of the REST API (behind the access check).
pub fn api_routes() -> Router<AppState> {
    Router::new().route("/api/v1/contacts/{id}/preference-link", post(mint))
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/preferences/{token}", get(page).post(submit))
}

fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::Email => "Email",
        Channel::Sms => "Text messages (SMS)",
        Channel::Push => "Push notifications",
        Channel::InApp => "Messages in the app",
        Channel::Phone => "Phone calls",
    }
}

fn purpose_label(p: Purpose) -> &'static str {
    match p {
        Purpose::Marketing => "News, offers and promotions",
        Purpose::ProductUpdates => "Product updates and announcements",
        Purpose::Profiling => "Personalisation based on how I use the products",
        Purpose::ThirdPartySharing => "Sharing my details with partners",
    }
}

/// The exact text a contact agrees to by ticking a box.
fn wording(c: Channel, p: Purpose) -> String {
    format!("{}: {}", channel_label(c), purpose_label(p))
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

async fn key_for(s: &AppState, ws: WorkspaceId) -> Result<[u8; 32], kairos_store::StoreError> {
    let mut tx = s.engine.store().begin_write().await?;
    let secret = tx.address_salt(ws).await?;
    tx.commit().await?;
    Ok(link_key(&secret, "preferences"))
}

/// Mint a preference-centre link for a contact.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/preference-link", tag = "consent", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn mint(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let id: ContactId = path_id(&id, "contact")?;
    let mut tx = s.engine.store().begin().await?;
    if tx.contact(who.ws(), id).await?.is_none() {
        return Err(Problem::not_found(format!("no contact with id {id}")));
    }
    tx.commit().await?;
    let key = key_for(&s, who.ws()).await?;
    let expires = s.engine.clock().now() + chrono::Duration::days(LINK_DAYS);
    let path = format!("/preferences/{}", sign(&key, who.ws(), id, expires.timestamp()));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).unwrap_or("http");
    Ok(Json(json!({"url": format!("{scheme}://{host}{path}"), "path": path, "expires_at": expires})))
}

fn document(body: &str, status: StatusCode) -> Response {
    titled_document("Your communication preferences", body, status)
}

/// A hosted page (the preference centre, subscription forms): one look,
/// readable without JavaScript, never cached (it shows personal data).
pub(crate) fn titled_document(title: &str, body: &str, status: StatusCode) -> Response {
    let title = escape(title);
    let html = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}
fieldset{{border:1px solid #bbb;border-radius:6px;margin:0 0 1rem;padding:.5rem 1rem}}legend{{font-weight:600}}
label{{display:block;padding:.25rem 0}}button{{font:inherit;padding:.5rem 1rem;margin:.5rem .5rem 0 0;border-radius:6px;border:1px solid #333;background:#fff;cursor:pointer}}
button.primary{{background:#1b4dd8;border-color:#1b4dd8;color:#fff}}.notice{{background:#e7f6ea;border:1px solid #7bc48a;padding:.5rem 1rem;border-radius:6px}}
.error{{background:#fdecec;border:1px solid #d88;padding:.5rem 1rem;border-radius:6px}}:focus{{outline:3px solid #f7b500;outline-offset:2px}}
input[type=email],input[type=text]{{font:inherit;display:block;width:100%;box-sizing:border-box;padding:.4rem;margin:.1rem 0 .5rem;border:1px solid #767676;border-radius:4px}}
.field-error{{color:#a00000;margin:0 0 .5rem}}blockquote{{margin:0 0 1rem;padding:.5rem 1rem;border-left:4px solid #bbb}}</style>
</head><body><main>{body}</main></body></html>"#
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

fn error_page(e: LinkError) -> Response {
    let body = format!(
        "<h1>This link cannot be used</h1><p class=\"error\" role=\"alert\">{}.</p>\
         <p>Use the most recent link from one of our messages.</p>",
        escape(&e.to_string())
    );
    document(&body, if e == LinkError::Expired { StatusCode::GONE } else { StatusCode::BAD_REQUEST })
}

/// Resolve a token to its contact and current consent.
async fn open(
    s: &AppState,
    token: &str,
) -> Result<Result<(WorkspaceId, ContactId, String, Vec<ConsentChange>), LinkError>, Problem> {
    let ws = match claimed_workspace(token) {
        Ok(ws) => ws,
        Err(e) => return Ok(Err(e)),
    };
    let mut tx = s.engine.store().begin().await?;
    if tx.workspace(ws).await?.is_none() {
        return Ok(Err(LinkError::Invalid));
    }
    tx.commit().await?;
    let key = key_for(s, ws).await?;
    let (ws, contact) = match verify(&key, token, s.engine.clock().now().timestamp()) {
        Ok(x) => x,
        Err(e) => return Ok(Err(e)),
    };
    let mut tx = s.engine.store().begin().await?;
    let Some(c) = tx.contact(ws, contact).await? else { return Ok(Err(LinkError::Invalid)) };
    let consents = tx.consents_of(ws, contact).await?;
    tx.commit().await?;
    let who = c.email.as_deref().map(mask).unwrap_or_else(|| "you".into());
    Ok(Ok((ws, contact, who, consents)))
}

/// `zoe@example.org` → `z**@example.org`: enough to recognise, not to harvest.
pub(crate) fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}{}@{domain}", "*".repeat(local.chars().count().saturating_sub(1).min(8)))
        }
        None => "you".into(),
    }
}

fn form(token: &str, who: &str, consents: &[ConsentChange], notice: Option<&str>) -> String {
    let current: HashMap<(Channel, Purpose), ConsentState> =
        consents.iter().map(|c| ((c.channel, c.purpose), c.state)).collect();
    let mut out = String::new();
    out += "<h1>Your communication preferences</h1>";
    if let Some(n) = notice {
        out += &format!("<p class=\"notice\" role=\"status\">{}</p>", escape(n));
    }
    out +=
        &format!("<p>Choose how we may contact {} and what for. Untick anything you no longer want.</p>", escape(who));
    out += &format!("<form method=\"post\" action=\"/preferences/{}\">", escape(token));
    for c in Channel::ALL {
        out += &format!("<fieldset><legend>{}</legend>", escape(channel_label(*c)));
        for p in Purpose::ALL {
            let id = format!("c-{}-{}", c.as_str(), p.as_str());
            let checked = if current.get(&(*c, *p)) == Some(&ConsentState::Granted) { " checked" } else { "" };
            out += &format!(
                "<label for=\"{id}\"><input type=\"checkbox\" id=\"{id}\" name=\"c:{}:{}\"{checked}> {}</label>",
                c.as_str(),
                p.as_str(),
                escape(purpose_label(*p))
            );
        }
        out += "</fieldset>";
    }
    out += "<button class=\"primary\" type=\"submit\" name=\"action\" value=\"save\">Save my choices</button>";
    out += "<button type=\"submit\" name=\"action\" value=\"unsubscribe_all\">Unsubscribe from everything</button>";
    out += "</form>";
    out
}

/// The preference centre page.
pub async fn page(State(s): State<AppState>, Path(token): Path<String>) -> Result<Response, Problem> {
    Ok(match open(&s, &token).await? {
        Err(e) => error_page(e),
        Ok((_, _, who, consents)) => document(&form(&token, &who, &consents, None), StatusCode::OK),
    })
}

/// Save the choices of the preference centre form.
pub async fn submit(
    State(s): State<AppState>,
    Path(token): Path<String>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let (ws, contact, who, consents) = match open(&s, &token).await? {
        Err(e) => return Ok(error_page(e)),
        Ok(x) => x,
    };
    if body.len() > 16 * 1024 {
        return Err(Problem::too_large("the form is larger than 16 KB"));
    }
    let fields: BTreeMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let unsubscribe_all = fields.get("action").map(String::as_str) == Some("unsubscribe_all");
    let current: HashMap<(Channel, Purpose), ConsentState> =
        consents.iter().map(|c| ((c.channel, c.purpose), c.state)).collect();
    let now = s.engine.clock().now();
    let proof = Proof {
        ip: connect.map(|Extension(ConnectInfo(a))| a.ip().to_string()),
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string),
        form_payload: Some(Value::Object(fields.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<Map<_, _>>())),
    };
    let mut changed = 0;
    for c in Channel::ALL {
        for p in Purpose::ALL {
            let ticked = !unsubscribe_all && fields.contains_key(&format!("c:{}:{}", c.as_str(), p.as_str()));
            let granted = current.get(&(*c, *p)) == Some(&ConsentState::Granted);
            let state = match (ticked, granted) {
                (true, false) => ConsentState::Granted,
                (false, true) => ConsentState::Withdrawn,
                _ => continue,
            };
            let change = ConsentChange {
                channel: *c,
                purpose: *p,
                state,
                source: if unsubscribe_all { "preference_centre:unsubscribe_all" } else { "preference_centre" }.into(),
                lawful_basis: LawfulBasis::Consent,
                wording: Some(wording(*c, *p)),
                wording_version: Some(WORDING_VERSION.into()),
                proof: proof.clone(),
                at: now,
            };
            s.engine.record_consent(ws, contact, &change).await?;
            changed += 1;
        }
    }
    let mut tx = s.engine.store().begin().await?;
    let consents = tx.consents_of(ws, contact).await?;
    tx.commit().await?;
    let notice = match (unsubscribe_all, changed) {
        (true, _) => "You are unsubscribed from everything. You can opt back in here at any time.".to_string(),
        (false, 0) => "Nothing changed.".to_string(),
        (false, n) => format!("Saved: {n} preference{} changed.", if n == 1 { "" } else { "s" }),
    };
    Ok(document(&form(&token, &who, &consents, Some(&notice)), StatusCode::OK))
}
