//! `/api/v1/contacts`: create, upsert, read, patch, delete, search with
//! filters and cursor pagination, the event timeline, merges, company links.

use super::{limit, object_body, path_id, Page};
use crate::auth::Caller;
use crate::problem::{ApiResult, Invalid, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use kairos_core::contact::{Contact, ContactPatch};
use kairos_core::event::Event;
use kairos_core::fields::{FieldEntity, FieldType};
use kairos_core::ids::{CompanyId, ContactId};
use kairos_engine::UpsertKey;
use kairos_store::{
    ContactCursor, ContactFilter, ContactOrder, ContactSort, CustomMatch, EventCursor, MergeRecord, SortKey,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use utoipa::{IntoParams, ToSchema};

/// A contact as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub id: String,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub timezone: Option<String>,
    pub locale: Option<String>,
    pub country: Option<String>,
    /// Custom field values by field name.
    #[schema(value_type = Object)]
    pub custom: BTreeMap<String, Value>,
    pub company_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Contact> for ContactView {
    fn from(c: Contact) -> Self {
        ContactView {
            id: c.id.to_string(),
            external_id: c.external_id,
            email: c.email,
            phone: c.phone,
            first_name: c.first_name,
            last_name: c.last_name,
            timezone: c.timezone,
            locale: c.locale,
            country: c.country,
            custom: c.custom,
            company_ids: c.company_ids.iter().map(ToString::to_string).collect(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Fields to set. Any key that is not a standard field is a custom field
/// (it must be defined first); `null` clears a field.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ContactInput {
    pub external_id: Option<String>,
    /// Normalised: domain lower-cased; invalid addresses are refused.
    pub email: Option<String>,
    /// Normalised to E.164; numbers without +country code use `country`.
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub timezone: Option<String>,
    /// BCP 47 language tag, e.g. `en-US`.
    pub locale: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: Option<String>,
    #[schema(value_type = Object)]
    pub custom: Option<Map<String, Value>>,
}

/// One event of a contact's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub message_id: String,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    #[schema(value_type = Object)]
    pub properties: Value,
    #[schema(value_type = Object)]
    pub context: Value,
    pub timestamp: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// Position in the workspace's event log.
    pub seq: i64,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        EventView {
            id: e.id.to_string(),
            kind: e.kind.as_str().into(),
            name: e.name,
            message_id: e.message_id,
            user_id: e.user_id,
            anonymous_id: e.anonymous_id,
            properties: e.properties,
            context: e.context,
            timestamp: e.timestamp,
            received_at: e.received_at,
            seq: e.seq,
        }
    }
}

/// A recorded merge.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeView {
    pub id: String,
    /// The contact that was merged away.
    pub source_id: String,
    /// The contact that survived.
    pub target_id: String,
    pub reason: String,
    /// The merged-away profile as it was.
    #[schema(value_type = Object)]
    pub source_snapshot: Value,
    pub merged_at: DateTime<Utc>,
}

impl From<MergeRecord> for MergeView {
    fn from(m: MergeRecord) -> Self {
        MergeView {
            id: m.id.to_string(),
            source_id: m.source_id.to_string(),
            target_id: m.target_id.to_string(),
            reason: m.reason,
            source_snapshot: m.source_snapshot,
            merged_at: m.merged_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MergeInput {
    /// The contact to merge into this one (it is removed).
    pub source_id: String,
}

/// Query parameters of the contact search. `field.NAME=VALUE` filters on a
/// custom field.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ContactSearchParams {
    /// Case-insensitive text in email, name or external id.
    pub q: Option<String>,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub country: Option<String>,
    pub company_id: Option<String>,
    /// RFC 3339 instant: only contacts updated since.
    pub updated_since: Option<String>,
    /// `id` (default), `email`, `first_name`, `last_name`, `country`,
    /// `created_at` or `updated_at`; a leading `-` sorts descending. Text
    /// sorts ignore case and list contacts without the value last.
    pub sort: Option<String>,
    /// From the previous page's `next_cursor` (of the same sort).
    pub cursor: Option<String>,
    /// 1 to 1000, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct UpsertParams {
    /// `email` or `external_id`: which field identifies the contact.
    #[serde(rename = "match")]
    pub match_on: Option<String>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/contacts", post(create).get(search))
        .route("/api/v1/contacts/upsert", post(upsert))
        .route("/api/v1/contacts/{id}", get(read).patch(patch).delete(remove))
        .route("/api/v1/contacts/{id}/events", get(timeline))
        .route("/api/v1/contacts/{id}/events/live", get(timeline_live))
        .route("/api/v1/contacts/{id}/merges", get(merges))
        .route("/api/v1/contacts/{id}/merge", post(merge))
        .route("/api/v1/contacts/{id}/companies/{company_id}", post(link).delete(unlink))
}

fn patch_from(body: &Bytes) -> ApiResult<ContactPatch> {
    let obj = object_body(body)?;
    ContactPatch::from_json(&obj).map_err(|e| kairos_engine::ContactWriteError::from(e).into())
}

/// Create a contact.
#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", request_body = ContactInput,
    responses((status = 201, body = ContactView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<(StatusCode, Json<ContactView>)> {
    let patch = patch_from(&body)?;
    let c = s.engine.create_contact(who.ws(), &patch).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// Update the contact with this email or external id, or create it.
#[utoipa::path(post, path = "/api/v1/contacts/upsert", tag = "contacts", request_body = ContactInput, params(UpsertParams),
    responses((status = 200, description = "updated", body = ContactView), (status = 201, description = "created", body = ContactView), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn upsert(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ContactView>)> {
    let patch = patch_from(&body)?;
    let value = |k: &str| patch.standard.get(k).cloned().flatten();
    let key = match q.get("match").map(String::as_str) {
        Some("email") => {
            UpsertKey::Email(value("email").ok_or_else(|| Problem::invalid("email", "is required to match on email"))?)
        }
        Some("external_id") => UpsertKey::ExternalId(
            value("external_id")
                .ok_or_else(|| Problem::invalid("external_id", "is required to match on external_id"))?,
        ),
        Some(other) => return Err(Problem::invalid("match", format!("must be email or external_id, got {other:?}"))),
        None => match (value("external_id"), value("email")) {
            (Some(x), _) => UpsertKey::ExternalId(x),
            (None, Some(e)) => UpsertKey::Email(e),
            (None, None) => return Err(Problem::invalid("body", "an upsert needs an email or an external_id")),
        },
    };
    let (c, created) = s.engine.upsert_contact(who.ws(), &key, &patch).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(c.into())))
}

/// Read a contact.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, body = ContactView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<ContactView>> {
    let id: ContactId = path_id(&id, "contact")?;
    let mut tx = s.engine.store().begin().await?;
    match tx.contact(who.ws(), id).await? {
        Some(c) => Ok(Json(c.into())),
        None => {
            let merged = tx.merges_of(who.ws(), id).await?.into_iter().find(|m| m.source_id == id);
            Err(match merged {
                Some(m) => Problem::not_found(format!("contact {id} was merged into {}", m.target_id)),
                None => Problem::not_found(format!("no contact with id {id}")),
            })
        }
    }
}

/// Change some fields of a contact.
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)), request_body = ContactInput,
    responses((status = 200, body = ContactView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn patch(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<ContactView>> {
    let id: ContactId = path_id(&id, "contact")?;
    let patch = patch_from(&body)?;
    let mut c = s.engine.patch_contact(who.ws(), id, &patch).await?;
    let mut tx = s.engine.store().begin().await?;
    c.company_ids = tx.company_ids_of(who.ws(), id).await?;
    Ok(Json(c.into()))
}

/// Delete a contact and its events.
#[utoipa::path(delete, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn remove(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id: ContactId = path_id(&id, "contact")?;
    if s.engine.delete_contact(who.ws(), id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("no contact with id {id}")))
    }
}

/// Search contacts. Filters combine with AND; `field.NAME=VALUE` matches a
/// custom field.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactSearchParams),
    responses((status = 200, body = inline(Page<ContactView>)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn search(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Page<ContactView>>> {
    let mut bad = Invalid::default();
    let mut f = ContactFilter {
        q: q.get("q").filter(|v| !v.is_empty()).cloned(),
        external_id: q.get("external_id").cloned(),
        country: q.get("country").cloned(),
        ..Default::default()
    };
    if let Some(e) = q.get("email") {
        match kairos_core::address::normalize_email(e) {
            Ok(e) => f.email = Some(e),
            Err(err) => bad.push("email", err.to_string()),
        }
    }
    if let Some(c) = q.get("company_id") {
        match c.parse::<CompanyId>() {
            Ok(c) => f.company_id = Some(c),
            Err(_) => bad.push("company_id", "must be a company id (UUID)"),
        }
    }
    if let Some(t) = q.get("updated_since") {
        match DateTime::parse_from_rfc3339(t) {
            Ok(at) => f.updated_since = Some(at.with_timezone(&Utc)),
            Err(_) => bad.push("updated_since", format!("{t:?} is not an RFC 3339 instant like 2024-05-01T00:00:00Z")),
        }
    }
    if let Some(raw) = q.get("sort") {
        match parse_sort(raw) {
            Some(sort) => f.sort = sort,
            None => bad.push(
                "sort",
                format!("{raw:?} is not a sort: use one of {}, with a leading - for descending", sort_names()),
            ),
        }
    }
    if let Some(c) = q.get("cursor") {
        match decode_cursor(c, f.sort) {
            Ok(cursor) => f.after = Some(cursor),
            Err(why) => bad.push("cursor", why),
        }
    }
    let n = bad.check(limit(q.get("limit")))?;
    let mut tx = s.engine.store().begin().await?;
    let fields = tx.list_fields(who.ws()).await?;
    for (k, v) in &q {
        if let Some(name) = k.strip_prefix("field.") {
            let Some(def) = fields.iter().find(|d| d.entity == FieldEntity::Contact && d.name == name) else {
                bad.push(k.clone(), format!("no contact field named {name:?} is defined"));
                continue;
            };
            let m = match def.field_type {
                FieldType::Number => match v.parse() {
                    Ok(x) => CustomMatch::Number(x),
                    Err(_) => {
                        bad.push(k.clone(), format!("{name} is a number field; {v:?} is not a number"));
                        continue;
                    }
                },
                FieldType::Boolean => match v.as_str() {
                    "true" => CustomMatch::Bool(true),
                    "false" => CustomMatch::Bool(false),
                    _ => {
                        bad.push(k.clone(), format!("{name} is a boolean field; use true or false"));
                        continue;
                    }
                },
                FieldType::List => CustomMatch::ListContains(v.clone()),
                FieldType::Date => match kairos_core::fields::canonical_date(v) {
                    Some(d) => CustomMatch::Text(d),
                    None => {
                        bad.push(k.clone(), format!("{name} is a date field; {v:?} is not a date"));
                        continue;
                    }
                },
                FieldType::String => CustomMatch::Text(v.clone()),
            };
            f.custom_equals.push((name.to_string(), m));
        } else if !SEARCH_PARAMS.contains(&k.as_str()) {
            bad.push(k.clone(), format!("is not a known parameter ({}, field.NAME)", SEARCH_PARAMS.join(", ")));
        }
    }
    bad.finish()?;
    let page = tx.search_contacts(who.ws(), &f, n.unwrap_or_default()).await?;
    Ok(Json(Page {
        data: page.contacts.into_iter().map(Into::into).collect(),
        next_cursor: page.next.map(|c| encode_cursor(&c, f.sort)),
    }))
}

const SEARCH_PARAMS: [&str; 10] =
    ["q", "email", "external_id", "country", "company_id", "updated_since", "sort", "cursor", "limit", "field.NAME"];

fn sort_names() -> String {
    ContactOrder::ALL.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

/// `last_name` or `-last_name` (descending).
fn parse_sort(raw: &str) -> Option<ContactSort> {
    let (descending, name) = match raw.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, raw),
    };
    Some(ContactSort { order: ContactOrder::parse(name)?, descending })
}

fn sort_name(sort: ContactSort) -> String {
    format!("{}{}", if sort.descending { "-" } else { "" }, sort.order.name())
}

/// A cursor in id order is the last contact's id, as it always was; in
/// another order it also carries the sort and the last value, so a cursor
/// from one order is refused by another instead of skipping contacts.
fn encode_cursor(c: &ContactCursor, sort: ContactSort) -> String {
    let value = match &c.key {
        SortKey::Id if !sort.descending => return c.id.to_string(),
        SortKey::Id => Value::Null,
        SortKey::Text(v) => serde_json::json!(v),
        SortKey::Int(v) => serde_json::json!(v),
    };
    let raw = serde_json::json!([sort_name(sort), value, c.id.to_string()]).to_string();
    URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(raw: &str, sort: ContactSort) -> Result<ContactCursor, String> {
    let not_ours = || "is not a cursor returned by this endpoint".to_string();
    if let Ok(id) = raw.parse::<ContactId>() {
        return match sort.order {
            ContactOrder::Id if !sort.descending => Ok(ContactCursor { id, key: SortKey::Id }),
            _ => Err(format!("is a cursor for sort=id; this request asks for sort={}", sort_name(sort))),
        };
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| not_ours())?;
    let (name, value, id): (String, Value, String) = serde_json::from_slice(&bytes).map_err(|_| not_ours())?;
    if name != sort_name(sort) {
        return Err(format!("is a cursor for sort={name}; this request asks for sort={}", sort_name(sort)));
    }
    let id = id.parse::<ContactId>().map_err(|_| not_ours())?;
    let key = match (sort.order, value) {
        (ContactOrder::Id, Value::Null) => SortKey::Id,
        (ContactOrder::CreatedAt | ContactOrder::UpdatedAt, Value::Number(n)) => {
            SortKey::Int(n.as_i64().ok_or_else(not_ours)?)
        }
        (ContactOrder::CreatedAt | ContactOrder::UpdatedAt, _) => return Err(not_ours()),
        (_, Value::String(s)) => SortKey::Text(Some(s)),
        (_, Value::Null) => SortKey::Text(None),
        _ => return Err(not_ours()),
    };
    Ok(ContactCursor { id, key })
}

/// A contact's events, newest first.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/events", tag = "contacts",
    params(("id" = String, Path), ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = inline(Page<EventView>)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn timeline(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Page<EventView>>> {
    let id: ContactId = path_id(&id, "contact")?;
    let n = limit(q.get("limit"))?;
    let before = match q.get("cursor") {
        None => None,
        Some(c) => {
            let bad = || Problem::invalid("cursor", "is not a cursor returned by this endpoint");
            let (t, seq) = c.split_once('_').ok_or_else(bad)?;
            Some(EventCursor { timestamp_ms: t.parse().map_err(|_| bad())?, seq: seq.parse().map_err(|_| bad())? })
        }
    };
    let mut tx = s.engine.store().begin().await?;
    if tx.contact(who.ws(), id).await?.is_none() {
        return Err(Problem::not_found(format!("no contact with id {id}")));
    }
    let events = tx.contact_events(who.ws(), id, before, n).await?;
    let next_cursor = (events.len() as i64 == n)
        .then(|| events.last().map(|e| format!("{}_{}", e.timestamp.timestamp_millis(), e.seq)))
        .flatten();
    Ok(Json(Page { data: events.into_iter().map(Into::into).collect(), next_cursor }))
}

/// A stream (Server-Sent Events) that says `event: activity` each time new
/// events of this contact are stored, within milliseconds of the commit:
/// the contact page then reads the newest page of `…/events` instead of
/// polling. Comments keep the connection open while nothing happens.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/events/live", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, content_type = "text/event-stream", body = String), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn timeline_live(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Sse<impl futures_util::Stream<Item = Result<SseEvent, std::convert::Infallible>>>> {
    use tokio::sync::broadcast::error::RecvError;
    let id: ContactId = path_id(&id, "contact")?;
    let ws = who.ws();
    // Subscribed before the existence check, so nothing stored in between is missed.
    let activity = s.engine.contact_activity();
    let mut tx = s.engine.store().begin().await?;
    if tx.contact(ws, id).await?.is_none() {
        return Err(Problem::not_found(format!("no contact with id {id}")));
    }
    drop(tx);
    let changed = || Ok(SseEvent::default().event("activity").data("{}"));
    let closing = s.closing.subscribe();
    let stream = futures_util::stream::unfold((activity, closing), move |(mut rx, mut closing)| async move {
        loop {
            let heard = tokio::select! {
                heard = rx.recv() => heard,
                // The server is shutting down: end the stream (the page
                // reconnects to whichever server answers next).
                _ = closing.wait_for(|c| *c) => return None,
            };
            match heard {
                Ok(seen) if seen == (ws, id) => return Some((changed(), (rx, closing))),
                Ok(_) => continue,
                // Fell behind: this contact may be among the missed.
                Err(RecvError::Lagged(_)) => return Some((changed(), (rx, closing))),
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Merges into (or out of) a contact.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/merges", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, body = Vec<MergeView>)), security(("bearer" = [])))]
pub async fn merges(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Vec<MergeView>>> {
    let id: ContactId = path_id(&id, "contact")?;
    let mut tx = s.engine.store().begin().await?;
    Ok(Json(tx.merges_of(who.ws(), id).await?.into_iter().map(Into::into).collect()))
}

/// Merge another contact into this one.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/merge", tag = "contacts", params(("id" = String, Path)), request_body = MergeInput,
    responses((status = 200, body = ContactView), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn merge(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<ContactView>> {
    let target: ContactId = path_id(&id, "contact")?;
    let input: MergeInput = super::json_body(&body)?;
    let source: ContactId =
        input.source_id.parse().map_err(|_| Problem::invalid("source_id", "must be a contact id (UUID)"))?;
    let (c, _) = s.engine.merge_contacts(who.ws(), target, source).await?;
    Ok(Json(c.into()))
}

/// Link a contact to a company.
#[utoipa::path(post, path = "/api/v1/contacts/{id}/companies/{company_id}", tag = "contacts",
    params(("id" = String, Path), ("company_id" = String, Path)), responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn link(
    State(s): State<AppState>,
    who: Caller,
    Path((id, company)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id: ContactId = path_id(&id, "contact")?;
    let company: CompanyId = path_id(&company, "company")?;
    let mut tx = s.engine.store().begin_write().await?;
    if tx.contact(who.ws(), id).await?.is_none() {
        return Err(Problem::not_found(format!("no contact with id {id}")));
    }
    if tx.company(who.ws(), company).await?.is_none() {
        return Err(Problem::not_found(format!("no company with id {company}")));
    }
    tx.link_company(who.ws(), id, company, s.engine.clock().now()).await?;
    s.engine.commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unlink a contact from a company.
#[utoipa::path(delete, path = "/api/v1/contacts/{id}/companies/{company_id}", tag = "contacts",
    params(("id" = String, Path), ("company_id" = String, Path)), responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn unlink(
    State(s): State<AppState>,
    who: Caller,
    Path((id, company)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id: ContactId = path_id(&id, "contact")?;
    let company: CompanyId = path_id(&company, "company")?;
    let mut tx = s.engine.store().begin_write().await?;
    let done = tx.unlink_company(who.ws(), id, company).await?;
    s.engine.commit(tx).await?;
    if done {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found("that contact is not linked to that company"))
    }
}
