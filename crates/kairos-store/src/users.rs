//! People who sign in to the UI: users (global, identified by email), their
//! role in each workspace they belong to, failed-sign-in counters for the
//! lockout, and sessions stored by the digest of their cookie.

use crate::rows::parse_id;
use crate::{with_conn, Result, StoreError, Tx};
use chrono::{DateTime, Utc};
use kairos_core::access::Role;
use kairos_core::clock::{from_millis, to_millis};
use kairos_core::ids::{UserId, WorkspaceId};
use serde::Serialize;

/// A user, without the password hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    /// Lower-cased.
    pub email: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub password_changed_at: DateTime<Utc>,
    /// Consecutive failed sign-ins since the last success or lock.
    pub failed_sign_ins: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// A user with the role they hold in one workspace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub user: User,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// A signed-in session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub user_id: UserId,
    /// The workspace the session is working in now.
    pub workspace_id: WorkspaceId,
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    email: String,
    name: String,
    password_hash: String,
    created_at: i64,
    password_changed_at: i64,
    failed_sign_ins: i32,
    locked_until: Option<i64>,
}

const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.password_hash, u.created_at, u.password_changed_at, u.failed_sign_ins, u.locked_until";

impl UserRow {
    fn into_user(self) -> Result<(User, String)> {
        Ok((
            User {
                id: parse_id(&self.id, "user")?,
                email: self.email,
                name: self.name,
                created_at: from_millis(self.created_at),
                password_changed_at: from_millis(self.password_changed_at),
                failed_sign_ins: self.failed_sign_ins.max(0) as u32,
                locked_until: self.locked_until.map(from_millis),
            },
            self.password_hash,
        ))
    }
}

/// user, workspace, csrf, created, expires, ip, user agent.
type SessionRow = (String, String, String, i64, i64, Option<String>, Option<String>);

fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("member role {s:?}")))
}

impl Tx {
    /// Store a new user; a taken email is a conflict.
    pub async fn insert_user(&mut self, user: &User, password_hash: &str) -> Result<()> {
        self.savepoint().await?;
        let result = with_conn!(self, c => sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, created_at, password_changed_at, failed_sign_ins) VALUES ($1, $2, $3, $4, $5, $6, 0)")
            .bind(user.id.to_string()).bind(&user.email).bind(&user.name).bind(password_hash)
            .bind(to_millis(user.created_at)).bind(to_millis(user.password_changed_at))
            .execute(c).await.map(|r| r.rows_affected()))
        .map_err(StoreError::conflict_as(format!("user {:?}", user.email)));
        self.end_savepoint(result).await?;
        Ok(())
    }

    /// The user with this (lower-cased) email and their password hash.
    pub async fn user_by_email(&mut self, email: &str) -> Result<Option<(User, String)>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1");
        let row: Option<UserRow> = with_conn!(self, c => sqlx::query_as(&sql).bind(email).fetch_optional(c).await)?;
        row.map(UserRow::into_user).transpose()
    }

    /// The user with this id and their password hash.
    pub async fn user(&mut self, id: UserId) -> Result<Option<(User, String)>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        let row: Option<UserRow> =
            with_conn!(self, c => sqlx::query_as(&sql).bind(id.to_string()).fetch_optional(c).await)?;
        row.map(UserRow::into_user).transpose()
    }

    /// Record the sign-in counters after an attempt.
    pub async fn set_sign_in_state(
        &mut self,
        id: UserId,
        failures: u32,
        locked_until: Option<DateTime<Utc>>,
    ) -> Result<()> {
        with_conn!(self, c => sqlx::query("UPDATE users SET failed_sign_ins = $2, locked_until = $3 WHERE id = $1")
            .bind(id.to_string()).bind(failures as i32).bind(locked_until.map(to_millis))
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_password(&mut self, id: UserId, password_hash: &str, now: DateTime<Utc>) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "UPDATE users SET password_hash = $2, password_changed_at = $3, failed_sign_ins = 0, locked_until = NULL WHERE id = $1")
            .bind(id.to_string()).bind(password_hash).bind(to_millis(now))
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Give a user a role in a workspace; already a member is a conflict.
    pub async fn add_member(&mut self, ws: WorkspaceId, user: UserId, role: Role, now: DateTime<Utc>) -> Result<()> {
        self.savepoint().await?;
        let result = with_conn!(self, c => sqlx::query(
            "INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(ws.to_string()).bind(user.to_string()).bind(role.as_str()).bind(to_millis(now))
            .execute(c).await.map(|r| r.rows_affected()))
        .map_err(StoreError::conflict_as("membership"));
        self.end_savepoint(result).await?;
        Ok(())
    }

    /// Change a member's role; false if they are not a member.
    pub async fn set_member_role(&mut self, ws: WorkspaceId, user: UserId, role: Role) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query("UPDATE workspace_members SET role = $3 WHERE workspace_id = $1 AND user_id = $2")
            .bind(ws.to_string()).bind(user.to_string()).bind(role.as_str())
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Take a user out of a workspace and end their sessions there; false if
    /// they were not a member.
    pub async fn remove_member(&mut self, ws: WorkspaceId, user: UserId) -> Result<bool> {
        with_conn!(self, c => sqlx::query("DELETE FROM sessions WHERE workspace_id = $1 AND user_id = $2")
            .bind(ws.to_string()).bind(user.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        let n = with_conn!(self, c => sqlx::query("DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2")
            .bind(ws.to_string()).bind(user.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The role `user` holds in `ws`, if any.
    pub async fn member_role(&mut self, ws: WorkspaceId, user: UserId) -> Result<Option<Role>> {
        let role: Option<String> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT role FROM workspace_members WHERE workspace_id = $1 AND user_id = $2")
            .bind(ws.to_string()).bind(user.to_string()).fetch_optional(c).await)?;
        role.as_deref().map(parse_role).transpose()
    }

    /// The workspace's members, by email.
    pub async fn members(&mut self, ws: WorkspaceId) -> Result<Vec<Member>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, m.role, m.created_at AS joined_at FROM workspace_members m JOIN users u ON u.id = m.user_id \
             WHERE m.workspace_id = $1 ORDER BY u.email"
        );
        let rows: Vec<(UserRow, String, i64)> = with_conn!(self, c => sqlx::query_as::<_, MemberRow>(&sql)
            .bind(ws.to_string()).fetch_all(c).await)?
        .into_iter()
        .map(|r| (r.user, r.role, r.joined_at))
        .collect();
        rows.into_iter()
            .map(|(u, role, joined)| {
                Ok(Member { user: u.into_user()?.0, role: parse_role(&role)?, joined_at: from_millis(joined) })
            })
            .collect()
    }

    /// The workspaces a user belongs to, with their role in each, by name.
    pub async fn memberships(&mut self, user: UserId) -> Result<Vec<(WorkspaceId, String, Role)>> {
        let rows: Vec<(String, String, String)> = with_conn!(self, c => sqlx::query_as(
            "SELECT w.id, w.name, m.role FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id \
             WHERE m.user_id = $1 ORDER BY w.name")
            .bind(user.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(|(id, name, role)| Ok((parse_id(&id, "workspace")?, name, parse_role(&role)?))).collect()
    }

    /// How many owners the workspace has.
    pub async fn owner_count(&mut self, ws: WorkspaceId) -> Result<i64> {
        Ok(with_conn!(self, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM workspace_members WHERE workspace_id = $1 AND role = 'owner'")
            .bind(ws.to_string()).fetch_one(c).await)?)
    }

    pub async fn insert_session(&mut self, digest: &str, s: &SessionRecord) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO sessions (digest, user_id, workspace_id, csrf, created_at, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(digest).bind(s.user_id.to_string()).bind(s.workspace_id.to_string()).bind(&s.csrf)
            .bind(to_millis(s.created_at)).bind(to_millis(s.expires_at)).bind(&s.ip).bind(&s.user_agent)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The session stored under this cookie digest, expired or not.
    pub async fn session(&mut self, digest: &str) -> Result<Option<SessionRecord>> {
        let row: Option<SessionRow> = with_conn!(self, c => sqlx::query_as(
            "SELECT user_id, workspace_id, csrf, created_at, expires_at, ip, user_agent FROM sessions WHERE digest = $1")
            .bind(digest).fetch_optional(c).await)?;
        row.map(|(user, ws, csrf, created, expires, ip, user_agent)| {
            Ok(SessionRecord {
                user_id: parse_id(&user, "user")?,
                workspace_id: parse_id(&ws, "workspace")?,
                csrf,
                created_at: from_millis(created),
                expires_at: from_millis(expires),
                ip,
                user_agent,
            })
        })
        .transpose()
    }

    /// The workspace the user last worked in (signed in to or switched to).
    pub async fn last_workspace(&mut self, user: UserId) -> Result<Option<WorkspaceId>> {
        let id: Option<Option<String>> = with_conn!(self, c => sqlx::query_scalar(
            "SELECT last_workspace_id FROM users WHERE id = $1")
            .bind(user.to_string()).fetch_optional(c).await)?;
        id.flatten().map(|w| parse_id(&w, "workspace")).transpose()
    }

    pub async fn set_last_workspace(&mut self, user: UserId, ws: WorkspaceId) -> Result<()> {
        with_conn!(self, c => sqlx::query("UPDATE users SET last_workspace_id = $2 WHERE id = $1")
            .bind(user.to_string()).bind(ws.to_string()).execute(c).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn set_session_workspace(&mut self, digest: &str, ws: WorkspaceId) -> Result<()> {
        with_conn!(self, c => sqlx::query("UPDATE sessions SET workspace_id = $2 WHERE digest = $1")
            .bind(digest).bind(ws.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_session(&mut self, digest: &str) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query("DELETE FROM sessions WHERE digest = $1")
            .bind(digest).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// End every session of a user but `keep` (after a password change).
    pub async fn delete_user_sessions(&mut self, user: UserId, keep: Option<&str>) -> Result<u64> {
        Ok(with_conn!(self, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND digest <> $2")
            .bind(user.to_string()).bind(keep.unwrap_or("")).execute(c).await.map(|r| r.rows_affected()))?)
    }

    /// Forget sessions that ended before `now`.
    pub async fn delete_expired_sessions(&mut self, now: DateTime<Utc>) -> Result<u64> {
        Ok(with_conn!(self, c => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(to_millis(now)).execute(c).await.map(|r| r.rows_affected()))?)
    }
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    #[sqlx(flatten)]
    user: UserRow,
    role: String,
    joined_at: i64,
}
