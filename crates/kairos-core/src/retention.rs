//! Retention: how long a workspace keeps raw events and inactive contacts.
//! Old events are deleted or anonymised (unlinked from the person, stripped of
//! identifiers, context and properties, so counts survive but nobody can be
//! recognised); contacts with no activity for long enough are purged.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EventAction {
    #[default]
    Delete,
    Anonymise,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    /// Events with a timestamp older than this many days are handled.
    pub events_max_age_days: Option<u32>,
    #[serde(default)]
    pub events_action: EventAction,
    /// Contacts neither updated nor active for this many days are purged.
    pub inactive_contacts_days: Option<u32>,
}

/// What a retention run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionReport {
    pub events_deleted: u64,
    pub events_anonymised: u64,
    pub contacts_purged: u64,
    pub ran_at: i64,
}

const DAY_MS: i64 = 86_400_000;

impl RetentionPolicy {
    pub fn from_json(v: &serde_json::Value) -> Result<RetentionPolicy, (String, String)> {
        let bad = |f: &str, m: String| (f.to_string(), m);
        let obj = v.as_object().ok_or_else(|| bad("body", "must be a JSON object".into()))?;
        for k in obj.keys() {
            if !["events_max_age_days", "events_action", "inactive_contacts_days"].contains(&k.as_str()) {
                return Err(bad(
                    k,
                    "unknown key; expected events_max_age_days, events_action, inactive_contacts_days".into(),
                ));
            }
        }
        let p: RetentionPolicy = serde_json::from_value(v.clone()).map_err(|e| bad("body", e.to_string()))?;
        for (field, days) in
            [("events_max_age_days", p.events_max_age_days), ("inactive_contacts_days", p.inactive_contacts_days)]
        {
            if let Some(d) = days {
                if !(1..=36_500).contains(&d) {
                    return Err(bad(field, format!("must be a number of days from 1 to 36500, got {d}")));
                }
            }
        }
        Ok(p)
    }

    /// Events before this instant (ms) are due.
    pub fn event_cutoff(&self, now: i64) -> Option<i64> {
        self.events_max_age_days.map(|d| now - d as i64 * DAY_MS)
    }

    /// Contacts inactive since before this instant (ms) are due.
    pub fn contact_cutoff(&self, now: i64) -> Option<i64> {
        self.inactive_contacts_days.map(|d| now - d as i64 * DAY_MS)
    }

    pub fn is_empty(&self) -> bool {
        self.events_max_age_days.is_none() && self.inactive_contacts_days.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn policies_are_checked() {
        let p = RetentionPolicy::from_json(&json!({"events_max_age_days": 30, "events_action": "anonymise"})).unwrap();
        assert_eq!(p.events_action, EventAction::Anonymise);
        assert_eq!(p.event_cutoff(31 * DAY_MS), Some(DAY_MS));
        assert_eq!(
            RetentionPolicy::from_json(&json!({"events_max_age_days": 0})).unwrap_err().0,
            "events_max_age_days"
        );
        assert_eq!(RetentionPolicy::from_json(&json!({"keep": 1})).unwrap_err().0, "keep");
        assert!(RetentionPolicy::from_json(&json!({"events_action": "shred"})).is_err());
    }
}
