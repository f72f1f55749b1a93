//! `/api/v1/segments` and `/api/v1/lists`: dynamic segments (rules kept
//! current by the engine) and static lists, their counts and members, the
//! live count of an unsaved rule, and a contact's memberships.

use super::contacts::ContactView;
use super::{limit, object_body, only_keys, path_id, Page};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use kairos_core::ids::{ContactId, ListId, SegmentId, WorkspaceId};
use kairos_core::segment::rule::{parse, Rule, RuleError};
use kairos_engine::{Engine, SegmentError, SegmentStatus};
use kairos_store::{ListRecord, SegmentRecord};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/segments", get(list).post(create))
        .route("/api/v1/segments/preview", post(preview))
        .route("/api/v1/segments/{id}", get(read).patch(update).delete(remove))
        .route("/api/v1/segments/{id}/count", get(count))
        .route("/api/v1/segments/{id}/members", get(members))
        .route("/api/v1/segments/{id}/members.csv", get(members_csv))
        .route("/api/v1/contacts/{id}/segments", get(contact_segments))
        .route("/api/v1/lists", get(lists).post(create_list))
        .route("/api/v1/lists/{id}", get(read_list).patch(update_list).delete(remove_list))
        .route("/api/v1/lists/{id}/members", get(list_members).post(add_list_members).delete(remove_list_members))
}

/// A segment to create or change.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct SegmentInput {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The rule (see docs/segments.md).
    #[schema(value_type = Object)]
    pub rule: Option<Value>,
}

/// Sample members a preview returns at most.
const MAX_PREVIEW_SAMPLE: u64 = 50;

/// An unsaved rule to count.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct PreviewInput {
    #[schema(value_type = Object)]
    pub rule: Value,
    /// Also return up to this many matching contacts, picked at random (0
    /// to 50, default 0); needs the right to read people.
    pub sample: Option<u32>,
}

/// A list to create or change.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ListInput {
    pub name: Option<String>,
    pub description: Option<String>,
}

/// Contacts to add or remove, by id or email (or a CSV body with an `id` or
/// `email` column, sent as `text/csv`).
#[derive(Debug, serde::Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct MembersInput {
    pub contact_ids: Option<Vec<String>>,
    pub emails: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The rule, as saved (see docs/segments.md).
    #[schema(value_type = Object)]
    pub rule: Value,
    pub version: i64,
    /// `building` while the backfill runs, then `active`; `failed` with `error`.
    pub status: String,
    pub error: Option<String>,
    /// Exact number of members; absent until the first build is done.
    pub count: Option<u64>,
    pub backfill_done: u64,
    pub backfill_total: u64,
    pub created_at: i64,
    pub updated_at: i64,
}

fn view(engine: &Engine, ws: WorkspaceId, r: SegmentRecord) -> SegmentView {
    let live = engine.segment_status(ws, r.id);
    let SegmentStatus { state, backfill_done, backfill_total, error } =
        live.unwrap_or(SegmentStatus { state: r.status.clone(), backfill_done: 0, backfill_total: 0, error: r.error });
    SegmentView {
        id: r.id.to_string(),
        count: engine.segment_count(ws, r.id),
        name: r.name,
        description: r.description,
        rule: r.rule,
        version: r.version,
        status: state,
        error,
        backfill_done,
        backfill_total,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn rule_problem(e: RuleError) -> Problem {
    let mut p = Problem::invalid(format!("rule{}", e.path.trim_start_matches('$')), e.message);
    p.detail = format!("the rule is invalid at {}: {}", e.path, p.errors[0].message);
    p
}

fn segment_problem(e: SegmentError) -> Problem {
    match e {
        SegmentError::Invalid(r) => rule_problem(r),
        SegmentError::NotFound(id) => Problem::not_found(format!("no segment with id {id}")),
        SegmentError::Conflict(m) => Problem::conflict(m),
        SegmentError::Store(s) => s.into(),
        SegmentError::ShuttingDown => Problem::unavailable("the server is shutting down"),
    }
}

fn text(obj: &Map<String, Value>, key: &str, required: bool) -> ApiResult<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) if required => Err(Problem::invalid(key, "is required")),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() && required => Err(Problem::invalid(key, "must not be empty")),
        Some(Value::String(s)) if s.len() > 200 && key == "name" => {
            Err(Problem::invalid(key, "is at most 200 characters"))
        }
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(Problem::invalid(key, "must be a string")),
    }
}

fn now_ms(s: &AppState) -> i64 {
    s.engine.clock().now().timestamp_millis()
}

/// List segments with their status and counts.
#[utoipa::path(get, path = "/api/v1/segments", tag = "segments",
    responses((status = 200, body = inline(Page<SegmentView>))), security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Page<SegmentView>>> {
    let mut tx = s.engine.store().begin().await?;
    let records = tx.segments(who.ws()).await?;
    tx.commit().await?;
    let data = records.into_iter().map(|r| view(&s.engine, who.ws(), r)).collect();
    Ok(Json(Page { data, next_cursor: None }))
}

/// Create a segment. It is validated at once (422 names the path of a bad
/// node) and built in the background: poll it until `status` is `active`.
#[utoipa::path(post, path = "/api/v1/segments", tag = "segments", request_body = SegmentInput,
    responses((status = 201, body = SegmentView), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<(StatusCode, Json<SegmentView>)> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["name", "description", "rule"])?;
    let name = text(&obj, "name", true)?.unwrap_or_default();
    let description = text(&obj, "description", false)?;
    let rule_json = obj.get("rule").cloned().ok_or_else(|| Problem::invalid("rule", "is required"))?;
    let ws = who.ws();
    let id = SegmentId::new();
    let schema = s.engine.segment_schema(ws).await?;
    parse(&rule_json, &schema, Some(id)).map_err(rule_problem)?;
    let now = now_ms(&s);
    let record = SegmentRecord {
        id,
        name,
        description,
        rule: rule_json,
        version: 1,
        status: "building".into(),
        error: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = s.engine.store().begin_write().await?;
    tx.insert_segment(ws, &record).await?;
    tx.commit().await?;
    s.engine.start_segment_load(ws, id).map_err(segment_problem)?;
    Ok((StatusCode::CREATED, Json(view(&s.engine, ws, record))))
}

async fn record(s: &AppState, ws: WorkspaceId, raw: &str) -> ApiResult<SegmentRecord> {
    let id: SegmentId = path_id(raw, "segment")?;
    let mut tx = s.engine.store().begin().await?;
    let r = tx.segment(ws, id).await?;
    tx.commit().await?;
    r.ok_or_else(|| Problem::not_found(format!("no segment with id {id}")))
}

/// A segment with its status, backfill progress and count.
#[utoipa::path(get, path = "/api/v1/segments/{id}", tag = "segments", params(("id" = String, Path)),
    responses((status = 200, body = SegmentView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<SegmentView>> {
    let r = record(&s, who.ws(), &id).await?;
    Ok(Json(view(&s.engine, who.ws(), r)))
}

/// Rename, describe or change the rule of a segment. A new rule is a new
/// version: it is rebuilt while the old membership keeps serving, and the
/// difference is reported as entries and exits.
#[utoipa::path(patch, path = "/api/v1/segments/{id}", tag = "segments", params(("id" = String, Path)), request_body = SegmentInput,
    responses((status = 200, body = SegmentView), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn update(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<SegmentView>> {
    let ws = who.ws();
    let mut r = record(&s, ws, &id).await?;
    let obj = object_body(&body)?;
    only_keys(&obj, &["name", "description", "rule"])?;
    if let Some(name) = text(&obj, "name", false)? {
        r.name = name;
    }
    if obj.contains_key("description") {
        r.description = text(&obj, "description", false)?;
    }
    let mut rebuild = false;
    if let Some(rule) = obj.get("rule") {
        let schema = s.engine.segment_schema(ws).await?;
        parse(rule, &schema, Some(r.id)).map_err(rule_problem)?;
        if *rule != r.rule {
            r.rule = rule.clone();
            r.version += 1;
            r.status = "building".into();
            r.error = None;
            rebuild = true;
        }
    }
    r.updated_at = now_ms(&s);
    let mut tx = s.engine.store().begin_write().await?;
    tx.update_segment(ws, &r).await?;
    tx.commit().await?;
    if rebuild {
        s.engine.start_segment_load(ws, r.id).map_err(segment_problem)?;
    }
    Ok(Json(view(&s.engine, ws, r)))
}

/// Delete a segment. Refused while another segment refers to it.
#[utoipa::path(delete, path = "/api/v1/segments/{id}", tag = "segments", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn remove(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let ws = who.ws();
    let r = record(&s, ws, &id).await?;
    let schema = s.engine.segment_schema(ws).await?;
    if let Some((user, _)) = schema.segments.iter().find(|(other, refs)| **other != r.id && refs.contains(&r.id)) {
        return Err(Problem::conflict(format!("segment {user} refers to this segment; change or delete it first")));
    }
    s.engine.unload_segment(ws, r.id).await.map_err(segment_problem)?;
    let mut tx = s.engine.store().begin_write().await?;
    tx.delete_segment(ws, r.id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountView {
    pub count: u64,
    pub status: String,
}

/// The exact member count, from live state.
#[utoipa::path(get, path = "/api/v1/segments/{id}/count", tag = "segments", params(("id" = String, Path)),
    responses((status = 200, body = CountView), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn count(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<CountView>> {
    let r = record(&s, who.ws(), &id).await?;
    let v = view(&s.engine, who.ws(), r);
    match v.count {
        Some(count) => Ok(Json(CountView { count, status: v.status })),
        None if v.status == "failed" => {
            Err(Problem::conflict(format!("the segment failed: {}", v.error.unwrap_or_default())))
        }
        None => Err(Problem::conflict(format!(
            "the segment is still being built (log position {} of {}); try again shortly",
            v.backfill_done, v.backfill_total
        ))),
    }
}

async fn contacts_by_id(s: &AppState, ws: WorkspaceId, ids: &[ContactId]) -> ApiResult<Vec<ContactView>> {
    let mut tx = s.engine.store().begin().await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(c) = tx.contact(ws, *id).await? {
            out.push(c.into());
        }
    }
    tx.commit().await?;
    Ok(out)
}

fn cursor<T: std::str::FromStr>(q: &HashMap<String, String>) -> ApiResult<Option<T>> {
    q.get("cursor")
        .map(|c| c.parse().map_err(|_| Problem::invalid("cursor", "is not a cursor this API returned")))
        .transpose()
}

/// Members, a page at a time.
#[utoipa::path(get, path = "/api/v1/segments/{id}/members", tag = "segments",
    params(("id" = String, Path), ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = inline(Page<ContactView>)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn members(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Page<ContactView>>> {
    let r = record(&s, who.ws(), &id).await?;
    let n = limit(q.get("limit"))? as usize;
    let ids = s.engine.segment_members(who.ws(), r.id, cursor(&q)?, n + 1);
    let next = (ids.len() > n).then(|| ids[n - 1].to_string());
    let data = contacts_by_id(&s, who.ws(), &ids[..ids.len().min(n)]).await?;
    Ok(Json(Page { data, next_cursor: next }))
}

/// All members as CSV (id, external_id, email, first_name, last_name, country).
#[utoipa::path(get, path = "/api/v1/segments/{id}/members.csv", tag = "segments", params(("id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn members_csv(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let r = record(&s, who.ws(), &id).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let write_err = |e: csv::Error| Problem::internal(e);
    out.write_record(["id", "external_id", "email", "first_name", "last_name", "country"]).map_err(write_err)?;
    let mut after = None;
    loop {
        let ids = s.engine.segment_members(who.ws(), r.id, after, 1000);
        let Some(last) = ids.last() else { break };
        after = Some(*last);
        for c in contacts_by_id(&s, who.ws(), &ids).await? {
            let o = |v: Option<String>| v.unwrap_or_default();
            out.write_record([c.id, o(c.external_id), o(c.email), o(c.first_name), o(c.last_name), o(c.country)])
                .map_err(write_err)?;
        }
    }
    let body = out.into_inner().map_err(|e| Problem::internal(e.to_string()))?;
    let filename = format!("attachment; filename=\"segment-{}.csv\"", r.id);
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, filename)], body))
}

/// Count the contacts an unsaved rule matches now, with a random sample of
/// them when asked: the segment builder's live count and sample members.
/// `read_history` says whether the stored event log had to be read (a
/// behavioural condition not yet tallied in memory: slower); the tallies
/// that read made are kept a while, so the next counts with the same
/// conditions come from memory.
#[utoipa::path(post, path = "/api/v1/segments/preview", tag = "segments", request_body = PreviewInput,
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn preview(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<Value>> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["rule", "sample"])?;
    let rule_json = obj.get("rule").ok_or_else(|| Problem::invalid("rule", "is required"))?;
    let sample = match obj.get("sample") {
        None | Some(Value::Null) => 0,
        Some(v) => match v.as_u64() {
            Some(n) if n <= MAX_PREVIEW_SAMPLE => n as usize,
            _ => {
                return Err(Problem::invalid(
                    "sample",
                    format!("must be a whole number from 0 to {MAX_PREVIEW_SAMPLE}"),
                ))
            }
        },
    };
    if sample > 0 && !who.role.allows(kairos_core::access::Permission::PeopleRead) {
        return Err(Problem::forbidden(format!(
            "the {} role may not read people: ask for the count without \"sample\"",
            who.role.as_str()
        )));
    }
    let schema = s.engine.segment_schema(who.ws()).await?;
    let rule: Rule = parse(rule_json, &schema, None).map_err(rule_problem)?;
    let started = std::time::Instant::now();
    let preview = s.engine.preview_segment(who.ws(), rule, sample).await.map_err(segment_problem)?;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut out = json!({"count": preview.count, "elapsed_ms": elapsed_ms, "read_history": preview.read_history});
    if sample > 0 {
        out["sample"] = json!(contacts_by_id(&s, who.ws(), &preview.sample).await?);
    }
    Ok(Json(out))
}

/// The segments a contact is in now, and since when.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/segments", tag = "segments", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn contact_segments(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let ws = who.ws();
    let id: ContactId = path_id(&id, "contact")?;
    let mut tx = s.engine.store().begin().await?;
    if tx.contact(ws, id).await?.is_none() {
        return Err(Problem::not_found(format!("no contact with id {id}")));
    }
    let since: HashMap<SegmentId, i64> = tx.segment_entries_of(ws, id).await?.into_iter().collect();
    let records: HashMap<SegmentId, SegmentRecord> = tx.segments(ws).await?.into_iter().map(|r| (r.id, r)).collect();
    let lists = tx.lists_of(ws, id).await?;
    tx.commit().await?;
    let segments: Vec<Value> = s
        .engine
        .contact_segments(ws, id)
        .into_iter()
        .filter_map(|sid| {
            let r = records.get(&sid)?;
            Some(json!({"id": sid.to_string(), "name": r.name, "since": since.get(&sid)}))
        })
        .collect();
    let lists: Vec<String> = lists.into_iter().map(|l| l.to_string()).collect();
    Ok(Json(json!({"segments": segments, "lists": lists})))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

async fn list_view(s: &AppState, ws: WorkspaceId, l: ListRecord) -> ApiResult<ListView> {
    let mut tx = s.engine.store().begin().await?;
    let count = tx.count_list_members(ws, l.id).await?;
    tx.commit().await?;
    Ok(ListView {
        id: l.id.to_string(),
        name: l.name,
        description: l.description,
        count,
        created_at: l.created_at,
        updated_at: l.updated_at,
    })
}

async fn list_record(s: &AppState, ws: WorkspaceId, raw: &str) -> ApiResult<ListRecord> {
    let id: ListId = path_id(raw, "list")?;
    let mut tx = s.engine.store().begin().await?;
    let r = tx.list(ws, id).await?;
    tx.commit().await?;
    r.ok_or_else(|| Problem::not_found(format!("no list with id {id}")))
}

/// Static lists.
#[utoipa::path(get, path = "/api/v1/lists", tag = "lists",
    responses((status = 200, body = inline(Page<ListView>))), security(("bearer" = [])))]
pub async fn lists(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Page<ListView>>> {
    let mut tx = s.engine.store().begin().await?;
    let records = tx.lists(who.ws()).await?;
    tx.commit().await?;
    let mut data = Vec::new();
    for r in records {
        data.push(list_view(&s, who.ws(), r).await?);
    }
    Ok(Json(Page { data, next_cursor: None }))
}

/// Create a static list.
#[utoipa::path(post, path = "/api/v1/lists", tag = "lists", request_body = ListInput,
    responses((status = 201, body = ListView), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_list(
    State(s): State<AppState>,
    who: Caller,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ListView>)> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["name", "description"])?;
    let now = now_ms(&s);
    let l = ListRecord {
        id: ListId::new(),
        name: text(&obj, "name", true)?.unwrap_or_default(),
        description: text(&obj, "description", false)?,
        created_at: now,
        updated_at: now,
    };
    let mut tx = s.engine.store().begin_write().await?;
    tx.insert_list(who.ws(), &l).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(list_view(&s, who.ws(), l).await?)))
}

#[utoipa::path(get, path = "/api/v1/lists/{id}", tag = "lists", params(("id" = String, Path)),
    responses((status = 200, body = ListView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read_list(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<ListView>> {
    let l = list_record(&s, who.ws(), &id).await?;
    Ok(Json(list_view(&s, who.ws(), l).await?))
}

#[utoipa::path(patch, path = "/api/v1/lists/{id}", tag = "lists", params(("id" = String, Path)), request_body = ListInput,
    responses((status = 200, body = ListView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn update_list(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<ListView>> {
    let mut l = list_record(&s, who.ws(), &id).await?;
    let obj = object_body(&body)?;
    only_keys(&obj, &["name", "description"])?;
    if let Some(n) = text(&obj, "name", false)? {
        l.name = n;
    }
    if obj.contains_key("description") {
        l.description = text(&obj, "description", false)?;
    }
    l.updated_at = now_ms(&s);
    let mut tx = s.engine.store().begin_write().await?;
    tx.update_list(who.ws(), &l).await?;
    tx.commit().await?;
    Ok(Json(list_view(&s, who.ws(), l).await?))
}

/// Delete a list. Refused while a segment refers to it.
#[utoipa::path(delete, path = "/api/v1/lists/{id}", tag = "lists", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn remove_list(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let ws = who.ws();
    let l = list_record(&s, ws, &id).await?;
    let mut tx = s.engine.store().begin().await?;
    let segments = tx.segments(ws).await?;
    tx.commit().await?;
    let schema = s.engine.segment_schema(ws).await?;
    for seg in segments {
        if parse(&seg.rule, &schema, None).is_ok_and(|r| r.list_refs().contains(&l.id)) {
            return Err(Problem::conflict(format!(
                "segment {} ({:?}) refers to this list; change or delete it first",
                seg.id, seg.name
            )));
        }
    }
    let mut tx = s.engine.store().begin_write().await?;
    tx.delete_list(ws, l.id).await?;
    s.engine.commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/lists/{id}/members", tag = "lists",
    params(("id" = String, Path), ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = inline(Page<ContactView>)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list_members(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Page<ContactView>>> {
    let l = list_record(&s, who.ws(), &id).await?;
    let n = limit(q.get("limit"))?;
    let mut tx = s.engine.store().begin().await?;
    let ids = tx.list_members(who.ws(), l.id, cursor(&q)?, n + 1).await?;
    tx.commit().await?;
    let next = (ids.len() as i64 > n).then(|| ids[n as usize - 1].to_string());
    let data = contacts_by_id(&s, who.ws(), &ids[..ids.len().min(n as usize)]).await?;
    Ok(Json(Page { data, next_cursor: next }))
}

/// Resolve `{"contact_ids": [...]}` / `{"emails": [...]}` (JSON) or a CSV
/// body with an `id` or `email` column into contacts; unknown ones are
/// reported by position, never silently skipped.
async fn member_input(
    s: &AppState,
    ws: WorkspaceId,
    headers: &axum::http::HeaderMap,
    body: &Bytes,
) -> ApiResult<(Vec<ContactId>, Vec<Value>)> {
    let is_csv =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/csv"));
    let mut refs: Vec<(String, String)> = Vec::new(); // (kind, value)
    if is_csv {
        let mut r = csv::ReaderBuilder::new().from_reader(&body[..]);
        let heads =
            r.headers().map_err(|e| Problem::bad_request(format!("the CSV header is unreadable: {e}")))?.clone();
        let col = heads
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case("id") || h.trim().eq_ignore_ascii_case("email"))
            .ok_or_else(|| Problem::invalid("csv", "needs an \"id\" or \"email\" column"))?;
        let kind = heads[col].trim().to_ascii_lowercase();
        for row in r.records() {
            let row = row.map_err(|e| Problem::bad_request(format!("the CSV is malformed: {e}")))?;
            refs.push((kind.clone(), row.get(col).unwrap_or_default().trim().to_string()));
        }
    } else {
        let obj = object_body(body)?;
        only_keys(&obj, &["contact_ids", "emails"])?;
        for key in ["contact_ids", "emails"] {
            if let Some(v) = obj.get(key) {
                let items = v.as_array().ok_or_else(|| Problem::invalid(key, "must be an array of strings"))?;
                for (i, item) in items.iter().enumerate() {
                    let s = item.as_str().ok_or_else(|| Problem::invalid(format!("{key}[{i}]"), "must be a string"))?;
                    refs.push((if key == "emails" { "email" } else { "id" }.into(), s.to_string()));
                }
            }
        }
        if refs.is_empty() {
            return Err(Problem::invalid("body", "give \"contact_ids\" or \"emails\" (a non-empty array)"));
        }
    }
    if refs.len() > 100_000 {
        return Err(Problem::too_large("at most 100000 contacts per request"));
    }
    let mut tx = s.engine.store().begin().await?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for (i, (kind, v)) in refs.iter().enumerate() {
        let contact = if kind == "email" {
            match kairos_core::address::normalize_email(v) {
                Ok(e) => tx.contact_by_email(ws, &e).await?.map(|c| c.id),
                Err(_) => None,
            }
        } else {
            match v.parse::<ContactId>() {
                Ok(id) => tx.contact(ws, id).await?.map(|c| c.id),
                Err(_) => None,
            }
        };
        match contact {
            Some(c) => found.push(c),
            None => missing.push(json!({"row": i + 1, kind.clone(): v, "reason": "no such contact"})),
        }
    }
    tx.commit().await?;
    Ok((found, missing))
}

/// Add contacts to a list (JSON ids/emails or a CSV with an id or email column).
#[utoipa::path(post, path = "/api/v1/lists/{id}/members", tag = "lists", params(("id" = String, Path)), request_body = MembersInput,
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn add_list_members(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let l = list_record(&s, who.ws(), &id).await?;
    let (found, missing) = member_input(&s, who.ws(), &headers, &body).await?;
    let added = s.engine.change_list_members(who.ws(), l.id, &found, true, "api").await?;
    Ok(Json(json!({"added": added.len(), "already_members": found.len() - added.len(), "not_found": missing})))
}

/// Remove contacts from a list.
#[utoipa::path(delete, path = "/api/v1/lists/{id}/members", tag = "lists", params(("id" = String, Path)), request_body = MembersInput,
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn remove_list_members(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let l = list_record(&s, who.ws(), &id).await?;
    let (found, missing) = member_input(&s, who.ws(), &headers, &body).await?;
    let removed = s.engine.change_list_members(who.ws(), l.id, &found, false, "api").await?;
    Ok(Json(json!({"removed": removed.len(), "not_members": found.len() - removed.len(), "not_found": missing})))
}
