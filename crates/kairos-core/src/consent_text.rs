//! The consent text library: the wordings a workspace shows when it asks for
//! consent to a channel and purpose ("Email me the monthly newsletter"). A
//! text is known by a key and changes only by gaining a version; a version,
//! once written, is never altered, so the exact words a contact agreed to
//! (recorded with their consent as [`ConsentText::wording_version`]) stay
//! provable. This module validates what the API is given.

use crate::consent::{Channel, Purpose};
use serde::Serialize;
use serde_json::{Map, Value};

/// Longest wording accepted; consent asks are a sentence or a paragraph.
pub const MAX_TEXT_CHARS: usize = 5_000;
/// Longest key accepted.
pub const MAX_KEY_CHARS: usize = 64;

/// One version of a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentText {
    pub key: String,
    pub version: i64,
    pub channel: Channel,
    pub purpose: Purpose,
    /// A language tag such as `en` or `pt-BR`.
    pub language: String,
    pub text: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Who wrote this version (as the audit trail names callers).
    pub created_by: String,
}

impl ConsentText {
    /// How a consent given under this version names its wording.
    pub fn wording_version(&self) -> String {
        format!("{}@v{}", self.key, self.version)
    }
}

/// A new text's first version, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsentText {
    pub key: String,
    pub channel: Channel,
    pub purpose: Purpose,
    pub language: String,
    pub text: String,
}

/// A refusal: the field at fault and why.
pub type Refusal = (&'static str, String);

/// Check a new text: `{"key", "channel", "purpose", "language"?, "text"}`
/// (language defaults to `en`).
pub fn parse_new(body: &Map<String, Value>) -> Result<NewConsentText, Refusal> {
    only(body, &["key", "channel", "purpose", "language", "text"])?;
    let key = string(body, "key")?;
    check_key(&key).map_err(|m| ("key", m))?;
    let channel = string(body, "channel")?;
    let channel = Channel::parse(&channel)
        .ok_or_else(|| ("channel", format!("unknown channel {channel:?}; expected one of {}", Channel::names())))?;
    let purpose = string(body, "purpose")?;
    let purpose = Purpose::parse(&purpose)
        .ok_or_else(|| ("purpose", format!("unknown purpose {purpose:?}; expected one of {}", Purpose::names())))?;
    let language = match body.get("language") {
        None | Some(Value::Null) => "en".to_string(),
        Some(_) => string(body, "language")?,
    };
    check_language(&language).map_err(|m| ("language", m))?;
    Ok(NewConsentText { key, channel, purpose, language, text: text(body)? })
}

/// Check a new version: `{"text"}`; the channel, purpose and language stay
/// those of the text (a different ask is a different text).
pub fn parse_revision(body: &Map<String, Value>) -> Result<String, Refusal> {
    only(body, &["text"])?;
    text(body)
}

/// A key: 1 to 64 lower-case letters, digits, `-` and `_`, starting with a
/// letter (it appears in consent records, so it stays readable).
pub fn check_key(key: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key.len() <= MAX_KEY_CHARS
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "must be 1 to {MAX_KEY_CHARS} lower-case letters, digits, '-' or '_', starting with a letter \
             (such as \"newsletter-email\"), got {key:?}"
        ))
    }
}

fn check_language(tag: &str) -> Result<(), String> {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    let ok = (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(format!("expected a language tag such as \"en\", \"de\" or \"pt-BR\", got {tag:?}"))
    }
}

fn only(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), Refusal> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(("body", format!("unexpected key {k:?}; expected {}", allowed.join(", ")))),
        None => Ok(()),
    }
}

fn string(body: &Map<String, Value>, field: &'static str) -> Result<String, Refusal> {
    match body.get(field) {
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        None | Some(Value::Null) => Err((field, "is required".into())),
        Some(other) => Err((field, format!("must be text, got {other}"))),
    }
}

fn text(body: &Map<String, Value>) -> Result<String, Refusal> {
    let t = string(body, "text")?;
    if t.is_empty() {
        return Err(("text", "must not be empty: it is the wording people agree to".into()));
    }
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(("text", format!("must be at most {MAX_TEXT_CHARS} characters")));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_new_text_is_checked_field_by_field() {
        let ok = parse_new(&obj(json!({"key": "newsletter-email", "channel": "email", "purpose": "marketing",
            "text": "  Email me the monthly newsletter. "})))
        .unwrap();
        assert_eq!(ok.language, "en");
        assert_eq!(ok.text, "Email me the monthly newsletter.");
        assert_eq!((ok.channel, ok.purpose), (Channel::Email, Purpose::Marketing));
        let refused = |v: Value| parse_new(&obj(v)).unwrap_err();
        let base = json!({"key": "k", "channel": "email", "purpose": "marketing", "text": "t"});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        assert_eq!(refused(with("key", json!("Newsletter"))).0, "key");
        assert_eq!(refused(with("key", json!("1st"))).0, "key");
        assert_eq!(refused(with("channel", json!("fax"))).0, "channel");
        assert!(refused(with("channel", json!("fax"))).1.contains("\"email\""));
        assert_eq!(refused(with("purpose", json!(3))).0, "purpose");
        assert_eq!(refused(with("language", json!("english"))).0, "language");
        assert!(parse_new(&obj(with("language", json!("pt-BR")))).is_ok());
        assert_eq!(refused(with("text", json!("   "))).0, "text");
        assert_eq!(refused(with("text", json!("x".repeat(MAX_TEXT_CHARS + 1)))).0, "text");
        assert_eq!(refused(with("colour", json!("red"))).0, "body");
        assert_eq!(refused(json!({"channel": "email"})).0, "key");
    }

    #[test]
    fn a_revision_changes_only_the_wording() {
        assert_eq!(parse_revision(&obj(json!({"text": "New words"}))).unwrap(), "New words");
        assert_eq!(parse_revision(&obj(json!({"text": "x", "channel": "sms"}))).unwrap_err().0, "body");
        let t = ConsentText {
            key: "newsletter-email".into(),
            version: 3,
            channel: Channel::Email,
            purpose: Purpose::Marketing,
            language: "en".into(),
            text: "t".into(),
            created_at: 0,
            created_by: "user:a@b.c".into(),
        };
        assert_eq!(t.wording_version(), "newsletter-email@v3");
    }
}
