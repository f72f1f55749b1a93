//! `/api/v1/companies`: accounts for B2B marketing, and their contacts.

use super::{limit, object_body, path_id, Page};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use kairos_core::company::Company;
use kairos_core::fields::{FieldEntity, FieldType};
use kairos_core::ids::{CompanyId, WorkspaceId};
use kairos_store::Tx;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct CompanyView {
    pub id: String,
    pub external_id: Option<String>,
    pub name: String,
    pub domain: Option<String>,
    #[schema(value_type = Object)]
    pub custom: BTreeMap<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Company> for CompanyView {
    fn from(c: Company) -> Self {
        CompanyView {
            id: c.id.to_string(),
            external_id: c.external_id,
            name: c.name,
            domain: c.domain,
            custom: c.custom,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Company fields to set; other keys are custom company fields.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct CompanyInput {
    pub name: Option<String>,
    pub domain: Option<String>,
    pub external_id: Option<String>,
    #[schema(value_type = Object)]
    pub custom: Option<Map<String, Value>>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/companies", get(list).post(create))
        .route("/api/v1/companies/{id}", get(read).patch(patch).delete(remove))
        .route("/api/v1/companies/{id}/contacts", get(contacts))
}

async fn company_types(tx: &mut Tx, ws: WorkspaceId) -> ApiResult<HashMap<String, FieldType>> {
    Ok(tx
        .list_fields(ws)
        .await?
        .into_iter()
        .filter(|f| f.entity == FieldEntity::Company)
        .map(|f| (f.name, f.field_type))
        .collect())
}

fn company_problem(e: kairos_core::company::CompanyError) -> Problem {
    match &e {
        kairos_core::company::CompanyError::Invalid { field, reason } => {
            Problem::invalid(field.clone(), reason.clone())
        }
        kairos_core::company::CompanyError::Field(f) => Problem::invalid("custom", f.to_string()),
    }
}

/// Create a company.
#[utoipa::path(post, path = "/api/v1/companies", tag = "companies", request_body = CompanyInput,
    responses((status = 201, body = CompanyView), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<(StatusCode, Json<CompanyView>)> {
    let obj = object_body(&body)?;
    let named = obj.get("name").and_then(Value::as_str).is_some_and(|n| !n.trim().is_empty());
    if !named {
        return Err(Problem::invalid("name", "is required"));
    }
    let mut tx = s.engine.store().begin_write().await?;
    let types = company_types(&mut tx, who.ws()).await?;
    let now = s.engine.clock().now();
    let mut c = Company::new(who.ws(), String::new(), now);
    c.apply_json(&obj, now, &|n| types.get(n).copied()).map_err(company_problem)?;
    tx.insert_company(&c).await?;
    s.engine.commit(tx).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// List companies.
#[utoipa::path(get, path = "/api/v1/companies", tag = "companies", params(("q" = Option<String>, Query, description = "case-insensitive text in the name, domain or external id"),
        ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = inline(Page<CompanyView>))), security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    who: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Page<CompanyView>>> {
    let n = limit(q.get("limit"))?;
    let after = match q.get("cursor") {
        Some(c) => Some(
            c.parse::<CompanyId>()
                .map_err(|_| Problem::invalid("cursor", "is not a cursor returned by this endpoint"))?,
        ),
        None => None,
    };
    let mut tx = s.engine.store().begin().await?;
    let (list, next) = tx.list_companies(who.ws(), q.get("q").map(String::as_str), after, n).await?;
    Ok(Json(Page { data: list.into_iter().map(Into::into).collect(), next_cursor: next.map(|c| c.to_string()) }))
}

/// Read a company.
#[utoipa::path(get, path = "/api/v1/companies/{id}", tag = "companies", params(("id" = String, Path)),
    responses((status = 200, body = CompanyView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<CompanyView>> {
    let id: CompanyId = path_id(&id, "company")?;
    let mut tx = s.engine.store().begin().await?;
    tx.company(who.ws(), id)
        .await?
        .map(|c| Json(c.into()))
        .ok_or_else(|| Problem::not_found(format!("no company with id {id}")))
}

/// Change some fields of a company.
#[utoipa::path(patch, path = "/api/v1/companies/{id}", tag = "companies", params(("id" = String, Path)), request_body = CompanyInput,
    responses((status = 200, body = CompanyView), (status = 404, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn patch(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<CompanyView>> {
    let id: CompanyId = path_id(&id, "company")?;
    let obj = object_body(&body)?;
    let mut tx = s.engine.store().begin_write().await?;
    let types = company_types(&mut tx, who.ws()).await?;
    let mut c =
        tx.company(who.ws(), id).await?.ok_or_else(|| Problem::not_found(format!("no company with id {id}")))?;
    c.apply_json(&obj, s.engine.clock().now(), &|n| types.get(n).copied()).map_err(company_problem)?;
    tx.update_company(&c).await?;
    s.engine.commit(tx).await?;
    Ok(Json(c.into()))
}

/// Delete a company (its contacts stay, unlinked).
#[utoipa::path(delete, path = "/api/v1/companies/{id}", tag = "companies", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn remove(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id: CompanyId = path_id(&id, "company")?;
    let mut tx = s.engine.store().begin_write().await?;
    let done = tx.delete_company(who.ws(), id).await?;
    s.engine.commit(tx).await?;
    if done {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("no company with id {id}")))
    }
}

/// Ids of the contacts linked to a company.
#[utoipa::path(get, path = "/api/v1/companies/{id}/contacts", tag = "companies", params(("id" = String, Path), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Vec<String>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn contacts(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Vec<String>>> {
    let id: CompanyId = path_id(&id, "company")?;
    let n = limit(q.get("limit"))?;
    let mut tx = s.engine.store().begin().await?;
    if tx.company(who.ws(), id).await?.is_none() {
        return Err(Problem::not_found(format!("no company with id {id}")));
    }
    Ok(Json(tx.contacts_of_company(who.ws(), id, n).await?.iter().map(ToString::to_string).collect()))
}
