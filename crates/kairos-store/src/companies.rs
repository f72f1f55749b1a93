//! Companies (accounts) and the contacts linked to them.

use crate::contacts::escape_like;
use crate::rows::{parse_id, to_json, CompanyRow, COMPANY_COLUMNS};
use crate::{with_conn, Result, StoreError, Tx};
use kairos_core::clock::to_millis;
use kairos_core::company::Company;
use kairos_core::ids::{CompanyId, ContactId, WorkspaceId};

impl Tx {
    pub async fn insert_company(&mut self, c: &Company) -> Result<()> {
        self.savepoint().await?;
        let result = with_conn!(self, conn => sqlx::query(&format!("INSERT INTO companies ({COMPANY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
            .bind(c.workspace_id.to_string()).bind(c.id.to_string()).bind(&c.external_id).bind(&c.name)
            .bind(&c.domain).bind(to_json(&c.custom)).bind(to_millis(c.created_at)).bind(to_millis(c.updated_at))
            .execute(conn).await.map(|r| r.rows_affected()))
        .map_err(StoreError::conflict_as(format!("a company with external id {:?}", c.external_id.as_deref().unwrap_or(""))));
        self.end_savepoint(result).await?;
        self.touched.companies.push((c.workspace_id, c.id));
        Ok(())
    }

    pub async fn update_company(&mut self, c: &Company) -> Result<bool> {
        self.savepoint().await?;
        let result = with_conn!(self, conn => sqlx::query(
            "UPDATE companies SET external_id = $3, name = $4, domain = $5, custom = $6, updated_at = $7 WHERE workspace_id = $1 AND id = $2")
            .bind(c.workspace_id.to_string()).bind(c.id.to_string()).bind(&c.external_id).bind(&c.name)
            .bind(&c.domain).bind(to_json(&c.custom)).bind(to_millis(c.updated_at))
            .execute(conn).await.map(|r| r.rows_affected()))
        .map_err(StoreError::conflict_as(format!("a company with external id {:?}", c.external_id.as_deref().unwrap_or(""))));
        let done = self.end_savepoint(result).await?;
        if done > 0 {
            self.touched.companies.push((c.workspace_id, c.id));
        }
        Ok(done > 0)
    }

    async fn company_where(&mut self, ws: WorkspaceId, column: &str, value: &str) -> Result<Option<Company>> {
        let sql = format!("SELECT {COMPANY_COLUMNS} FROM companies WHERE workspace_id = $1 AND {column} = $2");
        let row: Option<CompanyRow> =
            with_conn!(self, c => sqlx::query_as(&sql).bind(ws.to_string()).bind(value).fetch_optional(c).await)?;
        row.map(CompanyRow::into_company).transpose()
    }

    pub async fn company(&mut self, ws: WorkspaceId, id: CompanyId) -> Result<Option<Company>> {
        self.company_where(ws, "id", &id.to_string()).await
    }

    pub async fn company_by_external_id(&mut self, ws: WorkspaceId, external_id: &str) -> Result<Option<Company>> {
        self.company_where(ws, "external_id", external_id).await
    }

    /// Companies ordered by id, after the cursor, `limit` at a time.
    /// Companies in id order after `after`, at most `limit`, with the next
    /// cursor; `q` keeps those whose name, domain or external id contains
    /// it (case-insensitive).
    pub async fn list_companies(
        &mut self,
        ws: WorkspaceId,
        q: Option<&str>,
        after: Option<CompanyId>,
        limit: i64,
    ) -> Result<(Vec<Company>, Option<CompanyId>)> {
        let after = after.map(|a| a.to_string()).unwrap_or_default();
        let like = self.backend().ilike();
        let sql = format!(
            "SELECT {COMPANY_COLUMNS} FROM companies WHERE workspace_id = $1 AND id > $2
             AND ($4 = '' OR name {like} $4 ESCAPE '\\' OR domain {like} $4 ESCAPE '\\' OR external_id {like} $4 ESCAPE '\\')
             ORDER BY id LIMIT $3"
        );
        let pattern = q.filter(|q| !q.is_empty()).map(|q| format!("%{}%", escape_like(q))).unwrap_or_default();
        let rows: Vec<CompanyRow> = with_conn!(self, c => sqlx::query_as(&sql).bind(ws.to_string()).bind(&after)
            .bind(limit + 1).bind(&pattern).fetch_all(c).await)?;
        let mut out = rows.into_iter().map(CompanyRow::into_company).collect::<Result<Vec<_>>>()?;
        let next = if out.len() as i64 > limit {
            out.truncate(limit as usize);
            out.last().map(|c| c.id)
        } else {
            None
        };
        Ok((out, next))
    }

    /// Delete a company and its contact links.
    pub async fn delete_company(&mut self, ws: WorkspaceId, id: CompanyId) -> Result<bool> {
        for contact in self.contacts_of_company(ws, id, i64::MAX).await? {
            self.touch_contact(ws, contact);
        }
        self.touched.deleted_companies.push((ws, id));
        with_conn!(self, c => sqlx::query("DELETE FROM contact_companies WHERE workspace_id = $1 AND company_id = $2")
            .bind(ws.to_string()).bind(id.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        let done = with_conn!(self, c => sqlx::query("DELETE FROM companies WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(id.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// Ids of the contacts linked to a company.
    pub async fn contacts_of_company(&mut self, ws: WorkspaceId, id: CompanyId, limit: i64) -> Result<Vec<ContactId>> {
        let ids: Vec<String> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT contact_id FROM contact_companies WHERE workspace_id = $1 AND company_id = $2 ORDER BY contact_id LIMIT $3")
            .bind(ws.to_string()).bind(id.to_string()).bind(limit).fetch_all(c).await)?;
        ids.iter().map(|s| parse_id(s, "contact")).collect()
    }
}
