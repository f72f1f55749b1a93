//! `/api/v1/forms`: subscription forms — the consent each asks for (channel,
//! purposes, exact wording and version), the static list it adds to, and
//! double opt-in (confirmation template, sender, link lifetime, reminders).
//! Definitions are checked by `kairos-core::form` with the field named on
//! every problem; the hosted form is at `/f/{id}` (see `crate::forms`).

use super::{object_body, path_id};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use kairos_core::form::FormDefinition;
use kairos_engine::FormsError;
use kairos_store::FormRecord;
use serde_json::{json, Value};
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/forms", get(list).post(create))
        .route("/api/v1/forms/{id}", get(read).patch(update).delete(remove))
}

impl From<FormsError> for Problem {
    fn from(e: FormsError) -> Self {
        match e {
            FormsError::NotFound(m) => Problem::not_found(m),
            FormsError::Invalid { field, message } => Problem::invalid(field, message),
            FormsError::Store(e) => e.into(),
        }
    }
}

fn view(f: &FormRecord, def: &FormDefinition) -> Value {
    json!({"id": f.id, "name": f.name, "definition": def.to_json(), "url": format!("/f/{}", f.id),
           "created_at": f.created_at, "updated_at": f.updated_at})
}

fn form_id(raw: &str) -> ApiResult<String> {
    path_id::<Uuid>(raw, "form").map(|u| u.to_string())
}

#[utoipa::path(get, path = "/api/v1/forms", tag = "consent",
    responses((status = 200, body = inline(Object))), security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Value>> {
    let mut tx = s.engine.store().begin().await?;
    let all = tx.forms(who.ws()).await?;
    tx.commit().await?;
    let mut data = Vec::with_capacity(all.len());
    for f in all {
        let def: Value = serde_json::from_str(&f.definition).unwrap_or(Value::Null);
        data.push(json!({"id": f.id, "name": f.name, "definition": def, "url": format!("/f/{}", f.id),
                         "created_at": f.created_at, "updated_at": f.updated_at}));
    }
    Ok(Json(json!({"data": data})))
}

/// Create a form: `{"name", "channel"?: "email", "purposes": ["marketing"], "wording", "wording_version",
/// "list_id"?, "double_opt_in"?: true, "confirmation_template"?, "sender"?, "token_lifetime_hours"?: 168,
/// "reminder_after_hours"?: 48 (null: none), "max_reminders"?: 1, "fields"?: ["first_name", "last_name"]}`.
#[utoipa::path(post, path = "/api/v1/forms", tag = "consent", request_body = inline(Object),
    responses((status = 201, body = inline(Object)), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let obj = object_body(&body)?;
    let (f, def) = s.engine.create_form(who.ws(), &obj, &who.actor()).await?;
    Ok((StatusCode::CREATED, Json(view(&f, &def))))
}

#[utoipa::path(get, path = "/api/v1/forms/{id}", tag = "consent", params(("id" = String, Path)),
    responses((status = 200, body = inline(Object)), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = form_id(&id)?;
    let (f, def) =
        s.engine.form(who.ws(), &id).await?.ok_or_else(|| Problem::not_found(format!("no form with id {id:?}")))?;
    Ok(Json(view(&f, &def)))
}

/// Change some keys of the definition; the others keep their values.
/// Pending confirmations keep the wording they were asked with.
#[utoipa::path(patch, path = "/api/v1/forms/{id}", tag = "consent", params(("id" = String, Path)),
    request_body = inline(Object), responses((status = 200, body = inline(Object)), (status = 404, body = Problem),
    (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn update(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let id = form_id(&id)?;
    let obj = object_body(&body)?;
    let (f, def) = s.engine.update_form(who.ws(), &id, &obj, &who.actor()).await?;
    Ok(Json(view(&f, &def)))
}

/// Delete a form; links already mailed still confirm.
#[utoipa::path(delete, path = "/api/v1/forms/{id}", tag = "consent", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn remove(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = form_id(&id)?;
    if s.engine.delete_form(who.ws(), &id, &who.actor()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("no form with id {id:?}")))
    }
}
