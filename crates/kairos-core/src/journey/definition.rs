//! The journey definition: a JSON graph of a trigger, nodes and goals, and
//! its validation. A definition is checked twice: its shape when saved as a
//! draft ([`parse`] refuses anything malformed with the JSON path of the bad
//! part), and against the workspace on publish — every node reachable, every
//! exit pointing at a node, no cycle that could spin without a delay, and
//! every template, field, list, segment and webhook endpoint it names
//! existing — so a published journey can always run.

use crate::consent::Channel;
use crate::ids::{ListId, SegmentId};
use crate::segment::rule::{EventCond, Rule, Schema};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use thiserror::Error;

/// A node's name inside one journey, chosen by its author (`"welcome"`).
pub type NodeId = String;

const MAX_NODES: usize = 500;
const DAY_MS: i64 = 86_400_000;
/// The longest single delay or wait: ten years.
const MAX_DURATION_MS: i64 = 3653 * DAY_MS;

/// A definition that was refused, with the JSON path of the bad part and,
/// where it concerns one node, that node's id.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct JourneyError {
    pub path: String,
    pub node: Option<NodeId>,
    pub message: String,
}

impl fmt::Display for JourneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            Some(n) => write!(f, "{} (node \"{n}\"): {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub trigger: Trigger,
    pub entry: EntryRule,
    /// Pull a contact out when they unsubscribe from marketing email.
    pub exit_on_unsubscribe: bool,
    /// Events that pull a contact out as converted.
    pub goals: Vec<EventCond>,
    pub start: NodeId,
    pub nodes: BTreeMap<NodeId, Node>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// The contact performed an event (with property filters).
    Event(EventCond),
    SegmentEntered(SegmentId),
    SegmentExited(SegmentId),
    /// A date field reached, shifted by `offset_days`, at a local time in
    /// the contact's time zone; `yearly` for birthdays and anniversaries.
    DateField {
        field: String,
        offset_days: i32,
        hour: u8,
        minute: u8,
        yearly: bool,
    },
    ContactCreated,
    /// A form was submitted (tracked as a `Form Submitted` event with a
    /// `form_id` property).
    FormSubmitted {
        form: String,
    },
    /// Contacts are put in by `POST /journeys/{id}/entries`.
    Api,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryMode {
    /// A contact enters at most once, ever.
    Once,
    /// A contact may re-enter after their previous run ended.
    OnceAtATime,
    /// Every trigger starts a run, even beside a running one.
    EveryTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRule {
    pub mode: EntryMode,
    /// The least time between two entries of one contact, in ms.
    pub cooldown_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Delay {
        wait: Delay,
        next: NodeId,
    },
    /// Wait for an event; `next` when it comes, `timeout_next` when the
    /// timeout passes first.
    WaitEvent {
        event: EventCond,
        timeout_ms: i64,
        next: NodeId,
        timeout_next: NodeId,
    },
    /// The first branch whose rule holds; `otherwise` when none does.
    Branch {
        branches: Vec<(Rule, NodeId)>,
        otherwise: NodeId,
    },
    /// Weighted random split, the same path for the same contact every time;
    /// or, with `optimise`, an A/B/n test whose traffic shifts to the path
    /// that converts best (Thompson sampling; the weights count until there
    /// is evidence).
    Split {
        paths: Vec<(u32, NodeId)>,
        optimise: Option<SplitGoal>,
    },
    Action {
        action: Action,
        next: NodeId,
    },
    Exit,
}

/// What an optimising split optimises for: the goal event within a number
/// of days of taking a path; a path is declared the winner (and takes all
/// traffic) once it is best with at least `probability`.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitGoal {
    pub event: String,
    pub within_days: u32,
    pub probability: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Delay {
    For {
        ms: i64,
    },
    /// Until the next of these weekdays (0 = Monday) at a local time in the
    /// contact's time zone.
    Until {
        weekdays: Vec<u8>,
        hour: u8,
        minute: u8,
    },
    /// Until the next time the contact's local clock shows their best hour
    /// to receive a message (send-time optimisation).
    BestHour,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send {
        channel: Channel,
        template: String,
        transactional: bool,
    },
    /// Set contact fields (standard or custom) to these values.
    UpdateContact {
        set: Map<String, Value>,
    },
    ChangeScore {
        score: String,
        by: f64,
    },
    AddToList(ListId),
    RemoveFromList(ListId),
    Webhook {
        endpoint: String,
        payload: Option<Value>,
    },
    /// Tell a team member, by email or through a webhook endpoint.
    Notify {
        email: Option<String>,
        endpoint: Option<String>,
        message: String,
    },
}

impl Action {
    /// Whether the action leaves Kairos (delivered by the outbox, with
    /// retries) rather than changing Kairos's own data in the step's
    /// transaction.
    pub fn is_external(&self) -> bool {
        matches!(self, Action::Send { .. } | Action::Webhook { .. } | Action::Notify { .. })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Action::Send { .. } => "send",
            Action::UpdateContact { .. } => "update_contact",
            Action::ChangeScore { .. } => "change_score",
            Action::AddToList(_) => "add_to_list",
            Action::RemoveFromList(_) => "remove_from_list",
            Action::Webhook { .. } => "webhook",
            Action::Notify { .. } => "notify",
        }
    }
}

impl Node {
    /// Every node this one can lead to, in exit order.
    pub fn exits(&self) -> Vec<&NodeId> {
        match self {
            Node::Delay { next, .. } | Node::Action { next, .. } => vec![next],
            Node::WaitEvent { next, timeout_next, .. } => vec![next, timeout_next],
            Node::Branch { branches, otherwise } => {
                branches.iter().map(|(_, n)| n).chain(std::iter::once(otherwise)).collect()
            }
            Node::Split { paths, .. } => paths.iter().map(|(_, n)| n).collect(),
            Node::Exit => vec![],
        }
    }

    /// Whether a contact stays at this node for a while (so a cycle through
    /// it cannot spin).
    pub fn waits(&self) -> bool {
        matches!(self, Node::Delay { .. } | Node::WaitEvent { .. })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Node::Delay { .. } => "delay",
            Node::WaitEvent { .. } => "wait_event",
            Node::Branch { .. } => "branch",
            Node::Split { .. } => "split",
            Node::Action { action, .. } => action.kind(),
            Node::Exit => "exit",
        }
    }
}

/// What exists in the workspace, for the checks on publish.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub schema: Schema,
    pub templates: HashSet<String>,
    pub webhook_endpoints: HashSet<String>,
}

type Res<T> = Result<T, JourneyError>;

struct Parser<'a> {
    schema: &'a Schema,
    path: Vec<String>,
    node: Option<NodeId>,
}

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Res<T> {
        Err(JourneyError { path: self.path_str(), node: self.node.clone(), message: message.into() })
    }

    fn path_str(&self) -> String {
        let mut s = String::from("$");
        for p in &self.path {
            if p.starts_with('[') {
                s.push_str(p);
            } else {
                s.push('.');
                s.push_str(p);
            }
        }
        s
    }

    fn at<T>(&mut self, key: impl Into<String>, f: impl FnOnce(&mut Self) -> Res<T>) -> Res<T> {
        self.path.push(key.into());
        let r = f(self);
        self.path.pop();
        r
    }

    fn only_keys(&self, obj: &Map<String, Value>, allowed: &[&str]) -> Res<()> {
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                return self.err(format!(
                    "unexpected key \"{k}\"; expected {}",
                    allowed.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        Ok(())
    }

    fn object<'v>(&self, v: &'v Value, what: &str) -> Res<&'v Map<String, Value>> {
        match v {
            Value::Object(o) => Ok(o),
            _ => self.err(format!("expected {what}")),
        }
    }

    fn required<'v>(&mut self, obj: &'v Map<String, Value>, key: &str) -> Res<&'v Value> {
        match obj.get(key) {
            Some(v) => Ok(v),
            None => self.err(format!("\"{key}\" is required")),
        }
    }

    fn string(&mut self, obj: &Map<String, Value>, key: &str, max: usize) -> Res<String> {
        let v = self.required(obj, key)?;
        self.at(key, |p| match v.as_str() {
            Some(s) if !s.trim().is_empty() && s.len() <= max => Ok(s.to_string()),
            _ => p.err(format!("expected a non-empty string of at most {max} characters")),
        })
    }

    fn node_ref(&mut self, obj: &Map<String, Value>, key: &str) -> Res<NodeId> {
        let v = self.required(obj, key)?;
        self.at(key, |p| match v.as_str() {
            Some(s) if !s.is_empty() => Ok(s.to_string()),
            _ => p.err("expected the id of the node to go to next"),
        })
    }

    /// An event with optional property filters, in the segment rule
    /// language's own syntax (`{"event": NAME, "where": [...]}`).
    fn event(&mut self, v: &Value) -> Res<EventCond> {
        let obj = self.object(v, "{\"event\": NAME, \"where\": [CONDITIONS]}")?;
        self.only_keys(obj, &["event", "where"])?;
        let rule = crate::segment::parse(v, self.schema, None).map_err(|e| JourneyError {
            path: format!("{}{}", self.path_str(), e.path.trim_start_matches('$')),
            node: self.node.clone(),
            message: e.message,
        })?;
        match rule {
            Rule::Event(c) => Ok(c),
            _ => self.err("expected an event condition"),
        }
    }

    fn rule(&mut self, v: &Value) -> Res<Rule> {
        crate::segment::parse(v, self.schema, None).map_err(|e| JourneyError {
            path: format!("{}{}", self.path_str(), e.path.trim_start_matches('$')),
            node: self.node.clone(),
            message: e.message,
        })
    }

    fn uuid<T: std::str::FromStr>(&mut self, obj: &Map<String, Value>, key: &str, what: &str) -> Res<T> {
        let v = self.required(obj, key)?;
        self.at(key, |p| match v.as_str().and_then(|s| s.parse().ok()) {
            Some(id) => Ok(id),
            None => p.err(format!("expected the id of a {what}")),
        })
    }

    fn duration(&mut self, v: &Value) -> Res<i64> {
        let obj = self.object(v, "a duration such as {\"days\": 1, \"hours\": 2}")?;
        self.only_keys(obj, &["days", "hours", "minutes", "seconds"])?;
        if obj.is_empty() {
            return self.err("a duration needs at least one of \"days\", \"hours\", \"minutes\", \"seconds\"");
        }
        let mut ms: i64 = 0;
        for (k, unit) in [("days", DAY_MS), ("hours", 3_600_000), ("minutes", 60_000), ("seconds", 1_000)] {
            if let Some(x) = obj.get(k) {
                let n = self.at(k, |p| match x.as_u64() {
                    Some(n) if n <= 100_000 => Ok(n as i64),
                    _ => p.err("expected a whole number from 0 to 100000"),
                })?;
                ms = ms.saturating_add(n.saturating_mul(unit));
            }
        }
        if ms <= 0 || ms > MAX_DURATION_MS {
            return self.err("a duration must be more than zero and at most ten years");
        }
        Ok(ms)
    }

    fn local_time(&mut self, v: Option<&Value>) -> Res<(u8, u8)> {
        let Some(v) = v else { return Ok((9, 0)) };
        self.at("at", |p| {
            let parsed = v.as_str().and_then(|s| {
                let (h, m) = s.split_once(':')?;
                let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
                (h < 24 && m < 60).then_some((h, m))
            });
            match parsed {
                Some(t) => Ok(t),
                None => p.err("expected a local time \"HH:MM\" (24-hour clock)"),
            }
        })
    }

    fn trigger(&mut self, v: &Value) -> Res<Trigger> {
        let obj = self.object(v, "a trigger object with a \"type\"")?;
        let kind = self.string(obj, "type", 40)?;
        match kind.as_str() {
            "event" => {
                self.only_keys(obj, &["type", "event", "where"])?;
                let mut o = obj.clone();
                o.remove("type");
                Ok(Trigger::Event(self.event(&Value::Object(o))?))
            }
            "segment_entered" | "segment_exited" => {
                self.only_keys(obj, &["type", "segment"])?;
                let id: SegmentId = self.uuid(obj, "segment", "segment")?;
                if !self.schema.segments.contains_key(&id) {
                    return self.at("segment", |p| p.err(format!("no segment {id} in this workspace")));
                }
                Ok(if kind == "segment_entered" { Trigger::SegmentEntered(id) } else { Trigger::SegmentExited(id) })
            }
            "date_field" => {
                self.only_keys(obj, &["type", "field", "offset_days", "at", "yearly"])?;
                let field = self.string(obj, "field", 200)?;
                match self.schema.contact_fields.get(&field) {
                    Some(crate::fields::FieldType::Date) => {}
                    Some(t) => {
                        return self.at("field", |p| p.err(format!("field \"{field}\" is a {t:?} field, not a date")))
                    }
                    None => return self.at("field", |p| p.err(format!("unknown contact field \"{field}\""))),
                }
                let offset_days = match obj.get("offset_days") {
                    None => 0,
                    Some(x) => self.at("offset_days", |p| match x.as_i64() {
                        Some(n) if n.abs() <= 3653 => Ok(n as i32),
                        _ => p.err("expected a whole number of days from -3653 to 3653"),
                    })?,
                };
                let (hour, minute) = self.local_time(obj.get("at"))?;
                let yearly = match obj.get("yearly") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return self.at("yearly", |p| p.err("expected true or false")),
                };
                Ok(Trigger::DateField { field, offset_days, hour, minute, yearly })
            }
            "contact_created" => {
                self.only_keys(obj, &["type"])?;
                Ok(Trigger::ContactCreated)
            }
            "form_submitted" => {
                self.only_keys(obj, &["type", "form"])?;
                Ok(Trigger::FormSubmitted { form: self.string(obj, "form", 200)? })
            }
            "api" => {
                self.only_keys(obj, &["type"])?;
                Ok(Trigger::Api)
            }
            other => self.at("type", |p| {
                p.err(format!(
                    "unknown trigger \"{other}\"; expected event, segment_entered, segment_exited, date_field, \
                     contact_created, form_submitted or api"
                ))
            }),
        }
    }

    fn entry(&mut self, v: Option<&Value>) -> Res<EntryRule> {
        let Some(v) = v else { return Ok(EntryRule { mode: EntryMode::OnceAtATime, cooldown_ms: 0 }) };
        self.at("entry", |p| {
            let obj =
                p.object(v, "{\"mode\": \"once\" | \"once_at_a_time\" | \"every_time\", \"cooldown\": DURATION}")?;
            p.only_keys(obj, &["mode", "cooldown"])?;
            let mode = match obj.get("mode").and_then(Value::as_str) {
                None if !obj.contains_key("mode") => EntryMode::OnceAtATime,
                Some("once") => EntryMode::Once,
                Some("once_at_a_time") => EntryMode::OnceAtATime,
                Some("every_time") => EntryMode::EveryTime,
                _ => return p.at("mode", |p| p.err("expected \"once\", \"once_at_a_time\" or \"every_time\"")),
            };
            let cooldown_ms = match obj.get("cooldown") {
                None => 0,
                Some(c) => p.at("cooldown", |p| p.duration(c))?,
            };
            Ok(EntryRule { mode, cooldown_ms })
        })
    }

    fn node(&mut self, v: &Value) -> Res<Node> {
        let obj = self.object(v, "a node object with a \"type\"")?;
        let kind = self.string(obj, "type", 40)?;
        let keys: &[&str] = match kind.as_str() {
            "delay" => &["type", "duration", "until", "next"],
            "wait_event" => &["type", "event", "where", "timeout", "next", "timeout_next"],
            "branch" => &["type", "branches", "otherwise"],
            "split" => &["type", "paths", "optimise"],
            "send" => &["type", "channel", "template", "transactional", "next"],
            "update_contact" => &["type", "set", "next"],
            "change_score" => &["type", "score", "by", "next"],
            "add_to_list" | "remove_from_list" => &["type", "list", "next"],
            "webhook" => &["type", "endpoint", "payload", "next"],
            "notify" => &["type", "email", "endpoint", "message", "next"],
            "exit" => &["type"],
            other => {
                return self.at("type", |p| {
                    p.err(format!(
                        "unknown node type \"{other}\"; expected delay, wait_event, branch, split, send, \
                         update_contact, change_score, add_to_list, remove_from_list, webhook, notify or exit"
                    ))
                })
            }
        };
        self.only_keys(obj, keys)?;
        let action = |p: &mut Self, action: Action| Ok(Node::Action { action, next: p.node_ref(obj, "next")? });
        match kind.as_str() {
            "delay" => {
                let wait = match (obj.get("duration"), obj.get("until")) {
                    (Some(d), None) => Delay::For { ms: self.at("duration", |p| p.duration(d))? },
                    (None, Some(u)) => self.at("until", |p| {
                        let o =
                            p.object(u, "{\"weekdays\": [\"mon\", ...], \"at\": \"HH:MM\"} or {\"best_hour\": true}")?;
                        if o.contains_key("best_hour") {
                            p.only_keys(o, &["best_hour"])?;
                            return match o.get("best_hour") {
                                Some(Value::Bool(true)) => Ok(Delay::BestHour),
                                _ => p.at("best_hour", |p| p.err("expected true")),
                            };
                        }
                        p.only_keys(o, &["weekdays", "at"])?;
                        let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
                        let weekdays = match o.get("weekdays") {
                            None => (0..7).collect(),
                            Some(w) => p.at("weekdays", |p| {
                                let Some(items) = w.as_array().filter(|a| !a.is_empty()) else {
                                    return p.err("expected a non-empty array of \"mon\" … \"sun\"");
                                };
                                let mut days = BTreeSet::new();
                                for (i, d) in items.iter().enumerate() {
                                    match d.as_str().and_then(|s| names.iter().position(|n| *n == s.to_lowercase())) {
                                        Some(n) => days.insert(n as u8),
                                        None => return p.at(format!("[{i}]"), |p| p.err("expected \"mon\" … \"sun\"")),
                                    };
                                }
                                Ok(days.into_iter().collect())
                            })?,
                        };
                        let (hour, minute) = p.local_time(o.get("at"))?;
                        Ok(Delay::Until { weekdays, hour, minute })
                    })?,
                    _ => return self.err("a delay takes exactly one of \"duration\" and \"until\""),
                };
                Ok(Node::Delay { wait, next: self.node_ref(obj, "next")? })
            }
            "wait_event" => {
                let mut o = Map::new();
                o.insert("event".into(), self.required(obj, "event")?.clone());
                if let Some(w) = obj.get("where") {
                    o.insert("where".into(), w.clone());
                }
                let event = self.event(&Value::Object(o))?;
                let t = self.required(obj, "timeout")?;
                let timeout_ms = self.at("timeout", |p| p.duration(t))?;
                Ok(Node::WaitEvent {
                    event,
                    timeout_ms,
                    next: self.node_ref(obj, "next")?,
                    timeout_next: self.node_ref(obj, "timeout_next")?,
                })
            }
            "branch" => {
                let b = self.required(obj, "branches")?;
                let branches = self.at("branches", |p| {
                    let Some(items) = b.as_array().filter(|a| !a.is_empty() && a.len() <= 20) else {
                        return p.err("expected 1 to 20 branches, each {\"rule\": RULE, \"next\": NODE}");
                    };
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            p.at(format!("[{i}]"), |p| {
                                let o = p.object(item, "{\"rule\": RULE, \"next\": NODE}")?;
                                p.only_keys(o, &["rule", "next"])?;
                                let r = p.required(o, "rule")?;
                                let rule = p.at("rule", |p| p.rule(r))?;
                                Ok((rule, p.node_ref(o, "next")?))
                            })
                        })
                        .collect::<Res<Vec<_>>>()
                })?;
                Ok(Node::Branch { branches, otherwise: self.node_ref(obj, "otherwise")? })
            }
            "split" => {
                let ps = self.required(obj, "paths")?;
                let paths = self.at("paths", |p| {
                    let Some(items) = ps.as_array().filter(|a| a.len() >= 2 && a.len() <= 20) else {
                        return p.err("expected 2 to 20 paths, each {\"weight\": N, \"next\": NODE}");
                    };
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            p.at(format!("[{i}]"), |p| {
                                let o = p.object(item, "{\"weight\": N, \"next\": NODE}")?;
                                p.only_keys(o, &["weight", "next"])?;
                                let w = p.required(o, "weight")?;
                                let weight = p.at("weight", |p| match w.as_u64() {
                                    Some(n) if (1..=10_000).contains(&n) => Ok(n as u32),
                                    _ => p.err("expected a whole-number weight from 1 to 10000"),
                                })?;
                                Ok((weight, p.node_ref(o, "next")?))
                            })
                        })
                        .collect::<Res<Vec<_>>>()
                })?;
                let optimise = match obj.get("optimise") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(self.at("optimise", |p| {
                        let o = p.object(v, "{\"goal\": EVENT, \"within_days\": 7, \"probability\": 0.95}")?;
                        p.only_keys(o, &["goal", "within_days", "probability"])?;
                        let event = p.at("goal", |p| match o.get("goal").and_then(Value::as_str) {
                            Some(e) if !e.trim().is_empty() && e.len() <= 200 => Ok(e.to_string()),
                            _ => p.err("expected the name of the goal event"),
                        })?;
                        let within_days = match o.get("within_days") {
                            None => 7,
                            Some(d) => p.at("within_days", |p| match d.as_u64() {
                                Some(n) if (1..=90).contains(&n) => Ok(n as u32),
                                _ => p.err("expected a whole number of days from 1 to 90"),
                            })?,
                        };
                        let probability = match o.get("probability") {
                            None => 0.95,
                            Some(x) => p.at("probability", |p| match x.as_f64() {
                                Some(q) if (0.5..1.0).contains(&q) => Ok(q),
                                _ => p.err("expected a probability from 0.5 up to (not including) 1, such as 0.95"),
                            })?,
                        };
                        Ok(SplitGoal { event, within_days, probability })
                    })?),
                };
                Ok(Node::Split { paths, optimise })
            }
            "send" => {
                let channel = match obj.get("channel") {
                    None => Channel::Email,
                    Some(c) => self.at("channel", |p| match c.as_str().and_then(Channel::parse) {
                        Some(ch) => Ok(ch),
                        None => p.err("expected a channel such as \"email\" or \"sms\""),
                    })?,
                };
                let template = self.string(obj, "template", 200)?;
                let transactional = match obj.get("transactional") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return self.at("transactional", |p| p.err("expected true or false")),
                };
                action(self, Action::Send { channel, template, transactional })
            }
            "update_contact" => {
                let s = self.required(obj, "set")?;
                let set = self.at("set", |p| {
                    let o = p.object(s, "an object of field names and values")?;
                    if o.is_empty() {
                        return p.err("name at least one field to set");
                    }
                    for k in o.keys() {
                        if !p.schema.contact_fields.contains_key(k) || k == "created_at" || k == "updated_at" {
                            let mut known: Vec<_> = p.schema.contact_fields.keys().cloned().collect();
                            known.sort();
                            return p.at(k.clone(), |p| {
                                p.err(format!("unknown contact field \"{k}\"; known fields: {}", known.join(", ")))
                            });
                        }
                    }
                    Ok(o.clone())
                })?;
                action(self, Action::UpdateContact { set })
            }
            "change_score" => {
                let score = self.string(obj, "score", 100)?;
                let b = self.required(obj, "by")?;
                let by = self.at("by", |p| match b.as_f64() {
                    Some(x) if x.is_finite() && x != 0.0 && x.abs() <= 1e6 => Ok(x),
                    _ => p.err("expected a non-zero number of points from -1000000 to 1000000"),
                })?;
                action(self, Action::ChangeScore { score, by })
            }
            "add_to_list" | "remove_from_list" => {
                let list: ListId = self.uuid(obj, "list", "static list")?;
                if !self.schema.lists.contains(&list) {
                    return self.at("list", |p| p.err(format!("no list {list} in this workspace")));
                }
                action(self, if kind == "add_to_list" { Action::AddToList(list) } else { Action::RemoveFromList(list) })
            }
            "webhook" => {
                let endpoint = self.string(obj, "endpoint", 100)?;
                let payload = obj.get("payload").cloned();
                action(self, Action::Webhook { endpoint, payload })
            }
            "notify" => {
                let message = self.string(obj, "message", 2000)?;
                let email = match obj.get("email") {
                    None => None,
                    Some(e) => Some(self.at("email", |p| match e.as_str().map(crate::address::normalize_email) {
                        Some(Ok(a)) => Ok(a),
                        _ => p.err("expected the team member's email address"),
                    })?),
                };
                let endpoint = match obj.get("endpoint") {
                    None => None,
                    Some(_) => Some(self.string(obj, "endpoint", 100)?),
                };
                if email.is_some() == endpoint.is_some() {
                    return self.err("a notification goes to exactly one of \"email\" and \"endpoint\"");
                }
                action(self, Action::Notify { email, endpoint, message })
            }
            _ => Ok(Node::Exit),
        }
    }
}

/// The value of a section's parse, or `None` with its problem noted.
fn noted<T>(errors: &mut Vec<JourneyError>, r: Res<T>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

/// Parse and validate a definition's shape against the workspace's fields,
/// segments and lists. Every problem is returned, one per part at most (the
/// trigger, the entry rule, each goal, the start, each node): a marketer
/// fixes a draft in one pass, not one node per save.
pub fn parse(json: &Value, schema: &Schema) -> Result<Definition, Vec<JourneyError>> {
    let mut p = Parser { schema, path: Vec::new(), node: None };
    let obj = p.object(json, "a journey definition object").map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    noted(&mut errors, p.only_keys(obj, &["trigger", "entry", "exit_on_unsubscribe", "goals", "start", "nodes"]));
    let trigger = p.required(obj, "trigger").and_then(|t| p.at("trigger", |p| p.trigger(t)));
    let trigger = noted(&mut errors, trigger);
    let entry = p.entry(obj.get("entry"));
    let entry = noted(&mut errors, entry);
    let exit_on_unsubscribe = match obj.get("exit_on_unsubscribe") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            noted(&mut errors, p.at("exit_on_unsubscribe", |p| p.err::<()>("expected true or false")));
            true
        }
    };
    let mut goals = Vec::new();
    if let Some(g) = obj.get("goals") {
        p.at("goals", |p| {
            match g.as_array().filter(|a| a.len() <= 20) {
                None => {
                    noted(&mut errors, p.err::<()>("expected an array of up to 20 goal events"));
                }
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let goal = p.at(format!("[{i}]"), |p| p.event(item));
                        goals.extend(noted(&mut errors, goal));
                    }
                }
            }
            Ok(())
        })
        .ok();
    }
    let start = p.string(obj, "start", 100);
    let start = noted(&mut errors, start);
    let mut nodes = BTreeMap::new();
    match p.required(obj, "nodes") {
        Err(e) => errors.push(e),
        Ok(n) => {
            p.at("nodes", |p| {
                let o = match p.object(n, "an object of node ids to nodes") {
                    Ok(o) => o,
                    Err(e) => {
                        errors.push(e);
                        return Ok(());
                    }
                };
                if o.is_empty() || o.len() > MAX_NODES {
                    noted(&mut errors, p.err::<()>(format!("a journey has 1 to {MAX_NODES} nodes")));
                    return Ok(());
                }
                for (id, v) in o {
                    if id.is_empty() || id.len() > 100 {
                        noted(&mut errors, p.err::<()>("node ids are 1 to 100 characters"));
                        continue;
                    }
                    p.node = Some(id.clone());
                    let node = p.at(id.clone(), |p| p.node(v));
                    p.node = None;
                    if let Some(node) = noted(&mut errors, node) {
                        nodes.insert(id.clone(), node);
                    }
                }
                Ok(())
            })
            .ok();
        }
    }
    match (trigger, entry, start) {
        (Some(trigger), Some(entry), Some(start)) if errors.is_empty() => {
            Ok(Definition { trigger, entry, exit_on_unsubscribe, goals, start, nodes })
        }
        _ => Err(errors),
    }
}

impl Definition {
    /// The checks made on publish: the graph is whole and everything it
    /// names exists. Returns every problem found, graph problems first.
    pub fn check(&self, catalog: &Catalog) -> Vec<JourneyError> {
        let mut errors = Vec::new();
        let at = |node: &str, path: &str, message: String| JourneyError {
            path: format!("$.nodes.{node}{path}"),
            node: Some(node.to_string()),
            message,
        };
        if !self.nodes.contains_key(&self.start) {
            errors.push(JourneyError {
                path: "$.start".into(),
                node: None,
                message: format!("the start node \"{}\" is not a node of this journey", self.start),
            });
            return errors;
        }
        for (id, node) in &self.nodes {
            for next in node.exits() {
                if !self.nodes.contains_key(next) {
                    errors.push(at(
                        id,
                        "",
                        format!("an exit leads to \"{next}\", which is not a node of this journey"),
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return errors;
        }
        let reachable = self.reachable();
        for id in self.nodes.keys() {
            if !reachable.contains(id) {
                errors.push(at(id, "", "unreachable: no path from the start node leads here".into()));
            }
        }
        if let Some(id) = self.instant_cycle() {
            errors.push(at(
                &id,
                "",
                "part of a cycle with no delay or wait in it: a contact would loop forever; add a delay".into(),
            ));
        }
        for (id, node) in &self.nodes {
            if let Node::Action { action, .. } = node {
                match action {
                    Action::Send { template, .. } if !catalog.templates.contains(template) => {
                        errors.push(at(id, ".template", format!("unknown template \"{template}\"")))
                    }
                    Action::Webhook { endpoint, .. } | Action::Notify { endpoint: Some(endpoint), .. }
                        if !catalog.webhook_endpoints.contains(endpoint) =>
                    {
                        errors.push(at(id, ".endpoint", format!("unknown webhook endpoint \"{endpoint}\"")))
                    }
                    _ => {}
                }
            }
        }
        errors
    }

    fn reachable(&self) -> HashSet<NodeId> {
        let mut seen = HashSet::new();
        let mut stack = vec![&self.start];
        while let Some(id) = stack.pop() {
            if seen.insert(id.clone()) {
                if let Some(n) = self.nodes.get(id) {
                    stack.extend(n.exits());
                }
            }
        }
        seen
    }

    /// A node on a cycle made only of nodes that pass a contact on at once.
    fn instant_cycle(&self) -> Option<NodeId> {
        // Depth-first search over the edges out of non-waiting nodes.
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Open,
            Done,
        }
        let mut marks: BTreeMap<&NodeId, Mark> = BTreeMap::new();
        for root in self.nodes.keys() {
            if marks.contains_key(root) {
                continue;
            }
            let mut stack: Vec<(&NodeId, usize)> = vec![(root, 0)];
            marks.insert(root, Mark::Open);
            while let Some((id, i)) = stack.pop() {
                let node = &self.nodes[id];
                let exits = if node.waits() { Vec::new() } else { node.exits() };
                if i < exits.len() {
                    stack.push((id, i + 1));
                    let next = exits[i];
                    match marks.get(next) {
                        Some(Mark::Open) => return Some(next.clone()),
                        Some(Mark::Done) => {}
                        None => {
                            marks.insert(next, Mark::Open);
                            stack.push((next, 0));
                        }
                    }
                } else {
                    marks.insert(id, Mark::Done);
                }
            }
        }
        None
    }

    /// The events of the log this journey can react to: its trigger, waits
    /// and goals.
    pub fn interest(&self) -> EventInterest {
        let mut out = self.start_interest();
        out.add(&self.run_interest());
        out
    }

    /// The events that can start a run: those of an event-like trigger
    /// (a named event, a form submission, a segment entry or exit, a
    /// contact's first event). The writer evaluates these in the
    /// transaction that appends them.
    pub fn start_interest(&self) -> EventInterest {
        let mut out = EventInterest::default();
        match &self.trigger {
            Trigger::Event(e) => {
                out.names.insert(e.event.clone());
            }
            Trigger::FormSubmitted { .. } => {
                out.names.insert(FORM_SUBMITTED.to_string());
            }
            Trigger::SegmentEntered(_) => {
                out.names.insert("Segment Entered".to_string());
            }
            Trigger::SegmentExited(_) => {
                out.names.insert("Segment Exited".to_string());
            }
            // A contact's first event, whatever it is.
            Trigger::ContactCreated => out.every_event = true,
            Trigger::DateField { .. } | Trigger::Api => {}
        }
        out
    }

    /// The events runs under way react to (goals, waits), and identify
    /// calls for a date-field trigger (new traits may move the date). The
    /// runner reads only these from the log.
    pub fn run_interest(&self) -> EventInterest {
        let mut out =
            EventInterest { identifies: matches!(self.trigger, Trigger::DateField { .. }), ..Default::default() };
        out.names.extend(self.goals.iter().map(|g| g.event.clone()));
        for n in self.nodes.values() {
            if let Node::WaitEvent { event, .. } = n {
                out.names.insert(event.event.clone());
            }
        }
        out
    }

    /// The edge a path line of `node` records a contact taking, as the step
    /// function writes them (`passed` with `branch 0`, `otherwise`, `path 1`
    /// or `done`; `left` with `event`, `timeout`, `delay over` or
    /// `delivered`): the node it leads to and the exit's label (`""` for a
    /// node's only exit). Other lines (arrivals, exits, failures) are no edge.
    pub fn edge_of(&self, node: &str, outcome: &str, detail: &str) -> Option<(&NodeId, String)> {
        let indexed = |prefix: &str| detail.strip_prefix(prefix).and_then(|i| i.parse::<usize>().ok());
        match (self.nodes.get(node)?, outcome, detail) {
            (Node::Delay { next, .. }, "left", "delay over") => Some((next, String::new())),
            (Node::WaitEvent { next, .. }, "left", "event") => Some((next, "event".into())),
            (Node::WaitEvent { timeout_next, .. }, "left", "timeout") => Some((timeout_next, "timeout".into())),
            (Node::Action { next, .. }, "passed", "done") | (Node::Action { next, .. }, "left", "delivered") => {
                Some((next, String::new()))
            }
            (Node::Branch { otherwise, .. }, "passed", "otherwise") => Some((otherwise, "otherwise".into())),
            (Node::Branch { branches, .. }, "passed", _) => {
                indexed("branch ").and_then(|i| branches.get(i)).map(|(_, to)| (to, detail.to_string()))
            }
            (Node::Split { paths, .. }, "passed", _) => {
                indexed("path ").and_then(|i| paths.get(i)).map(|(_, to)| (to, detail.to_string()))
            }
            _ => None,
        }
    }
}

/// Which events of the log something reacts to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventInterest {
    /// Every tracked, page and screen event.
    pub every_event: bool,
    /// Event names as segment rules name them (`Page Viewed` for page calls).
    pub names: BTreeSet<String>,
    /// Identify calls.
    pub identifies: bool,
}

impl EventInterest {
    pub fn add(&mut self, other: &EventInterest) {
        self.every_event |= other.every_event;
        self.identifies |= other.identifies;
        self.names.extend(other.names.iter().cloned());
    }

    /// Whether nothing is of interest.
    pub fn is_empty(&self) -> bool {
        !self.every_event && !self.identifies && self.names.is_empty()
    }
}

/// The event a form submission is tracked as.
pub const FORM_SUBMITTED: &str = "Form Submitted";
