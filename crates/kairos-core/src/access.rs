//! Who may do what: the roles a workspace member (or an API key) holds, the
//! permissions every REST route requires, and the policy joining the two.
//! The server checks one [`Permission`] per route through one middleware;
//! this module is the whole policy, so it can be read and tested on its own.
//! Also here: the rules for passwords (argon2id hashes, a minimum length)
//! and for locking an account after repeated failed sign-ins.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A member's role in a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including making and unmaking other owners.
    Owner,
    /// Everything except the owner role itself.
    Admin,
    /// Builds audiences, journeys, templates and campaigns; works with
    /// contacts; reads consent but does not change it.
    Marketer,
    /// Reads reports and the definitions behind them; never sees a person.
    Analyst,
    /// Consent, suppressions, data-subject requests, retention and the audit
    /// trail; reads contacts to find the person a request is about.
    Compliance,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Owner, Role::Admin, Role::Marketer, Role::Analyst, Role::Compliance];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Marketer => "marketer",
            Role::Analyst => "analyst",
            Role::Compliance => "compliance",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The permissions this role holds.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Owner | Role::Admin => &Permission::ALL,
            Role::Marketer => &[
                Session,
                PeopleRead,
                PeopleWrite,
                MarketingRead,
                MarketingWrite,
                ReportsRead,
                ConsentRead,
                SettingsRead,
            ],
            Role::Analyst => &[Session, MarketingRead, ReportsRead, SettingsRead],
            Role::Compliance => &[
                Session,
                PeopleRead,
                MarketingRead,
                ReportsRead,
                ConsentRead,
                ConsentWrite,
                PrivacyRights,
                AuditRead,
                SettingsRead,
            ],
        }
    }

    pub fn allows(self, p: Permission) -> bool {
        self.permissions().contains(&p)
    }

    /// Whether a member with this role may give `other` to someone (or take
    /// it away): only owners touch the owner role, and nobody hands out more
    /// than they hold.
    pub fn may_assign(self, other: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Admin => other != Role::Owner,
            _ => false,
        }
    }
}

/// What a REST route needs. Each route names exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Any signed-in member: the session itself, signing out, the password.
    Session,
    /// Individual people: profiles, events, memberships, messages sent.
    PeopleRead,
    PeopleWrite,
    /// Definitions: segments, lists, journeys, templates, campaigns, fields.
    MarketingRead,
    MarketingWrite,
    /// Aggregates: counts, statistics, reports.
    ReportsRead,
    /// Consent records and the suppression list.
    ConsentRead,
    ConsentWrite,
    /// Data-subject requests (export, erasure) and retention.
    PrivacyRights,
    /// The audit trail.
    AuditRead,
    /// Workspace settings, senders, webhook endpoints.
    SettingsRead,
    SettingsWrite,
    /// Users and API keys.
    Members,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
        Permission::Session,
        Permission::PeopleRead,
        Permission::PeopleWrite,
        Permission::MarketingRead,
        Permission::MarketingWrite,
        Permission::ReportsRead,
        Permission::ConsentRead,
        Permission::ConsentWrite,
        Permission::PrivacyRights,
        Permission::AuditRead,
        Permission::SettingsRead,
        Permission::SettingsWrite,
        Permission::Members,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Session => "session",
            Permission::PeopleRead => "people:read",
            Permission::PeopleWrite => "people:write",
            Permission::MarketingRead => "marketing:read",
            Permission::MarketingWrite => "marketing:write",
            Permission::ReportsRead => "reports:read",
            Permission::ConsentRead => "consent:read",
            Permission::ConsentWrite => "consent:write",
            Permission::PrivacyRights => "privacy:rights",
            Permission::AuditRead => "audit:read",
            Permission::SettingsRead => "settings:read",
            Permission::SettingsWrite => "settings:write",
            Permission::Members => "members",
        }
    }
}

/// Shortest password accepted. Length is what makes a password strong;
/// composition rules mostly make people write them down (NIST SP 800-63B).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, so hashing stays cheap to refuse.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Why a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("must be at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("must be at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("must not contain the email address")]
    ContainsEmail,
}

/// Check a new password for `email`.
pub fn check_new_password(password: &str, email: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(PasswordError::TooLong);
    }
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if local.len() >= 4 && password.to_lowercase().contains(&local) {
        return Err(PasswordError::ContainsEmail);
    }
    Ok(())
}

/// An argon2id hash of `password` in PHC string form (salt and parameters
/// included). Deliberately slow: run it off the async threads.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    match Argon2::default().hash_password(password.as_bytes(), &salt) {
        Ok(h) => h.to_string(),
        // Only reachable with parameters or salts outside argon2's limits,
        // which the defaults and a generated salt never are.
        Err(e) => unreachable!("argon2 refused its own defaults: {e}"),
    }
}

/// Whether `password` matches a stored hash; a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// A hash nobody's password matches, verified against when the email is
/// unknown so a failed sign-in takes as long either way (no enumeration of
/// accounts by timing).
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("no password matches this decoy: it only costs time"))
}

/// A random secret of `bytes` bytes as hex: session cookies, CSRF tokens.
pub fn random_token(bytes: usize) -> String {
    use rand::RngCore;
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Consecutive failed sign-ins that lock an account.
pub const LOCKOUT_AFTER: u32 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT_FOR: Duration = Duration::minutes(15);

/// The account state after a failed sign-in: the new failure count and, when
/// it reached the limit, the moment the lock ends.
pub fn after_failed_sign_in(failures_before: u32, now: DateTime<Utc>) -> (u32, Option<DateTime<Utc>>) {
    let failures = failures_before.saturating_add(1);
    if failures >= LOCKOUT_AFTER {
        (0, Some(now + LOCKOUT_FOR))
    } else {
        (failures, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    /// The policy written out by hand, so a change to `Role::permissions`
    /// has to be made twice to pass.
    #[test]
    fn the_role_matrix() {
        let expect: [(Role, &[Permission]); 5] = [
            (Role::Owner, &Permission::ALL),
            (Role::Admin, &Permission::ALL),
            (
                Role::Marketer,
                &[
                    Session,
                    PeopleRead,
                    PeopleWrite,
                    MarketingRead,
                    MarketingWrite,
                    ReportsRead,
                    ConsentRead,
                    SettingsRead,
                ],
            ),
            (Role::Analyst, &[Session, MarketingRead, ReportsRead, SettingsRead]),
            (
                Role::Compliance,
                &[
                    Session,
                    PeopleRead,
                    MarketingRead,
                    ReportsRead,
                    ConsentRead,
                    ConsentWrite,
                    PrivacyRights,
                    AuditRead,
                    SettingsRead,
                ],
            ),
        ];
        for (role, allowed) in expect {
            for p in Permission::ALL {
                assert_eq!(role.allows(p), allowed.contains(&p), "{} / {}", role.as_str(), p.as_str());
            }
        }
    }

    #[test]
    fn analysts_never_see_a_person_and_marketers_never_change_consent() {
        assert!(!Role::Analyst.allows(PeopleRead));
        assert!(!Role::Marketer.allows(ConsentWrite));
        assert!(!Role::Marketer.allows(PrivacyRights));
        assert!(!Role::Compliance.allows(MarketingWrite));
        assert!(!Role::Compliance.allows(Members));
    }

    #[test]
    fn only_owners_make_owners() {
        assert!(Role::Owner.may_assign(Role::Owner));
        assert!(!Role::Admin.may_assign(Role::Owner));
        assert!(Role::Admin.may_assign(Role::Admin));
        assert!(!Role::Marketer.may_assign(Role::Analyst));
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn passwords() {
        assert_eq!(check_new_password("short", "a@b.c"), Err(PasswordError::TooShort));
        assert_eq!(check_new_password(&"x".repeat(257), "a@b.c"), Err(PasswordError::TooLong));
        assert_eq!(check_new_password("my name is alice!!", "Alice@example.com"), Err(PasswordError::ContainsEmail));
        assert_eq!(check_new_password("correct horse battery", "alice@example.com"), Ok(()));
        let h = hash_password("correct horse battery");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("anything", "not a hash"));
        assert!(!verify_password("anything", decoy_hash()));
        assert_ne!(hash_password("same"), hash_password("same"), "salted");
    }

    #[test]
    fn lockout_after_five_failures() {
        let now = Utc::now();
        let mut failures = 0;
        for _ in 0..4 {
            let (f, lock) = after_failed_sign_in(failures, now);
            assert!(lock.is_none());
            failures = f;
        }
        assert_eq!(failures, 4);
        let (f, lock) = after_failed_sign_in(failures, now);
        assert_eq!((f, lock), (0, Some(now + LOCKOUT_FOR)));
    }
}
