//! Contacts, their anonymous ids, and their company links.

use crate::rows::{parse_id, to_json, ContactRow, CONTACT_COLUMNS};
use crate::{with_conn, Backend, Result, StoreError, Tx};
use chrono::{DateTime, Utc};
use kairos_core::clock::to_millis;
use kairos_core::contact::Contact;
use kairos_core::ids::{CompanyId, ContactId, WorkspaceId};
use std::collections::{HashMap, HashSet};

/// Filters for [`Tx::search_contacts`]; all given filters must hold.
#[derive(Debug, Clone, Default)]
pub struct ContactFilter {
    /// Case-insensitive substring of email, first name, last name or external id.
    pub q: Option<String>,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub country: Option<String>,
    pub company_id: Option<CompanyId>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Custom field conditions, typed by the field's type.
    pub custom_equals: Vec<(String, CustomMatch)>,
    /// The order of the result; by id unless asked.
    pub sort: ContactSort,
    /// Only contacts after this one in `sort` order (the cursor).
    pub after: Option<ContactCursor>,
}

/// What a contact list can be ordered by. Each order ends with the id, so
/// pages never overlap or skip a contact that shares a sort value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContactOrder {
    /// Id order, which is creation order for contacts created here (UUID v7).
    #[default]
    Id,
    Email,
    FirstName,
    LastName,
    Country,
    CreatedAt,
    UpdatedAt,
}

impl ContactOrder {
    /// Every order with its API name.
    pub const ALL: [(&'static str, ContactOrder); 7] = [
        ("id", ContactOrder::Id),
        ("email", ContactOrder::Email),
        ("first_name", ContactOrder::FirstName),
        ("last_name", ContactOrder::LastName),
        ("country", ContactOrder::Country),
        ("created_at", ContactOrder::CreatedAt),
        ("updated_at", ContactOrder::UpdatedAt),
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, o)| *o)
    }

    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, o)| *o == self).map(|(n, _)| *n).unwrap_or("id")
    }

    fn column(self) -> &'static str {
        self.name()
    }

    /// The value a contact is ordered by (text as stored: the comparison
    /// lower-cases it in SQL, so both stores agree on what "the same" is).
    fn key_of(self, c: &Contact) -> SortKey {
        match self {
            ContactOrder::Id => SortKey::Id,
            ContactOrder::Email => SortKey::Text(c.email.clone()),
            ContactOrder::FirstName => SortKey::Text(c.first_name.clone()),
            ContactOrder::LastName => SortKey::Text(c.last_name.clone()),
            ContactOrder::Country => SortKey::Text(c.country.clone()),
            ContactOrder::CreatedAt => SortKey::Int(to_millis(c.created_at)),
            ContactOrder::UpdatedAt => SortKey::Int(to_millis(c.updated_at)),
        }
    }
}

/// An order and its direction. Text orders ignore case and put contacts
/// without the value last in both directions: a list sorted by last name
/// starts with names, not with blanks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContactSort {
    pub order: ContactOrder,
    pub descending: bool,
}

/// The sort value of the contact a page ended on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// Sorted by id: the id is the whole key.
    Id,
    /// A text column; `None` for a contact without the value.
    Text(Option<String>),
    /// A time column, in milliseconds.
    Int(i64),
}

/// Where a page ended: the last contact's id and its sort value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCursor {
    pub id: ContactId,
    pub key: SortKey,
}

/// A condition on one custom field.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomMatch {
    /// String or date field equals.
    Text(String),
    /// Number field equals.
    Number(f64),
    /// Boolean field is.
    Bool(bool),
    /// List field contains.
    ListContains(String),
}

/// A page of contacts and the cursor for the next page.
#[derive(Debug, Clone)]
pub struct ContactPage {
    pub contacts: Vec<Contact>,
    pub next: Option<ContactCursor>,
}

pub(crate) fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Build the WHERE clause of a contact search. Only parameter numbers and
/// fixed SQL are interpolated; every value is bound.
enum Bind {
    Text(String),
    Int(i64),
    Float(f64),
}

fn search_sql(backend: Backend, f: &ContactFilter, limit: i64) -> (String, Vec<Bind>) {
    let mut binds: Vec<Bind> = Vec::new();
    let mut sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE workspace_id = $1");
    let next = |v: String, binds: &mut Vec<Bind>| {
        binds.push(Bind::Text(v));
        binds.len() + 1
    };
    if let Some(q) = &f.q {
        let n = next(format!("%{}%", escape_like(q)), &mut binds);
        let like = backend.ilike();
        sql += &format!(
            " AND (email {like} ${n} ESCAPE '\\' OR first_name {like} ${n} ESCAPE '\\' OR last_name {like} ${n} ESCAPE '\\' OR external_id {like} ${n} ESCAPE '\\')"
        );
    }
    if let Some(v) = &f.email {
        let n = next(v.clone(), &mut binds);
        sql += &format!(" AND email = ${n}");
    }
    if let Some(v) = &f.external_id {
        let n = next(v.clone(), &mut binds);
        sql += &format!(" AND external_id = ${n}");
    }
    if let Some(v) = &f.country {
        let n = next(v.to_ascii_uppercase(), &mut binds);
        sql += &format!(" AND country = ${n}");
    }
    if let Some(v) = &f.company_id {
        let n = next(v.to_string(), &mut binds);
        sql += &format!(
            " AND id IN (SELECT contact_id FROM contact_companies WHERE workspace_id = $1 AND company_id = ${n})"
        );
    }
    if let Some(v) = &f.updated_since {
        binds.push(Bind::Int(to_millis(*v)));
        let n = binds.len() + 1;
        sql += &format!(" AND updated_at >= ${n}");
    }
    for (field, m) in &f.custom_equals {
        let nf = next(field.clone(), &mut binds);
        let text = backend.json_text("custom", nf);
        let cond = match (m, backend) {
            (CustomMatch::Text(v), _) => format!("{text} = ${}", next(v.clone(), &mut binds)),
            (CustomMatch::Number(v), b) => {
                binds.push(Bind::Float(*v));
                let n = binds.len() + 1;
                match b {
                    Backend::Sqlite => format!("json_extract(custom, '$.' || ${nf}) = ${n}"),
                    Backend::Postgres => format!("CAST({text} AS DOUBLE PRECISION) = ${n}"),
                }
            }
            (CustomMatch::Bool(v), Backend::Sqlite) => {
                format!("json_extract(custom, '$.' || ${nf}) = {}", i32::from(*v))
            }
            (CustomMatch::Bool(v), Backend::Postgres) => format!("{text} = '{v}'"),
            (CustomMatch::ListContains(v), Backend::Sqlite) => {
                let n = next(v.clone(), &mut binds);
                format!("EXISTS (SELECT 1 FROM json_each(custom, '$.' || ${nf}) WHERE value = ${n})")
            }
            (CustomMatch::ListContains(v), Backend::Postgres) => {
                let n = next(v.clone(), &mut binds);
                format!("(custom)::jsonb -> ${nf} @> jsonb_build_array(CAST(${n} AS TEXT))")
            }
        };
        sql += &format!(" AND {cond}");
    }
    let sort = f.sort;
    let col = sort.order.column();
    let (cmp, dir) = if sort.descending { ("<", " DESC") } else { (">", "") };
    // Text compares lower-cased and byte-wise on both stores (PostgreSQL's
    // default collation would order differently from SQLite's).
    let collate = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " COLLATE \"C\"",
    };
    let text = format!("lower({col}){collate}");
    if let Some(after) = &f.after {
        let i = next(after.id.to_string(), &mut binds);
        let cond = match &after.key {
            SortKey::Id => format!("id {cmp} ${i}"),
            SortKey::Int(v) => {
                binds.push(Bind::Int(*v));
                let n = binds.len() + 1;
                format!("({col} {cmp} ${n} OR ({col} = ${n} AND id {cmp} ${i}))")
            }
            SortKey::Text(Some(v)) => {
                let n = next(v.clone(), &mut binds);
                format!(
                    "({col} IS NULL OR {text} {cmp} lower(${n}) OR ({col} IS NOT NULL AND {text} = lower(${n}) AND id {cmp} ${i}))"
                )
            }
            SortKey::Text(None) => format!("({col} IS NULL AND id {cmp} ${i})"),
        };
        sql += &format!(" AND {cond}");
    }
    sql += &match sort.order {
        ContactOrder::Id => format!(" ORDER BY id{dir}"),
        ContactOrder::CreatedAt | ContactOrder::UpdatedAt => format!(" ORDER BY {col}{dir}, id{dir}"),
        _ => format!(" ORDER BY ({col} IS NULL), {text}{dir}, id{dir}"),
    };
    sql += &format!(" LIMIT {}", limit + 1);
    (sql, binds)
}

impl Tx {
    pub async fn insert_contact(&mut self, c: &Contact) -> Result<()> {
        let what = match (&c.email, &c.external_id) {
            (Some(e), _) => format!("a contact with email {e:?} or this external id"),
            (None, Some(x)) => format!("a contact with external id {x:?}"),
            _ => "this contact".to_string(),
        };
        // `ON CONFLICT DO NOTHING` instead of a savepoint: a duplicate is
        // reported without an error that would abort a PostgreSQL
        // transaction, in one round trip instead of three.
        let inserted = with_conn!(self, conn => sqlx::query(
            "INSERT INTO contacts (workspace_id, id, external_id, email, phone, first_name, last_name, timezone, locale, country, custom, field_times, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING")
            .bind(c.workspace_id.to_string()).bind(c.id.to_string()).bind(&c.external_id).bind(&c.email)
            .bind(&c.phone).bind(&c.first_name).bind(&c.last_name).bind(&c.timezone).bind(&c.locale)
            .bind(&c.country).bind(to_json(&c.custom)).bind(to_json(&c.field_times))
            .bind(to_millis(c.created_at)).bind(to_millis(c.updated_at))
            .execute(conn).await.map(|r| r.rows_affected()))?;
        if inserted == 0 {
            return Err(StoreError::Conflict(what));
        }
        self.touch_contact(c.workspace_id, c.id);
        self.created.insert((c.workspace_id, c.id));
        Ok(())
    }

    /// Insert many new contacts at once (imports). Fails as a whole on a
    /// duplicate email or external id.
    pub async fn insert_contacts(&mut self, contacts: &[Contact]) -> Result<()> {
        // 14 parameters a row: 2000 rows stay under SQLite's 32766.
        for chunk in contacts.chunks(2000) {
            self.savepoint().await?;
            let result = with_conn!(self, conn => {
                let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO contacts ({CONTACT_COLUMNS}) "));
                qb.push_values(chunk, |mut b, c| {
                    b.push_bind(c.workspace_id.to_string()).push_bind(c.id.to_string()).push_bind(c.external_id.clone())
                        .push_bind(c.email.clone()).push_bind(c.phone.clone()).push_bind(c.first_name.clone())
                        .push_bind(c.last_name.clone()).push_bind(c.timezone.clone()).push_bind(c.locale.clone())
                        .push_bind(c.country.clone()).push_bind(to_json(&c.custom)).push_bind(to_json(&c.field_times))
                        .push_bind(to_millis(c.created_at)).push_bind(to_millis(c.updated_at));
                });
                qb.build().execute(conn).await.map(|r| r.rows_affected())
            })
            .map_err(StoreError::conflict_as("a contact with one of these emails or external ids"));
            self.end_savepoint(result).await?;
        }
        for c in contacts {
            self.touch_contact(c.workspace_id, c.id);
            self.created.insert((c.workspace_id, c.id));
        }
        Ok(())
    }

    /// Contacts whose `column` (email or external_id) is one of `values`.
    pub async fn contacts_where_in(
        &mut self,
        ws: WorkspaceId,
        by_email: bool,
        values: &[String],
    ) -> Result<Vec<Contact>> {
        let column = if by_email { "email" } else { "external_id" };
        let mut out = Vec::new();
        for chunk in values.chunks(1000) {
            let rows: Vec<ContactRow> = with_conn!(self, conn => {
                let mut qb = sqlx::QueryBuilder::new(format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE workspace_id = "));
                qb.push_bind(ws.to_string());
                qb.push(format!(" AND {column} IN ("));
                let mut sep = qb.separated(", ");
                for v in chunk {
                    sep.push_bind(v.clone());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(conn).await
            })?;
            for r in rows {
                out.push(r.into_contact()?);
            }
        }
        Ok(out)
    }

    /// Contacts by id, with their company links, in a few queries.
    pub async fn contacts_by_ids(&mut self, ws: WorkspaceId, ids: &[ContactId]) -> Result<Vec<Contact>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(1000) {
            let rows: Vec<ContactRow> = with_conn!(self, conn => {
                let mut qb = sqlx::QueryBuilder::new(format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE workspace_id = "));
                qb.push_bind(ws.to_string()).push(" AND id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.to_string());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(conn).await
            })?;
            let links: Vec<(String, String)> = with_conn!(self, conn => {
                let mut qb = sqlx::QueryBuilder::new("SELECT contact_id, company_id FROM contact_companies WHERE workspace_id = ");
                qb.push_bind(ws.to_string()).push(" AND contact_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.to_string());
                }
                qb.push(") ORDER BY created_at, company_id");
                qb.build_query_as().fetch_all(conn).await
            })?;
            let mut by_contact: HashMap<ContactId, Vec<CompanyId>> = HashMap::new();
            for (c, co) in links {
                by_contact.entry(parse_id(&c, "contact")?).or_default().push(parse_id(&co, "company")?);
            }
            for r in rows {
                let mut c = r.into_contact()?;
                c.company_ids = by_contact.remove(&c.id).unwrap_or_default();
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Write back every field of a contact (not its company links).
    pub async fn update_contact(&mut self, c: &Contact) -> Result<bool> {
        let what = match (&c.email, &c.external_id) {
            (Some(e), _) => format!("another contact with email {e:?} or this external id"),
            _ => "another contact with this external id".to_string(),
        };
        self.savepoint().await?;
        let result = with_conn!(self, conn => sqlx::query(
            "UPDATE contacts SET external_id = $3, email = $4, phone = $5, first_name = $6, last_name = $7, timezone = $8,
             locale = $9, country = $10, custom = $11, field_times = $12, created_at = $13, updated_at = $14
             WHERE workspace_id = $1 AND id = $2")
            .bind(c.workspace_id.to_string()).bind(c.id.to_string()).bind(&c.external_id).bind(&c.email)
            .bind(&c.phone).bind(&c.first_name).bind(&c.last_name).bind(&c.timezone).bind(&c.locale)
            .bind(&c.country).bind(to_json(&c.custom)).bind(to_json(&c.field_times))
            .bind(to_millis(c.created_at)).bind(to_millis(c.updated_at))
            .execute(conn).await.map(|r| r.rows_affected()))
        .map_err(StoreError::conflict_as(what));
        let done = self.end_savepoint(result).await?;
        if done > 0 {
            self.touch_contact(c.workspace_id, c.id);
        }
        Ok(done > 0)
    }

    async fn contact_where(&mut self, ws: WorkspaceId, column: &str, value: &str) -> Result<Option<Contact>> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE workspace_id = $1 AND {column} = $2");
        let row: Option<ContactRow> = with_conn!(self, c => sqlx::query_as(&sql)
            .bind(ws.to_string()).bind(value).fetch_optional(c).await)?;
        let Some(row) = row else { return Ok(None) };
        let mut contact = row.into_contact()?;
        contact.company_ids = self.company_ids_of(ws, contact.id).await?;
        Ok(Some(contact))
    }

    pub async fn contact(&mut self, ws: WorkspaceId, id: ContactId) -> Result<Option<Contact>> {
        self.contact_where(ws, "id", &id.to_string()).await
    }

    pub async fn contact_by_external_id(&mut self, ws: WorkspaceId, external_id: &str) -> Result<Option<Contact>> {
        self.contact_where(ws, "external_id", external_id).await
    }

    pub async fn contact_by_email(&mut self, ws: WorkspaceId, email: &str) -> Result<Option<Contact>> {
        self.contact_where(ws, "email", email).await
    }

    /// Which of these contacts exist.
    pub async fn existing_contacts(&mut self, ws: WorkspaceId, ids: &[ContactId]) -> Result<HashSet<ContactId>> {
        let mut out = HashSet::new();
        for chunk in ids.chunks(1000) {
            let rows: Vec<String> = with_conn!(self, conn => {
                let mut qb = sqlx::QueryBuilder::new("SELECT id FROM contacts WHERE workspace_id = ");
                qb.push_bind(ws.to_string()).push(" AND id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.to_string());
                }
                qb.push(")");
                qb.build_query_scalar().fetch_all(conn).await
            })?;
            for r in rows {
                out.insert(parse_id(&r, "contact")?);
            }
        }
        Ok(out)
    }

    /// Which of these external ids belong to contacts, and to which.
    pub async fn contact_ids_by_external_ids(
        &mut self,
        ws: WorkspaceId,
        external_ids: &[String],
    ) -> Result<Vec<(String, ContactId)>> {
        let mut out = Vec::new();
        for chunk in external_ids.chunks(1000) {
            let rows: Vec<(String, String)> = with_conn!(self, conn => {
                let mut qb = sqlx::QueryBuilder::new("SELECT external_id, id FROM contacts WHERE workspace_id = ");
                qb.push_bind(ws.to_string()).push(" AND external_id IN (");
                let mut sep = qb.separated(", ");
                for v in chunk {
                    sep.push_bind(v.clone());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(conn).await
            })?;
            for (x, id) in rows {
                out.push((x, parse_id(&id, "contact")?));
            }
        }
        Ok(out)
    }

    /// Which of these anonymous ids (or aliases) point at contacts: the
    /// contact, and whether it has an external id.
    pub async fn contacts_by_anonymous_ids(
        &mut self,
        ws: WorkspaceId,
        anonymous_ids: &[String],
    ) -> Result<Vec<(String, ContactId, bool)>> {
        let mut out = Vec::new();
        for chunk in anonymous_ids.chunks(1000) {
            let rows: Vec<(String, String, Option<String>)> = with_conn!(self, conn => {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT a.anonymous_id, a.contact_id, c.external_id FROM anonymous_ids a
                     LEFT JOIN contacts c ON c.workspace_id = a.workspace_id AND c.id = a.contact_id
                     WHERE a.workspace_id = ");
                qb.push_bind(ws.to_string()).push(" AND a.anonymous_id IN (");
                let mut sep = qb.separated(", ");
                for v in chunk {
                    sep.push_bind(v.clone());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(conn).await
            })?;
            for (a, id, x) in rows {
                out.push((a, parse_id(&id, "contact")?, x.is_some()));
            }
        }
        Ok(out)
    }

    /// The contact an anonymous id belongs to.
    pub async fn contact_id_by_anonymous_id(
        &mut self,
        ws: WorkspaceId,
        anonymous_id: &str,
    ) -> Result<Option<ContactId>> {
        let id: Option<String> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT contact_id FROM anonymous_ids WHERE workspace_id = $1 AND anonymous_id = $2")
            .bind(ws.to_string()).bind(anonymous_id).fetch_optional(c).await)?;
        id.map(|s| parse_id(&s, "contact")).transpose()
    }

    /// Point an anonymous id at a contact (re-pointing it if it was elsewhere).
    pub async fn link_anonymous_id(
        &mut self,
        ws: WorkspaceId,
        anonymous_id: &str,
        contact: ContactId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO anonymous_ids (workspace_id, anonymous_id, contact_id, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (workspace_id, anonymous_id) DO UPDATE SET contact_id = excluded.contact_id")
            .bind(ws.to_string()).bind(anonymous_id).bind(contact.to_string()).bind(to_millis(now))
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn anonymous_ids_of(&mut self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<String>> {
        Ok(with_conn!(self, c => sqlx::query_scalar(
            "SELECT anonymous_id FROM anonymous_ids WHERE workspace_id = $1 AND contact_id = $2 ORDER BY created_at, anonymous_id")
            .bind(ws.to_string()).bind(contact.to_string()).fetch_all(c).await)?)
    }

    /// Move all anonymous ids of `from` to `to` (used by merges).
    pub async fn move_anonymous_ids(&mut self, ws: WorkspaceId, from: ContactId, to: ContactId) -> Result<()> {
        with_conn!(self, c => sqlx::query("UPDATE anonymous_ids SET contact_id = $3 WHERE workspace_id = $1 AND contact_id = $2")
            .bind(ws.to_string()).bind(from.to_string()).bind(to.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn company_ids_of(&mut self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<CompanyId>> {
        let ids: Vec<String> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT company_id FROM contact_companies WHERE workspace_id = $1 AND contact_id = $2 ORDER BY created_at, company_id")
            .bind(ws.to_string()).bind(contact.to_string()).fetch_all(c).await)?;
        ids.iter().map(|s| parse_id(s, "company")).collect()
    }

    /// Link a contact to a company; linking twice is a no-op.
    pub async fn link_company(
        &mut self,
        ws: WorkspaceId,
        contact: ContactId,
        company: CompanyId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO contact_companies (workspace_id, contact_id, company_id, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING")
            .bind(ws.to_string()).bind(contact.to_string()).bind(company.to_string()).bind(to_millis(now))
            .execute(c).await.map(|r| r.rows_affected()))?;
        self.touch_contact(ws, contact);
        Ok(())
    }

    pub async fn unlink_company(&mut self, ws: WorkspaceId, contact: ContactId, company: CompanyId) -> Result<bool> {
        let done = with_conn!(self, c => sqlx::query(
            "DELETE FROM contact_companies WHERE workspace_id = $1 AND contact_id = $2 AND company_id = $3")
            .bind(ws.to_string()).bind(contact.to_string()).bind(company.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        self.touch_contact(ws, contact);
        Ok(done > 0)
    }

    /// Delete a contact with its events, anonymous ids and company links.
    pub async fn delete_contact(&mut self, ws: WorkspaceId, id: ContactId) -> Result<bool> {
        let (w, i) = (ws.to_string(), id.to_string());
        for sql in [
            "DELETE FROM events WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM anonymous_ids WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM contact_companies WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM segment_members WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM list_members WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM consents WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM consent_history WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM email_clicks WHERE workspace_id = $1 AND message_id IN
             (SELECT id FROM email_messages WHERE workspace_id = $1 AND contact_id = $2)",
            "DELETE FROM email_messages WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM campaign_recipients WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM form_confirmations WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM contact_scores WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM score_changes WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM model_scores WHERE workspace_id = $1 AND contact_id = $2",
        ] {
            with_conn!(self, c => sqlx::query(sql).bind(&w).bind(&i).execute(c).await.map(|r| r.rows_affected()))?;
        }
        let done = with_conn!(self, c => sqlx::query("DELETE FROM contacts WHERE workspace_id = $1 AND id = $2")
            .bind(&w).bind(&i).execute(c).await.map(|r| r.rows_affected()))?;
        self.touched.deleted.push((ws, id));
        Ok(done > 0)
    }

    /// Delete only the contact row (its events and links were moved away).
    pub(crate) async fn delete_contact_row(&mut self, ws: WorkspaceId, id: ContactId) -> Result<()> {
        for sql in [
            "DELETE FROM contact_companies WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM segment_members WHERE workspace_id = $1 AND contact_id = $2",
            "DELETE FROM list_members WHERE workspace_id = $1 AND contact_id = $2",
            // The survivor is scored again from the events it now has.
            "DELETE FROM model_scores WHERE workspace_id = $1 AND contact_id = $2",
        ] {
            with_conn!(self, c => sqlx::query(sql)
                .bind(ws.to_string()).bind(id.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        }
        with_conn!(self, c => sqlx::query("DELETE FROM contacts WHERE workspace_id = $1 AND id = $2")
            .bind(ws.to_string()).bind(id.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        self.touched.deleted.push((ws, id));
        Ok(())
    }

    /// Search contacts, ordered by id, `limit` at a time.
    pub async fn search_contacts(
        &mut self,
        ws: WorkspaceId,
        filter: &ContactFilter,
        limit: i64,
    ) -> Result<ContactPage> {
        let (sql, binds) = search_sql(self.backend(), filter, limit);
        let rows: Vec<ContactRow> = with_conn!(self, c => {
            let mut q = sqlx::query_as(&sql).bind(ws.to_string());
            for b in &binds {
                q = match b {
                    Bind::Text(s) => q.bind(s),
                    Bind::Int(i) => q.bind(*i),
                    Bind::Float(x) => q.bind(*x),
                };
            }
            q.fetch_all(c).await
        })?;
        let mut contacts = rows.into_iter().map(ContactRow::into_contact).collect::<Result<Vec<_>>>()?;
        let next = if contacts.len() as i64 > limit {
            contacts.truncate(limit as usize);
            contacts.last().map(|c| ContactCursor { id: c.id, key: filter.sort.order.key_of(c) })
        } else {
            None
        };
        self.fill_company_ids(ws, &mut contacts).await?;
        Ok(ContactPage { contacts, next })
    }

    async fn fill_company_ids(&mut self, ws: WorkspaceId, contacts: &mut [Contact]) -> Result<()> {
        if contacts.is_empty() {
            return Ok(());
        }
        // The page may be in any order: name its contacts one by one.
        let marks = (0..contacts.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT contact_id, company_id FROM contact_companies WHERE workspace_id = $1 AND contact_id IN ({marks}) ORDER BY created_at, company_id"
        );
        let rows: Vec<(String, String)> = with_conn!(self, c => {
            let mut q = sqlx::query_as(&sql).bind(ws.to_string());
            for contact in contacts.iter() {
                q = q.bind(contact.id.to_string());
            }
            q.fetch_all(c).await
        })?;
        let mut by_contact: HashMap<String, Vec<CompanyId>> = HashMap::new();
        for (contact, company) in rows {
            by_contact.entry(contact).or_default().push(parse_id(&company, "company")?);
        }
        for c in contacts.iter_mut() {
            if let Some(ids) = by_contact.remove(&c.id.to_string()) {
                c.company_ids = ids;
            }
        }
        Ok(())
    }

    pub async fn count_contacts(&mut self, ws: WorkspaceId) -> Result<i64> {
        Ok(with_conn!(self, c => sqlx::query_scalar("SELECT COUNT(*) FROM contacts WHERE workspace_id = $1")
            .bind(ws.to_string()).fetch_one(c).await)?)
    }
}
