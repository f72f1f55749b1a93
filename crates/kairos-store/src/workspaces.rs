//! Workspaces (tenants), API keys and custom-field definitions.

use crate::rows::parse_id;
use crate::{with_conn, Result, StoreError, Tx};
use chrono::{DateTime, Utc};
use kairos_core::apikey::{ApiKey, Scope};
use kairos_core::clock::{from_millis, to_millis};
use kairos_core::fields::{FieldDefinition, FieldEntity, FieldType};
use kairos_core::ids::{ApiKeyId, WorkspaceId};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct WorkspaceRow {
    id: String,
    name: String,
    created_at: i64,
}

impl WorkspaceRow {
    fn into_workspace(self) -> Result<Workspace> {
        Ok(Workspace {
            id: parse_id(&self.id, "workspace")?,
            name: self.name,
            created_at: from_millis(self.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: String,
    workspace_id: String,
    name: String,
    scope: String,
    prefix: String,
    created_at: i64,
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
    created_by: Option<String>,
}

impl ApiKeyRow {
    fn into_key(self) -> Result<ApiKey> {
        Ok(ApiKey {
            id: parse_id(&self.id, "api key")?,
            workspace_id: parse_id(&self.workspace_id, "workspace")?,
            name: self.name,
            scope: Scope::parse(&self.scope)
                .ok_or_else(|| StoreError::Corrupt(format!("api key scope {:?}", self.scope)))?,
            prefix: self.prefix,
            created_at: from_millis(self.created_at),
            revoked_at: self.revoked_at.map(from_millis),
            expires_at: self.expires_at.map(from_millis),
            created_by: self.created_by,
        })
    }
}

#[derive(sqlx::FromRow)]
struct FieldRow {
    entity: String,
    name: String,
    field_type: String,
    label: Option<String>,
}

impl FieldRow {
    fn into_def(self) -> Result<FieldDefinition> {
        Ok(FieldDefinition {
            entity: FieldEntity::parse(&self.entity)
                .ok_or_else(|| StoreError::Corrupt(format!("field entity {:?}", self.entity)))?,
            field_type: FieldType::parse(&self.field_type)
                .ok_or_else(|| StoreError::Corrupt(format!("field type {:?}", self.field_type)))?,
            name: self.name,
            label: self.label,
        })
    }
}

impl Tx {
    pub async fn create_workspace(&mut self, name: &str, now: DateTime<Utc>) -> Result<Workspace> {
        let ws = Workspace { id: WorkspaceId::new(), name: name.to_string(), created_at: now };
        self.savepoint().await?;
        let result =
            with_conn!(self, c => sqlx::query("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(ws.id.to_string()).bind(&ws.name).bind(to_millis(now))
            .execute(c).await.map(|r| r.rows_affected()))
            .map_err(StoreError::conflict_as(format!("workspace {name:?}")));
        self.end_savepoint(result).await?;
        Ok(ws)
    }

    pub async fn workspace_by_name(&mut self, name: &str) -> Result<Option<Workspace>> {
        let row: Option<WorkspaceRow> = with_conn!(self, c => sqlx::query_as("SELECT id, name, created_at FROM workspaces WHERE name = $1")
            .bind(name).fetch_optional(c).await)?;
        row.map(WorkspaceRow::into_workspace).transpose()
    }

    pub async fn workspace(&mut self, id: WorkspaceId) -> Result<Option<Workspace>> {
        let row: Option<WorkspaceRow> = with_conn!(self, c => sqlx::query_as("SELECT id, name, created_at FROM workspaces WHERE id = $1")
            .bind(id.to_string()).fetch_optional(c).await)?;
        row.map(WorkspaceRow::into_workspace).transpose()
    }

    pub async fn list_workspaces(&mut self) -> Result<Vec<Workspace>> {
        let rows: Vec<WorkspaceRow> = with_conn!(self, c => sqlx::query_as("SELECT id, name, created_at FROM workspaces ORDER BY name")
            .fetch_all(c).await)?;
        rows.into_iter().map(WorkspaceRow::into_workspace).collect()
    }

    /// Store a key under the digest of its secret.
    pub async fn insert_api_key(&mut self, key: &ApiKey, digest: &str) -> Result<()> {
        with_conn!(self, c => sqlx::query("INSERT INTO api_keys (id, workspace_id, name, scope, prefix, digest, created_at, expires_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(key.id.to_string()).bind(key.workspace_id.to_string()).bind(&key.name)
            .bind(key.scope.as_str()).bind(&key.prefix).bind(digest).bind(to_millis(key.created_at))
            .bind(key.expires_at.map(to_millis)).bind(&key.created_by)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The key with this secret digest, revoked or not.
    pub async fn api_key_by_digest(&mut self, digest: &str) -> Result<Option<ApiKey>> {
        let row: Option<ApiKeyRow> = with_conn!(self, c => sqlx::query_as(
            "SELECT id, workspace_id, name, scope, prefix, created_at, revoked_at, expires_at, created_by FROM api_keys WHERE digest = $1")
            .bind(digest).fetch_optional(c).await)?;
        row.map(ApiKeyRow::into_key).transpose()
    }

    pub async fn list_api_keys(&mut self, ws: WorkspaceId) -> Result<Vec<ApiKey>> {
        let rows: Vec<ApiKeyRow> = with_conn!(self, c => sqlx::query_as(
            "SELECT id, workspace_id, name, scope, prefix, created_at, revoked_at, expires_at, created_by FROM api_keys WHERE workspace_id = $1 ORDER BY created_at, id")
            .bind(ws.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(ApiKeyRow::into_key).collect()
    }

    /// Revoke a key; false if the workspace has no such key.
    pub async fn revoke_api_key(&mut self, ws: WorkspaceId, id: ApiKeyId, now: DateTime<Utc>) -> Result<bool> {
        let done = with_conn!(self, c => sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(id.to_string()).bind(to_millis(now)).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// Define a custom field. Redefining with the same type updates the
    /// label; changing the type of an existing field is a conflict.
    pub async fn define_field(&mut self, ws: WorkspaceId, def: &FieldDefinition, now: DateTime<Utc>) -> Result<()> {
        let existing = self.field(ws, def.entity, &def.name).await?;
        if let Some(old) = existing {
            if old.field_type != def.field_type {
                return Err(StoreError::Conflict(format!(
                    "field {:?} with type {}",
                    def.name,
                    old.field_type.as_str()
                )));
            }
            with_conn!(self, c => sqlx::query("UPDATE field_definitions SET label = $4 WHERE workspace_id = $1 AND entity = $2 AND name = $3")
                .bind(ws.to_string()).bind(def.entity.as_str()).bind(&def.name).bind(&def.label)
                .execute(c).await.map(|r| r.rows_affected()))?;
            return Ok(());
        }
        with_conn!(self, c => sqlx::query("INSERT INTO field_definitions (workspace_id, entity, name, field_type, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(ws.to_string()).bind(def.entity.as_str()).bind(&def.name)
            .bind(def.field_type.as_str()).bind(&def.label).bind(to_millis(now))
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn field(&mut self, ws: WorkspaceId, entity: FieldEntity, name: &str) -> Result<Option<FieldDefinition>> {
        let row: Option<FieldRow> = with_conn!(self, c => sqlx::query_as(
            "SELECT entity, name, field_type, label FROM field_definitions WHERE workspace_id = $1 AND entity = $2 AND name = $3")
            .bind(ws.to_string()).bind(entity.as_str()).bind(name).fetch_optional(c).await)?;
        row.map(FieldRow::into_def).transpose()
    }

    pub async fn list_fields(&mut self, ws: WorkspaceId) -> Result<Vec<FieldDefinition>> {
        let rows: Vec<FieldRow> = with_conn!(self, c => sqlx::query_as(
            "SELECT entity, name, field_type, label FROM field_definitions WHERE workspace_id = $1 ORDER BY entity, name")
            .bind(ws.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(FieldRow::into_def).collect()
    }

    pub async fn delete_field(&mut self, ws: WorkspaceId, entity: FieldEntity, name: &str) -> Result<bool> {
        let done = with_conn!(self, c => sqlx::query("DELETE FROM field_definitions WHERE workspace_id = $1 AND entity = $2 AND name = $3")
            .bind(ws.to_string()).bind(entity.as_str()).bind(name).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }
}
