//! Companies (accounts) for B2B marketing: a company has a name, a web
//! domain, typed custom fields, and contacts linked to it.

use crate::fields::{coerce, FieldError, FieldType};
use crate::ids::{CompanyId, WorkspaceId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Company {
    pub id: CompanyId,
    pub workspace_id: WorkspaceId,
    /// The customer's own id for the account (Segment's `groupId`).
    pub external_id: Option<String>,
    pub name: String,
    /// Lower-case web domain without scheme, e.g. `example.com`.
    pub domain: Option<String>,
    pub custom: BTreeMap<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CompanyError {
    #[error("field {field:?}: {reason}")]
    Invalid { field: String, reason: String },
    #[error(transparent)]
    Field(#[from] FieldError),
}

/// Canonical company domain: lower case, no scheme, no path, no `www.`.
pub fn canonical_domain(raw: &str) -> Result<String, CompanyError> {
    let mut d = raw.trim().to_ascii_lowercase();
    for prefix in ["https://", "http://"] {
        if let Some(rest) = d.strip_prefix(prefix) {
            d = rest.to_string();
        }
    }
    let d = d.split('/').next().unwrap_or_default();
    let d = d.strip_prefix("www.").unwrap_or(d).to_string();
    let ok = d.contains('.')
        && !d.starts_with('.')
        && !d.ends_with('.')
        && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !ok {
        return Err(CompanyError::Invalid {
            field: "domain".into(),
            reason: format!("{raw:?} is not a web domain like \"example.com\""),
        });
    }
    Ok(d)
}

impl Company {
    pub fn new(workspace_id: WorkspaceId, name: String, now: DateTime<Utc>) -> Self {
        Company {
            id: CompanyId::new(),
            workspace_id,
            external_id: None,
            name,
            domain: None,
            custom: BTreeMap::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// Apply a JSON object of changes (`name`, `domain`, `external_id`, custom
    /// fields). On error the company is unchanged.
    pub fn apply_json(
        &mut self,
        obj: &Map<String, Value>,
        now: DateTime<Utc>,
        field_type: &dyn Fn(&str) -> Option<FieldType>,
    ) -> Result<(), CompanyError> {
        let mut next = self.clone();
        let invalid = |field: &str, reason: &str| CompanyError::Invalid { field: field.into(), reason: reason.into() };
        for (k, v) in obj {
            match k.as_str() {
                "name" => match v {
                    Value::String(s) if !s.trim().is_empty() && s.len() <= 255 => next.name = s.trim().to_string(),
                    _ => return Err(invalid("name", "must be a non-empty string of at most 255 characters")),
                },
                "domain" => match v {
                    Value::Null => next.domain = None,
                    Value::String(s) => next.domain = Some(canonical_domain(s)?),
                    _ => return Err(invalid("domain", "must be a string or null")),
                },
                "external_id" => match v {
                    Value::Null => next.external_id = None,
                    Value::String(s) if s.len() <= 255 => next.external_id = Some(s.clone()),
                    Value::Number(n) => next.external_id = Some(n.to_string()),
                    _ => return Err(invalid("external_id", "must be a string of at most 255 characters")),
                },
                "id" | "created_at" | "updated_at" => return Err(invalid(k, "is read-only")),
                "custom" => {
                    let Value::Object(m) = v else {
                        return Err(invalid("custom", "must be an object"));
                    };
                    for (ck, cv) in m {
                        set_custom(&mut next, ck, cv, field_type)?;
                    }
                }
                _ => set_custom(&mut next, k, v, field_type)?,
            }
        }
        next.updated_at = now;
        *self = next;
        Ok(())
    }
}

fn set_custom(
    c: &mut Company,
    k: &str,
    v: &Value,
    field_type: &dyn Fn(&str) -> Option<FieldType>,
) -> Result<(), CompanyError> {
    let ft = field_type(k).ok_or_else(|| FieldError::Undefined(k.to_string()))?;
    let value = coerce(k, ft, v)?;
    if value.is_null() {
        c.custom.remove(k);
    } else {
        c.custom.insert(k.to_string(), value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_canonical() {
        assert_eq!(canonical_domain("https://www.Example.com/about").unwrap(), "example.com");
        assert!(canonical_domain("not a domain").is_err());
    }
}
