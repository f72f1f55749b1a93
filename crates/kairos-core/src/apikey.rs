//! API keys. A key is shown once when created; only its SHA-256 digest is
//! stored (keys are 192-bit random secrets, so a fast digest is as safe as a
//! slow password hash and keeps per-request authentication cheap). A key's
//! scope is either `write` (tracking only) or one of the member roles below
//! owner, and it may carry an expiry.

use crate::access::Role;
use crate::ids::{ApiKeyId, WorkspaceId};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Only the tracking API (`/v1/*`): safe to embed in websites and apps.
    Write,
    /// The REST API as the admin role.
    Admin,
    /// The REST API as the marketer role.
    Marketer,
    /// The REST API as the analyst role (reports, read-only).
    Analyst,
    /// The REST API as the compliance role.
    Compliance,
}

impl Scope {
    pub const ALL: [Scope; 5] = [Scope::Write, Scope::Admin, Scope::Marketer, Scope::Analyst, Scope::Compliance];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Write => "write",
            Scope::Admin => "admin",
            Scope::Marketer => "marketer",
            Scope::Analyst => "analyst",
            Scope::Compliance => "compliance",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The role a key of this scope acts with on the REST API; `None` for
    /// write keys, which only track. No key is an owner: owners are people.
    pub fn role(self) -> Option<Role> {
        match self {
            Scope::Write => None,
            Scope::Admin => Some(Role::Admin),
            Scope::Marketer => Some(Role::Marketer),
            Scope::Analyst => Some(Role::Analyst),
            Scope::Compliance => Some(Role::Compliance),
        }
    }
}

/// A stored key (without its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub scope: Scope,
    /// The first characters of the secret, to recognise it in lists.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// After this the key stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// Who made it (an audit actor: `user:…` or `key:…`); `None` for keys
    /// made on the command line.
    pub created_by: Option<String>,
}

impl ApiKey {
    /// Why the key cannot be used at `now`, if it cannot.
    pub fn unusable(&self, now: DateTime<Utc>) -> Option<String> {
        if let Some(at) = self.revoked_at {
            return Some(format!("this API key was revoked at {}", at.to_rfc3339()));
        }
        match self.expires_at {
            Some(at) if at <= now => Some(format!("this API key expired at {}", at.to_rfc3339())),
            _ => None,
        }
    }
}

/// A fresh secret for `scope`: `kw_…` for write keys, `ka_…` for REST keys.
pub fn generate_secret(scope: Scope) -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    let tag = match scope {
        Scope::Write => "kw",
        _ => "ka",
    };
    format!("{tag}_{}", hex::encode(bytes))
}

/// The digest under which a secret is stored and looked up.
pub fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The displayable prefix of a secret.
pub fn secret_prefix(secret: &str) -> String {
    secret.chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_and_tagged() {
        let a = generate_secret(Scope::Write);
        let b = generate_secret(Scope::Write);
        assert_ne!(a, b);
        assert!(a.starts_with("kw_") && a.len() == 51);
        assert!(generate_secret(Scope::Admin).starts_with("ka_"));
        assert_eq!(secret_digest(&a), secret_digest(&a));
        assert_ne!(secret_digest(&a), secret_digest(&b));
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::Write.role(), None);
        assert_eq!(Scope::Analyst.role(), Some(Role::Analyst));
    }

    #[test]
    fn revoked_and_expired_keys_say_why() {
        let now = Utc::now();
        let mut k = ApiKey {
            id: ApiKeyId::new(),
            workspace_id: WorkspaceId::new(),
            name: "k".into(),
            scope: Scope::Admin,
            prefix: "ka_".into(),
            created_at: now,
            revoked_at: None,
            expires_at: Some(now + chrono::Duration::seconds(1)),
            created_by: None,
        };
        assert_eq!(k.unusable(now), None);
        assert!(k.unusable(now + chrono::Duration::seconds(1)).unwrap().contains("expired"));
        k.revoked_at = Some(now);
        assert!(k.unusable(now).unwrap().contains("revoked"));
    }
}
