//! Hosted subscription forms and double opt-in confirmation pages, reached
//! without a key. `GET /f/{id}` is a plain HTML form (labelled fields, a
//! fieldset for the consent box with the form's wording verbatim, no
//! JavaScript); `POST /f/{id}` takes that form urlencoded, or JSON from a
//! customer's own site, and answers in kind — an HTML page with the form
//! again and the problem marked, or a problem document naming the field.
//! `GET /confirm/{token}` only shows a Confirm button: mail scanners fetch
//! links, and a fetch must not subscribe anyone; `POST` confirms. The
//! request's IP, user agent and `Sec-GPC` header go to the engine as proof.
//! Submissions are limited per client address, since each one can send an
//! email to an address the submitter typed.

use crate::preferences::{escape, mask, titled_document};
use crate::problem::Problem;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use kairos_core::form::{gpc_opt_out, FormDefinition};
use kairos_core::links::LinkError;
use kairos_engine::{Confirmed, FormRequest, FormsError};
use kairos_store::FormRecord;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tower_http::cors::{Any, CorsLayer};
use uuid::Uuid;

const MAX_BODY: usize = 16 * 1024;
/// Submissions one address may make per window; generous for people behind
/// one office or carrier address, low enough that the form cannot be used
/// to mail-bomb someone with confirmation emails.
const SUBMISSIONS_PER_WINDOW: u32 = 20;
const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered before the expired windows are swept.
const LIMITER_SWEEP: usize = 100_000;

/// A fixed-window count of submissions per client address.
#[derive(Default)]
pub struct SubmitLimiter(Mutex<HashMap<IpAddr, (Instant, u32)>>);

impl SubmitLimiter {
    /// Count a submission from `ip`; over the limit, the seconds until the
    /// window ends.
    fn check(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= LIMITER_SWEEP {
            m.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let (start, n) = m.entry(ip).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            (*start, *n) = (now, 0);
        }
        *n += 1;
        if *n > SUBMISSIONS_PER_WINDOW {
            Err(WINDOW.saturating_sub(now.duration_since(*start)).as_secs().max(1))
        } else {
            Ok(())
        }
    }
}

pub fn routes() -> Router<AppState> {
    // Sites post JSON to their forms from their own pages.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    Router::new()
        .route("/f/{id}", get(page).post(submit))
        .layer(cors)
        .route("/confirm/{token}", get(confirm_page).post(confirm))
}

fn request_of(connect: Option<Extension<ConnectInfo<SocketAddr>>>, headers: &HeaderMap) -> FormRequest {
    FormRequest {
        ip: connect.map(|Extension(ConnectInfo(a))| a.ip().to_string()),
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string),
        gpc: gpc_opt_out(headers.get("sec-gpc").and_then(|v| v.to_str().ok())),
    }
}

fn not_found_page() -> Response {
    titled_document(
        "Form not found",
        "<h1>This form does not exist</h1><p class=\"error\" role=\"alert\">There is no form at this address. \
         It may have been removed.</p>",
        StatusCode::NOT_FOUND,
    )
}

/// The form, with what was typed and the problem, if any.
fn form_html(
    form: &FormRecord,
    def: &FormDefinition,
    values: &Map<String, Value>,
    error: Option<(&str, &str)>,
) -> String {
    let value = |k: &str| escape(values.get(k).and_then(Value::as_str).unwrap_or_default());
    let problem = |k: &str| error.filter(|(f, _)| *f == k).map(|(_, m)| m);
    let mut out = format!("<h1>{}</h1>", escape(&def.name));
    if let Some((_, message)) = error {
        out += &format!("<p class=\"error\" role=\"alert\">The form could not be sent: {}.</p>", escape(message));
    }
    out += &format!("<form method=\"post\" action=\"/f/{}\">", escape(&form.id));
    out += "<fieldset><legend>Your details</legend>";
    let input = |name: &str, label: &str, kind: &str, required: bool, autocomplete: &str| {
        let err = problem(name);
        let described = if err.is_some() {
            format!(" aria-invalid=\"true\" aria-describedby=\"{name}-error\"")
        } else {
            String::new()
        };
        let mut s = format!(
            "<label for=\"{name}\">{label}{}</label><input type=\"{kind}\" id=\"{name}\" name=\"{name}\" \
             autocomplete=\"{autocomplete}\" value=\"{}\"{}{described}>",
            if required { " (required)" } else { " (optional)" },
            value(name),
            if required { " required" } else { "" }
        );
        if let Some(m) = err {
            s += &format!("<p class=\"field-error\" id=\"{name}-error\">{}</p>", escape(m));
        }
        s
    };
    out += &input("email", "Email address", "email", true, "email");
    for f in &def.fields {
        let autocomplete = match f {
            kairos_core::form::FormField::FirstName => "given-name",
            kairos_core::form::FormField::LastName => "family-name",
        };
        out += &input(f.as_str(), f.label(), "text", false, autocomplete);
    }
    out += "</fieldset><fieldset><legend>Your consent</legend>";
    let consent_err = problem("consent");
    let ticked = values.get("consent").is_some_and(|v| matches!(v.as_str(), Some("yes" | "on" | "true")));
    out += &format!(
        "<label for=\"consent\"><input type=\"checkbox\" id=\"consent\" name=\"consent\" value=\"yes\" \
         required{}{}> {}</label>",
        if ticked { " checked" } else { "" },
        if consent_err.is_some() { " aria-invalid=\"true\" aria-describedby=\"consent-error\"" } else { "" },
        escape(&def.wording)
    );
    if let Some(m) = consent_err {
        out += &format!("<p class=\"field-error\" id=\"consent-error\">{}</p>", escape(m));
    }
    if def.double_opt_in {
        out += "<p>We will email you a link to confirm before we add you.</p>";
    }
    out += "</fieldset><button class=\"primary\" type=\"submit\">Subscribe</button></form>";
    out
}

async fn find(
    s: &AppState,
    id: &str,
) -> Result<Option<(kairos_core::ids::WorkspaceId, FormRecord, FormDefinition)>, Problem> {
    if id.parse::<Uuid>().is_err() {
        return Ok(None);
    }
    Ok(s.engine.public_form(id).await?)
}

/// The hosted form.
pub async fn page(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, Problem> {
    Ok(match find(&s, &id).await? {
        None => not_found_page(),
        Some((_, form, def)) => titled_document(&def.name, &form_html(&form, &def, &Map::new(), None), StatusCode::OK),
    })
}

/// Submit a hosted form, urlencoded (the page) or as JSON from your own site:
/// `{"email", "first_name"?, "last_name"?, "consent": true}`. No key. Answers
/// `{"status": "pending_confirmation" | "subscribed"}`; a `Sec-GPC: 1` header
/// records the opt-out of sale and sharing.
#[utoipa::path(post, path = "/f/{id}", tag = "consent", params(("id" = String, Path)), request_body = inline(Object),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem), (status = 422, body = Problem),
    (status = 429, body = Problem)))]
pub async fn submit(
    State(s): State<AppState>,
    Path(id): Path<String>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.trim_start().to_ascii_lowercase().starts_with("application/json"));
    let Some((ws, form, def)) = find(&s, &id).await? else {
        return Ok(if is_json {
            Problem::not_found(format!("no form with id {id:?}")).into_response()
        } else {
            not_found_page()
        });
    };
    if body.len() > MAX_BODY {
        return Err(Problem::too_large("the form is larger than 16 KB"));
    }
    if let Some(Extension(ConnectInfo(addr))) = &connect {
        if let Err(wait) = s.form_limiter.check(addr.ip(), Instant::now()) {
            let retry = [(header::RETRY_AFTER, wait.to_string())];
            let detail = format!("too many submissions from this address; try again in {wait} s");
            return Ok(if is_json {
                (retry, Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", "Too many requests", detail))
                    .into_response()
            } else {
                let page =
                    format!("<h1>Please wait a moment</h1><p class=\"error\" role=\"alert\">{}.</p>", escape(&detail));
                (retry, titled_document(&def.name, &page, StatusCode::TOO_MANY_REQUESTS)).into_response()
            });
        }
    }
    let fields: Map<String, Value> = if is_json {
        crate::api::object_body(&body)?
    } else {
        form_urlencoded::parse(&body).into_owned().map(|(k, v)| (k, Value::String(v))).collect()
    };
    let request = request_of(connect, &headers);
    match s.engine.submit_form(ws, &form, &def, &fields, is_json, &request).await {
        Ok(outcome) if is_json => {
            Ok((StatusCode::OK, Json(json!({"status": outcome.status, "form_id": form.id}))).into_response())
        }
        Ok(outcome) => {
            let email = fields.get("email").and_then(Value::as_str).map(mask).unwrap_or_default();
            let body = if outcome.status == "pending_confirmation" {
                format!(
                    "<h1>Almost done: please check your inbox</h1><p class=\"notice\" role=\"status\">We have sent \
                     an email to {} with a link to confirm your subscription to {}.</p><p>Nothing will be sent \
                     to you until you confirm. The link works for {} hours.</p>",
                    escape(&email),
                    escape(&def.name),
                    def.token_lifetime_hours
                )
            } else {
                format!(
                    "<h1>Thank you</h1><p class=\"notice\" role=\"status\">{} is subscribed to {}.</p>",
                    escape(&email),
                    escape(&def.name)
                )
            };
            Ok(titled_document(&def.name, &body, StatusCode::OK))
        }
        Err(FormsError::Invalid { field, message }) if is_json => Err(Problem::invalid(field, message)),
        Err(FormsError::Invalid { field, message }) => Ok(titled_document(
            &def.name,
            &form_html(&form, &def, &fields, Some((&field, &message))),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(FormsError::NotFound(m)) => Err(Problem::not_found(m)),
        Err(FormsError::Store(e)) => Err(e.into()),
    }
}

fn link_error_page(e: LinkError) -> Response {
    // Expired or forged, the person needs the same advice; both are 400.
    let body = format!(
        "<h1>This link cannot be used</h1><p class=\"error\" role=\"alert\">{}.</p>\
         <p>Nothing was changed. If you still want to subscribe, fill in the form again.</p>",
        escape(&e.to_string())
    );
    titled_document("Confirm your subscription", &body, StatusCode::BAD_REQUEST)
}

const CONFIRMED: &str = "<h1>Your subscription is confirmed</h1><p class=\"notice\" role=\"status\">Thank you. ";

/// The confirmation page: a button, so that fetching the link confirms nothing.
pub async fn confirm_page(State(s): State<AppState>, Path(token): Path<String>) -> Result<Response, Problem> {
    let open = match s.engine.open_confirmation(&token).await? {
        Err(e) => return Ok(link_error_page(e)),
        Ok(o) => o,
    };
    let def = &open.definition;
    let body = if open.record.status == "confirmed" {
        format!("{CONFIRMED}You had already confirmed your subscription to {}.</p>", escape(&def.name))
    } else {
        let who = open.email.as_deref().map(mask).unwrap_or_else(|| "your address".into());
        format!(
            "<h1>Confirm your subscription</h1><p>Subscribe {} to {}? You are agreeing to:</p>\
             <blockquote>{}</blockquote><form method=\"post\" action=\"/confirm/{}\">\
             <button class=\"primary\" type=\"submit\">Confirm</button></form>\
             <p>If you did not ask for this, close this page: nothing will happen.</p>",
            escape(&who),
            escape(&def.name),
            escape(&def.wording),
            escape(&token)
        )
    };
    Ok(titled_document("Confirm your subscription", &body, StatusCode::OK))
}

/// Confirm: consent is granted now, with this request as proof.
pub async fn confirm(
    State(s): State<AppState>,
    Path(token): Path<String>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let request = request_of(connect, &headers);
    let (open, how) = match s.engine.confirm_subscription(&token, &request).await? {
        Err(e) => return Ok(link_error_page(e)),
        Ok(x) => x,
    };
    let name = escape(&open.definition.name);
    let body = match how {
        Confirmed::Now => format!("{CONFIRMED}You are subscribed to {name}.</p>"),
        Confirmed::Already => format!("{CONFIRMED}You had already confirmed your subscription to {name}.</p>"),
    };
    Ok(titled_document("Confirm your subscription", &body, StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submissions_are_limited_per_address_and_window() {
        let l = SubmitLimiter::default();
        let (a, b): (IpAddr, IpAddr) = ("203.0.113.1".parse().unwrap(), "203.0.113.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..SUBMISSIONS_PER_WINDOW {
            assert_eq!(l.check(a, t0), Ok(()));
        }
        assert_eq!(l.check(a, t0 + Duration::from_secs(15)), Err(45));
        assert_eq!(l.check(b, t0), Ok(()), "another address has its own count");
        assert_eq!(l.check(a, t0 + WINDOW), Ok(()), "a new window starts afresh");
    }
}
