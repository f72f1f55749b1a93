//! `/api/v1/fields`: the workspace's custom field definitions.

use super::json_body;
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use kairos_core::fields::{validate_field_name, FieldDefinition, FieldEntity, FieldType};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FieldView {
    /// `contact` or `company`.
    pub entity: String,
    pub name: String,
    /// `string`, `number`, `boolean`, `date` or `list`.
    #[serde(rename = "type")]
    pub field_type: String,
    pub label: Option<String>,
}

impl From<FieldDefinition> for FieldView {
    fn from(d: FieldDefinition) -> Self {
        FieldView {
            entity: d.entity.as_str().into(),
            name: d.name,
            field_type: d.field_type.as_str().into(),
            label: d.label,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FieldInput {
    /// `contact` (default) or `company`.
    pub entity: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: String,
    pub label: Option<String>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/fields", get(list).post(define))
        .route("/api/v1/fields/{entity}/{name}", delete(remove))
}

fn entity(raw: &str) -> ApiResult<FieldEntity> {
    FieldEntity::parse(raw)
        .ok_or_else(|| Problem::invalid("entity", format!("must be contact or company, got {raw:?}")))
}

/// List custom fields.
#[utoipa::path(get, path = "/api/v1/fields", tag = "fields", responses((status = 200, body = Vec<FieldView>)), security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Vec<FieldView>>> {
    let mut tx = s.engine.store().begin().await?;
    Ok(Json(tx.list_fields(who.ws()).await?.into_iter().map(Into::into).collect()))
}

/// Define a custom field (or change its label).
#[utoipa::path(post, path = "/api/v1/fields", tag = "fields", request_body = FieldInput,
    responses((status = 201, body = FieldView), (status = 409, description = "exists with another type", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn define(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<(StatusCode, Json<FieldView>)> {
    let input: FieldInput = json_body(&body)?;
    let entity = entity(input.entity.as_deref().unwrap_or("contact"))?;
    validate_field_name(entity, &input.name).map_err(|e| Problem::invalid("name", e.to_string()))?;
    let field_type = FieldType::parse(&input.field_type).ok_or_else(|| {
        Problem::invalid("type", format!("must be string, number, boolean, date or list, got {:?}", input.field_type))
    })?;
    let def = FieldDefinition { entity, name: input.name, field_type, label: input.label };
    s.engine.define_field(who.ws(), &def).await.map_err(|e| match e {
        kairos_store::StoreError::Conflict(what) => {
            Problem::conflict(format!("{what} is already defined; delete it first to change its type"))
        }
        other => other.into(),
    })?;
    Ok((StatusCode::CREATED, Json(def.into())))
}

/// Delete a custom field definition.
#[utoipa::path(delete, path = "/api/v1/fields/{entity}/{name}", tag = "fields", params(("entity" = String, Path), ("name" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn remove(
    State(s): State<AppState>,
    who: Caller,
    Path((e, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let entity = entity(&e)?;
    if s.engine.delete_field(who.ws(), entity, &name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("no {e} field named {name:?}")))
    }
}
