//! Values as segment rules see them: a contact's or company's fields reduced
//! to typed, lower-cased [`Attr`]s (a [`Profile`]), event properties read
//! from JSON, and the one definition of what each operator means on a value
//! ([`field_matches`]) together with when its answer can next change on its
//! own as time passes ([`field_next_change`]).

use super::rule::{FieldOp, Literal, DAY_MS};
use crate::company::Company;
use crate::consent::{consent_field, Channel, ConsentState, Purpose};
use crate::contact::Contact;
use crate::fields::FieldType;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// A field value. Text is lower case; empty text and empty lists are unset.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Str(String),
    Num(f64),
    Bool(bool),
    Date(i64),
    List(Vec<String>),
    /// A lead score: a number that decays with time (`score.NAME` fields).
    Score(Decaying),
}

/// A borrowed [`Attr`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttrRef<'a> {
    Str(&'a str),
    Num(f64),
    Bool(bool),
    Date(i64),
    List(&'a [String]),
    Score(Decaying),
}

/// A score as segments see it: its value at any instant, and when decay
/// alone takes it across a bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decaying {
    pub state: crate::score::ScoreState,
    pub half_life_days: Option<f64>,
}

/// The field a rule names a score by.
pub fn score_field(name: &str) -> String {
    format!("{SCORE_PREFIX}{name}")
}

pub const SCORE_PREFIX: &str = "score.";

/// Whether a field is a score (its answers can change with time alone).
pub fn is_score_field(field: &str) -> bool {
    field.starts_with(SCORE_PREFIX)
}

impl Attr {
    pub fn as_ref(&self) -> AttrRef<'_> {
        match self {
            Attr::Str(s) => AttrRef::Str(s),
            Attr::Num(n) => AttrRef::Num(*n),
            Attr::Bool(b) => AttrRef::Bool(*b),
            Attr::Date(d) => AttrRef::Date(*d),
            Attr::List(l) => AttrRef::List(l),
            Attr::Score(s) => AttrRef::Score(*s),
        }
    }

    /// Read a stored (already coerced) JSON value as a field of `ty`.
    pub fn from_stored(v: &Value, ty: FieldType) -> Option<Attr> {
        let a = match (ty, v) {
            (FieldType::String, Value::String(s)) => Attr::Str(s.to_lowercase()),
            (FieldType::Number, Value::Number(n)) => Attr::Num(n.as_f64()?),
            (FieldType::Boolean, Value::Bool(b)) => Attr::Bool(*b),
            (FieldType::Date, Value::String(s)) => Attr::Date(super::rule::parse_instant(s)?),
            (FieldType::List, Value::Array(items)) => {
                Attr::List(items.iter().filter_map(Value::as_str).map(str::to_lowercase).collect())
            }
            _ => return None,
        };
        a.into_set()
    }

    /// Read an event property, typed by its JSON shape.
    pub fn from_property(v: &Value) -> Option<Attr> {
        let a = match v {
            Value::String(s) => Attr::Str(s.to_lowercase()),
            Value::Number(n) => Attr::Num(n.as_f64()?),
            Value::Bool(b) => Attr::Bool(*b),
            Value::Array(items) => Attr::List(
                items
                    .iter()
                    .filter_map(|i| match i {
                        Value::String(s) => Some(s.to_lowercase()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => return None,
        };
        a.into_set()
    }

    fn into_set(self) -> Option<Attr> {
        match &self {
            Attr::Str(s) if s.is_empty() => None,
            Attr::List(l) if l.is_empty() => None,
            _ => Some(self),
        }
    }
}

/// The fields of a contact or company as rules see them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile(pub BTreeMap<String, Attr>);

impl Profile {
    /// `custom_types` are the workspace's contact field definitions.
    pub fn of_contact(c: &Contact, custom_types: &HashMap<String, FieldType>) -> Profile {
        let mut p = BTreeMap::new();
        for name in super::rule::STANDARD_CONTACT_TEXT {
            if let Some(Some(v)) = c.standard(name) {
                if let Some(a) = Attr::Str(v.to_lowercase()).into_set() {
                    p.insert((*name).to_string(), a);
                }
            }
        }
        p.insert("created_at".into(), Attr::Date(c.created_at.timestamp_millis()));
        p.insert("updated_at".into(), Attr::Date(c.updated_at.timestamp_millis()));
        for (k, v) in &c.custom {
            if let Some(a) = custom_types.get(k).and_then(|ty| Attr::from_stored(v, *ty)) {
                p.insert(k.clone(), a);
            }
        }
        Profile(p)
    }

    pub fn of_company(c: &Company, custom_types: &HashMap<String, FieldType>) -> Profile {
        let mut p = BTreeMap::new();
        for (k, v) in [("name", Some(&c.name)), ("external_id", c.external_id.as_ref()), ("domain", c.domain.as_ref())]
        {
            if let Some(a) = v.and_then(|v| Attr::Str(v.to_lowercase()).into_set()) {
                p.insert(k.to_string(), a);
            }
        }
        p.insert("created_at".into(), Attr::Date(c.created_at.timestamp_millis()));
        for (k, v) in &c.custom {
            if let Some(a) = custom_types.get(k).and_then(|ty| Attr::from_stored(v, *ty)) {
                p.insert(k.clone(), a);
            }
        }
        Profile(p)
    }

    /// Add a contact's scores (name, state, half-life), as rules see them.
    pub fn with_scores(
        mut self,
        scores: impl IntoIterator<Item = (String, crate::score::ScoreState, Option<f64>)>,
    ) -> Profile {
        for (name, state, half_life_days) in scores {
            self.0.insert(score_field(&name), Attr::Score(Decaying { state, half_life_days }));
        }
        self
    }

    /// Add a contact's current consent states, as rules see them.
    pub fn with_consents(mut self, consents: impl IntoIterator<Item = (Channel, Purpose, ConsentState)>) -> Profile {
        for (channel, purpose, state) in consents {
            self.0.insert(consent_field(channel, purpose), Attr::Str(state.as_str().to_string()));
        }
        self
    }

    pub fn get(&self, field: &str) -> Option<AttrRef<'_>> {
        self.0.get(field).map(Attr::as_ref)
    }
}

/// Read a property at a dot path of an event's properties.
pub fn property<'a>(props: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(props, |v, key| v.get(key.as_str()))
}

fn lit_equals(v: AttrRef<'_>, lit: &Literal) -> bool {
    match (v, lit) {
        (AttrRef::Str(s), Literal::Str(l)) => s == l,
        (AttrRef::Num(n), Literal::Num(l)) => n == *l,
        (AttrRef::Bool(b), Literal::Bool(l)) => b == *l,
        (AttrRef::Date(d), Literal::Date(l)) => d.div_euclid(DAY_MS) == l.div_euclid(DAY_MS),
        (AttrRef::List(items), Literal::Str(l)) => items.iter().any(|i| i == l),
        // Numbers in an event's array property are kept as their text
        // (`[1, 2.5]` → "1", "2.5"); a number in the rule matches them by value.
        (AttrRef::List(items), Literal::Num(l)) => items.iter().any(|i| i.parse::<f64>().ok() == Some(*l)),
        _ => false,
    }
}

/// A number, or a score's value at `now`.
fn num_at(v: Option<AttrRef<'_>>, now: i64) -> Option<f64> {
    match v {
        Some(AttrRef::Num(n)) => Some(n),
        Some(AttrRef::Score(s)) => Some(s.state.value_at(s.half_life_days, now)),
        _ => None,
    }
}

/// When decay next takes a score across one of the operator's bounds.
fn score_next_change(op: &FieldOp, s: Decaying, now: i64) -> Option<i64> {
    let h = s.half_life_days?;
    let bounds = match op {
        FieldOp::Gt(x) | FieldOp::Gte(x) | FieldOp::Lt(x) | FieldOp::Lte(x) => vec![*x],
        FieldOp::Between(a, b) => vec![*a, *b],
        _ => return None,
    };
    let b = s.state.behaviour;
    bounds
        .into_iter()
        .filter_map(|x| {
            // behaviour · 2^(−(t − as_of)/h) + attributes = x
            let ratio = b / (x - s.state.attributes);
            if !(ratio.is_finite() && ratio > 0.0) {
                return None;
            }
            let t = s.state.as_of as f64 + h * DAY_MS as f64 * ratio.log2();
            // The first whole millisecond past the crossing.
            Some(t.floor() as i64 + 1)
        })
        .filter(|t| *t > now)
        .min()
}

fn date(v: Option<AttrRef<'_>>) -> Option<i64> {
    match v {
        Some(AttrRef::Date(d)) => Some(d),
        _ => None,
    }
}

/// The contact field holding their IANA time zone.
pub const TIMEZONE_FIELD: &str = "timezone";

/// The calendar date at `now` in the time zone `zone` (an IANA name, as the
/// contact's `timezone` field holds it; UTC when unset or unknown), and the
/// instant that date ends (the next local midnight, or the first instant of
/// the next day when a DST change skips midnight).
fn local_day(now: i64, zone: Option<&str>) -> Option<(NaiveDate, i64)> {
    let tz = zone.and_then(|z| jiff::tz::TimeZone::get(z).ok()).unwrap_or(jiff::tz::TimeZone::UTC);
    let local = jiff::Timestamp::from_millisecond(now).ok()?.to_zoned(tz.clone());
    let d = local.date();
    let today = NaiveDate::from_ymd_opt(d.year() as i32, d.month() as u32, d.day() as u32)?;
    let ends = d.tomorrow().ok()?.to_zoned(tz).ok()?.timestamp().as_millisecond();
    Some((today, ends))
}

/// Days from `now`'s date in `zone` to the next recurrence (today included)
/// of `d`'s month and day; 29 February recurs on 28 February in common years.
fn days_to_anniversary(d: i64, now: i64, zone: Option<&str>) -> i64 {
    let (Some(d), Some((today, _))) = (DateTime::<Utc>::from_timestamp_millis(d), local_day(now, zone)) else {
        return i64::MAX;
    };
    let on = |year: i32| {
        NaiveDate::from_ymd_opt(year, d.month(), d.day())
            .or_else(|| NaiveDate::from_ymd_opt(year, d.month(), d.day() - 1))
            .unwrap_or(today)
    };
    let mut next = on(today.year());
    if next < today {
        next = on(today.year() + 1);
    }
    (next - today).num_days()
}

/// Whether a value satisfies an operator at instant `now` (ms). `zone` is
/// the contact's time zone: birthdays and anniversaries are days on their
/// own calendar.
pub fn field_matches(op: &FieldOp, v: Option<AttrRef<'_>>, now: i64, zone: Option<&str>) -> bool {
    match op {
        FieldOp::IsSet => v.is_some(),
        FieldOp::NotSet => v.is_none(),
        FieldOp::Equals(lit) => v.is_some_and(|v| lit_equals(v, lit)),
        FieldOp::NotEquals(lit) => !v.is_some_and(|v| lit_equals(v, lit)),
        FieldOp::Contains(s) => contains(v, s),
        FieldOp::NotContains(s) => !contains(v, s),
        FieldOp::StartsWith(s) => matches!(v, Some(AttrRef::Str(x)) if x.starts_with(s.as_str())),
        FieldOp::In(lits) => v.is_some_and(|v| lits.iter().any(|l| lit_equals(v, l))),
        FieldOp::NotIn(lits) => !v.is_some_and(|v| lits.iter().any(|l| lit_equals(v, l))),
        FieldOp::Gt(x) => num_at(v, now).is_some_and(|n| n > *x),
        FieldOp::Gte(x) => num_at(v, now).is_some_and(|n| n >= *x),
        FieldOp::Lt(x) => num_at(v, now).is_some_and(|n| n < *x),
        FieldOp::Lte(x) => num_at(v, now).is_some_and(|n| n <= *x),
        FieldOp::Between(a, b) => num_at(v, now).is_some_and(|n| *a <= n && n <= *b),
        FieldOp::Before(t) => date(v).is_some_and(|d| d < *t),
        FieldOp::After(t) => date(v).is_some_and(|d| d > *t),
        FieldOp::DateBetween(a, b) => date(v).is_some_and(|d| *a <= d && d < *b),
        FieldOp::WithinLastDays(n) => date(v).is_some_and(|d| now - *n as i64 * DAY_MS < d && d <= now),
        FieldOp::AnniversaryWithinDays(n) => date(v).is_some_and(|d| days_to_anniversary(d, now, zone) <= *n as i64),
    }
}

fn contains(v: Option<AttrRef<'_>>, s: &str) -> bool {
    match v {
        Some(AttrRef::Str(x)) => x.contains(s),
        Some(AttrRef::List(items)) => items.iter().any(|i| i == s),
        _ => false,
    }
}

/// The next instant after `now` at which [`field_matches`] may give another
/// answer for the same value (and zone), or `None` if it never will by time alone.
pub fn field_next_change(op: &FieldOp, v: Option<AttrRef<'_>>, now: i64, zone: Option<&str>) -> Option<i64> {
    if let Some(AttrRef::Score(s)) = v {
        return score_next_change(op, s, now);
    }
    let d = date(v)?;
    match op {
        FieldOp::WithinLastDays(n) => {
            let leave = d + *n as i64 * DAY_MS;
            if now < d {
                Some(d)
            } else if now < leave {
                Some(leave)
            } else {
                None
            }
        }
        // The answer moves with the contact's calendar: look again at their next midnight.
        FieldOp::AnniversaryWithinDays(_) => local_day(now, zone).map(|(_, ends)| ends),
        _ => None,
    }
}

/// Whether an operator reads the contact's calendar (and so their time zone).
pub fn reads_calendar(op: &FieldOp) -> bool {
    matches!(op, FieldOp::AnniversaryWithinDays(_))
}

/// Whether an operator's answer can change with time alone.
pub fn field_is_timed(op: &FieldOp) -> bool {
    matches!(op, FieldOp::WithinLastDays(_) | FieldOp::AnniversaryWithinDays(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_780_000_000_000;

    #[test]
    fn numbers_in_array_properties_match_numbers_in_rules() {
        let sizes = Attr::from_property(&serde_json::json!([1, 2.5, "M"])).expect("a list");
        let v = Some(sizes.as_ref());
        assert!(field_matches(&FieldOp::In(vec![Literal::Num(2.5), Literal::Num(9.0)]), v, T, None));
        assert!(field_matches(&FieldOp::Equals(Literal::Num(1.0)), v, T, None));
        assert!(field_matches(&FieldOp::Equals(Literal::Str("m".into())), v, T, None));
        assert!(!field_matches(&FieldOp::In(vec![Literal::Num(3.0)]), v, T, None));
        assert!(field_matches(&FieldOp::NotIn(vec![Literal::Num(3.0)]), v, T, None));
    }

    #[test]
    fn operators() {
        let s = Attr::Str("gold member".into());
        assert!(field_matches(&FieldOp::Contains("gold".into()), Some(s.as_ref()), T, None));
        assert!(field_matches(&FieldOp::StartsWith("gold".into()), Some(s.as_ref()), T, None));
        assert!(field_matches(&FieldOp::NotEquals(Literal::Str("x".into())), None, T, None));
        assert!(!field_matches(&FieldOp::Equals(Literal::Str("x".into())), None, T, None));
        let l = Attr::List(vec!["a".into(), "b".into()]);
        assert!(field_matches(&FieldOp::In(vec![Literal::Str("b".into())]), Some(l.as_ref()), T, None));
        assert!(!field_matches(&FieldOp::Contains("c".into()), Some(l.as_ref()), T, None));
        assert!(field_matches(&FieldOp::Between(1.0, 2.0), Some(AttrRef::Num(2.0)), T, None));
        assert!(!field_matches(&FieldOp::Gt(1.0), Some(AttrRef::Str("5")), T, None));
    }

    #[test]
    fn date_windows_and_their_timers() {
        let op = FieldOp::WithinLastDays(30);
        let d = T - 10 * DAY_MS;
        assert!(field_matches(&op, Some(AttrRef::Date(d)), T, None));
        assert_eq!(field_next_change(&op, Some(AttrRef::Date(d)), T, None), Some(d + 30 * DAY_MS));
        assert!(!field_matches(&op, Some(AttrRef::Date(d)), d + 30 * DAY_MS, None));
        assert!(field_matches(&op, Some(AttrRef::Date(d)), d + 30 * DAY_MS - 1, None));
    }

    #[test]
    fn scores_decay_across_bounds_and_say_when() {
        let state = crate::score::ScoreState { behaviour: 40.0, as_of: T, attributes: 10.0, level: 0 };
        let s = AttrRef::Score(Decaying { state, half_life_days: Some(10.0) });
        let op = FieldOp::Gte(30.0);
        assert!(field_matches(&op, Some(s), T, None));
        // 40·2^(−t/10 days) + 10 = 30 at t = 10 days.
        let at = field_next_change(&op, Some(s), T, None).unwrap();
        assert_eq!(at, T + 10 * DAY_MS + 1);
        assert!(!field_matches(&op, Some(s), at, None));
        assert!(field_matches(&op, Some(s), at - 2, None));
        assert_eq!(field_next_change(&FieldOp::Gte(5.0), Some(s), T, None), None, "never below its attribute points");
        let steady = AttrRef::Score(Decaying { state, half_life_days: None });
        assert_eq!(field_next_change(&op, Some(steady), T, None), None);
        assert!(field_matches(&FieldOp::Between(45.0, 60.0), Some(steady), T + 100 * DAY_MS, None));
    }

    #[test]
    fn anniversaries() {
        let now = crate::segment::rule::parse_instant("2026-12-30T15:00:00Z").unwrap();
        let bday = |s: &str| AttrRef::Date(crate::segment::rule::parse_instant(s).unwrap());
        let op = FieldOp::AnniversaryWithinDays(3);
        assert!(field_matches(&op, Some(bday("1990-01-02")), now, None));
        assert!(field_matches(&op, Some(bday("1990-12-30")), now, None));
        assert!(!field_matches(&op, Some(bday("1990-12-29")), now, None));
        assert!(!field_matches(&op, Some(bday("1990-01-03")), now, None));
        let feb29 = crate::segment::rule::parse_instant("2027-02-25").unwrap();
        assert!(field_matches(&op, Some(bday("2000-02-29")), feb29, None));
    }

    #[test]
    fn anniversaries_on_the_contacts_calendar() {
        // 23:30 UTC on 29 December is already the 30th in Tokyo, still the
        // 29th in Los Angeles.
        let now = crate::segment::rule::parse_instant("2026-12-29T23:30:00Z").unwrap();
        let bday = AttrRef::Date(crate::segment::rule::parse_instant("1990-12-30").unwrap());
        let today = FieldOp::AnniversaryWithinDays(0);
        assert!(!field_matches(&today, Some(bday), now, None));
        assert!(field_matches(&today, Some(bday), now, Some("Asia/Tokyo")));
        // Field values are lower-cased; zone names are found all the same.
        assert!(field_matches(&today, Some(bday), now, Some("asia/tokyo")));
        assert!(!field_matches(&today, Some(bday), now, Some("America/Los_Angeles")));
        assert!(!field_matches(&today, Some(bday), now, Some("Not/AZone")), "unknown zones are UTC");
        // The next look is at the contact's own midnight: 08:00 UTC in Los
        // Angeles (PST), 15:00 UTC in Tokyo, 00:00 UTC without a zone.
        let next = |z| field_next_change(&today, Some(bday), now, z);
        assert_eq!(next(Some("America/Los_Angeles")), crate::segment::rule::parse_instant("2026-12-30T08:00:00Z"));
        assert_eq!(next(Some("Asia/Tokyo")), crate::segment::rule::parse_instant("2026-12-30T15:00:00Z"));
        assert_eq!(next(None), crate::segment::rule::parse_instant("2026-12-30T00:00:00Z"));
    }
}
