//! `/api/v1/workspace`: which workspace the key belongs to, with headline counts.

use crate::auth::Admin;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceView {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub contacts: i64,
    pub events: i64,
    /// Events received in the last 24 hours.
    pub events_last_24h: i64,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/workspace", get(read))
}

/// The key's workspace and its headline counts.
#[utoipa::path(get, path = "/api/v1/workspace", tag = "workspace", responses((status = 200, body = WorkspaceView)), security(("bearer" = [])))]
pub async fn read(State(s): State<AppState>, admin: Admin) -> ApiResult<Json<WorkspaceView>> {
    let mut tx = s.engine.store().begin().await?;
    let ws =
        tx.workspace(admin.ws()).await?.ok_or_else(|| Problem::not_found("the key's workspace no longer exists"))?;
    let since = s.engine.clock().now() - Duration::hours(24);
    Ok(Json(WorkspaceView {
        id: ws.id.to_string(),
        name: ws.name,
        created_at: ws.created_at,
        contacts: tx.count_contacts(admin.ws()).await?,
        events: tx.count_events(admin.ws()).await?,
        events_last_24h: tx.count_events_since(admin.ws(), since).await?,
    }))
}
