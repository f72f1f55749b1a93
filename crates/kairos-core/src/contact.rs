//! Contacts: the people a workspace markets to. A contact has standard fields
//! (always normalised), typed custom fields, and per-field "last set" instants
//! that let identity merges keep the newest value of each field.
//!
//! Changes arrive as a [`ContactPatch`] from the REST API, a CSV row or an
//! `identify` call; [`ContactPatch::apply`] validates and applies it in one
//! place so every entry point enforces the same rules.

use crate::address::{normalize_email, normalize_phone, AddressError};
use crate::fields::{coerce, FieldError, FieldType};
use crate::ids::{CompanyId, ContactId, WorkspaceId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use thiserror::Error;

/// A contact as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub workspace_id: WorkspaceId,
    /// The customer's own id for this person (Segment's `userId`).
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub timezone: Option<String>,
    pub locale: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    pub custom: BTreeMap<String, Value>,
    /// When each field (standard or custom) was last set, in ms since epoch.
    pub field_times: BTreeMap<String, i64>,
    pub company_ids: Vec<CompanyId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Contact {
    pub fn new(workspace_id: WorkspaceId, now: DateTime<Utc>) -> Self {
        Contact {
            id: ContactId::new(),
            workspace_id,
            external_id: None,
            email: None,
            phone: None,
            first_name: None,
            last_name: None,
            timezone: None,
            locale: None,
            country: None,
            custom: BTreeMap::new(),
            field_times: BTreeMap::new(),
            company_ids: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Mutable access to a standard text field by its API name.
    pub fn standard_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "external_id" => &mut self.external_id,
            "email" => &mut self.email,
            "phone" => &mut self.phone,
            "first_name" => &mut self.first_name,
            "last_name" => &mut self.last_name,
            "timezone" => &mut self.timezone,
            "locale" => &mut self.locale,
            "country" => &mut self.country,
            _ => return None,
        })
    }

    pub fn standard(&self, name: &str) -> Option<&Option<String>> {
        Some(match name {
            "external_id" => &self.external_id,
            "email" => &self.email,
            "phone" => &self.phone,
            "first_name" => &self.first_name,
            "last_name" => &self.last_name,
            "timezone" => &self.timezone,
            "locale" => &self.locale,
            "country" => &self.country,
            _ => return None,
        })
    }
}

/// Names of the standard text fields a patch may set.
pub const PATCHABLE_STANDARD: &[&str] =
    &["external_id", "email", "phone", "first_name", "last_name", "timezone", "locale", "country"];

/// A change to a contact. `None` leaves a field alone; `Some(None)` (JSON
/// `null`) clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactPatch {
    pub standard: BTreeMap<String, Option<String>>,
    pub custom: BTreeMap<String, Value>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ContactError {
    #[error(transparent)]
    Address(#[from] AddressError),
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("field {field:?}: {reason}")]
    Invalid { field: String, reason: String },
    /// More than one field is wrong: each is named, so a form can mark all
    /// of them at once.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Several(Vec<ContactError>),
}

impl ContactError {
    /// The field the error is about, for machine-readable error bodies.
    pub fn field(&self) -> Option<String> {
        match self {
            ContactError::Address(AddressError::InvalidEmail { .. }) => Some("email".into()),
            ContactError::Address(AddressError::InvalidPhone { .. }) => Some("phone".into()),
            ContactError::Field(FieldError::WrongType { field, .. }) => Some(field.clone()),
            ContactError::Field(FieldError::Undefined(f)) => Some(f.clone()),
            ContactError::Field(FieldError::BadName(f)) | ContactError::Field(FieldError::Reserved(f)) => {
                Some(f.clone())
            }
            ContactError::Invalid { field, .. } => Some(field.clone()),
            ContactError::Several(all) => all.first().and_then(ContactError::field),
        }
    }

    /// Each problem on its own, with the field it is about.
    pub fn each(&self) -> Vec<&ContactError> {
        match self {
            ContactError::Several(all) => all.iter().flat_map(ContactError::each).collect(),
            one => vec![one],
        }
    }

    /// One error for a list of them (`None` for none).
    fn of(mut all: Vec<ContactError>) -> Option<ContactError> {
        match all.len() {
            0 => None,
            1 => all.pop(),
            _ => Some(ContactError::Several(all)),
        }
    }
}

fn invalid(field: &str, reason: impl Into<String>) -> ContactError {
    ContactError::Invalid { field: field.into(), reason: reason.into() }
}

/// Validate an IANA time-zone name's shape ("Europe/Berlin", "UTC").
fn valid_timezone(tz: &str) -> bool {
    !tz.is_empty()
        && tz.len() <= 64
        && tz.split('/').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
        && tz.starts_with(|c: char| c.is_ascii_uppercase())
}

/// Validate a BCP 47 language tag's shape ("en", "en-US", "pt_BR").
fn canonical_locale(l: &str) -> Option<String> {
    let parts: Vec<&str> = l.split(['-', '_']).collect();
    let lang = parts.first()?;
    if !(2..=3).contains(&lang.len()) || !lang.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    if parts[1..].iter().any(|p| !(2..=8).contains(&p.len()) || !p.chars().all(|c| c.is_ascii_alphanumeric())) {
        return None;
    }
    let mut out = lang.to_ascii_lowercase();
    for (i, p) in parts[1..].iter().enumerate() {
        out.push('-');
        if i == 0 && p.len() == 2 {
            out.push_str(&p.to_ascii_uppercase());
        } else {
            out.push_str(p);
        }
    }
    Some(out)
}

/// Canonical ISO 3166-1 alpha-2 code, if `c` is one.
pub fn canonical_country(c: &str) -> Option<String> {
    let up = c.trim().to_ascii_uppercase();
    (up.len() == 2 && up.parse::<phonenumber::country::Id>().is_ok()).then_some(up)
}

impl ContactPatch {
    pub fn is_empty(&self) -> bool {
        self.standard.is_empty() && self.custom.is_empty()
    }

    /// Build a patch from a JSON object of API field names. Unknown keys are
    /// custom fields; standard ones must be strings or null.
    pub fn from_json(obj: &Map<String, Value>) -> Result<Self, ContactError> {
        let mut patch = ContactPatch::default();
        let mut errors = Vec::new();
        for (k, v) in obj {
            if k == "custom" {
                let Value::Object(custom) = v else {
                    errors.push(invalid("custom", "must be an object of custom field values"));
                    continue;
                };
                for (ck, cv) in custom {
                    patch.custom.insert(ck.clone(), cv.clone());
                }
            } else if PATCHABLE_STANDARD.contains(&k.as_str()) {
                match v {
                    Value::Null => patch.standard.insert(k.clone(), None),
                    Value::String(s) => patch.standard.insert(k.clone(), Some(s.clone())),
                    Value::Number(n) if k == "external_id" || k == "phone" => {
                        patch.standard.insert(k.clone(), Some(n.to_string()))
                    }
                    _ => {
                        errors.push(invalid(k, "must be a string or null"));
                        None
                    }
                };
            } else if matches!(k.as_str(), "id" | "created_at" | "updated_at" | "company_ids") {
                errors.push(invalid(k, "is read-only"));
            } else {
                patch.custom.insert(k.clone(), v.clone());
            }
        }
        match ContactError::of(errors) {
            Some(e) => Err(e),
            None => Ok(patch),
        }
    }

    /// Validate the patch and apply it to `contact` at instant `now`.
    /// `field_type` looks up the type of a custom field; unknown fields are
    /// an error. On error, `contact` is left unchanged.
    pub fn apply(
        &self,
        contact: &mut Contact,
        now: DateTime<Utc>,
        field_type: &dyn Fn(&str) -> Option<FieldType>,
    ) -> Result<bool, ContactError> {
        let mut next = contact.clone();
        let t = now.timestamp_millis();
        // Country first: it is the default region for phone numbers.
        let mut order: Vec<&String> = self.standard.keys().collect();
        order.sort_by_key(|k| *k != "country");
        let mut changed = false;
        let mut errors = Vec::new();
        for name in order {
            let value = match standard_value(name, &self.standard[name], next.country.as_deref()) {
                Ok(v) => v,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let Some(slot) = next.standard_mut(name) else {
                errors.push(invalid(name, "is not a standard field"));
                continue;
            };
            if *slot != value {
                *slot = value;
                next.field_times.insert(name.clone(), t);
                changed = true;
            }
        }
        for (name, raw) in &self.custom {
            let Some(ft) = field_type(name) else {
                errors.push(FieldError::Undefined(name.clone()).into());
                continue;
            };
            let value = match coerce(name, ft, raw) {
                Ok(v) => v,
                Err(e) => {
                    errors.push(e.into());
                    continue;
                }
            };
            if value.is_null() {
                if next.custom.remove(name).is_some() {
                    next.field_times.insert(name.clone(), t);
                    changed = true;
                }
            } else if next.custom.get(name) != Some(&value) {
                next.custom.insert(name.clone(), value);
                next.field_times.insert(name.clone(), t);
                changed = true;
            }
        }
        if let Some(e) = ContactError::of(errors) {
            return Err(e);
        }
        if changed {
            next.updated_at = now;
        }
        *contact = next;
        Ok(changed)
    }
}

/// A standard field's value, normalised, or why it is refused. `country` is
/// the default region for a phone number without a country code.
fn standard_value(name: &str, raw: &Option<String>, country: Option<&str>) -> Result<Option<String>, ContactError> {
    let value = match raw.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(match name {
            "email" => normalize_email(v)?,
            "phone" => normalize_phone(v, country)?,
            "country" => canonical_country(v).ok_or_else(|| {
                invalid("country", format!("{v:?} is not an ISO 3166-1 alpha-2 country code like \"DE\""))
            })?,
            "timezone" => {
                if !valid_timezone(v) {
                    return Err(invalid("timezone", format!("{v:?} is not an IANA time zone like \"Europe/Berlin\"")));
                }
                v.to_string()
            }
            "locale" => canonical_locale(v)
                .ok_or_else(|| invalid("locale", format!("{v:?} is not a language tag like \"en-US\"")))?,
            "external_id" if v.len() > 255 => return Err(invalid("external_id", "is longer than 255 characters")),
            _ if v.len() > 1024 => return Err(invalid(name, "is longer than 1024 characters")),
            _ => v.to_string(),
        }),
    };
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn types(name: &str) -> Option<FieldType> {
        match name {
            "plan" => Some(FieldType::String),
            "seats" => Some(FieldType::Number),
            _ => None,
        }
    }

    #[test]
    fn patch_normalises_and_stamps() {
        let now = Utc::now();
        let mut c = Contact::new(WorkspaceId::new(), now);
        let obj = json!({"email": "Ada@Example.com", "country": "de", "phone": "030 901820", "seats": "12", "locale": "en_us"});
        let p = ContactPatch::from_json(obj.as_object().unwrap()).unwrap();
        assert!(p.apply(&mut c, now, &types).unwrap());
        assert_eq!(c.email.as_deref(), Some("ada@example.com"));
        assert_eq!(c.country.as_deref(), Some("DE"));
        assert_eq!(c.phone.as_deref(), Some("+4930901820"));
        assert_eq!(c.locale.as_deref(), Some("en-US"));
        assert_eq!(c.custom["seats"], json!(12.0));
        assert_eq!(c.field_times["email"], now.timestamp_millis());
        // Same patch again changes nothing.
        assert!(!p.apply(&mut c, now, &types).unwrap());
    }

    #[test]
    fn failed_patch_changes_nothing() {
        let now = Utc::now();
        let mut c = Contact::new(WorkspaceId::new(), now);
        let before = c.clone();
        let obj = json!({"first_name": "Ada", "email": "not-an-email"});
        let p = ContactPatch::from_json(obj.as_object().unwrap()).unwrap();
        let e = p.apply(&mut c, now, &types).unwrap_err();
        assert_eq!(e.field().as_deref(), Some("email"));
        assert_eq!(c, before);
        let obj = json!({"undefined_field": 1});
        let p = ContactPatch::from_json(obj.as_object().unwrap()).unwrap();
        assert!(matches!(p.apply(&mut c, now, &types), Err(ContactError::Field(FieldError::Undefined(_)))));
        let obj = json!({"timezone": "not a zone"});
        let p = ContactPatch::from_json(obj.as_object().unwrap()).unwrap();
        assert!(p.apply(&mut c, now, &types).is_err());
    }

    #[test]
    fn every_wrong_field_is_named_at_once() {
        let now = Utc::now();
        let mut c = Contact::new(WorkspaceId::new(), now);
        let before = c.clone();
        let obj =
            json!({"email": "nope", "country": "Atlantis", "first_name": "Ada", "seats": "many", "shoe_size": 43});
        let p = ContactPatch::from_json(obj.as_object().unwrap()).unwrap();
        let e = p.apply(&mut c, now, &types).unwrap_err();
        let mut fields: Vec<String> = e.each().iter().filter_map(|e| e.field()).collect();
        fields.sort();
        assert_eq!(fields, ["country", "email", "seats", "shoe_size"]);
        assert!(e.to_string().contains("Atlantis") && e.to_string().contains("; "), "{e}");
        assert_eq!(c, before, "nothing applied");
        // The shape check names every key too.
        let obj = json!({"id": "x", "email": 5, "custom": []});
        let e = ContactPatch::from_json(obj.as_object().unwrap()).unwrap_err();
        let mut fields: Vec<String> = e.each().iter().filter_map(|e| e.field()).collect();
        fields.sort();
        assert_eq!(fields, ["custom", "email", "id"]);
    }

    #[test]
    fn read_only_fields_are_refused() {
        let obj = json!({"id": "x"});
        assert!(ContactPatch::from_json(obj.as_object().unwrap()).is_err());
    }
}
