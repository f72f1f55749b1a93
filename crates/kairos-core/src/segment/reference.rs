//! The reference evaluator: the plain, obviously-correct meaning of a rule,
//! computed from a contact's whole profile and whole event history at one
//! instant. It is slow on purpose — no counters, no caches, no timers — and
//! exists so the incremental [`super::runtime`] can be checked against it
//! (`tests/segment_equivalence.rs`) and so `kairos segment eval` has an
//! answer that needs no engine.

use super::rule::{CountOp, EventCond, Measure, Rule, TimeTest, Window, DAY_MS};
use super::value::{field_matches, property, Attr, AttrRef, Profile, TIMEZONE_FIELD};
use crate::ids::{CompanyId, ContactId, ListId, SegmentId};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// One event of a contact's history, as rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub name: String,
    pub timestamp: i64,
    pub properties: Value,
}

/// Everything a rule may look at.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub contacts: HashMap<ContactId, Profile>,
    pub contact_companies: HashMap<ContactId, Vec<CompanyId>>,
    pub companies: HashMap<CompanyId, Profile>,
    pub events: HashMap<ContactId, Vec<EventRecord>>,
    pub segments: HashMap<SegmentId, Rule>,
    pub lists: HashMap<ListId, HashSet<ContactId>>,
}

/// The contact's time zone, for dates on their own calendar.
fn zone(world: &World, contact: ContactId) -> Option<&str> {
    match world.contacts.get(&contact)?.get(TIMEZONE_FIELD)? {
        AttrRef::Str(z) => Some(z),
        _ => None,
    }
}

/// Whether `contact` satisfies `rule` at instant `now` (ms).
pub fn evaluate(rule: &Rule, world: &World, contact: ContactId, now: i64) -> bool {
    match rule {
        Rule::And(rs) => rs.iter().all(|r| evaluate(r, world, contact, now)),
        Rule::Or(rs) => rs.iter().any(|r| evaluate(r, world, contact, now)),
        Rule::Not(r) => !evaluate(r, world, contact, now),
        Rule::Field(c) => {
            let v = world.contacts.get(&contact).and_then(|p| p.get(&c.field));
            field_matches(&c.op, v, now, zone(world, contact))
        }
        Rule::Company(c) => world
            .contact_companies
            .get(&contact)
            .into_iter()
            .flatten()
            .filter_map(|co| world.companies.get(co))
            .any(|p| field_matches(&c.op, p.get(&c.field), now, zone(world, contact))),
        Rule::Event(e) => event_matches(e, world.events.get(&contact).map(Vec::as_slice).unwrap_or(&[]), now),
        Rule::Segment(s) => world.segments.get(s).is_some_and(|r| evaluate(r, world, contact, now)),
        Rule::List(l) => world.lists.get(l).is_some_and(|m| m.contains(&contact)),
    }
}

/// Whether an event passes a condition's name and property filters.
pub fn event_passes(e: &EventCond, name: &str, properties: &Value, now: i64) -> bool {
    name == e.event
        && e.filters.iter().all(|f| {
            let v = property(properties, &f.path).and_then(Attr::from_property);
            field_matches(&f.op, v.as_ref().map(Attr::as_ref), now, None)
        })
}

fn event_matches(e: &EventCond, history: &[EventRecord], now: i64) -> bool {
    let times: Vec<i64> =
        history.iter().filter(|h| event_passes(e, &h.name, &h.properties, now)).map(|h| h.timestamp).collect();
    let test = |t: i64, test: &TimeTest| match *test {
        TimeTest::Before(x) => t < x,
        TimeTest::After(x) => t > x,
        TimeTest::WithinLastDays(n) => t > now - n as i64 * DAY_MS,
        TimeTest::MoreThanDaysAgo(n) => t <= now - n as i64 * DAY_MS,
    };
    match e.measure {
        Measure::Count { op, n, window } => {
            let count = times
                .iter()
                .filter(|&&t| match window {
                    Window::Ever => true,
                    Window::LastDays(d) => t > now - d as i64 * DAY_MS,
                    Window::Between(a, b) => a <= t && t < b,
                })
                .count() as u64;
            match op {
                CountOp::AtLeast => count >= n as u64,
                CountOp::AtMost => count <= n as u64,
                CountOp::Exactly => count == n as u64,
            }
        }
        Measure::First(t) => times.iter().min().is_some_and(|&first| test(first, &t)),
        Measure::Last(t) => times.iter().max().is_some_and(|&last| test(last, &t)),
    }
}
