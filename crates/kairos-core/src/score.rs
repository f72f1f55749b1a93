//! Rule-based lead scores: a workspace defines named scores ("fit" from
//! attributes, "engagement" from behaviour), each a set of point rules —
//! points per event (with the segment language's property filters and an
//! optional cap per period) and per attribute condition — with an optional
//! half-life after which behaviour points count half, and thresholds whose
//! crossing becomes a `Score Threshold Crossed` event. This module is the
//! pure part: the definition and its validation (errors carry the JSON path),
//! which rules an event earns, how caps and decay apply, where the value
//! stands against the thresholds and when decay alone will take it below
//! one. Decay is exponential, so a score is kept as its behaviour points at
//! one instant (`as_of`) and is exact whatever order events arrive in.

use crate::ids::{CompanyId, ContactId};
use crate::segment::reference::{evaluate, event_passes, World};
use crate::segment::rule::{EventCond, Rule, Schema, DAY_MS};
use crate::segment::{self, Profile};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

/// The event Kairos logs when a score crosses a threshold.
pub const THRESHOLD_EVENT: &str = "Score Threshold Crossed";
/// Longest half-life a score may have, in days (ten years).
pub const MAX_HALF_LIFE_DAYS: f64 = 3650.0;
const MAX_RULES: usize = 200;
const MAX_POINTS: f64 = 1_000_000.0;

/// A validated score definition.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreDefinition {
    pub name: String,
    pub description: String,
    /// Behaviour points count half after this many days; `None`: no decay.
    pub half_life_days: Option<f64>,
    pub events: Vec<EventPoints>,
    pub attributes: Vec<AttributePoints>,
    /// Ascending by value.
    pub thresholds: Vec<Threshold>,
}

/// Points for each event passing a condition.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPoints {
    pub condition: EventCond,
    pub points: f64,
    pub cap: Option<Cap>,
}

/// At most `points` (in absolute value) from one rule per period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cap {
    pub points: f64,
    pub per: Period,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
    Ever,
}

/// Points while the contact satisfies a condition on their fields, consent
/// or companies; they do not decay.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributePoints {
    pub condition: Rule,
    /// The condition as written, for the reason in the score history.
    pub label: String,
    pub points: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    pub name: String,
    pub value: f64,
}

/// A definition that could not be accepted, with the JSON path of the bad
/// node.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{path}: {message}")]
pub struct ScoreError {
    pub path: String,
    pub message: String,
}

fn err<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T, ScoreError> {
    Err(ScoreError { path: path.into(), message: message.into() })
}

/// Whether `name` may name a score: lower-case letters, digits and `_`,
/// starting with a letter, at most 64 characters.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn only_keys(obj: &Map<String, Value>, allowed: &[&str], path: &str) -> Result<(), ScoreError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => err(
            format!("{path}.{k}"),
            format!(
                "unknown key; expected {}",
                allowed.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ")
            ),
        ),
        None => Ok(()),
    }
}

fn points(v: Option<&Value>, path: &str) -> Result<f64, ScoreError> {
    match v.and_then(Value::as_f64) {
        Some(p) if p.is_finite() && p != 0.0 && p.abs() <= MAX_POINTS => Ok(p),
        Some(0.0) => err(path, "points must not be 0"),
        _ => err(path, format!("expected a number of points, non-zero, between -{MAX_POINTS} and {MAX_POINTS}")),
    }
}

/// Parse and validate a definition against the workspace's fields.
pub fn parse(json: &Value, schema: &Schema) -> Result<ScoreDefinition, ScoreError> {
    let Value::Object(obj) = json else {
        return err("$", "expected an object with \"name\", \"events\", \"attributes\" and \"thresholds\"");
    };
    only_keys(obj, &["name", "description", "half_life_days", "events", "attributes", "thresholds"], "$")?;
    let name = match obj.get("name").and_then(Value::as_str) {
        Some(n) if valid_name(n) => n.to_string(),
        _ => {
            return err(
                "$.name",
                "expected a name of lower-case letters, digits and _, starting with a letter (at most 64), such as \"engagement\"",
            )
        }
    };
    let description = match obj.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) if s.len() <= 1000 => s.clone(),
        Some(_) => return err("$.description", "expected text of at most 1000 characters"),
    };
    let half_life_days = match obj.get("half_life_days") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_f64() {
            Some(d) if d > 0.0 && d <= MAX_HALF_LIFE_DAYS => Some(d),
            _ => {
                return err(
                    "$.half_life_days",
                    format!("expected a number of days above 0, at most {MAX_HALF_LIFE_DAYS}"),
                )
            }
        },
    };
    let list = |key: &str| -> Result<&[Value], ScoreError> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) if a.len() <= MAX_RULES => Ok(a.as_slice()),
            Some(Value::Array(_)) => err(format!("$.{key}"), format!("at most {MAX_RULES} rules")),
            Some(_) => err(format!("$.{key}"), "expected an array"),
        }
    };
    let mut events = Vec::new();
    for (i, item) in list("events")?.iter().enumerate() {
        let path = format!("$.events[{i}]");
        let Value::Object(o) = item else {
            return err(path, "expected {\"event\": NAME, \"where\": [...], \"points\": N, \"cap\": {...}}");
        };
        only_keys(o, &["event", "where", "points", "cap"], &path)?;
        let mut cond = Map::new();
        for k in ["event", "where"] {
            if let Some(v) = o.get(k) {
                cond.insert(k.into(), v.clone());
            }
        }
        let condition = match segment::parse(&Value::Object(cond), schema, None) {
            Ok(Rule::Event(c)) => c,
            Ok(_) => return err(path, "expected an event condition"),
            Err(e) => return err(format!("{path}{}", e.path.trim_start_matches('$')), e.message),
        };
        let p = points(o.get("points"), &format!("{path}.points"))?;
        let cap = match o.get("cap") {
            None | Some(Value::Null) => None,
            Some(Value::Object(c)) => {
                only_keys(c, &["points", "per"], &format!("{path}.cap"))?;
                let limit = match c.get("points").and_then(Value::as_f64) {
                    Some(x) if x > 0.0 && x <= MAX_POINTS => x,
                    _ => return err(format!("{path}.cap.points"), "expected a positive number of points"),
                };
                let per = match c.get("per").and_then(Value::as_str) {
                    Some("day") => Period::Day,
                    Some("week") => Period::Week,
                    Some("month") => Period::Month,
                    Some("ever") => Period::Ever,
                    _ => return err(format!("{path}.cap.per"), "expected \"day\", \"week\", \"month\" or \"ever\""),
                };
                Some(Cap { points: limit, per })
            }
            Some(_) => return err(format!("{path}.cap"), "expected {\"points\": N, \"per\": \"day\"}"),
        };
        events.push(EventPoints { condition, points: p, cap });
    }
    let mut attributes = Vec::new();
    for (i, item) in list("attributes")?.iter().enumerate() {
        let path = format!("$.attributes[{i}]");
        let Value::Object(o) = item else {
            return err(path, "expected {\"when\": CONDITION, \"points\": N}");
        };
        only_keys(o, &["when", "points"], &path)?;
        let Some(when) = o.get("when") else {
            return err(format!("{path}.when"), "expected a condition on the contact's fields, consent or companies");
        };
        let condition = segment::parse(when, schema, None).map_err(|e| ScoreError {
            path: format!("{path}.when{}", e.path.trim_start_matches('$')),
            message: e.message,
        })?;
        let mut behavioural = None;
        condition.walk(&mut |r| match r {
            Rule::Event(_) => {
                behavioural = Some("an event condition belongs in \"events\", where it earns points each time")
            }
            Rule::Segment(_) | Rule::List(_) => {
                behavioural = Some("segment and list conditions are not allowed: score on the fields they test")
            }
            _ => {}
        });
        if let Some(why) = behavioural {
            return err(format!("{path}.when"), why);
        }
        let p = points(o.get("points"), &format!("{path}.points"))?;
        attributes.push(AttributePoints { condition, label: when.to_string(), points: p });
    }
    let mut thresholds = Vec::new();
    for (i, item) in list("thresholds")?.iter().enumerate() {
        let path = format!("$.thresholds[{i}]");
        let Value::Object(o) = item else {
            return err(path, "expected {\"name\": \"MQL\", \"value\": 100}");
        };
        only_keys(o, &["name", "value"], &path)?;
        let tname = match o.get("name").and_then(Value::as_str) {
            Some(n) if !n.trim().is_empty() && n.len() <= 100 => n.trim().to_string(),
            _ => return err(format!("{path}.name"), "expected a name such as \"MQL\""),
        };
        let value = match o.get("value").and_then(Value::as_f64) {
            Some(v) if v.is_finite() && v.abs() <= MAX_POINTS => v,
            _ => return err(format!("{path}.value"), "expected a number"),
        };
        if thresholds.iter().any(|t: &Threshold| t.name == tname) {
            return err(format!("{path}.name"), format!("another threshold is already named \"{tname}\""));
        }
        if thresholds.iter().any(|t: &Threshold| t.value == value) {
            return err(format!("{path}.value"), format!("another threshold is already at {value}"));
        }
        thresholds.push(Threshold { name: tname, value });
    }
    thresholds.sort_by(|a, b| a.value.total_cmp(&b.value));
    if events.is_empty() && attributes.is_empty() {
        return err("$", "a score needs at least one rule in \"events\" or \"attributes\"");
    }
    Ok(ScoreDefinition { name, description, half_life_days, events, attributes, thresholds })
}

/// The factor behaviour points are multiplied by after `elapsed_ms`.
pub fn decay_factor(half_life_days: Option<f64>, elapsed_ms: i64) -> f64 {
    match half_life_days {
        Some(h) => 0.5f64.powf(elapsed_ms as f64 / (h * DAY_MS as f64)),
        None => 1.0,
    }
}

/// Where one contact's score stands.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ScoreState {
    /// Behaviour points as of `as_of`.
    pub behaviour: f64,
    pub as_of: i64,
    /// Points from attribute rules the contact satisfies now.
    pub attributes: f64,
    /// How many thresholds the score was at or above when last looked at.
    pub level: usize,
}

impl ScoreState {
    pub fn value_at(&self, half_life_days: Option<f64>, t: i64) -> f64 {
        self.behaviour * decay_factor(half_life_days, (t - self.as_of).max(0)) + self.attributes
    }

    /// Add behaviour points earned at instant `at`; exact for events that
    /// arrive late, too, because decay is exponential.
    pub fn add(&mut self, points: f64, at: i64, half_life_days: Option<f64>) {
        if self.behaviour == 0.0 || at >= self.as_of {
            self.behaviour = self.behaviour * decay_factor(half_life_days, at - self.as_of) + points;
            self.as_of = at;
        } else {
            self.behaviour += points * decay_factor(half_life_days, self.as_of - at);
        }
    }

    /// Combine the score of a contact merged away into this one.
    pub fn absorb(&mut self, other: &ScoreState, half_life_days: Option<f64>) {
        self.add(other.behaviour, other.as_of, half_life_days);
        self.attributes = self.attributes.max(other.attributes);
    }
}

/// How many thresholds `value` is at or above.
pub fn level_of(value: f64, thresholds: &[Threshold]) -> usize {
    thresholds.iter().take_while(|t| value >= t.value).count()
}

/// A threshold crossed, upwards or downwards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Crossing {
    pub threshold: String,
    pub threshold_value: f64,
    pub direction: &'static str,
}

/// The thresholds crossed going from `from` to `to` (levels), in the order
/// the value passed them.
pub fn crossings(from: usize, to: usize, thresholds: &[Threshold]) -> Vec<Crossing> {
    let at = |i: usize, direction| Crossing {
        threshold: thresholds[i].name.clone(),
        threshold_value: thresholds[i].value,
        direction,
    };
    if to > from {
        (from..to.min(thresholds.len())).map(|i| at(i, "up")).collect()
    } else {
        (to..from.min(thresholds.len())).rev().map(|i| at(i, "down")).collect()
    }
}

/// When decay alone takes the score below the highest threshold it is at
/// or above (`None`: it never will, or it is below every threshold).
pub fn drops_at(state: &ScoreState, half_life_days: Option<f64>, thresholds: &[Threshold]) -> Option<i64> {
    let h = half_life_days?;
    let threshold = thresholds.get(state.level.checked_sub(1)?)?.value;
    let need = threshold - state.attributes;
    if state.behaviour <= 0.0 || need <= 0.0 || state.behaviour < need {
        // Below already (the caller re-levels), or attributes alone hold it.
        return (state.behaviour > 0.0 && need > 0.0).then_some(state.as_of);
    }
    let days = h * (state.behaviour / need).log2();
    // The first instant strictly below: a millisecond after the exact one.
    Some(state.as_of + (days * DAY_MS as f64).floor() as i64 + 1)
}

/// The start of the cap period an instant falls in (UTC; weeks start on
/// Monday). Periods are numbered by their start, so the same key always
/// means the same days.
pub fn period_start(per: Period, at: i64) -> i64 {
    use chrono::{Datelike, TimeZone, Utc};
    let day = at.div_euclid(DAY_MS) * DAY_MS;
    match per {
        Period::Ever => 0,
        Period::Day => day,
        Period::Week => {
            // 1970-01-01 was a Thursday; 1970-01-05 a Monday.
            let monday = 4 * DAY_MS;
            (day - monday).div_euclid(7 * DAY_MS) * 7 * DAY_MS + monday
        }
        Period::Month => match Utc.timestamp_millis_opt(at).single() {
            Some(t) => Utc
                .with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0)
                .single()
                .map(|m| m.timestamp_millis())
                .unwrap_or(day),
            None => day,
        },
    }
}

/// The points a rule may still give: all of `points` without a cap, else
/// what is left of the cap after `used` in this period (same sign).
pub fn capped(points: f64, cap: Option<Cap>, used: f64) -> f64 {
    match cap {
        None => points,
        Some(c) => points.signum() * points.abs().min((c.points - used.abs()).max(0.0)),
    }
}

/// An award: which event rule (by index) earned how many points, before caps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Award {
    pub rule: usize,
    pub points: f64,
}

impl ScoreDefinition {
    /// The event rules an event passes (`name` as segment rules name it).
    pub fn awards(&self, name: &str, properties: &Value, now: i64) -> Vec<Award> {
        self.events
            .iter()
            .enumerate()
            .filter(|(_, r)| event_passes(&r.condition, name, properties, now))
            .map(|(rule, r)| Award { rule, points: r.points })
            .collect()
    }

    /// Points from attribute rules, with the conditions that gave them.
    pub fn attribute_points(&self, contact: &Profile, companies: &[Profile], now: i64) -> (f64, Vec<String>) {
        if self.attributes.is_empty() {
            return (0.0, Vec::new());
        }
        let id = ContactId(uuid::Uuid::nil());
        let mut world = World::default();
        world.contacts.insert(id, contact.clone());
        let ids: Vec<CompanyId> =
            (0..companies.len()).map(|i| CompanyId(uuid::Uuid::from_u128(i as u128 + 1))).collect();
        for (cid, p) in ids.iter().zip(companies) {
            world.companies.insert(*cid, p.clone());
        }
        world.contact_companies.insert(id, ids);
        let mut total = 0.0;
        let mut reasons = Vec::new();
        for a in &self.attributes {
            if evaluate(&a.condition, &world, id, now) {
                total += a.points;
                reasons.push(format!("{} {}", signed(a.points), a.label));
            }
        }
        (total, reasons)
    }

    /// The reason recorded for points from an event rule.
    pub fn event_reason(&self, rule: usize, granted: f64, wanted: f64) -> String {
        let r = &self.events[rule];
        let mut s = format!("{} {}", signed(granted), r.condition.event);
        if !r.condition.filters.is_empty() {
            s.push_str(" (with property filters)");
        }
        if granted != wanted {
            s.push_str(&format!(" — capped from {}", signed(wanted)));
        }
        s
    }
}

/// `+5`, `-2.5`.
pub fn signed(x: f64) -> String {
    let r = (x * 1000.0).round() / 1000.0;
    if r >= 0.0 {
        format!("+{r}")
    } else {
        format!("{r}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::FieldType;
    use crate::segment::Attr;
    use serde_json::json;

    fn schema() -> Schema {
        Schema::with_custom([("plan".to_string(), FieldType::String)], [("employees".to_string(), FieldType::Number)])
    }

    fn engagement() -> ScoreDefinition {
        parse(
            &json!({
                "name": "engagement", "half_life_days": 10,
                "events": [
                    {"event": "Page Viewed", "where": [{"property": "path", "op": "starts_with", "value": "/pricing"}],
                     "points": 5, "cap": {"points": 12, "per": "day"}},
                    {"event": "Unsubscribed", "points": -20}
                ],
                "attributes": [{"when": {"field": "country", "op": "in", "value": ["DE", "FR"]}, "points": 10},
                               {"when": {"company": {"field": "employees", "op": "gte", "value": 100}}, "points": 15}],
                "thresholds": [{"name": "SQL", "value": 60}, {"name": "MQL", "value": 25}]
            }),
            &schema(),
        )
        .unwrap()
    }

    #[test]
    fn parses_and_sorts_thresholds() {
        let d = engagement();
        assert_eq!(d.events.len(), 2);
        assert_eq!(d.thresholds.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["MQL", "SQL"]);
        assert_eq!(d.events[0].cap, Some(Cap { points: 12.0, per: Period::Day }));
    }

    #[test]
    fn errors_name_the_path() {
        let e = |v: Value| parse(&v, &schema()).unwrap_err().to_string();
        assert!(e(json!({"name": "Bad Name", "events": []})).starts_with("$.name:"));
        assert!(e(json!({"name": "s"})).contains("at least one rule"));
        let bad_op = e(json!({"name": "s", "events": [{"event": "A", "points": 1,
            "where": [{"property": "x", "op": "nonsense", "value": 1}]}]}));
        assert!(bad_op.starts_with("$.events[0].where[0].op"), "{bad_op}");
        assert!(e(json!({"name": "s", "events": [{"event": "A", "points": 0}]})).starts_with("$.events[0].points:"));
        assert!(e(json!({"name": "s", "events": [{"event": "A", "points": 1, "cap": {"points": 5, "per": "year"}}]}))
            .starts_with("$.events[0].cap.per:"));
        let unknown_field =
            e(json!({"name": "s", "attributes": [{"when": {"field": "nope", "op": "is_set"}, "points": 1}]}));
        assert!(unknown_field.starts_with("$.attributes[0].when.field"), "{unknown_field}");
        assert!(e(json!({"name": "s", "attributes": [{"when": {"event": "A"}, "points": 1}]})).contains("belongs in"));
        assert!(e(json!({"name": "s", "half_life_days": -1, "events": [{"event": "A", "points": 1}]}))
            .starts_with("$.half_life_days:"));
        assert!(e(json!({"name": "s", "events": [{"event": "A", "points": 1}],
            "thresholds": [{"name": "a", "value": 1}, {"name": "a", "value": 2}]}))
        .starts_with("$.thresholds[1].name:"));
        assert!(e(json!({"name": "s", "extra": 1, "events": [{"event": "A", "points": 1}]})).starts_with("$.extra:"));
    }

    #[test]
    fn awards_follow_name_and_filters() {
        let d = engagement();
        assert_eq!(
            d.awards("Page Viewed", &json!({"path": "/pricing/teams"}), 0),
            vec![Award { rule: 0, points: 5.0 }]
        );
        assert!(d.awards("Page Viewed", &json!({"path": "/blog"}), 0).is_empty());
        assert_eq!(d.awards("Unsubscribed", &json!({}), 0), vec![Award { rule: 1, points: -20.0 }]);
    }

    #[test]
    fn caps_limit_points_per_period() {
        let cap = Some(Cap { points: 12.0, per: Period::Day });
        assert_eq!(capped(5.0, cap, 0.0), 5.0);
        assert_eq!(capped(5.0, cap, 10.0), 2.0);
        assert_eq!(capped(5.0, cap, 12.0), 0.0);
        assert_eq!(capped(-5.0, cap, -10.0), -2.0);
        assert_eq!(capped(5.0, None, 1e9), 5.0);
    }

    #[test]
    fn periods_start_where_the_calendar_says() {
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
        let at = t("2026-11-26T15:30:00Z"); // a Thursday
        assert_eq!(period_start(Period::Day, at), t("2026-11-26T00:00:00Z"));
        assert_eq!(period_start(Period::Week, at), t("2026-11-23T00:00:00Z"));
        assert_eq!(period_start(Period::Week, t("2026-11-23T00:00:00Z")), t("2026-11-23T00:00:00Z"));
        assert_eq!(period_start(Period::Week, t("2026-11-22T23:59:59Z")), t("2026-11-16T00:00:00Z"));
        assert_eq!(period_start(Period::Month, at), t("2026-11-01T00:00:00Z"));
        assert_eq!(period_start(Period::Ever, at), 0);
    }

    #[test]
    fn decay_halves_after_the_half_life_and_is_order_independent() {
        let h = Some(10.0);
        let mut s = ScoreState::default();
        s.add(40.0, 0, h);
        assert!((s.value_at(h, 10 * DAY_MS) - 20.0).abs() < 1e-9);
        assert!((s.value_at(h, 20 * DAY_MS) - 10.0).abs() < 1e-9);
        assert_eq!(s.value_at(None, 20 * DAY_MS), 40.0);
        // The same points in another order give the same value.
        let mut a = ScoreState::default();
        a.add(10.0, 5 * DAY_MS, h);
        a.add(30.0, 0, h);
        a.add(8.0, 12 * DAY_MS, h);
        let mut b = ScoreState::default();
        b.add(30.0, 0, h);
        b.add(8.0, 12 * DAY_MS, h);
        b.add(10.0, 5 * DAY_MS, h);
        let t = 15 * DAY_MS;
        assert!((a.value_at(h, t) - b.value_at(h, t)).abs() < 1e-9);
        let expected = 30.0 * 0.5f64.powf(1.5) + 10.0 * 0.5 + 8.0 * 0.5f64.powf(0.3);
        assert!((a.value_at(h, t) - expected).abs() < 1e-9);
    }

    #[test]
    fn merging_adds_decayed_points() {
        let h = Some(10.0);
        let mut a = ScoreState { behaviour: 20.0, as_of: 10 * DAY_MS, attributes: 5.0, level: 0 };
        let b = ScoreState { behaviour: 40.0, as_of: 0, attributes: 10.0, level: 0 };
        a.absorb(&b, h);
        assert!((a.value_at(h, 10 * DAY_MS) - (20.0 + 20.0 + 10.0)).abs() < 1e-9);
    }

    #[test]
    fn crossings_are_listed_in_the_order_passed() {
        let d = engagement();
        let up = crossings(0, 2, &d.thresholds);
        assert_eq!(
            up.iter().map(|c| (c.threshold.as_str(), c.direction)).collect::<Vec<_>>(),
            [("MQL", "up"), ("SQL", "up")]
        );
        let down = crossings(2, 0, &d.thresholds);
        assert_eq!(down.iter().map(|c| c.threshold.as_str()).collect::<Vec<_>>(), ["SQL", "MQL"]);
        assert!(crossings(1, 1, &d.thresholds).is_empty());
        assert_eq!(level_of(25.0, &d.thresholds), 1);
        assert_eq!(level_of(24.9, &d.thresholds), 0);
    }

    #[test]
    fn drop_instant_is_when_decay_takes_the_value_below() {
        let d = engagement();
        let h = d.half_life_days;
        // 40 behaviour + 10 attributes = 50 ≥ MQL 25: drops when 40·2^(-t/10) < 15.
        let s = ScoreState { behaviour: 40.0, as_of: 0, attributes: 10.0, level: 1 };
        let at = drops_at(&s, h, &d.thresholds).unwrap();
        assert!(s.value_at(h, at) < 25.0);
        assert!(s.value_at(h, at - 2) >= 25.0);
        // Attributes alone hold the level: it never drops.
        let held = ScoreState { behaviour: 40.0, as_of: 0, attributes: 30.0, level: 1 };
        assert_eq!(drops_at(&held, h, &d.thresholds), None);
        assert_eq!(drops_at(&s, None, &d.thresholds), None);
        assert_eq!(drops_at(&ScoreState { level: 0, ..s }, h, &d.thresholds), None);
    }

    #[test]
    fn attribute_points_test_fields_and_companies() {
        let d = engagement();
        let mut contact = Profile::default();
        contact.0.insert("country".into(), Attr::Str("de".into()));
        let mut big = Profile::default();
        big.0.insert("employees".into(), Attr::Num(250.0));
        let (points, reasons) = d.attribute_points(&contact, &[Profile::default(), big], 0);
        assert_eq!(points, 25.0);
        assert_eq!(reasons.len(), 2);
        assert!(reasons[0].starts_with("+10 "), "{reasons:?}");
        let (none, _) = d.attribute_points(&Profile::default(), &[], 0);
        assert_eq!(none, 0.0);
    }
}
