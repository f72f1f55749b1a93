//! Identity merge rules: when two contacts turn out to be one person, their
//! profiles combine field by field. The rule per field type:
//! - identifiers (`external_id`, `email`): the surviving contact keeps its
//!   own; it takes the other's only where it has none;
//! - scalar fields (strings, numbers, booleans, dates): the value set most
//!   recently wins, by the per-field "last set" instants;
//! - list fields: the union, in order of first appearance;
//! - company links: the union;
//! - `created_at`: the earlier one.
//!
//! The function is pure; the engine moves events and records the merge.

use crate::contact::{Contact, PATCHABLE_STANDARD};
use serde_json::Value;

/// Merge `source` into `target`, returning the surviving profile (with
/// `target`'s id).
pub fn merge_contacts(target: &Contact, source: &Contact) -> Contact {
    let mut out = target.clone();
    let time = |c: &Contact, f: &str| c.field_times.get(f).copied().unwrap_or(i64::MIN);
    for &name in PATCHABLE_STANDARD {
        let theirs = source.standard(name).cloned().flatten();
        let Some(theirs) = theirs else { continue };
        let identifier = matches!(name, "external_id" | "email");
        let ours_set = out.standard(name).is_some_and(|v| v.is_some());
        let take = if identifier { !ours_set } else { !ours_set || time(source, name) > time(target, name) };
        if take {
            if let Some(slot) = out.standard_mut(name) {
                *slot = Some(theirs);
            }
            out.field_times.insert(name.to_string(), time(source, name).max(0));
        }
    }
    for (name, theirs) in &source.custom {
        let merged = match (out.custom.get(name), theirs) {
            (Some(Value::Array(ours)), Value::Array(theirs)) => {
                let mut all = ours.clone();
                for v in theirs {
                    if !all.contains(v) {
                        all.push(v.clone());
                    }
                }
                Value::Array(all)
            }
            (Some(ours), theirs) => {
                if time(source, name) > time(target, name) {
                    theirs.clone()
                } else {
                    ours.clone()
                }
            }
            (None, theirs) => theirs.clone(),
        };
        out.custom.insert(name.clone(), merged);
        let t = time(source, name).max(time(target, name)).max(0);
        out.field_times.insert(name.clone(), t);
    }
    for c in &source.company_ids {
        if !out.company_ids.contains(c) {
            out.company_ids.push(*c);
        }
    }
    out.created_at = target.created_at.min(source.created_at);
    out.updated_at = target.updated_at.max(source.updated_at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CompanyId, WorkspaceId};
    use chrono::{Duration, Utc};
    use serde_json::json;

    #[test]
    fn newest_wins_lists_union_identifiers_kept() {
        let ws = WorkspaceId::new();
        let t0 = Utc::now();
        let mut target = Contact::new(ws, t0);
        target.external_id = Some("u1".into());
        target.email = Some("a@example.com".into());
        target.first_name = Some("Old".into());
        target.field_times.insert("first_name".into(), 100);
        target.custom.insert("tags".into(), json!(["a", "b"]));
        target.custom.insert("plan".into(), json!("free"));
        target.field_times.insert("plan".into(), 500);
        let c1 = CompanyId::new();
        target.company_ids.push(c1);

        let mut source = Contact::new(ws, t0 - Duration::days(3));
        source.email = Some("b@example.com".into());
        source.first_name = Some("New".into());
        source.field_times.insert("first_name".into(), 200);
        source.last_name = Some("Lovelace".into());
        source.custom.insert("tags".into(), json!(["b", "c"]));
        source.custom.insert("plan".into(), json!("pro"));
        source.field_times.insert("plan".into(), 400);
        let c2 = CompanyId::new();
        source.company_ids.push(c1);
        source.company_ids.push(c2);

        let m = merge_contacts(&target, &source);
        assert_eq!(m.id, target.id);
        assert_eq!(m.email.as_deref(), Some("a@example.com"));
        assert_eq!(m.external_id.as_deref(), Some("u1"));
        assert_eq!(m.first_name.as_deref(), Some("New"));
        assert_eq!(m.last_name.as_deref(), Some("Lovelace"));
        assert_eq!(m.custom["tags"], json!(["a", "b", "c"]));
        assert_eq!(m.custom["plan"], json!("free"));
        assert_eq!(m.company_ids, vec![c1, c2]);
        assert_eq!(m.created_at, source.created_at);
    }
}
