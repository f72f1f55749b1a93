//! `/api/v1/workspace`: which workspace the key belongs to, with headline
//! counts, its recent activity (events per day, most frequent events) and
//! the catalogue of its events (names, properties, frequent values) that
//! the builders' pickers offer.

use super::whole_number;
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use kairos_core::clock::day_label;
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceView {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub contacts: i64,
    pub events: i64,
    /// Events that happened in the last 24 hours (by their timestamp).
    pub events_last_24h: i64,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/workspace", get(read))
        .route("/api/v1/workspace/activity", get(activity))
        .route("/api/v1/workspace/email-activity", get(email_activity))
        .route("/api/v1/workspace/events", get(event_catalog))
}

/// The key's workspace and its headline counts.
#[utoipa::path(get, path = "/api/v1/workspace", tag = "workspace", responses((status = 200, body = WorkspaceView)), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller) -> ApiResult<Json<WorkspaceView>> {
    let mut tx = s.engine.store().begin().await?;
    let ws = tx.workspace(who.ws()).await?.ok_or_else(|| Problem::not_found("the key's workspace no longer exists"))?;
    let since = s.engine.clock().now() - Duration::hours(24);
    Ok(Json(WorkspaceView {
        id: ws.id.to_string(),
        name: ws.name,
        created_at: ws.created_at,
        contacts: tx.count_contacts(who.ws()).await?,
        events: tx.count_events(who.ws()).await?,
        events_last_24h: tx.count_events_since(who.ws(), since).await?,
    }))
}

/// Events on one UTC day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayCount {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub events: i64,
}

/// An event name and how often it happened.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventNameCount {
    /// As segment rules and journey triggers name it (page views are `Page Viewed`).
    pub name: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityView {
    pub days: i64,
    /// Every day of the window, oldest first, days without events included.
    pub per_day: Vec<DayCount>,
    /// The most frequent events of the window, most frequent first (at most 50).
    pub top_events: Vec<EventNameCount>,
}

/// Events per day over the last `days` days (1 to 366, default 30, by event
/// timestamp) and the most frequent event names: the dashboard's chart and
/// the event pickers of the segment and journey builders.
#[utoipa::path(get, path = "/api/v1/workspace/activity", tag = "workspace",
    params(("days" = Option<i64>, Query, description = "1 to 366, default 30")),
    responses((status = 200, body = ActivityView), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn activity(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<ActivityView>> {
    let (days, today, first) = window(&s, &q)?;
    let since = DateTime::<Utc>::from_timestamp_millis(first * 86_400_000).unwrap_or_default();
    let mut tx = s.engine.store().begin().await?;
    let counted: HashMap<i64, i64> = tx.events_per_day(who.ws(), since).await?.into_iter().collect();
    let top = tx.top_event_names(who.ws(), since, 50).await?;
    tx.commit().await?;
    let per_day = (first..=today)
        .map(|d| DayCount { day: day_label(d), events: counted.get(&d).copied().unwrap_or(0) })
        .collect();
    let top_events = top.into_iter().map(|(name, count)| EventNameCount { name, count }).collect();
    Ok(Json(ActivityView { days, per_day, top_events }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventCatalogView {
    pub days: i64,
    /// Events read for the properties and values (the newest of the window).
    pub sampled: usize,
    /// Every event name of the window's most frequent 500 and of the sample,
    /// most frequent first.
    pub events: Vec<CatalogEventView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogEventView {
    /// As segment rules and journey triggers name it (page views are `Page Viewed`).
    pub name: String,
    /// Events of this name in the window; absent when the name is not among
    /// the 500 most frequent.
    pub count: Option<i64>,
    /// Events of this name in the sample.
    pub sampled: u64,
    /// Properties as dot paths with observed types and frequent values;
    /// empty when the name was not in the sample.
    #[schema(value_type = Vec<Object>)]
    pub properties: Vec<kairos_core::event_catalog::CatalogProperty>,
    pub properties_left_out: bool,
}

/// The workspace's events over the last `days` days (1 to 366, default 30):
/// names with counts, and for each its properties (dot paths, as rules name
/// them), their types and most frequent values (`values` per property, 1 to
/// 50, default 10), read from the newest `sample` events (100 to 100,000,
/// default 20,000). The pickers of the segment and journey builders. The
/// values are left out for roles that may not read people.
#[utoipa::path(get, path = "/api/v1/workspace/events", tag = "workspace",
    params(("days" = Option<i64>, Query, description = "1 to 366, default 30"),
        ("sample" = Option<i64>, Query, description = "100 to 100000, default 20000"),
        ("values" = Option<i64>, Query, description = "1 to 50, default 10")),
    responses((status = 200, body = EventCatalogView), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn event_catalog(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<EventCatalogView>> {
    let (days, _, first) = window(&s, &q)?;
    let sample = whole_number(q.get("sample"), "sample", 100, 100_000, 20_000)?;
    let values = whole_number(q.get("values"), "values", 1, 50, 10)?;
    let since = DateTime::<Utc>::from_timestamp_millis(first * 86_400_000).unwrap_or_default();
    let mut tx = s.engine.store().begin().await?;
    let top = tx.top_event_names(who.ws(), since, 500).await?;
    let recent = tx.recent_event_properties(who.ws(), since, sample).await?;
    tx.commit().await?;
    let mut catalog = kairos_core::event_catalog::EventCatalog::default();
    for (name, properties) in &recent {
        catalog.add(name, properties);
    }
    let mut sampled: HashMap<String, kairos_core::event_catalog::CatalogEvent> =
        catalog.summary(values as usize).into_iter().map(|e| (e.name.clone(), e)).collect();
    let mut events: Vec<CatalogEventView> = top
        .into_iter()
        .map(|(name, count)| {
            let e = sampled.remove(&name);
            CatalogEventView {
                count: Some(count),
                sampled: e.as_ref().map_or(0, |e| e.sampled),
                properties_left_out: e.as_ref().is_some_and(|e| e.properties_left_out),
                properties: e.map(|e| e.properties).unwrap_or_default(),
                name,
            }
        })
        .collect();
    let mut rest: Vec<_> = sampled.into_values().collect();
    rest.sort_by(|a, b| b.sampled.cmp(&a.sampled).then_with(|| a.name.cmp(&b.name)));
    events.extend(rest.into_iter().map(|e| CatalogEventView {
        name: e.name,
        count: None,
        sampled: e.sampled,
        properties: e.properties,
        properties_left_out: e.properties_left_out,
    }));
    // Property values can be personal (an `email` property); only those who
    // may read people see them, the others get names and types.
    if !who.role.allows(kairos_core::access::Permission::PeopleRead) {
        for p in events.iter_mut().flat_map(|e| e.properties.iter_mut()) {
            p.top_values.clear();
        }
    }
    Ok(Json(EventCatalogView { days, sampled: recent.len(), events }))
}

/// The `days` parameter (1 to 366, default 30) as (days, today, first day),
/// days counted since the epoch (UTC).
fn window(s: &AppState, q: &HashMap<String, String>) -> ApiResult<(i64, i64, i64)> {
    let days = whole_number(q.get("days"), "days", 1, 366, 30)?;
    let today = s.engine.clock().now().timestamp_millis().div_euclid(86_400_000);
    Ok((days, today, today - days + 1))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmailActivityView {
    pub days: i64,
    /// Every day of the window, oldest first, quiet days included: messages
    /// sent, and first opens, first clicks and unsubscribes that day.
    #[schema(value_type = Vec<Object>)]
    pub per_day: Vec<kairos_store::EmailDay>,
    /// The same, summed over the window.
    pub sent: i64,
    pub opened: i64,
    pub clicked: i64,
    pub unsubscribed: i64,
}

/// Email activity of every campaign, journey and API send per day over the
/// last `days` days (1 to 366, default 30): the dashboard's email chart.
/// Test sends are left out; opens are human opens.
#[utoipa::path(get, path = "/api/v1/workspace/email-activity", tag = "workspace",
    params(("days" = Option<i64>, Query, description = "1 to 366, default 30")),
    responses((status = 200, body = EmailActivityView), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn email_activity(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<EmailActivityView>> {
    let (days, today, first) = window(&s, &q)?;
    let mut tx = s.engine.store().begin().await?;
    let per_day = tx.email_series(who.ws(), None, Some(first), today).await?;
    tx.commit().await?;
    Ok(Json(EmailActivityView {
        days,
        sent: per_day.iter().map(|d| d.sent).sum(),
        opened: per_day.iter().map(|d| d.opened).sum(),
        clicked: per_day.iter().map(|d| d.clicked).sum(),
        unsubscribed: per_day.iter().map(|d| d.unsubscribed).sum(),
        per_day,
    }))
}
