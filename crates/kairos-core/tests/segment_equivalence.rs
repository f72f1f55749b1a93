//! Equivalence proof for the segment engine: random rules over random
//! histories of profile changes, company changes, list changes, events
//! (including late ones), segment loads with backfill while events keep
//! arriving, and time moving on. After every step the incremental runtime's
//! membership must equal the plain reference evaluator's answer for every
//! segment and contact.

use kairos_core::fields::FieldType;
use kairos_core::ids::{CompanyId, ContactId, ListId, SegmentId};
use kairos_core::segment::reference::{evaluate, EventRecord, World};
use kairos_core::segment::rule::{parse, Schema, DAY_MS};
use kairos_core::segment::runtime::{EventInput, SegmentRuntime};
use kairos_core::segment::{Attr, Profile};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::HashSet;

const T0: i64 = 1_780_000_000_000;
const CONTACTS: usize = 4;
const COMPANIES: usize = 2;

fn date_str(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn field_leaf() -> impl Strategy<Value = Value> {
    let words = prop::sample::select(vec!["free", "pro", "Pro Plus", "x"]);
    prop_oneof![
        (prop::sample::select(vec!["equals", "not_equals", "contains", "starts_with"]), words.clone())
            .prop_map(|(op, v)| json!({"field": "plan", "op": op, "value": v})),
        prop::collection::vec(words.clone(), 1..3).prop_map(|v| json!({"field": "plan", "op": "in", "value": v})),
        prop::sample::select(vec!["is_set", "not_set"]).prop_map(|op| json!({"field": "plan", "op": op})),
        (prop::sample::select(vec!["gt", "gte", "lt", "lte", "equals", "not_equals"]), 0..100i32)
            .prop_map(|(op, v)| json!({"field": "age", "op": op, "value": v})),
        (0..50i32, 0..50i32).prop_map(|(a, b)| json!({"field": "age", "op": "between", "value": [a, a + b]})),
        any::<bool>().prop_map(|b| json!({"field": "vip", "op": "equals", "value": b})),
        (1..40u32).prop_map(|d| json!({"field": "signup", "op": "within_last_days", "value": d})),
        (0..30u32).prop_map(|d| json!({"field": "signup", "op": "anniversary_within_days", "value": d})),
        (prop::sample::select(vec!["before", "after"]), -60..60i64)
            .prop_map(|(op, d)| json!({"field": "signup", "op": op, "value": date_str(T0 + d * DAY_MS)})),
        (prop::sample::select(vec!["contains", "not_contains"]), prop::sample::select(vec!["a", "b"]))
            .prop_map(|(op, v)| json!({"field": "tags", "op": op, "value": v})),
        prop::sample::select(vec!["saas", "Retail"])
            .prop_map(|v| json!({"company": {"field": "industry", "op": "equals", "value": v}})),
    ]
}

fn event_leaf() -> impl Strategy<Value = Value> {
    let name = prop::sample::select(vec!["A", "B"]);
    let filter = prop_oneof![
        Just(None),
        (0..100i32).prop_map(|n| Some(json!([{"property": "amount", "op": "gt", "value": n}]))),
        Just(Some(json!([{"property": "kind", "op": "equals", "value": "X"}]))),
    ];
    let window = prop_oneof![
        Just(json!("ever")),
        prop::sample::select(vec![1u32, 3, 7, 30]).prop_map(|d| json!({"last_days": d})),
        (-40..0i64, 1..40i64)
            .prop_map(|(a, len)| json!({"between": [date_str(T0 + a * DAY_MS), date_str(T0 + (a + len) * DAY_MS)]})),
    ];
    let count = (prop::sample::select(vec!["at_least", "at_most", "exactly"]), 0..4u32);
    let time_test = prop_oneof![
        (prop::sample::select(vec!["before", "after"]), -40..10i64)
            .prop_map(|(op, d)| json!({"op": op, "value": date_str(T0 + d * DAY_MS)})),
        (prop::sample::select(vec!["within_last_days", "more_than_days_ago"]), 1..20u32)
            .prop_map(|(op, d)| json!({"op": op, "value": d})),
    ];
    prop_oneof![
        (name.clone(), filter.clone(), window, count).prop_map(|(n, f, w, (op, c))| {
            let mut v = json!({"event": n, "window": w, "count": {"op": op, "value": c}});
            if let Some(f) = f {
                v["where"] = f;
            }
            v
        }),
        (name, filter, prop::sample::select(vec!["first", "last"]), time_test).prop_map(|(n, f, which, t)| {
            let mut v = json!({"event": n});
            v[which] = t;
            if let Some(f) = f {
                v["where"] = f;
            }
            v
        }),
    ]
}

/// A rule; `SEGk` placeholders name earlier segments, `LIST` the list.
fn rule() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        3 => field_leaf(),
        3 => event_leaf(),
        1 => (0..3usize).prop_map(|k| json!({"segment": format!("SEG{k}")})),
        1 => Just(json!({"list": "LIST"})),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| json!({"and": v})),
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| json!({"or": v})),
            inner.prop_map(|v| json!({"not": v})),
        ]
    })
}

#[derive(Debug, Clone)]
enum Op {
    Profile {
        contact: usize,
        plan: Option<&'static str>,
        age: Option<i32>,
        vip: Option<bool>,
        signup: Option<i64>,
        tags: Vec<&'static str>,
        companies: Vec<usize>,
    },
    Company {
        company: usize,
        industry: Option<&'static str>,
    },
    Event {
        contact: usize,
        name: &'static str,
        ago_ms: i64,
        amount: i32,
        kind: &'static str,
    },
    Advance {
        ms: i64,
    },
    List {
        contact: usize,
        member: bool,
    },
    /// Load segment k (if not loaded), with `live` events arriving during its backfill.
    Load {
        k: usize,
        live: Vec<(usize, &'static str, i64)>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let profile = (
        0..CONTACTS,
        prop::option::of(prop::sample::select(vec!["free", "Pro", "pro plus"])),
        prop::option::of(0..100i32),
        prop::option::of(any::<bool>()),
        prop::option::of(-400 * DAY_MS..10 * DAY_MS),
        prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 0..3),
        prop::collection::vec(0..COMPANIES, 0..3),
    )
        .prop_map(|(contact, plan, age, vip, signup, tags, companies)| Op::Profile {
            contact,
            plan,
            age,
            vip,
            signup,
            tags,
            companies,
        });
    prop_oneof![
        2 => profile,
        1 => (0..COMPANIES, prop::option::of(prop::sample::select(vec!["SaaS", "retail"])))
            .prop_map(|(company, industry)| Op::Company { company, industry }),
        5 => (0..CONTACTS, prop::sample::select(vec!["A", "B", "C"]), -3_600_000i64..40 * DAY_MS, 0..100i32, prop::sample::select(vec!["x", "y"]))
            .prop_map(|(contact, name, ago_ms, amount, kind)| Op::Event { contact, name, ago_ms, amount, kind }),
        3 => prop_oneof![0..DAY_MS, 0..20 * DAY_MS, 0..3_600_000i64].prop_map(|ms| Op::Advance { ms }),
        1 => (0..CONTACTS, any::<bool>()).prop_map(|(contact, member)| Op::List { contact, member }),
        2 => (0..3usize, prop::collection::vec((0..CONTACTS, prop::sample::select(vec!["A", "B"]), 0..DAY_MS), 0..3))
            .prop_map(|(k, live)| Op::Load { k, live }),
    ]
}

struct Harness {
    rt: SegmentRuntime,
    world: World,
    contacts: Vec<ContactId>,
    companies: Vec<CompanyId>,
    segments: Vec<SegmentId>,
    loaded: Vec<bool>,
    rules: Vec<Value>,
    list: ListId,
    schema: Schema,
    now: i64,
    seq: i64,
    /// Every event with its seq, for backfill scans.
    log: Vec<(i64, ContactId, EventRecord)>,
}

impl Harness {
    fn check(&self) -> Result<(), TestCaseError> {
        for (k, s) in self.segments.iter().enumerate() {
            if !self.loaded[k] {
                continue;
            }
            let rule = &self.world.segments[s];
            let members: HashSet<ContactId> = self.rt.members(*s, None, 100).into_iter().collect();
            prop_assert_eq!(self.rt.count(*s), Some(members.len() as u64));
            for c in &self.contacts {
                let expected = evaluate(rule, &self.world, *c, self.now);
                prop_assert_eq!(
                    self.rt.is_member(*s, *c),
                    expected,
                    "segment {} ({}) contact {:?} at now=T0{:+}ms",
                    k,
                    self.rules[k],
                    c,
                    self.now - T0
                );
                prop_assert_eq!(members.contains(c), expected);
            }
        }
        Ok(())
    }

    fn record(&mut self, contact: usize, name: &str, ts: i64, props: Value) -> (i64, ContactId, EventRecord) {
        self.seq += 1;
        let c = self.contacts[contact];
        let rec = EventRecord { name: name.to_string(), timestamp: ts, properties: props };
        self.world.events.entry(c).or_default().push(rec.clone());
        self.log.push((self.seq, c, rec.clone()));
        (self.seq, c, rec)
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Profile { contact, plan, age, vip, signup, tags, companies } => {
                let mut p = Profile::default();
                if let Some(v) = plan {
                    p.0.insert("plan".into(), Attr::Str(v.to_lowercase()));
                }
                if let Some(v) = age {
                    p.0.insert("age".into(), Attr::Num(*v as f64));
                }
                if let Some(v) = vip {
                    p.0.insert("vip".into(), Attr::Bool(*v));
                }
                if let Some(v) = signup {
                    p.0.insert("signup".into(), Attr::Date(self.now + v));
                }
                if !tags.is_empty() {
                    p.0.insert("tags".into(), Attr::List(tags.iter().map(|t| t.to_string()).collect()));
                }
                // Anniversaries fall on the contact's own calendar: zones on
                // both sides of UTC (and none), changing with the profile.
                let zones = [None, Some("asia/tokyo"), Some("america/los_angeles"), Some("pacific/kiritimati")];
                if let Some(z) = zones[(*contact + age.unwrap_or(0) as usize) % zones.len()] {
                    p.0.insert("timezone".into(), Attr::Str(z.into()));
                }
                let mut cos: Vec<CompanyId> = companies.iter().map(|i| self.companies[*i]).collect();
                cos.dedup();
                let c = self.contacts[*contact];
                self.world.contacts.insert(c, p.clone());
                self.world.contact_companies.insert(c, cos.clone());
                self.rt.set_contact(c, &p, &cos, self.now);
            }
            Op::Company { company, industry } => {
                let mut p = Profile::default();
                if let Some(i) = industry {
                    p.0.insert("industry".into(), Attr::Str(i.to_lowercase()));
                }
                let co = self.companies[*company];
                self.world.companies.insert(co, p.clone());
                self.rt.set_company(co, &p, self.now);
            }
            Op::Event { contact, name, ago_ms, amount, kind } => {
                let ts = self.now - ago_ms;
                let (seq, c, rec) = self.record(*contact, name, ts, json!({"amount": amount, "kind": kind}));
                let ev = EventInput { seq, name: &rec.name, timestamp: ts, properties: &rec.properties };
                self.rt.apply_event(c, &ev, self.now);
            }
            Op::Advance { ms } => {
                self.now += ms;
                self.rt.advance(self.now);
            }
            Op::List { contact, member } => {
                let c = self.contacts[*contact];
                let set = self.world.lists.entry(self.list).or_default();
                if *member {
                    set.insert(c);
                } else {
                    set.remove(&c);
                }
                self.rt.set_list_member(self.list, c, *member, self.now);
            }
            Op::Load { k, live } => {
                if self.loaded[*k] {
                    return;
                }
                // Segments it refers to must be loaded first.
                let mut text = self.rules[*k].to_string();
                for (j, s) in self.segments.iter().enumerate() {
                    text = text.replace(&format!("SEG{j}"), &s.to_string());
                }
                let v: Value = serde_json::from_str(&text.replace("LIST", &self.list.to_string())).unwrap();
                let rule = match parse(&v, &self.schema, Some(self.segments[*k])) {
                    Ok(r) => r,
                    Err(_) => return, // refers to a segment not loaded yet, or to itself
                };
                let snapshot = self.seq;
                let plan = self.rt.load_segment(self.segments[*k], &rule, snapshot).unwrap();
                // Events arriving while the backfill scan runs.
                for (contact, name, ago) in live {
                    let ts = self.now - ago;
                    let (seq, c, rec) = self.record(*contact, name, ts, json!({"amount": 50, "kind": "x"}));
                    let ev = EventInput { seq, name: &rec.name, timestamp: ts, properties: &rec.properties };
                    self.rt.apply_event(c, &ev, self.now);
                }
                for (seq, c, rec) in self.log.clone() {
                    if seq <= plan.snapshot && plan.events.contains(&rec.name) {
                        let ev =
                            EventInput { seq, name: &rec.name, timestamp: rec.timestamp, properties: &rec.properties };
                        self.rt.backfill_event(c, &ev);
                    }
                }
                self.rt.activate(self.segments[*k], self.now).unwrap();
                self.world.segments.insert(self.segments[*k], rule.clone());
                self.schema.segments.insert(self.segments[*k], rule.segment_refs());
                self.loaded[*k] = true;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn live_membership_equals_the_reference(
        rules in prop::collection::vec(rule(), 3),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let list = ListId::new();
        let mut schema = Schema::with_custom(
            [
                ("plan".to_string(), FieldType::String),
                ("age".into(), FieldType::Number),
                ("vip".into(), FieldType::Boolean),
                ("signup".into(), FieldType::Date),
                ("tags".into(), FieldType::List),
            ],
            [("industry".to_string(), FieldType::String)],
        );
        schema.lists.insert(list);
        let mut h = Harness {
            rt: SegmentRuntime::new(),
            world: World::default(),
            contacts: (0..CONTACTS).map(|_| ContactId::new()).collect(),
            companies: (0..COMPANIES).map(|_| CompanyId::new()).collect(),
            segments: (0..3).map(|_| SegmentId::new()).collect(),
            loaded: vec![false; 3],
            rules,
            list,
            schema,
            now: T0,
            seq: 0,
            log: Vec::new(),
        };
        for c in h.contacts.clone() {
            h.world.contacts.insert(c, Profile::default());
            h.rt.set_contact(c, &Profile::default(), &[], T0);
        }
        // Segment 0 is loaded before anything happens; the others when the
        // history says so (with a backfill).
        h.apply(&Op::Load { k: 0, live: vec![] });
        h.check()?;
        for op in &ops {
            h.apply(op);
            h.check()?;
        }
        // And finally, long after: every window has slid shut.
        h.apply(&Op::Advance { ms: 400 * DAY_MS });
        h.check()?;
        if std::env::var("EQ_DEBUG").is_ok() {
            let loaded = h.loaded.iter().filter(|l| **l).count();
            eprintln!("loaded={loaded} ops={} rules={}", ops.len(), h.rules[0]);
        }
    }
}
