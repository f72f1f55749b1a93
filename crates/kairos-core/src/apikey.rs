//! API keys. A key is shown once when created; only its SHA-256 digest is
//! stored (keys are 192-bit random secrets, so a fast digest is as safe as a
//! slow password hash and keeps per-request authentication cheap).

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
    /// Everything in its workspace.
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "write" => Some(Scope::Write),
            "admin" => Some(Scope::Admin),
            _ => None,
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
}

/// A fresh secret for `scope`: `kw_…` for write keys, `ka_…` for admin keys.
pub fn generate_secret(scope: Scope) -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    let tag = match scope {
        Scope::Write => "kw",
        Scope::Admin => "ka",
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
    }
}
