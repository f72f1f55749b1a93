//! `/api/v1/reports`: attribution of conversions (and their value) to the
//! campaigns, journeys and UTM-tagged visits that preceded them, with the
//! return on investment of each against the marketing costs entered here;
//! as JSON for the UI's charts and as CSV for spreadsheets.

use crate::api::{audit, json_body};
use crate::auth::Caller;
use crate::problem::{ApiResult, Invalid, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate};
use kairos_core::attribution::{AttributionError, Model};
use kairos_engine::reports::{AttributionQuery, AttributionReport};
use kairos_store::{EmailMoment, MarketingCost};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/attribution", get(attribution))
        .route("/api/v1/reports/attribution.csv", get(attribution_csv))
        .route("/api/v1/reports/attribution/models", get(attribution_models))
        .route("/api/v1/reports/costs", get(costs).put(put_cost).delete(delete_cost))
}

/// The longest period a report covers.
const MAX_PERIOD_DAYS: i64 = 731;

/// An instant from `raw`: RFC 3339, or a date (`YYYY-MM-DD`, UTC) meaning the
/// start of that day — or, for an inclusive end, the start of the next.
fn instant(name: &str, raw: &str, end_of_day: bool) -> ApiResult<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.timestamp_millis());
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        Problem::invalid(
            name,
            format!("must be a date like 2026-11-01 or an RFC 3339 time like 2026-11-01T09:00:00Z, got {raw:?}"),
        )
    })?;
    let day = if end_of_day { day.succ_opt().unwrap_or(day) } else { day };
    Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp_millis())
}

/// The parameters every attribution request reads; a single report also
/// reads `model`, a comparison `models`.
const QUERY_PARAMS: [&str; 8] =
    ["event", "since", "until", "window_days", "half_life_days", "email_touch", "value", "currency"];

/// Read a report's parameters (every one has a default), naming every bad
/// one at once. `comparison` reads the list `models` (default all five)
/// instead of the one `model` (default last touch); the query's own model
/// is then the first of the list.
fn attribution_query(
    s: &AppState,
    q: &HashMap<String, String>,
    comparison: bool,
) -> ApiResult<(AttributionQuery, Vec<Model>)> {
    let mut bad = Invalid::default();
    let model_param = if comparison { "models" } else { "model" };
    for k in q.keys().filter(|k| !QUERY_PARAMS.contains(&k.as_str()) && k.as_str() != model_param) {
        let hint = match k.as_str() {
            "model" => " here: this report compares the models named in models".to_string(),
            "models" => " here: only the comparison (/api/v1/reports/attribution/models) takes several".to_string(),
            _ => format!("; known are {}, {model_param}", QUERY_PARAMS.join(", ")),
        };
        bad.push(k.clone(), format!("unknown parameter{hint}"));
    }
    let now = s.engine.clock().now();
    let until = match q.get("until") {
        Some(raw) => bad.check(instant("until", raw, true))?,
        None => Some(now.timestamp_millis()),
    };
    let since = match q.get("since") {
        Some(raw) => bad.check(instant("since", raw, false))?,
        None => until.map(|u| u - Duration::days(30).num_milliseconds()),
    };
    if let (Some(since), Some(until)) = (since, until) {
        if since >= until {
            bad.push("since", "must be before until");
        } else if until - since > Duration::days(MAX_PERIOD_DAYS).num_milliseconds() {
            bad.push("since", format!("the period may cover at most {MAX_PERIOD_DAYS} days"));
        }
    }
    let window_days = match q.get("window_days") {
        None => 7,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (1..=90).contains(&n) => n,
            _ => {
                bad.push("window_days", format!("must be a whole number of days from 1 to 90, got {raw:?}"));
                7
            }
        },
    };
    let half_life = match q.get("half_life_days") {
        None => None,
        Some(raw) => match raw.parse::<f64>() {
            Ok(h) => Some(h),
            Err(_) => {
                bad.push("half_life_days", format!("must be a number of days, got {raw:?}"));
                None
            }
        },
    };
    let default_models = if comparison { Model::NAMES.join(",") } else { "last_touch".to_string() };
    let names = q.get(model_param).cloned().unwrap_or(default_models);
    let mut models = Vec::new();
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match Model::parse(name, half_life) {
            Ok(m) if models.iter().any(|x: &Model| x.name() == m.name()) => {
                bad.push(model_param, format!("names {name} twice"));
            }
            Ok(m) => models.push(m),
            Err(e @ AttributionError::HalfLife(_)) => {
                if !bad.names("half_life_days") {
                    bad.push("half_life_days", e.to_string());
                }
            }
            Err(e) => bad.push(model_param, e.to_string()),
        }
    }
    if models.is_empty() && !bad.names(model_param) {
        bad.push(model_param, format!("must name a model: {}", Model::NAMES.join(", ")));
    }
    let email_moment = match q.get("email_touch").map(String::as_str).unwrap_or("opened") {
        "sent" => EmailMoment::Sent,
        "opened" => EmailMoment::Opened,
        "clicked" => EmailMoment::Clicked,
        other => {
            bad.push("email_touch", format!("must be sent, opened or clicked, got {other:?}"));
            EmailMoment::Opened
        }
    };
    let event = q.get("event").map(|e| e.trim().to_string()).unwrap_or_else(|| "Order Completed".into());
    if event.is_empty() || event.len() > 200 {
        bad.push("event", "must name a tracked event (1 to 200 characters)");
    }
    let value_property = match q.get("value").map(|v| v.trim()) {
        None | Some("") => None,
        Some(v) if v.split('.').any(str::is_empty) || v.len() > 200 => {
            bad.push("value", format!("must be a property name or dotted path like order.total, got {v:?}"));
            None
        }
        Some(v) => Some(v.to_string()),
    };
    let currency = match q.get("currency").map(|c| c.trim()) {
        None | Some("") => None,
        Some(c) if c.len() == 3 && c.chars().all(|x| x.is_ascii_alphabetic()) => Some(c.to_ascii_uppercase()),
        Some(c) => {
            bad.push("currency", format!("must be a three-letter ISO 4217 code like EUR, got {c:?}"));
            None
        }
    };
    bad.finish()?;
    let (Some(since), Some(until), Some(&model)) = (since, until, models.first()) else {
        return Err(Problem::internal("attribution parameters passed the checks without a period or a model"));
    };
    let query = AttributionQuery { event, since, until, window_days, model, email_moment, value_property, currency };
    Ok((query, models))
}

async fn report(s: &AppState, who: &Caller, q: &HashMap<String, String>) -> ApiResult<AttributionReport> {
    let (query, _) = attribution_query(s, q, false)?;
    Ok(s.engine.attribution_report(who.ws(), &query).await?)
}

/// The same period's report under several models side by side, in the
/// order asked.
#[derive(Debug, Serialize)]
pub struct ModelComparison {
    pub reports: Vec<AttributionReport>,
}

/// The attribution report of one period under several models, read once:
/// `models` lists them (comma-separated, default all five: `first_touch`,
/// `last_touch`, `linear`, `time_decay`, `position_based`); every other
/// parameter is the single report's. The reports come in the order asked,
/// and differ only in the credit.
#[utoipa::path(get, path = "/api/v1/reports/attribution/models", tag = "reports",
    params(("models" = Option<String>, Query), ("event" = Option<String>, Query), ("since" = Option<String>, Query),
        ("until" = Option<String>, Query), ("window_days" = Option<u32>, Query), ("half_life_days" = Option<f64>, Query),
        ("email_touch" = Option<String>, Query), ("value" = Option<String>, Query), ("currency" = Option<String>, Query)),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn attribution_models(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<ModelComparison>> {
    let (query, models) = attribution_query(&s, &q, true)?;
    Ok(Json(ModelComparison { reports: s.engine.attribution_reports(who.ws(), &query, &models).await? }))
}

/// Conversions in a period credited to what touched the converting contacts
/// before: emails of campaigns and journeys (sent, opened or clicked) and
/// visits carrying a UTM campaign (`context.campaign`). Parameters, all
/// optional: `event` (default `Order Completed`), `since`/`until` (dates or
/// RFC 3339; default the last 30 days), `window_days` (1–90, default 7),
/// `model` (`first_touch`, `last_touch` (default), `linear`, `time_decay`
/// with `half_life_days` (default 7), `position_based`), `email_touch`
/// (`sent`, `opened` (default), `clicked`), `value` (the property holding
/// the value; default `revenue`, then `total`, then `value`), `currency`
/// (conversions in another are left out and counted; default the most
/// frequent). Per source: credited conversions and value, messages sent,
/// cost and ROI; totals; a series per UTC day.
#[utoipa::path(get, path = "/api/v1/reports/attribution", tag = "reports",
    params(("event" = Option<String>, Query), ("since" = Option<String>, Query), ("until" = Option<String>, Query),
        ("window_days" = Option<u32>, Query), ("model" = Option<String>, Query), ("half_life_days" = Option<f64>, Query),
        ("email_touch" = Option<String>, Query), ("value" = Option<String>, Query), ("currency" = Option<String>, Query)),
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn attribution(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<AttributionReport>> {
    Ok(Json(report(&s, &who, &q).await?))
}

/// The report's sources as CSV (source, channel, name, conversions, value,
/// messages_sent, cost, roi), with the same parameters, and a last line
/// for the unattributed conversions.
#[utoipa::path(get, path = "/api/v1/reports/attribution.csv", tag = "reports",
    params(("event" = Option<String>, Query), ("since" = Option<String>, Query), ("until" = Option<String>, Query),
        ("window_days" = Option<u32>, Query), ("model" = Option<String>, Query), ("half_life_days" = Option<f64>, Query),
        ("email_touch" = Option<String>, Query), ("value" = Option<String>, Query), ("currency" = Option<String>, Query)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn attribution_csv(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<impl IntoResponse> {
    let r = report(&s, &who, &q).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let write_err = |e: csv::Error| Problem::internal(e);
    out.write_record(["source", "channel", "name", "conversions", "value", "messages_sent", "cost", "roi"])
        .map_err(write_err)?;
    let num = |x: f64| format!("{x:.4}");
    let opt = |x: Option<f64>| x.map(num).unwrap_or_default();
    for l in &r.sources {
        out.write_record([
            l.source.as_str(),
            l.channel,
            l.name.as_str(),
            &num(l.conversions),
            &num(l.value),
            &l.messages_sent.to_string(),
            &opt(l.cost),
            &opt(l.roi),
        ])
        .map_err(write_err)?;
    }
    out.write_record([
        "(unattributed)",
        "",
        "",
        &num(r.totals.unattributed_conversions),
        &num(r.totals.unattributed_value),
        "",
        "",
        "",
    ])
    .map_err(write_err)?;
    let body = out.into_inner().map_err(|e| Problem::internal(e.to_string()))?;
    let filename = format!("attachment; filename=\"attribution-{}.csv\"", r.model.name());
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, filename)], body))
}

/// What a source cost: a fixed `amount` (spent evenly over `since`–`until`
/// when given, so a report charges the share in its own period; otherwise
/// charged whole to every report), and `per_message` for each message it
/// sends in a report's period.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CostInput {
    /// `campaign:ID`, `journey:ID`, `utm:SOURCE/MEDIUM/NAME` (as reports name sources).
    pub source: String,
    #[serde(default)]
    pub amount: f64,
    #[serde(default)]
    pub per_message: f64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    pub note: Option<String>,
    /// When the amount was spent: a date (`YYYY-MM-DD`) or RFC 3339 instant.
    pub since: Option<String>,
    /// The last day (included) or instant.
    pub until: Option<String>,
}

fn cost_view(c: &MarketingCost) -> Value {
    let at = |ms: Option<i64>| ms.and_then(DateTime::from_timestamp_millis).map(|t| t.to_rfc3339());
    json!({"source": c.source, "amount": c.amount, "per_message": c.per_message, "currency": c.currency,
           "note": c.note, "since": at(c.period_start), "until": at(c.period_end), "updated_at": at(Some(c.updated_at))})
}

/// The marketing costs entered, per source, each with what reports call
/// its source (`name`: the campaign's or journey's name, a UTM campaign as
/// `NAME (SOURCE / MEDIUM)`).
#[utoipa::path(get, path = "/api/v1/reports/costs", tag = "reports",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn costs(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let all = s.engine.marketing_costs(who.ws()).await?;
    let data: Vec<Value> = all
        .iter()
        .map(|(c, name)| {
            let mut v = cost_view(c);
            v["name"] = json!(name);
            v
        })
        .collect();
    Ok(Json(json!({ "data": data })))
}

/// Enter or replace what a source cost.
#[utoipa::path(put, path = "/api/v1/reports/costs", tag = "reports", request_body = CostInput,
    responses((status = 200, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn put_cost(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<Json<Value>> {
    let input: CostInput = json_body(&body)?;
    let source = input.source.trim();
    let known = ["campaign:", "journey:", "utm:"];
    if source.is_empty() || source.len() > 300 {
        return Err(Problem::invalid("source", "must name a source (1 to 300 characters)"));
    }
    if !known.iter().any(|p| source.starts_with(p)) && source.contains(':') {
        return Err(Problem::invalid(
            "source",
            format!("{source:?} is not a source reports name: use campaign:ID, journey:ID, utm:SOURCE/MEDIUM/NAME or an API send's source"),
        ));
    }
    for (name, x) in [("amount", input.amount), ("per_message", input.per_message)] {
        if !x.is_finite() || x < 0.0 {
            return Err(Problem::invalid(name, format!("must be a number of at least 0, got {x}")));
        }
    }
    let currency = input.currency.trim();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(Problem::invalid(
            "currency",
            format!("must be a three-letter ISO 4217 code like EUR, got {currency:?}"),
        ));
    }
    let period_start = input.since.as_deref().map(|raw| instant("since", raw, false)).transpose()?;
    let period_end = input.until.as_deref().map(|raw| instant("until", raw, true)).transpose()?;
    match (period_start, period_end) {
        (Some(a), Some(b)) if a >= b => return Err(Problem::invalid("since", "must be before until")),
        (Some(_), None) | (None, Some(_)) => {
            return Err(Problem::invalid(
                if period_start.is_some() { "until" } else { "since" },
                "a cost's period needs both since and until",
            ))
        }
        _ => {}
    }
    let note = input.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.len() > 1000) {
        return Err(Problem::invalid("note", "must be at most 1,000 characters"));
    }
    let saved = s
        .engine
        .put_marketing_cost(
            who.ws(),
            MarketingCost {
                source: source.to_string(),
                amount: input.amount,
                per_message: input.per_message,
                currency: currency.to_string(),
                note,
                period_start,
                period_end,
                updated_at: 0,
            },
        )
        .await?;
    let view = cost_view(&saved);
    audit(&s, &who, "report.cost_set", &saved.source, view.clone()).await?;
    Ok(Json(view))
}

/// Remove the cost of `source` (a query parameter).
#[utoipa::path(delete, path = "/api/v1/reports/costs", tag = "reports", params(("source" = String, Query)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn delete_cost(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<StatusCode> {
    let source = q.get("source").ok_or_else(|| Problem::invalid("source", "name the source whose cost to remove"))?;
    if !s.engine.delete_marketing_cost(who.ws(), source).await? {
        return Err(Problem::not_found(format!("no cost entered for {source:?}")));
    }
    audit(&s, &who, "report.cost_removed", source, Value::Null).await?;
    Ok(StatusCode::NO_CONTENT)
}
