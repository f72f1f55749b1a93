//! Consent: what each contact agreed to, per channel and per purpose, and
//! how we know. Every change is a [`ConsentChange`] carrying its source,
//! lawful basis, the exact wording shown and its version, and proof (IP, user
//! agent, form payload); changes are appended to an immutable history and the
//! newest one per channel and purpose is the contact's current state.
//! [`ConsentChange::from_json`] is the one place such input is validated.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use thiserror::Error;

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }

            /// The accepted names, for error messages.
            pub fn names() -> String {
                [$($wire),+].map(|w| format!("\"{w}\"")).join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// A way of reaching a contact.
    Channel { Email = "email", Sms = "sms", Push = "push", InApp = "in_app", Phone = "phone" }
);

wire_enum!(
    /// What a contact's data or attention is used for.
    Purpose {
        Marketing = "marketing",
        ProductUpdates = "product_updates",
        Profiling = "profiling",
        ThirdPartySharing = "third_party_sharing",
    }
);

wire_enum!(
    /// Where a contact stands for one channel and purpose.
    ConsentState {
        Granted = "granted",
        Denied = "denied",
        Withdrawn = "withdrawn",
        PendingDoubleOptIn = "pending_double_opt_in",
    }
);

wire_enum!(
    /// The GDPR Art. 6 basis a change relies on.
    LawfulBasis {
        Consent = "consent",
        Contract = "contract",
        LegalObligation = "legal_obligation",
        VitalInterests = "vital_interests",
        PublicTask = "public_task",
        LegitimateInterests = "legitimate_interests",
    }
);

/// Evidence of a change: who was asked, from where, with what.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Proof {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The form submission (or API payload) as received.
    pub form_payload: Option<Value>,
}

/// One change of consent, as appended to the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentChange {
    pub channel: Channel,
    pub purpose: Purpose,
    pub state: ConsentState,
    /// Where it came from: `api`, `import`, `form:<id>`, `preference_centre`,
    /// `unsubscribe_link`, `one_click`, ...
    pub source: String,
    pub lawful_basis: LawfulBasis,
    /// The exact text the contact saw, and its version.
    pub wording: Option<String>,
    pub wording_version: Option<String>,
    pub proof: Proof,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{field}: {reason}")]
pub struct ConsentError {
    pub field: String,
    pub reason: String,
}

fn err(field: &str, reason: impl Into<String>) -> ConsentError {
    ConsentError { field: field.into(), reason: reason.into() }
}

fn text(obj: &Map<String, Value>, key: &str, max: usize) -> Result<Option<String>, ConsentError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(err(key, "must not be empty")),
        Some(Value::String(s)) if s.len() > max => Err(err(key, format!("is at most {max} characters"))),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(err(key, "must be a string")),
    }
}

impl ConsentChange {
    /// Validate a change from its JSON form. `default_proof` (the request's
    /// IP and user agent) fills what the payload does not say.
    pub fn from_json(obj: &Map<String, Value>, at: DateTime<Utc>, default_proof: Proof) -> Result<Self, ConsentError> {
        const KEYS: &[&str] =
            &["channel", "purpose", "state", "source", "lawful_basis", "wording", "wording_version", "proof"];
        if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(err(k, format!("unknown key; expected one of {}", KEYS.join(", "))));
        }
        let pick = |key: &str, names: String| -> Result<String, ConsentError> {
            text(obj, key, 64)?.ok_or_else(|| err(key, format!("is required: one of {names}")))
        };
        let channel = pick("channel", Channel::names())?;
        let channel =
            Channel::parse(&channel).ok_or_else(|| err("channel", format!("must be one of {}", Channel::names())))?;
        let purpose = pick("purpose", Purpose::names())?;
        let purpose =
            Purpose::parse(&purpose).ok_or_else(|| err("purpose", format!("must be one of {}", Purpose::names())))?;
        let state = pick("state", ConsentState::names())?;
        let state = ConsentState::parse(&state)
            .ok_or_else(|| err("state", format!("must be one of {}", ConsentState::names())))?;
        let lawful_basis = match text(obj, "lawful_basis", 64)? {
            None => LawfulBasis::Consent,
            Some(b) => LawfulBasis::parse(&b)
                .ok_or_else(|| err("lawful_basis", format!("must be one of {}", LawfulBasis::names())))?,
        };
        let source = text(obj, "source", 200)?.unwrap_or_else(|| "api".into());
        let wording = text(obj, "wording", 10_000)?;
        let wording_version = text(obj, "wording_version", 100)?;
        if state == ConsentState::Granted && lawful_basis == LawfulBasis::Consent && wording.is_none() {
            return Err(err(
                "wording",
                "consent granted on the basis of consent needs the exact wording the contact agreed to",
            ));
        }
        let mut proof = default_proof;
        match obj.get("proof") {
            None | Some(Value::Null) => {}
            Some(Value::Object(p)) => {
                if let Some(k) = p.keys().find(|k| !["ip", "user_agent", "form_payload"].contains(&k.as_str())) {
                    return Err(err(&format!("proof.{k}"), "unknown key; expected ip, user_agent, form_payload"));
                }
                if let Some(ip) = text(p, "ip", 64).map_err(|e| err(&format!("proof.{}", e.field), e.reason))? {
                    if ip.parse::<std::net::IpAddr>().is_err() {
                        return Err(err("proof.ip", format!("{ip:?} is not an IP address")));
                    }
                    proof.ip = Some(ip);
                }
                if let Some(ua) =
                    text(p, "user_agent", 1000).map_err(|e| err(&format!("proof.{}", e.field), e.reason))?
                {
                    proof.user_agent = Some(ua);
                }
                if let Some(f) = p.get("form_payload").filter(|v| !v.is_null()) {
                    proof.form_payload = Some(f.clone());
                }
            }
            Some(_) => return Err(err("proof", "must be an object with ip, user_agent, form_payload")),
        }
        Ok(ConsentChange { channel, purpose, state, source, lawful_basis, wording, wording_version, proof, at })
    }
}

/// What a Global Privacy Control signal (`Sec-GPC: 1`) is recorded as.
pub const GPC_WORDING: &str = "Sec-GPC: 1 (Global Privacy Control: do not sell or share my personal information)";

/// A Global Privacy Control signal as a change: third-party sharing denied,
/// by law (CCPA's opt-out of sale and sharing) rather than by consent. Its
/// channel is a placeholder: [`on_every_channel`] records it on each.
pub fn gpc_denial(proof: Proof, at: DateTime<Utc>) -> ConsentChange {
    ConsentChange {
        channel: Channel::Email,
        purpose: Purpose::ThirdPartySharing,
        state: ConsentState::Denied,
        source: "gpc".into(),
        lawful_basis: LawfulBasis::LegalObligation,
        wording: Some(GPC_WORDING.into()),
        wording_version: None,
        proof,
        at,
    }
}

/// The changes that record a privacy signal (`want`: GPC, a TCF string)
/// for a contact whose consent is `current`, one per channel: none where
/// the same state from the same source is already recorded (browsers send
/// the signal with every request), and no grant where a GPC opt-out stands
/// (the stricter signal wins). Tracking calls and form submissions both
/// record signals this way.
pub fn on_every_channel(current: &[ConsentChange], want: &ConsentChange) -> Vec<ConsentChange> {
    Channel::ALL
        .iter()
        .filter(|channel| {
            let now = current.iter().find(|c| c.channel == **channel && c.purpose == want.purpose);
            let unchanged = now.is_some_and(|c| c.state == want.state && c.source == want.source);
            let gpc_opt_out = now.is_some_and(|c| c.source == "gpc" && c.state == ConsentState::Denied);
            !(unchanged || (want.state == ConsentState::Granted && gpc_opt_out))
        })
        .map(|channel| ConsentChange { channel: *channel, ..want.clone() })
        .collect()
}

/// The name under which segment rules see a consent state.
pub fn consent_field(channel: Channel, purpose: Purpose) -> String {
    format!("consent:{channel}:{purpose}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<ConsentChange, ConsentError> {
        ConsentChange::from_json(v.as_object().unwrap(), Utc::now(), Proof::default())
    }

    #[test]
    fn a_grant_needs_its_wording_and_proof_is_kept() {
        let c = parse(json!({"channel": "email", "purpose": "marketing", "state": "granted",
            "source": "form:newsletter", "wording": "Send me the monthly newsletter", "wording_version": "v3",
            "proof": {"ip": "203.0.113.9", "user_agent": "Firefox", "form_payload": {"email": "a@b.c"}}}))
        .unwrap();
        assert_eq!((c.channel, c.purpose, c.state), (Channel::Email, Purpose::Marketing, ConsentState::Granted));
        assert_eq!(c.proof.ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(c.lawful_basis, LawfulBasis::Consent);
        let e = parse(json!({"channel": "email", "purpose": "marketing", "state": "granted"})).unwrap_err();
        assert_eq!(e.field, "wording");
        // Other bases do not need consent wording.
        assert!(parse(json!({"channel": "email", "purpose": "product_updates", "state": "granted",
            "lawful_basis": "contract"}))
        .is_ok());
    }

    #[test]
    fn signals_are_recorded_on_every_channel_once_and_gpc_outranks_grants() {
        let proof = Proof { user_agent: Some("Firefox".into()), ..Proof::default() };
        let gpc = gpc_denial(proof.clone(), Utc::now());
        let first = on_every_channel(&[], &gpc);
        assert_eq!(first.iter().map(|c| c.channel).collect::<Vec<_>>(), Channel::ALL.to_vec());
        assert!(first.iter().all(|c| c.purpose == Purpose::ThirdPartySharing
            && c.state == ConsentState::Denied
            && c.source == "gpc"
            && c.lawful_basis == LawfulBasis::LegalObligation
            && c.proof == proof));
        // The signal again: nothing more to record.
        assert!(on_every_channel(&first, &gpc).is_empty());
        // A grant recorded since on one channel is overridden there.
        let mut current = first.clone();
        current[0].state = ConsentState::Granted;
        current[0].source = "tcf".into();
        let again = on_every_channel(&current, &gpc);
        assert_eq!(again.iter().map(|c| c.channel).collect::<Vec<_>>(), vec![current[0].channel]);
        // A grant (a TCF string) does not override a standing GPC opt-out.
        let grant = ConsentChange { state: ConsentState::Granted, source: "tcf".into(), ..gpc };
        assert!(on_every_channel(&first, &grant).is_empty());
    }

    #[test]
    fn bad_input_names_the_field() {
        let e = parse(json!({"channel": "fax", "purpose": "marketing", "state": "denied"})).unwrap_err();
        assert_eq!(e.to_string(), "channel: must be one of \"email\", \"sms\", \"push\", \"in_app\", \"phone\"");
        let e = parse(json!({"channel": "sms", "purpose": "marketing", "state": "withdrawn", "proof": {"ip": "x"}}))
            .unwrap_err();
        assert_eq!(e.field, "proof.ip");
        let e = parse(json!({"channel": "sms", "purpose": "marketing", "state": "maybe"})).unwrap_err();
        assert_eq!(e.field, "state");
        let e = parse(json!({"channel": "sms", "purpose": "marketing", "state": "denied", "extra": 1})).unwrap_err();
        assert_eq!(e.field, "extra");
    }
}
