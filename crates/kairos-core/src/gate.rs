//! The gate: the one decision every outgoing message passes before any
//! channel may send it. It checks, in this order, suppression for the
//! channel, consent for the channel and purpose, frequency caps, and quiet
//! hours in the contact's time zone — delaying rather than dropping where the
//! caller allows it. Transactional messages skip consent, caps and quiet
//! hours (the law exempts them), but not suppressions that make delivery
//! pointless or unlawful (bounces, complaints, erasure, manual blocks).
//!
//! Pure: the caller gathers the facts (consent state, suppressions, recent
//! sends) and the workspace policy; nothing here reads a clock or a store.

use crate::consent::{Channel, ConsentState, Purpose};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use thiserror::Error;

/// Why an address or contact must not be sent to on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    HardBounce,
    Complaint,
    Unsubscribed,
    Manual,
    /// The person was erased; only a salted hash of the address remains.
    Erased,
}

impl SuppressionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionReason::HardBounce => "hard_bounce",
            SuppressionReason::Complaint => "complaint",
            SuppressionReason::Unsubscribed => "unsubscribed",
            SuppressionReason::Manual => "manual",
            SuppressionReason::Erased => "erased",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "hard_bounce" => SuppressionReason::HardBounce,
            "complaint" => SuppressionReason::Complaint,
            "unsubscribed" => SuppressionReason::Unsubscribed,
            "manual" => SuppressionReason::Manual,
            "erased" => SuppressionReason::Erased,
            _ => return None,
        })
    }

    /// Whether the suppression also blocks transactional messages.
    pub fn blocks_transactional(self) -> bool {
        !matches!(self, SuppressionReason::Unsubscribed)
    }
}

/// The canonical form of an address on a channel (lower-case email, E.164
/// phone), or why it is not one.
pub fn canonical_address(channel: Channel, raw: &str) -> Result<String, String> {
    match channel {
        Channel::Email => crate::address::normalize_email(raw).map_err(|e| e.to_string()),
        Channel::Sms | Channel::Phone => crate::address::normalize_phone(raw, None).map_err(|e| e.to_string()),
        Channel::Push | Channel::InApp => {
            let t = raw.trim();
            if t.is_empty() || t.len() > 4096 {
                Err("a device token or user id of 1 to 4096 characters".into())
            } else {
                Ok(t.to_string())
            }
        }
    }
}

/// The salted hash a suppression is keyed by: the address cannot be read
/// back from it, but the same address always finds it again.
pub fn address_hash(salt: &str, channel: Channel, canonical: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0]);
    h.update(channel.as_str().as_bytes());
    h.update([0]);
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// Per-channel limits on marketing messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrequencyCap {
    pub per_day: Option<u32>,
    pub per_week: Option<u32>,
}

/// Local hours during which marketing waits: from `start_hour` until
/// `end_hour` (may wrap midnight, e.g. 21 to 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    pub start_hour: u8,
    pub end_hour: u8,
}

/// The most messages a frequency cap may allow per window.
pub const MAX_CAP: u32 = 10_000;

/// A workspace's sending policy (its settings, as the gate reads them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GatePolicy {
    #[serde(default)]
    pub caps: HashMap<Channel, FrequencyCap>,
    pub quiet_hours: Option<QuietHours>,
    /// Used when the contact has no (or an unknown) time zone.
    pub default_timezone: Option<String>,
    /// The sender's physical postal address; CAN-SPAM requires it in every
    /// commercial email, so marketing email is refused until it is set.
    pub postal_address: Option<String>,
    /// Telling people that messages are automated, and what is collected.
    pub transparency: Option<Transparency>,
}

/// A workspace's transparency settings: a disclosure line in every email and
/// a public page listing what data is collected and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transparency {
    /// Who is responsible (the data controller), named in the disclosure
    /// line and on the page.
    pub organisation: String,
    /// Add "This message was sent automatically by ORGANISATION." to every
    /// email, marketing and transactional.
    #[serde(default)]
    pub disclose_automation: bool,
    /// Publish the page at `/transparency/{workspace id}`.
    #[serde(default)]
    pub public_page: bool,
    /// Where people send privacy questions and requests.
    pub privacy_contact: Option<String>,
    /// In the organisation's words: why it collects what it collects.
    pub statement: Option<String>,
}

impl Transparency {
    /// The disclosure line, when it is switched on.
    pub fn disclosure(&self) -> Option<String> {
        self.disclose_automation.then(|| format!("This message was sent automatically by {}.", self.organisation))
    }
}

impl GatePolicy {
    /// Validate a settings document as a whole: every problem named at
    /// once, each with the path of its field (`caps.email.per_day`,
    /// `quiet_hours.start_hour`, `transparency.organisation`…), so a client
    /// fixes its document in one go.
    pub fn from_json(v: &serde_json::Value) -> Result<GatePolicy, Vec<(String, String)>> {
        use serde_json::Value;
        let mut bad: Vec<(String, String)> = Vec::new();
        let mut push = |f: &str, m: String| bad.push((f.to_string(), m));
        let Some(obj) = v.as_object() else { return Err(vec![("body".into(), "must be a JSON object".into())]) };
        let unknown =
            |obj: &serde_json::Map<String, Value>, prefix: &str, known: &[&str], push: &mut dyn FnMut(&str, String)| {
                for k in obj.keys().filter(|k| !known.contains(&k.as_str())) {
                    push(&format!("{prefix}{k}"), format!("unknown setting; expected {}", known.join(", ")));
                }
            };
        unknown(obj, "", &["caps", "quiet_hours", "default_timezone", "postal_address", "transparency"], &mut push);
        let text = |v: Option<&Value>, f: &str, push: &mut dyn FnMut(&str, String)| -> Option<String> {
            match v {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => {
                    push(f, format!("must be a string or null, got {other}"));
                    None
                }
            }
        };
        let mut policy = GatePolicy::default();
        match obj.get("caps") {
            None | Some(Value::Null) => {}
            Some(Value::Object(caps)) => {
                for (name, cap) in caps {
                    let path = format!("caps.{name}");
                    let Some(channel) = Channel::parse(name) else {
                        let all: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
                        push(&path, format!("{name:?} is not a channel; expected {}", all.join(", ")));
                        continue;
                    };
                    let Some(cap) = cap.as_object() else {
                        push(&path, "must be an object like {\"per_day\": 2, \"per_week\": 5}".into());
                        continue;
                    };
                    unknown(cap, &format!("{path}."), &["per_day", "per_week"], &mut push);
                    let mut limit = |k: &str| match cap.get(k) {
                        None | Some(Value::Null) => None,
                        Some(n) => match n.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|n| *n <= MAX_CAP) {
                            Some(n) => Some(n),
                            None => {
                                push(
                                    &format!("{path}.{k}"),
                                    format!("must be a whole number of messages from 0 to {MAX_CAP}, or null for no cap; got {n}"),
                                );
                                None
                            }
                        },
                    };
                    let c = FrequencyCap { per_day: limit("per_day"), per_week: limit("per_week") };
                    policy.caps.insert(channel, c);
                }
            }
            Some(other) => push("caps", format!("must be an object of channels, got {other}")),
        }
        match obj.get("quiet_hours") {
            None | Some(Value::Null) => {}
            Some(Value::Object(q)) => {
                unknown(q, "quiet_hours.", &["start_hour", "end_hour"], &mut push);
                let mut hour = |k: &str| match q.get(k).and_then(Value::as_u64).filter(|h| *h <= 23) {
                    Some(h) => Some(h as u8),
                    None => {
                        push(&format!("quiet_hours.{k}"), "is required: an hour from 0 to 23".into());
                        None
                    }
                };
                if let (Some(start_hour), Some(end_hour)) = (hour("start_hour"), hour("end_hour")) {
                    if start_hour == end_hour {
                        push("quiet_hours", "start_hour and end_hour must be different hours".into());
                    }
                    policy.quiet_hours = Some(QuietHours { start_hour, end_hour });
                }
            }
            Some(other) => {
                push("quiet_hours", format!("must be {{\"start_hour\", \"end_hour\"}} or null, got {other}"))
            }
        }
        if let Some(tz) = text(obj.get("default_timezone"), "default_timezone", &mut push) {
            if jiff::tz::TimeZone::get(&tz).is_err() {
                push("default_timezone", format!("{tz:?} is not an IANA time zone like \"Europe/Berlin\""));
            }
            policy.default_timezone = Some(tz);
        }
        if let Some(a) = text(obj.get("postal_address"), "postal_address", &mut push) {
            let lines = a.split(['\n', ',']).filter(|l| !l.trim().is_empty()).count();
            if a.trim().chars().count() < 10 || a.chars().count() > 500 || lines < 2 {
                push(
                    "postal_address",
                    "must be a full postal address (street, city and postcode, on lines or separated by commas)".into(),
                );
            }
            policy.postal_address = Some(a);
        }
        match obj.get("transparency") {
            None | Some(Value::Null) => {}
            Some(Value::Object(t)) => {
                let known = ["organisation", "disclose_automation", "public_page", "privacy_contact", "statement"];
                unknown(t, "transparency.", &known, &mut push);
                let organisation =
                    text(t.get("organisation"), "transparency.organisation", &mut push).unwrap_or_default();
                if organisation.trim().is_empty() || organisation.chars().count() > 200 {
                    push("transparency.organisation", "must name the organisation, in 1 to 200 characters".into());
                } else if organisation.contains(['\r', '\n']) {
                    push("transparency.organisation", "must be one line".into());
                }
                let mut flag = |k: &str| match t.get(k) {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(other) => {
                        push(&format!("transparency.{k}"), format!("must be true or false, got {other}"));
                        false
                    }
                };
                let (disclose_automation, public_page) = (flag("disclose_automation"), flag("public_page"));
                let privacy_contact = text(t.get("privacy_contact"), "transparency.privacy_contact", &mut push);
                if let Some(c) = &privacy_contact {
                    let c = c.trim();
                    let url = (c.starts_with("https://") || c.starts_with("http://")) && c.len() > 8;
                    let email = c.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.'));
                    if c.chars().count() > 300 || c.contains(char::is_whitespace) || !(url || email) {
                        push(
                            "transparency.privacy_contact",
                            "must be an email address or an http(s) URL of at most 300 characters".into(),
                        );
                    }
                }
                let statement = text(t.get("statement"), "transparency.statement", &mut push);
                if statement.as_ref().is_some_and(|s| s.chars().count() > 5000) {
                    push("transparency.statement", "must be at most 5000 characters".into());
                }
                policy.transparency =
                    Some(Transparency { organisation, disclose_automation, public_page, privacy_contact, statement });
            }
            Some(other) => push("transparency", format!("must be an object or null, got {other}")),
        }
        if bad.is_empty() {
            Ok(policy)
        } else {
            Err(bad)
        }
    }
}

/// The message asking to pass.
#[derive(Debug, Clone, PartialEq)]
pub struct SendIntent {
    pub channel: Channel,
    pub purpose: Purpose,
    pub transactional: bool,
    /// Whether the caller can hold the message until quiet hours end.
    pub can_delay: bool,
}

/// What the gate knows about the contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactFacts {
    /// Current consent for the intent's channel and purpose.
    pub consent: Option<ConsentState>,
    /// Suppressions on the intent's channel.
    pub suppressions: Vec<SuppressionReason>,
    pub timezone: Option<String>,
    /// Marketing messages on this channel in the last 24 hours / 7 days.
    pub sent_last_day: u32,
    pub sent_last_week: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    #[error("the contact is suppressed on this channel ({0:?})")]
    Suppressed(SuppressionReason),
    #[error("no consent for this channel and purpose (current state: {state})")]
    NoConsent { state: String },
    #[error("frequency cap reached: {sent} sent in the last {window}, the limit is {limit}")]
    FrequencyCap { window: &'static str, sent: u32, limit: u32 },
    #[error("quiet hours in the contact's time zone, and the message cannot wait")]
    QuietHours,
    #[error("no sender postal address is set; CAN-SPAM requires one in every marketing email")]
    NoPostalAddress,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Send,
    /// Hold until this instant (end of quiet hours, contact's local time).
    Delay {
        until: DateTime<Utc>,
    },
    Refuse(Refusal),
}

/// Decide whether a message may go out now.
pub fn decide(intent: &SendIntent, facts: &ContactFacts, policy: &GatePolicy, now: DateTime<Utc>) -> Decision {
    for s in &facts.suppressions {
        if !intent.transactional || s.blocks_transactional() {
            return Decision::Refuse(Refusal::Suppressed(*s));
        }
    }
    if intent.transactional {
        return Decision::Send;
    }
    if intent.channel == Channel::Email && policy.postal_address.is_none() {
        return Decision::Refuse(Refusal::NoPostalAddress);
    }
    if facts.consent != Some(ConsentState::Granted) {
        let state = facts.consent.map(|c| c.as_str().to_string()).unwrap_or_else(|| "none recorded".into());
        return Decision::Refuse(Refusal::NoConsent { state });
    }
    if let Some(cap) = policy.caps.get(&intent.channel) {
        if let Some(limit) = cap.per_day.filter(|l| facts.sent_last_day >= *l) {
            return Decision::Refuse(Refusal::FrequencyCap { window: "day", sent: facts.sent_last_day, limit });
        }
        if let Some(limit) = cap.per_week.filter(|l| facts.sent_last_week >= *l) {
            return Decision::Refuse(Refusal::FrequencyCap { window: "week", sent: facts.sent_last_week, limit });
        }
    }
    if let Some(q) = policy.quiet_hours {
        if let Some(until) = quiet_until(q, facts.timezone.as_deref(), policy.default_timezone.as_deref(), now) {
            return if intent.can_delay { Decision::Delay { until } } else { Decision::Refuse(Refusal::QuietHours) };
        }
    }
    Decision::Send
}

/// If `now` falls in quiet hours in the contact's zone, when they end.
fn quiet_until(q: QuietHours, tz: Option<&str>, default_tz: Option<&str>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let zone = tz
        .and_then(|t| jiff::tz::TimeZone::get(t).ok())
        .or_else(|| default_tz.and_then(|t| jiff::tz::TimeZone::get(t).ok()))
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let local = jiff::Timestamp::from_millisecond(now.timestamp_millis()).ok()?.to_zoned(zone.clone());
    let hour = local.hour() as u8;
    let (start, end) = (q.start_hour % 24, q.end_hour % 24);
    let quiet = if start <= end { start <= hour && hour < end } else { hour >= start || hour < end };
    if !quiet || start == end {
        return None;
    }
    // The end of this quiet period: today at `end` if that is still ahead,
    // else tomorrow at `end`.
    let mut date = local.date();
    if hour >= end {
        date = date.tomorrow().ok()?;
    }
    let until = date.at(end as i8, 0, 0, 0).to_zoned(zone).ok()?;
    DateTime::from_timestamp_millis(until.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn marketing() -> SendIntent {
        SendIntent { channel: Channel::Email, purpose: Purpose::Marketing, transactional: false, can_delay: true }
    }

    fn policy() -> GatePolicy {
        GatePolicy { postal_address: Some("1 Main St, Springfield 12345".into()), ..GatePolicy::default() }
    }

    fn consented() -> ContactFacts {
        ContactFacts { consent: Some(ConsentState::Granted), ..ContactFacts::default() }
    }

    #[test]
    fn consent_and_suppression_come_first() {
        let p = policy();
        let now = at("2026-06-01T12:00:00Z");
        assert_eq!(decide(&marketing(), &consented(), &p, now), Decision::Send);
        let none = ContactFacts::default();
        assert_eq!(
            decide(&marketing(), &none, &p, now),
            Decision::Refuse(Refusal::NoConsent { state: "none recorded".into() })
        );
        let withdrawn = ContactFacts { consent: Some(ConsentState::Withdrawn), ..ContactFacts::default() };
        assert!(matches!(decide(&marketing(), &withdrawn, &p, now), Decision::Refuse(Refusal::NoConsent { .. })));
        let pending = ContactFacts { consent: Some(ConsentState::PendingDoubleOptIn), ..ContactFacts::default() };
        assert!(matches!(decide(&marketing(), &pending, &p, now), Decision::Refuse(_)));
        let bounced = ContactFacts { suppressions: vec![SuppressionReason::HardBounce], ..consented() };
        assert_eq!(
            decide(&marketing(), &bounced, &p, now),
            Decision::Refuse(Refusal::Suppressed(SuppressionReason::HardBounce))
        );
    }

    #[test]
    fn transactional_skips_consent_but_not_bounces() {
        let p = GatePolicy::default();
        // Transactional mail needs no postal address either.
        let now = at("2026-06-01T12:00:00Z");
        let receipt = SendIntent { transactional: true, ..marketing() };
        let unsubscribed =
            ContactFacts { suppressions: vec![SuppressionReason::Unsubscribed], ..ContactFacts::default() };
        assert_eq!(decide(&receipt, &unsubscribed, &p, now), Decision::Send);
        let complained = ContactFacts { suppressions: vec![SuppressionReason::Complaint], ..ContactFacts::default() };
        assert!(matches!(decide(&receipt, &complained, &p, now), Decision::Refuse(Refusal::Suppressed(_))));
    }

    #[test]
    fn suppression_keys_are_salted_and_canonical() {
        let a = canonical_address(Channel::Email, "Ada@Example.COM").unwrap();
        let b = canonical_address(Channel::Email, " ada@example.com ").unwrap();
        assert_eq!(address_hash("s1", Channel::Email, &a), address_hash("s1", Channel::Email, &b));
        assert_ne!(address_hash("s1", Channel::Email, &a), address_hash("s2", Channel::Email, &a));
        assert_ne!(address_hash("s1", Channel::Email, &a), address_hash("s1", Channel::Sms, &a));
        assert!(canonical_address(Channel::Email, "nope").is_err());
        assert_eq!(canonical_address(Channel::Sms, "+44 20 7946 0958").unwrap(), "+442079460958");
    }

    #[test]
    fn marketing_email_needs_a_postal_address() {
        let now = at("2026-06-01T12:00:00Z");
        assert_eq!(
            decide(&marketing(), &consented(), &GatePolicy::default(), now),
            Decision::Refuse(Refusal::NoPostalAddress)
        );
        let sms = SendIntent { channel: Channel::Sms, ..marketing() };
        assert_eq!(decide(&sms, &consented(), &GatePolicy::default(), now), Decision::Send);
        let e = GatePolicy::from_json(&serde_json::json!({"postal_address": "nowhere"})).unwrap_err();
        assert_eq!(e[0].0, "postal_address");
        let e = GatePolicy::from_json(&serde_json::json!({"default_timezone": "Mars/Olympus"})).unwrap_err();
        assert_eq!(e[0].0, "default_timezone");
        let ok = GatePolicy::from_json(&serde_json::json!({"postal_address": "1 Main St\nSpringfield 12345",
            "caps": {"email": {"per_day": 2}}, "quiet_hours": {"start_hour": 21, "end_hour": 8}}))
        .unwrap();
        assert_eq!(ok.caps[&Channel::Email].per_day, Some(2));
    }

    #[test]
    fn a_settings_document_names_every_problem_with_its_path() {
        let bad = serde_json::json!({
            "caps": {"email": {"per_day": -1, "per_hour": 2, "per_week": 3}, "fax": {}, "sms": 4},
            "quiet_hours": {"start_hour": 8, "end_hour": 8},
            "default_timezone": "Mars/Olympus",
            "postal_address": 12,
            "transparency": {"organisation": "", "privacy_contact": "call us", "public_page": "yes", "statement": null},
            "colour": 1,
        });
        let paths: std::collections::BTreeSet<String> =
            GatePolicy::from_json(&bad).unwrap_err().into_iter().map(|(p, _)| p).collect();
        let expected = [
            "caps.email.per_day",
            "caps.email.per_hour",
            "caps.fax",
            "caps.sms",
            "colour",
            "default_timezone",
            "postal_address",
            "quiet_hours",
            "transparency.organisation",
            "transparency.privacy_contact",
            "transparency.public_page",
        ];
        assert_eq!(paths, expected.iter().map(|p| p.to_string()).collect());
        // Lengths are counted in characters, not bytes: 200 × "é" is fine.
        let long = serde_json::json!({"transparency": {"organisation": "é".repeat(200), "privacy_contact": "https://acme.example/privacy"}});
        assert!(GatePolicy::from_json(&long).is_ok());
        let p = GatePolicy::from_json(&serde_json::json!({"caps": {"sms": {"per_week": 0}}})).unwrap();
        assert_eq!(p.caps[&Channel::Sms], FrequencyCap { per_day: None, per_week: Some(0) });
    }

    #[test]
    fn frequency_caps() {
        let mut p = policy();
        p.caps.insert(Channel::Email, FrequencyCap { per_day: Some(2), per_week: Some(5) });
        let now = at("2026-06-01T12:00:00Z");
        let facts = ContactFacts { sent_last_day: 2, sent_last_week: 2, ..consented() };
        assert_eq!(
            decide(&marketing(), &facts, &p, now),
            Decision::Refuse(Refusal::FrequencyCap { window: "day", sent: 2, limit: 2 })
        );
        let facts = ContactFacts { sent_last_day: 1, sent_last_week: 5, ..consented() };
        assert!(matches!(decide(&marketing(), &facts, &p, now), Decision::Refuse(Refusal::FrequencyCap { .. })));
        // Caps are per channel: SMS is not capped here.
        let sms = SendIntent { channel: Channel::Sms, ..marketing() };
        assert_eq!(decide(&sms, &facts, &p, now), Decision::Send);
    }

    #[test]
    fn transparency_settings_are_checked_and_disclose_when_asked() {
        let ok = serde_json::json!({"transparency": {"organisation": "Acme GmbH", "disclose_automation": true}});
        let p = GatePolicy::from_json(&ok).unwrap();
        let t = p.transparency.unwrap();
        assert_eq!(t.disclosure().as_deref(), Some("This message was sent automatically by Acme GmbH."));
        assert!(!t.public_page);
        let quiet = Transparency { disclose_automation: false, ..t };
        assert_eq!(quiet.disclosure(), None);
        for (bad, field) in [
            (serde_json::json!({"transparency": {"organisation": " "}}), "transparency.organisation"),
            (serde_json::json!({"transparency": {"organisation": "A\nB"}}), "transparency.organisation"),
            (
                serde_json::json!({"transparency": {"organisation": "A", "privacy_contact": ""}}),
                "transparency.privacy_contact",
            ),
        ] {
            assert_eq!(GatePolicy::from_json(&bad).unwrap_err()[0].0, field, "{bad}");
        }
    }

    #[test]
    fn quiet_hours_follow_the_contacts_time_zone_and_daylight_saving() {
        let p = GatePolicy {
            quiet_hours: Some(QuietHours { start_hour: 21, end_hour: 8 }),
            default_timezone: Some("UTC".into()),
            ..policy()
        };
        // 20:30 UTC in June is 22:30 in Berlin (CEST): wait until 08:00 CEST = 06:00 UTC.
        let facts = ContactFacts { timezone: Some("Europe/Berlin".into()), ..consented() };
        let now = at("2026-06-01T20:30:00Z");
        assert_eq!(decide(&marketing(), &facts, &p, now), Decision::Delay { until: at("2026-06-02T06:00:00Z") });
        // In January Berlin is UTC+1: 08:00 local is 07:00 UTC.
        let now = at("2026-01-10T05:00:00Z");
        assert_eq!(decide(&marketing(), &facts, &p, now), Decision::Delay { until: at("2026-01-10T07:00:00Z") });
        // 20:30 UTC is 16:30 in New York: not quiet there.
        let ny = ContactFacts { timezone: Some("America/New_York".into()), ..consented() };
        assert_eq!(decide(&marketing(), &ny, &p, at("2026-06-01T20:30:00Z")), Decision::Send);
        // No time zone: the workspace default (UTC) applies; a caller that
        // cannot wait is refused.
        let no_wait = SendIntent { can_delay: false, ..marketing() };
        assert_eq!(
            decide(&no_wait, &consented(), &p, at("2026-06-01T23:00:00Z")),
            Decision::Refuse(Refusal::QuietHours)
        );
        // Daytime quiet hours that do not wrap midnight.
        let lunch = GatePolicy { quiet_hours: Some(QuietHours { start_hour: 12, end_hour: 14 }), ..policy() };
        assert_eq!(
            decide(&marketing(), &consented(), &lunch, at("2026-06-01T12:30:00Z")),
            Decision::Delay { until: at("2026-06-01T14:00:00Z") }
        );
    }
}
