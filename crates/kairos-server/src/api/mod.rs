//! The REST API under `/api/v1`: contacts, companies, custom fields, users,
//! API keys, the workspace summary; every route but sign-in sits behind
//! the access check of `crate::access`. Handlers parse input themselves (rather than
//! through axum's extractors) so every malformed request gets a problem
//! document naming what was wrong.

pub mod auth;
pub mod campaigns;
pub mod companies;
pub mod consent_texts;
pub mod consents;
pub mod contacts;
pub mod email;
pub mod fields;
pub mod forms;
pub mod journeys;
pub mod keys;
pub mod models;
pub mod privacy;
pub mod reports;
pub mod retention;
pub mod scores;
pub mod segments;
pub mod settings;
pub mod suppressions;
pub mod users;
pub mod workspace;

use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::str::FromStr;
use utoipa::ToSchema;

/// Every route behind the access check (`crate::access`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(users::routes())
        .merge(crate::preferences::api_routes())
        .merge(contacts::routes())
        .merge(email::routes())
        .merge(campaigns::routes())
        .merge(companies::routes())
        .merge(consents::routes())
        .merge(fields::routes())
        .merge(forms::routes())
        .merge(scores::routes())
        .merge(keys::routes())
        .merge(journeys::routes())
        .merge(segments::routes())
        .merge(privacy::routes())
        .merge(settings::routes())
        .merge(consent_texts::routes())
        .merge(retention::routes())
        .merge(models::routes())
        .merge(reports::routes())
        .merge(suppressions::routes())
        .merge(workspace::routes())
}

/// Append an entry to the audit trail of the caller's workspace, after the
/// change it records has been committed by the engine.
pub async fn audit(
    s: &AppState,
    who: &crate::auth::Caller,
    action: &str,
    subject: &str,
    detail: Value,
) -> ApiResult<()> {
    let now = s.engine.clock().now().timestamp_millis();
    let mut tx = s.engine.store().begin_write().await?;
    tx.audit(who.ws(), now, &who.actor(), action, subject, &detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Largest page a list endpoint returns.
pub const MAX_LIMIT: i64 = 1000;
pub const DEFAULT_LIMIT: i64 = 50;

/// A page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Parse a JSON body into `T`, with a problem that says what was wrong.
pub fn json_body<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    if body.is_empty() {
        return Err(Problem::bad_request("the request needs a JSON body"));
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            Problem::invalid("body", e.to_string())
        } else {
            Problem::bad_request(format!("the body is not valid JSON: {e}"))
        }
    })
}

/// A JSON object body.
pub fn object_body(body: &Bytes) -> ApiResult<Map<String, Value>> {
    match json_body::<Value>(body)? {
        Value::Object(m) => Ok(m),
        _ => Err(Problem::invalid("body", "must be a JSON object")),
    }
}

/// Refuse keys of a JSON object other than `allowed`, naming the first.
pub fn only_keys(obj: &Map<String, Value>, allowed: &[&str]) -> ApiResult<()> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(Problem::invalid(k.clone(), format!("unknown key; expected {}", allowed.join(", ")))),
        None => Ok(()),
    }
}

/// The optional `name` of a definition (journey, campaign): 1 to 200
/// characters, trimmed.
pub fn name_of(obj: &Map<String, Value>) -> ApiResult<Option<String>> {
    match obj.get("name") {
        None => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 200 => Ok(Some(s.trim().to_string())),
        Some(_) => Err(Problem::invalid("name", "expected a name of 1 to 200 characters")),
    }
}

/// Parse an id from the path, naming the kind of thing in the error.
pub fn path_id<T: FromStr>(raw: &str, what: &str) -> ApiResult<T> {
    raw.parse().map_err(|_| Problem::not_found(format!("no {what} with id {raw:?} (ids are UUIDs)")))
}

/// The `limit` query parameter.
pub fn limit(raw: Option<&String>) -> ApiResult<i64> {
    whole_number(raw, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)
}

/// A whole-number query parameter `name` within `min..=max`, or `default`
/// when absent; anything else is refused naming the bounds.
pub fn whole_number(raw: Option<&String>, name: &str, min: i64, max: i64, default: i64) -> ApiResult<i64> {
    match raw {
        None => Ok(default),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(Problem::invalid(name, format!("must be a whole number from {min} to {max}, got {s:?}"))),
        },
    }
}
