//! Typed custom fields. Each workspace defines its own fields for contacts and
//! for companies; a value is only stored after it has been coerced to its
//! field's type, so every reader sees one canonical shape per field:
//! strings, finite numbers, booleans, dates (`YYYY-MM-DD` or RFC 3339 in UTC)
//! and lists of strings.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// The type of a custom field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    String,
    Number,
    Boolean,
    Date,
    List,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::List => "list",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => FieldType::String,
            "number" => FieldType::Number,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "list" => FieldType::List,
            _ => return None,
        })
    }
}

/// Which kind of record a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldEntity {
    Contact,
    Company,
}

impl FieldEntity {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldEntity::Contact => "contact",
            FieldEntity::Company => "company",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "contact" => Some(Self::Contact),
            "company" => Some(Self::Company),
            _ => None,
        }
    }
}

/// A custom field defined in a workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDefinition {
    pub entity: FieldEntity,
    pub name: String,
    pub field_type: FieldType,
    pub label: Option<String>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum FieldError {
    #[error("field name {0:?} is invalid: use 1-64 letters, digits or '_', starting with a letter")]
    BadName(String),
    #[error("field name {0:?} is reserved for a standard field")]
    Reserved(String),
    #[error("field {field:?} is a {expected} field; {got} cannot be stored in it")]
    WrongType { field: String, expected: &'static str, got: String },
    #[error("field {0:?} is not defined in this workspace; define it first (POST /api/v1/fields)")]
    Undefined(String),
}

/// Standard contact fields; a custom field may not shadow them.
pub const STANDARD_CONTACT_FIELDS: &[&str] = &[
    "id",
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "timezone",
    "locale",
    "country",
    "created_at",
    "updated_at",
    "company_ids",
];

/// Standard company fields.
pub const STANDARD_COMPANY_FIELDS: &[&str] = &["id", "external_id", "name", "domain", "created_at", "updated_at"];

/// Check that a custom field name is acceptable for the entity.
pub fn validate_field_name(entity: FieldEntity, name: &str) -> Result<(), FieldError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(FieldError::BadName(name.to_string()));
    }
    let reserved = match entity {
        FieldEntity::Contact => STANDARD_CONTACT_FIELDS,
        FieldEntity::Company => STANDARD_COMPANY_FIELDS,
    };
    if reserved.contains(&name) {
        return Err(FieldError::Reserved(name.to_string()));
    }
    Ok(())
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.len() > 40 => format!("the string {:?}…", &s[..s.floor_char_boundary_compat(40)]),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}
impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while i > 0 && !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

/// Parse a date or date-time into the canonical stored text.
pub fn canonical_date(s: &str) -> Option<String> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.format("%Y-%m-%d").to_string());
    }
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Coerce a JSON value into the canonical representation of `field_type`.
/// Lossless conversions are allowed ("42" into a number, "true" into a
/// boolean, a single string into a one-element list); anything else is an
/// error naming the field and what was given.
pub fn coerce(field: &str, field_type: FieldType, v: &Value) -> Result<Value, FieldError> {
    let wrong = || FieldError::WrongType { field: field.to_string(), expected: field_type.as_str(), got: describe(v) };
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match field_type {
        FieldType::String => match v {
            Value::String(s) => Value::String(s.clone()),
            Value::Number(n) => Value::String(n.to_string()),
            Value::Bool(b) => Value::String(b.to_string()),
            _ => return Err(wrong()),
        },
        FieldType::Number => match v {
            Value::Number(n) if n.as_f64().is_some_and(f64::is_finite) => Value::Number(n.clone()),
            Value::String(s) => {
                let f: f64 = s.trim().parse().map_err(|_| wrong())?;
                serde_json::Number::from_f64(f).map(Value::Number).ok_or_else(wrong)?
            }
            _ => return Err(wrong()),
        },
        FieldType::Boolean => match v {
            Value::Bool(b) => Value::Bool(*b),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Value::Bool(true),
                "false" | "no" | "0" => Value::Bool(false),
                _ => return Err(wrong()),
            },
            Value::Number(n) if n.as_i64() == Some(1) => Value::Bool(true),
            Value::Number(n) if n.as_i64() == Some(0) => Value::Bool(false),
            _ => return Err(wrong()),
        },
        FieldType::Date => match v {
            Value::String(s) => Value::String(canonical_date(s).ok_or_else(wrong)?),
            _ => return Err(wrong()),
        },
        FieldType::List => match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => out.push(Value::String(s.clone())),
                        Value::Number(n) => out.push(Value::String(n.to_string())),
                        Value::Bool(b) => out.push(Value::String(b.to_string())),
                        _ => return Err(wrong()),
                    }
                }
                Value::Array(out)
            }
            Value::String(s) => Value::Array(vec![Value::String(s.clone())]),
            _ => return Err(wrong()),
        },
    })
}

/// The type a field gets when it first appears in tracked traits without a
/// definition; `None` for values no field type can hold (objects, null).
pub fn infer_type(v: &Value) -> Option<FieldType> {
    match v {
        Value::String(s) => {
            Some(if s.len() >= 10 && canonical_date(s).is_some() { FieldType::Date } else { FieldType::String })
        }
        Value::Number(_) => Some(FieldType::Number),
        Value::Bool(_) => Some(FieldType::Boolean),
        Value::Array(items) if items.iter().all(|i| i.is_string() || i.is_number()) => Some(FieldType::List),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn coercion_is_lossless_or_refused() {
        assert_eq!(coerce("n", FieldType::Number, &json!("42")).unwrap(), json!(42.0));
        assert_eq!(coerce("b", FieldType::Boolean, &json!("yes")).unwrap(), json!(true));
        assert_eq!(coerce("l", FieldType::List, &json!("a")).unwrap(), json!(["a"]));
        assert_eq!(
            coerce("d", FieldType::Date, &json!("2024-02-03T10:00:00+01:00")).unwrap(),
            json!("2024-02-03T09:00:00.000Z")
        );
        assert_eq!(coerce("d", FieldType::Date, &json!("2024-02-03")).unwrap(), json!("2024-02-03"));
        let e = coerce("plan_size", FieldType::Number, &json!("big")).unwrap_err();
        assert_eq!(e.to_string(), "field \"plan_size\" is a number field; the string \"big\" cannot be stored in it");
        assert!(coerce("d", FieldType::Date, &json!("2024-13-01")).is_err());
        assert!(coerce("l", FieldType::List, &json!([{"a": 1}])).is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_field_name(FieldEntity::Contact, "plan").is_ok());
        assert!(matches!(validate_field_name(FieldEntity::Contact, "email"), Err(FieldError::Reserved(_))));
        assert!(matches!(validate_field_name(FieldEntity::Contact, "9lives"), Err(FieldError::BadName(_))));
        assert!(matches!(validate_field_name(FieldEntity::Contact, "a-b"), Err(FieldError::BadName(_))));
    }

    #[test]
    fn inference() {
        assert_eq!(infer_type(&json!("2024-01-01")), Some(FieldType::Date));
        assert_eq!(infer_type(&json!("pro")), Some(FieldType::String));
        assert_eq!(infer_type(&json!(3)), Some(FieldType::Number));
        assert_eq!(infer_type(&json!({"x": 1})), None);
    }
}
