//! Subscription forms: what a hosted form asks for and what it does with the
//! answer. A [`FormDefinition`] names the consent it collects (one channel,
//! one or more purposes, the exact wording and its version), the optional
//! static list a subscriber joins, and whether consent waits for a
//! confirmation email (double opt-in) — with that email's template, sender,
//! link lifetime and reminder policy. [`FormDefinition::from_json`] and
//! [`Submission::parse`] are the one place such input is validated, so the
//! API, the hosted page and JSON posts from customers' own sites refuse the
//! same things with the same field names. The reminder schedule and the
//! Global Privacy Control test live here too, as pure functions.

use crate::address::normalize_email;
use crate::consent::{Channel, Purpose};
use crate::consent_text::ConsentText;
use crate::ids::ListId;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use thiserror::Error;

/// How long a confirmation link is valid unless the form says otherwise.
pub const DEFAULT_TOKEN_HOURS: u32 = 7 * 24;
/// When the reminder goes out unless the form says otherwise.
pub const DEFAULT_REMINDER_HOURS: u32 = 48;
const MAX_TOKEN_HOURS: u32 = 30 * 24;
const MAX_REMINDERS: u32 = 5;
const MAX_NAME: usize = 200;

/// An optional field a form can collect besides the (required) email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormField {
    FirstName,
    LastName,
}

impl FormField {
    pub const ALL: &'static [FormField] = &[FormField::FirstName, FormField::LastName];

    pub fn as_str(self) -> &'static str {
        match self {
            FormField::FirstName => "first_name",
            FormField::LastName => "last_name",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FormField::FirstName => "First name",
            FormField::LastName => "Last name",
        }
    }

    fn parse(s: &str) -> Option<FormField> {
        FormField::ALL.iter().copied().find(|f| f.as_str() == s)
    }
}

/// A subscription form as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormDefinition {
    pub name: String,
    pub channel: Channel,
    pub purposes: Vec<Purpose>,
    /// The library text (`crate::consent_text`) the form asks with, by key:
    /// its current version gives `wording` and `wording_version`, and a new
    /// version of the text becomes the form's at once.
    #[serde(default)]
    pub consent_text: Option<String>,
    /// Shown verbatim next to the consent box and stored with every change.
    pub wording: String,
    pub wording_version: String,
    pub list_id: Option<ListId>,
    pub double_opt_in: bool,
    /// Email template id or name for the confirmation; `None` uses the
    /// built-in message.
    pub confirmation_template: Option<String>,
    /// Sender identity id; the workspace default when `None`.
    pub sender: Option<String>,
    pub token_lifetime_hours: u32,
    /// Hours after the submission (and between reminders) before a
    /// reminder; `None`: no reminders.
    pub reminder_after_hours: Option<u32>,
    pub max_reminders: u32,
    pub fields: Vec<FormField>,
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{field}: {reason}")]
pub struct FormError {
    pub field: String,
    pub reason: String,
}

fn err(field: &str, reason: impl Into<String>) -> FormError {
    FormError { field: field.into(), reason: reason.into() }
}

fn text(obj: &Map<String, Value>, key: &str, max: usize) -> Result<Option<String>, FormError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(err(key, "must not be empty")),
        Some(Value::String(s)) if s.chars().count() > max => Err(err(key, format!("is at most {max} characters"))),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(err(key, "must be a string")),
    }
}

fn hours(obj: &Map<String, Value>, key: &str, min: u32, max: u32) -> Result<Option<u32>, FormError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (min as u64..=max as u64).contains(&n) => Ok(Some(n as u32)),
            _ => Err(err(key, format!("must be a whole number from {min} to {max}"))),
        },
    }
}

impl FormDefinition {
    pub const KEYS: &'static [&'static str] = &[
        "name",
        "channel",
        "purposes",
        "consent_text",
        "wording",
        "wording_version",
        "list_id",
        "double_opt_in",
        "confirmation_template",
        "sender",
        "token_lifetime_hours",
        "reminder_after_hours",
        "max_reminders",
        "fields",
    ];

    /// Validate a definition from its JSON form, naming the field at fault.
    /// A definition naming a `consent_text` is complete only once
    /// [`FormDefinition::ask_with`] has given it that text.
    pub fn from_json(obj: &Map<String, Value>) -> Result<Self, FormError> {
        if let Some(k) = obj.keys().find(|k| !Self::KEYS.contains(&k.as_str())) {
            return Err(err(k, format!("unknown key; expected one of {}", Self::KEYS.join(", "))));
        }
        let name = text(obj, "name", MAX_NAME)?.ok_or_else(|| err("name", "is required"))?;
        let channel = match text(obj, "channel", 64)? {
            None => Channel::Email,
            Some(c) => {
                Channel::parse(&c).ok_or_else(|| err("channel", format!("must be one of {}", Channel::names())))?
            }
        };
        if channel != Channel::Email {
            // The form collects an email address and confirms by email; other
            // channels need their own address field and confirmation.
            return Err(err("channel", "forms ask for email consent only (\"email\")"));
        }
        let consent_text = text(obj, "consent_text", 64)?;
        if let Some(key) = &consent_text {
            crate::consent_text::check_key(key).map_err(|m| err("consent_text", m))?;
        }
        let purposes = match obj.get("purposes") {
            // The library text's purpose, given by `ask_with`.
            None | Some(Value::Null) if consent_text.is_some() => Vec::new(),
            None | Some(Value::Null) => return Err(err("purposes", "is required: a list such as [\"marketing\"]")),
            Some(Value::Array(a)) if a.is_empty() => return Err(err("purposes", "must name at least one purpose")),
            Some(Value::Array(a)) => {
                let mut out = Vec::new();
                for (i, p) in a.iter().enumerate() {
                    let path = format!("purposes[{i}]");
                    let p = p
                        .as_str()
                        .and_then(Purpose::parse)
                        .ok_or_else(|| err(&path, format!("must be one of {}", Purpose::names())))?;
                    if out.contains(&p) {
                        return Err(err(&path, format!("\"{p}\" is listed twice")));
                    }
                    out.push(p);
                }
                out
            }
            Some(_) => return Err(err("purposes", "must be a list such as [\"marketing\"]")),
        };
        // With a library text the wording is the text's: `ask_with` checks
        // that any wording given here agrees with it.
        let wording = text(obj, "wording", 10_000)?;
        let wording_version = text(obj, "wording_version", 100)?;
        let (wording, wording_version) = match (wording, wording_version, &consent_text) {
            (w, v, Some(_)) => (w.unwrap_or_default(), v.unwrap_or_default()),
            (None, _, None) => return Err(err("wording", "is required: the exact text the subscriber agrees to")),
            (_, None, None) => {
                return Err(err("wording_version", "is required, so each consent records which wording it saw"))
            }
            (Some(w), Some(v), None) => (w, v),
        };
        let list_id = match text(obj, "list_id", 64)? {
            None => None,
            Some(l) => Some(l.parse().map_err(|_| err("list_id", format!("{l:?} is not a list id (a UUID)")))?),
        };
        let double_opt_in = match obj.get("double_opt_in") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(err("double_opt_in", "must be true or false")),
        };
        let confirmation_template = text(obj, "confirmation_template", 200)?;
        let sender = text(obj, "sender", 64)?;
        let token_lifetime_hours =
            hours(obj, "token_lifetime_hours", 1, MAX_TOKEN_HOURS)?.unwrap_or(DEFAULT_TOKEN_HOURS);
        let reminder_after_hours = match obj.get("reminder_after_hours") {
            // Absent: the default; null: no reminders.
            None => Some(DEFAULT_REMINDER_HOURS),
            Some(Value::Null) => None,
            Some(_) => hours(obj, "reminder_after_hours", 1, MAX_TOKEN_HOURS)?,
        };
        let max_reminders = hours(obj, "max_reminders", 0, MAX_REMINDERS)?.unwrap_or(1);
        if let Some(after) = reminder_after_hours {
            if max_reminders > 0 && after >= token_lifetime_hours {
                return Err(err(
                    "reminder_after_hours",
                    format!(
                        "must be less than token_lifetime_hours ({token_lifetime_hours}), or the link expires first"
                    ),
                ));
            }
        }
        let fields = match obj.get("fields") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                let mut out = Vec::new();
                for (i, f) in a.iter().enumerate() {
                    let path = format!("fields[{i}]");
                    let f = f.as_str().and_then(FormField::parse).ok_or_else(|| {
                        err(&path, "must be \"first_name\" or \"last_name\" (email is always collected)")
                    })?;
                    if out.contains(&f) {
                        return Err(err(&path, format!("\"{}\" is listed twice", f.as_str())));
                    }
                    out.push(f);
                }
                out
            }
            Some(_) => return Err(err("fields", "must be a list such as [\"first_name\", \"last_name\"]")),
        };
        Ok(FormDefinition {
            name,
            channel,
            purposes,
            consent_text,
            wording,
            wording_version,
            list_id,
            double_opt_in,
            confirmation_template,
            sender,
            token_lifetime_hours,
            reminder_after_hours,
            max_reminders,
            fields,
        })
    }

    /// The JSON form `from_json` reads (so an update can overlay changed keys).
    pub fn to_json(&self) -> Map<String, Value> {
        match json!({
            "name": self.name, "channel": self.channel, "purposes": self.purposes,
            "consent_text": self.consent_text, "wording": self.wording,
            "wording_version": self.wording_version, "list_id": self.list_id, "double_opt_in": self.double_opt_in,
            "confirmation_template": self.confirmation_template, "sender": self.sender,
            "token_lifetime_hours": self.token_lifetime_hours, "reminder_after_hours": self.reminder_after_hours,
            "max_reminders": self.max_reminders, "fields": self.fields,
        }) {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    /// Ask with `text`, the current version of the library text the form
    /// names: its words and version become the form's. The text must ask for
    /// the form's channel and one of its purposes (no purposes given: the
    /// text's); a wording given alongside must be the text's own.
    pub fn ask_with(&mut self, text: &ConsentText) -> Result<(), FormError> {
        let key = &text.key;
        if text.channel != self.channel {
            return Err(err(
                "consent_text",
                format!("\"{key}\" asks for {} consent; this form asks for {}", text.channel, self.channel),
            ));
        }
        if self.purposes.is_empty() {
            self.purposes.push(text.purpose);
        } else if !self.purposes.contains(&text.purpose) {
            return Err(err(
                "purposes",
                format!("consent text \"{key}\" asks for {}: list it among the purposes", text.purpose),
            ));
        }
        let from_library = |field: &str| {
            err(
                field,
                format!(
                    "comes from consent text \"{key}\" (now {}): change the text in the library, or set \
                     consent_text to null to write the form's own",
                    text.wording_version()
                ),
            )
        };
        if !self.wording.is_empty() && self.wording != text.text.trim() {
            return Err(from_library("wording"));
        }
        if !self.wording_version.is_empty() && self.wording_version != text.wording_version() {
            return Err(from_library("wording_version"));
        }
        self.consent_text = Some(key.clone());
        self.wording = text.text.trim().to_string();
        self.wording_version = text.wording_version();
        Ok(())
    }

    /// When the next reminder is due (ms), given when the confirmation was
    /// asked for, how many reminders went out and when the link expires;
    /// `None` when no more are due. Reminders are spaced evenly from the
    /// submission and never sent at or after expiry, when they would carry
    /// a dead link.
    pub fn next_reminder_at(&self, submitted_at: i64, reminders_sent: u32, expires_at: i64) -> Option<i64> {
        let after = self.reminder_after_hours? as i64 * 3_600_000;
        if reminders_sent >= self.max_reminders {
            return None;
        }
        let due = submitted_at + after * (reminders_sent as i64 + 1);
        (due < expires_at).then_some(due)
    }
}

/// What a person typed into a form, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    /// Normalised (lower-case domain, trimmed).
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

impl Submission {
    /// Validate a submission. `fields` holds strings from a urlencoded body
    /// or any JSON value; `strict` (JSON posts) refuses keys the form does
    /// not have, since a site sending them has a bug worth hearing about.
    pub fn parse(def: &FormDefinition, fields: &Map<String, Value>, strict: bool) -> Result<Submission, FormError> {
        if strict {
            let allowed: Vec<&str> =
                ["email", "consent"].into_iter().chain(def.fields.iter().map(|f| f.as_str())).collect();
            if let Some(k) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
                return Err(err(k, format!("unknown field; this form takes {}", allowed.join(", "))));
            }
        }
        let raw = match fields.get("email") {
            None | Some(Value::Null) => return Err(err("email", "is required")),
            Some(Value::String(s)) if s.trim().is_empty() => return Err(err("email", "is required")),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(_) => return Err(err("email", "must be a string")),
        };
        let email = normalize_email(&raw).map_err(|_| err("email", format!("{raw:?} is not an email address")))?;
        let consented = match fields.get("consent") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.as_str(), "yes" | "on" | "true" | "1"),
            _ => false,
        };
        if !consented {
            return Err(err("consent", "must be given: tick the box to agree (JSON: \"consent\": true)"));
        }
        let name = |f: FormField| -> Result<Option<String>, FormError> {
            if !def.fields.contains(&f) {
                return Ok(None);
            }
            match fields.get(f.as_str()) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) if s.chars().count() > MAX_NAME => {
                    Err(err(f.as_str(), format!("is at most {MAX_NAME} characters")))
                }
                Some(Value::String(s)) if s.chars().any(char::is_control) => {
                    Err(err(f.as_str(), "must not contain control characters"))
                }
                Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
                Some(_) => Err(err(f.as_str(), "must be a string")),
            }
        };
        Ok(Submission { email, first_name: name(FormField::FirstName)?, last_name: name(FormField::LastName)? })
    }
}

/// Whether a request's `Sec-GPC` header value is a Global Privacy Control
/// opt-out. The specification defines only `1`; anything else (including
/// `0`) carries no preference.
pub fn gpc_opt_out(header: Option<&str>) -> bool {
    header.map(str::trim) == Some("1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(v: Value) -> Result<FormDefinition, FormError> {
        FormDefinition::from_json(v.as_object().unwrap())
    }

    fn newsletter() -> FormDefinition {
        def(json!({"name": "Newsletter", "purposes": ["marketing"], "wording": "Send me the monthly newsletter",
            "wording_version": "v1", "fields": ["first_name"]}))
        .unwrap()
    }

    fn library_text(version: i64, text: &str) -> ConsentText {
        ConsentText {
            key: "newsletter".into(),
            version,
            channel: Channel::Email,
            purpose: Purpose::Marketing,
            language: "en".into(),
            text: text.into(),
            created_at: 0,
            created_by: "test".into(),
        }
    }

    #[test]
    fn a_form_asking_with_a_library_text_takes_its_words_version_and_purpose() {
        let mut d = def(json!({"name": "N", "consent_text": "newsletter"})).unwrap();
        assert!(d.purposes.is_empty() && d.wording.is_empty(), "incomplete until given the text");
        d.ask_with(&library_text(3, "Email me the newsletter")).unwrap();
        assert_eq!((d.wording.as_str(), d.wording_version.as_str()), ("Email me the newsletter", "newsletter@v3"));
        assert_eq!(d.purposes, vec![Purpose::Marketing]);
        // Stored and read back (as an update overlays it), the same text's next version replaces the words.
        let mut again = FormDefinition::from_json(&d.to_json()).unwrap();
        assert_eq!(again.consent_text.as_deref(), Some("newsletter"));
        again.wording.clear();
        again.wording_version.clear();
        again.ask_with(&library_text(4, "Email me the monthly newsletter")).unwrap();
        assert_eq!(again.wording_version, "newsletter@v4");
        // A wording of its own next to the text's, or a purpose the text does not ask for, is refused by name.
        let mut own = def(json!({"name": "N", "consent_text": "newsletter", "wording": "Something else"})).unwrap();
        let e = own.ask_with(&library_text(3, "Email me the newsletter")).unwrap_err();
        assert_eq!(e.field, "wording");
        assert!(e.reason.contains("newsletter@v3"), "{e}");
        let mut other =
            def(json!({"name": "N", "consent_text": "newsletter", "purposes": ["product_updates"]})).unwrap();
        assert_eq!(other.ask_with(&library_text(1, "x")).unwrap_err().field, "purposes");
        assert_eq!(def(json!({"name": "N", "consent_text": "Bad Key"})).unwrap_err().field, "consent_text");
        // Without a library text, the wording is still required.
        assert_eq!(
            def(json!({"name": "N", "purposes": ["marketing"], "wording_version": "1"})).unwrap_err().field,
            "wording"
        );
    }

    #[test]
    fn defaults_are_double_opt_in_with_one_reminder_after_two_days() {
        let d = newsletter();
        assert!(d.double_opt_in);
        assert_eq!(d.channel, Channel::Email);
        assert_eq!((d.token_lifetime_hours, d.reminder_after_hours, d.max_reminders), (168, Some(48), 1));
        // The JSON form reads back to the same definition.
        assert_eq!(FormDefinition::from_json(&d.to_json()).unwrap(), d);
    }

    #[test]
    fn bad_definitions_name_the_field() {
        let base = json!({"name": "N", "purposes": ["marketing"], "wording": "W", "wording_version": "1"});
        let with = |k: &str, v: Value| {
            let mut o = base.clone();
            o[k] = v;
            def(o).unwrap_err()
        };
        assert_eq!(with("purposes", json!([])).field, "purposes");
        assert_eq!(with("purposes", json!(["marketing", "spam"])).field, "purposes[1]");
        assert_eq!(with("purposes", json!(["marketing", "marketing"])).field, "purposes[1]");
        assert_eq!(with("channel", json!("sms")).field, "channel");
        assert_eq!(with("list_id", json!("nope")).field, "list_id");
        assert_eq!(with("double_opt_in", json!("yes")).field, "double_opt_in");
        assert_eq!(with("token_lifetime_hours", json!(0)).field, "token_lifetime_hours");
        assert_eq!(with("max_reminders", json!(9)).field, "max_reminders");
        assert_eq!(with("fields", json!(["email"])).field, "fields[0]");
        assert_eq!(with("colour", json!("red")).field, "colour");
        let e = with("reminder_after_hours", json!(200));
        assert_eq!(e.field, "reminder_after_hours", "{e}");
        let mut o = base.clone();
        o.as_object_mut().unwrap().remove("wording");
        assert_eq!(def(o).unwrap_err().field, "wording");
        let mut o = base;
        o.as_object_mut().unwrap().remove("wording_version");
        assert_eq!(def(o).unwrap_err().field, "wording_version");
    }

    #[test]
    fn reminders_are_spaced_capped_and_stop_before_expiry() {
        let mut d = newsletter();
        let h = 3_600_000;
        let expires = 168 * h;
        assert_eq!(d.next_reminder_at(0, 0, expires), Some(48 * h));
        assert_eq!(d.next_reminder_at(0, 1, expires), None);
        d.max_reminders = 3;
        assert_eq!(d.next_reminder_at(0, 1, expires), Some(96 * h));
        assert_eq!(d.next_reminder_at(0, 2, expires), Some(144 * h));
        // A fourth would fall after the link expires.
        d.max_reminders = 5;
        assert_eq!(d.next_reminder_at(0, 3, expires), None);
        d.reminder_after_hours = None;
        assert_eq!(d.next_reminder_at(0, 0, expires), None);
        d.reminder_after_hours = Some(48);
        d.max_reminders = 0;
        assert_eq!(d.next_reminder_at(0, 0, expires), None);
        // reminder_after_hours: null turns reminders off.
        let off = def(json!({"name": "N", "purposes": ["marketing"], "wording": "W", "wording_version": "1",
            "reminder_after_hours": null}))
        .unwrap();
        assert_eq!(off.next_reminder_at(0, 0, expires), None);
    }

    fn fields(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn submissions_need_an_email_and_a_ticked_box() {
        let d = newsletter();
        let s = Submission::parse(
            &d,
            &fields(json!({"email": " Zoe@Example.ORG ", "consent": "yes", "first_name": " Zoë "})),
            false,
        )
        .unwrap();
        assert_eq!(s.email, "zoe@example.org");
        assert_eq!(s.first_name.as_deref(), Some("Zoë"));
        assert_eq!(s.last_name, None);
        let e = Submission::parse(&d, &fields(json!({"consent": "yes"})), false).unwrap_err();
        assert_eq!(e.field, "email");
        let e = Submission::parse(&d, &fields(json!({"email": "not-an-address", "consent": "yes"})), false);
        assert_eq!(e.unwrap_err().field, "email");
        let e = Submission::parse(&d, &fields(json!({"email": "a@b.org"})), false).unwrap_err();
        assert_eq!(e.field, "consent");
        let e = Submission::parse(&d, &fields(json!({"email": "a@b.org", "consent": false})), true).unwrap_err();
        assert_eq!(e.field, "consent");
        // A field the form does not collect is ignored from a page, refused from JSON.
        let page = fields(json!({"email": "a@b.org", "consent": "on", "last_name": "X", "submit": ""}));
        assert_eq!(Submission::parse(&d, &page, false).unwrap().last_name, None);
        let e = Submission::parse(&d, &fields(json!({"email": "a@b.org", "consent": true, "last_name": "X"})), true);
        assert_eq!(e.unwrap_err().field, "last_name");
        let e = Submission::parse(&d, &fields(json!({"email": "a@b.org", "consent": true, "first_name": 7})), true);
        assert_eq!(e.unwrap_err().field, "first_name");
    }

    #[test]
    fn only_sec_gpc_1_is_an_opt_out() {
        assert!(gpc_opt_out(Some("1")));
        assert!(!gpc_opt_out(Some("0")));
        assert!(!gpc_opt_out(Some("yes")));
        assert!(!gpc_opt_out(None));
    }
}
