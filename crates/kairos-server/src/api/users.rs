//! `/api/v1/users`: the people who can sign in to a workspace and their
//! roles. Adding someone new sets their first password; adding someone who
//! already has an account (in another workspace) only gives them a role
//! here. Only owners touch the owner role, and a workspace always keeps at
//! least one owner. Every change is audited.

use super::auth::{user_view, UserView};
use super::{json_body, object_body, only_keys, path_id};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use kairos_core::access::{check_new_password, hash_password, Role};
use kairos_core::address::normalize_email;
use kairos_core::ids::UserId;
use kairos_store::{Member, User};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list).post(add))
        .route("/api/v1/users/{id}", patch(change).delete(remove))
        .route("/api/v1/users/{id}/unlock", post(unlock))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    #[serde(flatten)]
    pub user: UserView,
    pub role: String,
    pub joined_at: DateTime<Utc>,
    /// Set while the account is locked after failed sign-ins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<DateTime<Utc>>,
}

fn member_view(m: &Member, now: DateTime<Utc>) -> MemberView {
    MemberView {
        user: user_view(&m.user),
        role: m.role.as_str().into(),
        joined_at: m.joined_at,
        locked_until: m.user.locked_until.filter(|t| *t > now),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberInput {
    pub email: String,
    /// owner, admin, marketer, analyst or compliance.
    pub role: String,
    /// Required for someone without an account yet.
    pub name: Option<String>,
    /// Their first password (at least 12 characters); only for someone
    /// without an account yet.
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleInput {
    pub role: String,
}

/// The form a user's email is stored and looked up in: normalised, and
/// lower-cased whole (people type their sign-in email in any case).
pub fn account_email(raw: &str) -> Result<String, kairos_core::address::AddressError> {
    normalize_email(raw).map(|e| e.to_lowercase())
}

fn parse_role(raw: &str) -> ApiResult<Role> {
    Role::parse(raw).ok_or_else(|| {
        Problem::invalid("role", format!("must be owner, admin, marketer, analyst or compliance, got {raw:?}"))
    })
}

fn may_assign(who: &Caller, role: Role) -> ApiResult<()> {
    if who.role.may_assign(role) {
        Ok(())
    } else {
        Err(Problem::forbidden(format!(
            "the {} role cannot give or take the {} role",
            who.role.as_str(),
            role.as_str()
        )))
    }
}

/// The workspace's members.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", responses((status = 200, body = Vec<MemberView>)),
    security(("bearer" = []), ("session" = [])))]
pub async fn list(State(s): State<AppState>, who: Caller) -> ApiResult<Json<Vec<MemberView>>> {
    let now = s.engine.clock().now();
    let mut tx = s.engine.store().begin().await?;
    Ok(Json(tx.members(who.ws()).await?.iter().map(|m| member_view(m, now)).collect()))
}

/// Add someone to the workspace (creating their account when new).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = MemberInput,
    responses((status = 201, body = MemberView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn add(State(s): State<AppState>, who: Caller, body: Bytes) -> ApiResult<(StatusCode, Json<MemberView>)> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["email", "role", "name", "password"])?;
    let input: MemberInput = json_body(&body)?;
    let role = parse_role(&input.role)?;
    may_assign(&who, role)?;
    let now = s.engine.clock().now();
    let m =
        enrol(s.engine.store(), who.ws(), &input.email, input.name.as_deref(), role, input.password, &who.actor(), now)
            .await?;
    Ok((StatusCode::CREATED, Json(member_view(&m, now))))
}

/// Give `email` a role in `ws`, creating their account (with `name` and a
/// first `password`) when they have none; audited as `actor`. The one way
/// members are added: by the API, `kairos user create` and the demo.
#[allow(clippy::too_many_arguments)]
pub async fn enrol(
    store: &kairos_store::Store,
    ws: kairos_core::ids::WorkspaceId,
    email: &str,
    name: Option<&str>,
    role: Role,
    password: Option<String>,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<Member> {
    let email = account_email(email).map_err(|e| Problem::invalid("email", e.to_string()))?;
    let mut tx = store.begin().await?;
    let existing = tx.user_by_email(&email).await?;
    drop(tx);
    let user = match existing {
        Some((user, _)) => {
            if password.is_some() {
                return Err(Problem::invalid(
                    "password",
                    "this person already has an account; leave the password out to add them with their own",
                ));
            }
            user
        }
        None => {
            let name = name.map(str::trim).unwrap_or_default().to_string();
            if name.is_empty() || name.chars().count() > 100 {
                return Err(Problem::invalid("name", "a new user needs a name of 1 to 100 characters"));
            }
            let password = password.ok_or_else(|| Problem::invalid("password", "a new user needs a first password"))?;
            check_new_password(&password, &email).map_err(|e| Problem::invalid("password", e.to_string()))?;
            let hash =
                tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(Problem::internal)?;
            let user = User {
                id: UserId::new(),
                email: email.clone(),
                name,
                created_at: now,
                password_changed_at: now,
                failed_sign_ins: 0,
                locked_until: None,
            };
            let mut tx = store.begin_write().await?;
            tx.insert_user(&user, &hash).await.map_err(|e| match e {
                kairos_store::StoreError::Conflict(_) => Problem::conflict(format!("{email} already has an account")),
                e => e.into(),
            })?;
            tx.commit().await?;
            user
        }
    };
    let mut tx = store.begin_write().await?;
    tx.add_member(ws, user.id, role, now).await.map_err(|e| match e {
        kairos_store::StoreError::Conflict(_) => {
            Problem::conflict(format!("{email} is already a member; change their role instead"))
        }
        e => e.into(),
    })?;
    let detail = json!({"email": email, "role": role.as_str()});
    tx.audit(ws, now.timestamp_millis(), actor, "member.added", &user.id.to_string(), &detail).await?;
    tx.commit().await?;
    Ok(Member { user, role, joined_at: now })
}

async fn member(s: &AppState, who: &Caller, raw: &str) -> ApiResult<Member> {
    let id: UserId = path_id(raw, "user")?;
    let mut tx = s.engine.store().begin().await?;
    tx.members(who.ws())
        .await?
        .into_iter()
        .find(|m| m.user.id == id)
        .ok_or_else(|| Problem::not_found(format!("no member with id {raw:?} in this workspace")))
}

/// Refuse to leave the workspace without an owner.
async fn keeps_an_owner(s: &AppState, who: &Caller, m: &Member) -> ApiResult<()> {
    if m.role == Role::Owner {
        let mut tx = s.engine.store().begin().await?;
        if tx.owner_count(who.ws()).await? <= 1 {
            return Err(Problem::conflict("this is the workspace's last owner; make someone else owner first"));
        }
    }
    Ok(())
}

/// Change a member's role.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = RoleInput, params(("id" = String, Path)),
    responses((status = 200, body = MemberView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn change(
    State(s): State<AppState>,
    who: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<MemberView>> {
    let obj = object_body(&body)?;
    only_keys(&obj, &["role"])?;
    let input: RoleInput = json_body(&body)?;
    let role = parse_role(&input.role)?;
    let mut m = member(&s, &who, &id).await?;
    may_assign(&who, m.role)?;
    may_assign(&who, role)?;
    if role != Role::Owner {
        keeps_an_owner(&s, &who, &m).await?;
    }
    let now = s.engine.clock().now();
    let mut tx = s.engine.store().begin_write().await?;
    tx.set_member_role(who.ws(), m.user.id, role).await?;
    tx.audit(
        who.ws(),
        now.timestamp_millis(),
        &who.actor(),
        "member.role_changed",
        &m.user.id.to_string(),
        &json!({"email": m.user.email, "from": m.role.as_str(), "to": role.as_str()}),
    )
    .await?;
    tx.commit().await?;
    m.role = role;
    Ok(Json(member_view(&m, now)))
}

/// Take someone out of the workspace; their sessions here end at once.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []), ("session" = [])))]
pub async fn remove(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let m = member(&s, &who, &id).await?;
    may_assign(&who, m.role)?;
    keeps_an_owner(&s, &who, &m).await?;
    let now = s.engine.clock().now();
    let mut tx = s.engine.store().begin_write().await?;
    tx.remove_member(who.ws(), m.user.id).await?;
    tx.audit(
        who.ws(),
        now.timestamp_millis(),
        &who.actor(),
        "member.removed",
        &m.user.id.to_string(),
        &json!({"email": m.user.email, "role": m.role.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lift a lock left by failed sign-ins.
#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", tag = "users", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = []), ("session" = [])))]
pub async fn unlock(State(s): State<AppState>, who: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let m = member(&s, &who, &id).await?;
    may_assign(&who, m.role)?;
    let now = s.engine.clock().now();
    let mut tx = s.engine.store().begin_write().await?;
    tx.set_sign_in_state(m.user.id, 0, None).await?;
    tx.audit(
        who.ws(),
        now.timestamp_millis(),
        &who.actor(),
        "user.unlocked",
        &m.user.id.to_string(),
        &json!({"email": m.user.email}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
