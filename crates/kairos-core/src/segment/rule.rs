//! The segment rule language: a JSON tree of `and` / `or` / `not` over
//! attribute, company, event, segment and list conditions, parsed into a typed
//! [`Rule`] and validated against the workspace's [`Schema`] in one pass, so
//! every mistake is reported with the JSON path of the node that holds it
//! (`$.and[1].count.value: …`). The grammar, with examples, is documented in
//! `docs/segments.md`; keep the two in step.

use crate::consent::{consent_field, Channel, ConsentState, Purpose};
use crate::fields::{canonical_date, FieldType};
use crate::ids::{ListId, SegmentId};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use thiserror::Error;

pub const DAY_MS: i64 = 86_400_000;
/// Longest time window a rule may use, in days (ten years).
pub const MAX_WINDOW_DAYS: u32 = 3650;
/// Largest count a windowed event condition may ask for: the engine keeps
/// that many recent timestamps per contact, so it bounds memory.
pub const MAX_WINDOW_COUNT: u32 = 1000;
/// Largest count an all-time event condition may ask for.
pub const MAX_COUNT: u32 = 1_000_000;
const MAX_DEPTH: usize = 32;
const MAX_NODES: usize = 500;

/// A validated segment rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    /// A condition on one of the contact's own fields.
    Field(FieldCond),
    /// True when any company the contact belongs to satisfies the condition.
    Company(FieldCond),
    Event(EventCond),
    /// Current member of another dynamic segment.
    Segment(SegmentId),
    /// Current member of a static list.
    List(ListId),
}

/// A literal a field or property is compared with. Strings are kept in lower
/// case: text comparisons in segments ignore case.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
    /// Milliseconds since the epoch (a date is its midnight UTC).
    Date(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldCond {
    pub field: String,
    pub field_type: FieldType,
    pub op: FieldOp,
}

/// Operators on a typed field. Which apply depends on the field's type;
/// [`parse`] refuses the others.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldOp {
    IsSet,
    NotSet,
    /// Strings, numbers, booleans, dates (same calendar day or instant).
    Equals(Literal),
    /// The negation of `Equals`: an unset field is "not equal".
    NotEquals(Literal),
    /// Substring for strings; element equality for lists.
    Contains(String),
    NotContains(String),
    StartsWith(String),
    /// The value (or, for lists, any element) is one of these.
    In(Vec<Literal>),
    NotIn(Vec<Literal>),
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    /// Inclusive numeric range.
    Between(f64, f64),
    Before(i64),
    After(i64),
    /// `from <= value < to`.
    DateBetween(i64, i64),
    /// `now - N days < value <= now`.
    WithinLastDays(u32),
    /// The next yearly recurrence of the date's month and day (birthday,
    /// anniversary) falls within the next N days, today included (days on the
    /// contact's own calendar: their `timezone`, else UTC).
    AnniversaryWithinDays(u32),
}

/// A condition on a property of an event: `path` is a dot path into the
/// event's properties. Operators are those of fields; the literal decides
/// how the property is compared.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyCond {
    pub path: Vec<String>,
    pub op: FieldOp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventCond {
    /// The event name as tracked; page and screen calls are named
    /// `Page Viewed` and `Screen Viewed`.
    pub event: String,
    pub filters: Vec<PropertyCond>,
    pub measure: Measure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountOp {
    AtLeast,
    AtMost,
    Exactly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Ever,
    /// Events with timestamp `> now - N days`.
    LastDays(u32),
    /// Events with `from <= timestamp < to`.
    Between(i64, i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeTest {
    Before(i64),
    After(i64),
    /// `> now - N days`.
    WithinLastDays(u32),
    /// `<= now - N days`.
    MoreThanDaysAgo(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Count {
        op: CountOp,
        n: u32,
        window: Window,
    },
    /// The first matching occurrence passes the test (false if none).
    First(TimeTest),
    /// The last matching occurrence passes the test (false if none).
    Last(TimeTest),
}

/// What a rule may refer to: the workspace's fields, segments and lists.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub contact_fields: HashMap<String, FieldType>,
    pub company_fields: HashMap<String, FieldType>,
    /// Every existing segment with the segments its rule refers to.
    pub segments: HashMap<SegmentId, Vec<SegmentId>>,
    pub lists: HashSet<ListId>,
    /// The workspace's score names.
    pub scores: HashSet<String>,
}

impl Schema {
    /// A schema with the standard contact and company fields and the given
    /// custom ones.
    pub fn with_custom(
        contact: impl IntoIterator<Item = (String, FieldType)>,
        company: impl IntoIterator<Item = (String, FieldType)>,
    ) -> Self {
        let mut s = Schema::default();
        for f in STANDARD_CONTACT_TEXT {
            s.contact_fields.insert((*f).to_string(), FieldType::String);
        }
        s.contact_fields.insert("created_at".into(), FieldType::Date);
        s.contact_fields.insert("updated_at".into(), FieldType::Date);
        for f in ["external_id", "name", "domain"] {
            s.company_fields.insert(f.to_string(), FieldType::String);
        }
        s.company_fields.insert("created_at".into(), FieldType::Date);
        s.contact_fields.extend(contact);
        s.company_fields.extend(company);
        s
    }
}

/// Standard contact fields a rule can test as text.
pub const STANDARD_CONTACT_TEXT: &[&str] =
    &["external_id", "email", "phone", "first_name", "last_name", "timezone", "locale", "country"];

/// A rule that could not be accepted, with the JSON path of the bad node.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{path}: {message}")]
pub struct RuleError {
    pub path: String,
    pub message: String,
}

struct Path(Vec<String>);

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for p in &self.0 {
            if p.starts_with('[') {
                f.write_str(p)?;
            } else {
                write!(f, ".{p}")?;
            }
        }
        Ok(())
    }
}

struct Parser<'a> {
    schema: &'a Schema,
    path: Path,
    nodes: usize,
    segment_refs: BTreeSet<SegmentId>,
}

type Res<T> = Result<T, RuleError>;

/// Parse and validate a rule. `this` is the id of the segment being saved
/// (for cycle detection), `None` for previews.
pub fn parse(json: &Value, schema: &Schema, this: Option<SegmentId>) -> Result<Rule, RuleError> {
    let mut p = Parser { schema, path: Path(Vec::new()), nodes: 0, segment_refs: BTreeSet::new() };
    let rule = p.node(json, 0)?;
    if let Some(this) = this {
        p.check_cycles(this, &rule)?;
    }
    Ok(rule)
}

impl Rule {
    /// The segments this rule refers to directly.
    pub fn segment_refs(&self) -> Vec<SegmentId> {
        let mut out = BTreeSet::new();
        self.walk(&mut |r| {
            if let Rule::Segment(id) = r {
                out.insert(*id);
            }
        });
        out.into_iter().collect()
    }

    /// The lists this rule refers to directly.
    pub fn list_refs(&self) -> Vec<ListId> {
        let mut out = BTreeSet::new();
        self.walk(&mut |r| {
            if let Rule::List(id) = r {
                out.insert(*id);
            }
        });
        out.into_iter().collect()
    }

    /// Visit every node, parents before children.
    pub fn walk(&self, f: &mut dyn FnMut(&Rule)) {
        f(self);
        match self {
            Rule::And(rs) | Rule::Or(rs) => rs.iter().for_each(|r| r.walk(f)),
            Rule::Not(r) => r.walk(f),
            _ => {}
        }
    }
}

impl Parser<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Res<T> {
        Err(RuleError { path: self.path.to_string(), message: message.into() })
    }

    fn at<T>(&mut self, seg: impl Into<String>, f: impl FnOnce(&mut Self) -> Res<T>) -> Res<T> {
        self.path.0.push(seg.into());
        let r = f(self);
        self.path.0.pop();
        r
    }

    fn node(&mut self, v: &Value, depth: usize) -> Res<Rule> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return self.err(format!("the rule has more than {MAX_NODES} conditions; split it into segments"));
        }
        if depth > MAX_DEPTH {
            return self.err(format!("the rule is nested more than {MAX_DEPTH} levels deep"));
        }
        let Value::Object(obj) = v else {
            return self.err("expected a condition object such as {\"and\": [...]} or {\"field\": ...}");
        };
        let kinds = ["and", "or", "not", "field", "company", "event", "email", "consent", "score", "segment", "list"];
        let present: Vec<&str> = kinds.iter().copied().filter(|k| obj.contains_key(*k)).collect();
        let kind = match present.as_slice() {
            [k] => *k,
            [] => {
                return self.err(format!(
                    "unknown condition: expected exactly one of the keys {}",
                    kinds.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ")
                ))
            }
            many => return self.err(format!("a condition has exactly one kind, this one has {}", many.join(" and "))),
        };
        match kind {
            "and" | "or" => {
                self.only_keys(obj, &[kind])?;
                let items = self.at(kind, |p| {
                    let Some(items) = obj[kind].as_array() else {
                        return p.err("expected an array of conditions");
                    };
                    if items.is_empty() {
                        return p.err("expected at least one condition");
                    }
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| p.at(format!("[{i}]"), |p| p.node(item, depth + 1)))
                        .collect()
                })?;
                Ok(if kind == "and" { Rule::And(items) } else { Rule::Or(items) })
            }
            "not" => {
                self.only_keys(obj, &["not"])?;
                let inner = self.at("not", |p| p.node(&obj["not"], depth + 1))?;
                Ok(Rule::Not(Box::new(inner)))
            }
            "field" => {
                self.only_keys(obj, &["field", "op", "value"])?;
                let schema = self.schema;
                Ok(Rule::Field(self.field_cond(obj, &schema.contact_fields, "contact")?))
            }
            "company" => {
                self.only_keys(obj, &["company"])?;
                let schema = self.schema;
                let cond = self.at("company", |p| {
                    let Value::Object(inner) = &obj["company"] else {
                        return p.err("expected {\"field\": NAME, \"op\": OP, \"value\": ...} on a company field");
                    };
                    p.only_keys(inner, &["field", "op", "value"])?;
                    p.field_cond(inner, &schema.company_fields, "company")
                })?;
                Ok(Rule::Company(cond))
            }
            "event" => self.event(obj),
            "email" => {
                self.only_keys(obj, &["email", "window"])?;
                let event = self.at("email", |p| match obj["email"].as_str() {
                    Some("opened") => Ok("Email Opened"),
                    Some("clicked") => Ok("Email Clicked"),
                    Some("delivered") => Ok("Email Delivered"),
                    _ => p.err("expected \"opened\", \"clicked\" or \"delivered\""),
                })?;
                let window = match obj.get("window") {
                    Some(w) => self.at("window", |p| p.window(w))?,
                    None => Window::Ever,
                };
                Ok(Rule::Event(EventCond {
                    event: event.into(),
                    filters: Vec::new(),
                    measure: Measure::Count { op: CountOp::AtLeast, n: 1, window },
                }))
            }
            "score" => {
                self.only_keys(obj, &["score", "op", "value"])?;
                let name = self.at("score", |p| match obj["score"].as_str() {
                    Some(n) if p.schema.scores.contains(n) => Ok(n.to_string()),
                    Some(n) => {
                        let mut known: Vec<&str> = p.schema.scores.iter().map(String::as_str).collect();
                        known.sort_unstable();
                        p.err(format!("unknown score \"{n}\"; known scores: {}", known.join(", ")))
                    }
                    None => p.err("expected the name of a score"),
                })?;
                let op = self.op(obj, Some(FieldType::Number))?;
                if !matches!(
                    op,
                    FieldOp::Gt(_)
                        | FieldOp::Gte(_)
                        | FieldOp::Lt(_)
                        | FieldOp::Lte(_)
                        | FieldOp::Between(..)
                        | FieldOp::IsSet
                        | FieldOp::NotSet
                ) {
                    return self
                        .at("op", |p| p.err("a score is compared with gt, gte, lt, lte, between, is_set or not_set"));
                }
                Ok(Rule::Field(FieldCond {
                    field: super::value::score_field(&name),
                    field_type: FieldType::Number,
                    op,
                }))
            }
            "consent" => {
                self.only_keys(obj, &["consent"])?;
                self.at("consent", |p| {
                    let Value::Object(c) = &obj["consent"] else {
                        return p.err("expected {\"channel\": ..., \"purpose\": ..., \"state\"?: ...}");
                    };
                    p.only_keys(c, &["channel", "purpose", "state"])?;
                    let channel = p.at("channel", |p| {
                        c.get("channel")
                            .and_then(Value::as_str)
                            .and_then(Channel::parse)
                            .map(Ok)
                            .unwrap_or_else(|| p.err(format!("expected one of {}", Channel::names())))
                    })?;
                    let purpose = p.at("purpose", |p| {
                        c.get("purpose")
                            .and_then(Value::as_str)
                            .and_then(Purpose::parse)
                            .map(Ok)
                            .unwrap_or_else(|| p.err(format!("expected one of {}", Purpose::names())))
                    })?;
                    let state = match c.get("state") {
                        None => ConsentState::Granted,
                        Some(v) => p.at("state", |p| {
                            v.as_str()
                                .and_then(ConsentState::parse)
                                .map(Ok)
                                .unwrap_or_else(|| p.err(format!("expected one of {}", ConsentState::names())))
                        })?,
                    };
                    // Consent is a field of the contact's profile for rules:
                    // its current state, unset when never recorded.
                    Ok(Rule::Field(FieldCond {
                        field: consent_field(channel, purpose),
                        field_type: FieldType::String,
                        op: FieldOp::Equals(Literal::Str(state.as_str().to_string())),
                    }))
                })
            }
            "segment" => {
                self.only_keys(obj, &["segment"])?;
                self.at("segment", |p| {
                    let Some(id) = obj["segment"].as_str().and_then(|s| s.parse::<SegmentId>().ok()) else {
                        return p.err("expected a segment id");
                    };
                    if !p.schema.segments.contains_key(&id) {
                        return p.err(format!("segment {id} does not exist in this workspace"));
                    }
                    p.segment_refs.insert(id);
                    Ok(Rule::Segment(id))
                })
            }
            "list" => {
                self.only_keys(obj, &["list"])?;
                self.at("list", |p| {
                    let Some(id) = obj["list"].as_str().and_then(|s| s.parse::<ListId>().ok()) else {
                        return p.err("expected a list id");
                    };
                    if !p.schema.lists.contains(&id) {
                        return p.err(format!("list {id} does not exist in this workspace"));
                    }
                    Ok(Rule::List(id))
                })
            }
            _ => unreachable!("kinds are listed above"),
        }
    }

    fn only_keys(&self, obj: &Map<String, Value>, allowed: &[&str]) -> Res<()> {
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                return self.err(format!(
                    "unexpected key \"{k}\"; this condition takes {}",
                    allowed.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        Ok(())
    }

    fn field_cond(
        &mut self,
        obj: &Map<String, Value>,
        fields: &HashMap<String, FieldType>,
        what: &str,
    ) -> Res<FieldCond> {
        let name = self.at("field", |p| match obj.get("field").and_then(Value::as_str) {
            Some(n) => Ok(n.to_string()),
            None => p.err("expected a field name"),
        })?;
        let Some(&field_type) = fields.get(&name) else {
            return self.at("field", |p| {
                let mut known: Vec<&str> = fields.keys().map(String::as_str).collect();
                known.sort_unstable();
                p.err(format!("unknown {what} field \"{name}\"; known fields: {}", known.join(", ")))
            });
        };
        let op = self.op(obj, Some(field_type))?;
        Ok(FieldCond { field: name, field_type, op })
    }

    /// Parse `op` and `value`. With a field type, operators and literals are
    /// checked against it; without (event properties) the literal decides.
    fn op(&mut self, obj: &Map<String, Value>, ty: Option<FieldType>) -> Res<FieldOp> {
        let op = self.at("op", |p| match obj.get("op").and_then(Value::as_str) {
            Some(o) => Ok(o.to_string()),
            None => p.err("expected an operator name"),
        })?;
        let value = obj.get("value");
        let allowed: &[&str] = match ty {
            Some(FieldType::String) => &[
                "is_set",
                "not_set",
                "equals",
                "not_equals",
                "contains",
                "not_contains",
                "starts_with",
                "in",
                "not_in",
            ],
            Some(FieldType::Number) => {
                &["is_set", "not_set", "equals", "not_equals", "in", "not_in", "gt", "gte", "lt", "lte", "between"]
            }
            Some(FieldType::Boolean) => &["is_set", "not_set", "equals", "not_equals"],
            Some(FieldType::Date) => &[
                "is_set",
                "not_set",
                "equals",
                "not_equals",
                "before",
                "after",
                "between",
                "within_last_days",
                "anniversary_within_days",
            ],
            Some(FieldType::List) => &["is_set", "not_set", "contains", "not_contains", "in", "not_in"],
            None => &[
                "is_set",
                "not_set",
                "equals",
                "not_equals",
                "contains",
                "not_contains",
                "starts_with",
                "in",
                "not_in",
                "gt",
                "gte",
                "lt",
                "lte",
                "between",
            ],
        };
        if !allowed.contains(&op.as_str()) {
            let what = ty.map(|t| format!("a {} field", t.as_str())).unwrap_or_else(|| "an event property".into());
            return self.at("op", |p| {
                p.err(format!("operator \"{op}\" does not apply to {what}; use one of: {}", allowed.join(", ")))
            });
        }
        let needs_value = !matches!(op.as_str(), "is_set" | "not_set");
        if needs_value && value.is_none() {
            return self.err(format!("operator \"{op}\" needs a \"value\""));
        }
        if !needs_value && value.is_some() {
            return self.at("value", |p| p.err(format!("operator \"{op}\" takes no value")));
        }
        let v = value.unwrap_or(&Value::Null);
        self.at("value", |p| {
            Ok(match op.as_str() {
                "is_set" => FieldOp::IsSet,
                "not_set" => FieldOp::NotSet,
                "equals" => FieldOp::Equals(p.literal(v, ty)?),
                "not_equals" => FieldOp::NotEquals(p.literal(v, ty)?),
                "contains" => FieldOp::Contains(p.text(v)?),
                "not_contains" => FieldOp::NotContains(p.text(v)?),
                "starts_with" => FieldOp::StartsWith(p.text(v)?),
                "in" | "not_in" => {
                    let Some(items) = v.as_array() else {
                        return p.err("expected an array of values");
                    };
                    if items.is_empty() || items.len() > 1000 {
                        return p.err("expected between 1 and 1000 values");
                    }
                    let item_ty = if ty == Some(FieldType::List) { Some(FieldType::String) } else { ty };
                    let lits = items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| p.at(format!("[{i}]"), |p| p.literal(item, item_ty)))
                        .collect::<Res<Vec<_>>>()?;
                    if op == "in" {
                        FieldOp::In(lits)
                    } else {
                        FieldOp::NotIn(lits)
                    }
                }
                "gt" => FieldOp::Gt(p.number(v)?),
                "gte" => FieldOp::Gte(p.number(v)?),
                "lt" => FieldOp::Lt(p.number(v)?),
                "lte" => FieldOp::Lte(p.number(v)?),
                "between" if ty == Some(FieldType::Date) => {
                    let (a, b) = p.pair(v, |p, x| p.date(x))?;
                    if a >= b {
                        return p.err("the first date must be before the second");
                    }
                    FieldOp::DateBetween(a, b)
                }
                "between" => {
                    let (a, b) = p.pair(v, |p, x| p.number(x))?;
                    if a > b {
                        return p.err("the lower bound is greater than the upper bound");
                    }
                    FieldOp::Between(a, b)
                }
                "before" => FieldOp::Before(p.date(v)?),
                "after" => FieldOp::After(p.date(v)?),
                "within_last_days" => FieldOp::WithinLastDays(p.days(v)?),
                "anniversary_within_days" => {
                    let n = p.days(v)?;
                    if n > 366 {
                        return p.err("an anniversary window is at most 366 days");
                    }
                    FieldOp::AnniversaryWithinDays(n)
                }
                _ => unreachable!("operators are checked above"),
            })
        })
    }

    fn pair<T>(&mut self, v: &Value, mut f: impl FnMut(&mut Self, &Value) -> Res<T>) -> Res<(T, T)> {
        match v.as_array().map(Vec::as_slice) {
            Some([a, b]) => Ok((self.at("[0]", |p| f(p, a))?, self.at("[1]", |p| f(p, b))?)),
            _ => self.err("expected an array of two values [from, to]"),
        }
    }

    fn literal(&self, v: &Value, ty: Option<FieldType>) -> Res<Literal> {
        match ty {
            Some(FieldType::String) | Some(FieldType::List) => self.text(v).map(Literal::Str),
            Some(FieldType::Number) => self.number(v).map(Literal::Num),
            Some(FieldType::Boolean) => match v {
                Value::Bool(b) => Ok(Literal::Bool(*b)),
                _ => self.err(format!("expected true or false, got {v}")),
            },
            Some(FieldType::Date) => self.date(v).map(Literal::Date),
            None => match v {
                Value::String(s) => Ok(Literal::Str(s.to_lowercase())),
                Value::Number(n) => n.as_f64().map(Literal::Num).ok_or(()).or_else(|_| self.err("number out of range")),
                Value::Bool(b) => Ok(Literal::Bool(*b)),
                _ => self.err(format!("expected a string, number or boolean, got {v}")),
            },
        }
    }

    fn text(&self, v: &Value) -> Res<String> {
        match v {
            Value::String(s) if s.len() <= 1000 => Ok(s.to_lowercase()),
            Value::String(_) => self.err("text values are at most 1000 characters"),
            _ => self.err(format!("expected a string, got {v}")),
        }
    }

    fn number(&self, v: &Value) -> Res<f64> {
        match v.as_f64() {
            Some(n) if n.is_finite() => Ok(n),
            _ => self.err(format!("expected a number, got {v}")),
        }
    }

    fn date(&self, v: &Value) -> Res<i64> {
        v.as_str()
            .and_then(parse_instant)
            .map(Ok)
            .unwrap_or_else(|| self.err(format!("expected a date \"YYYY-MM-DD\" or an RFC 3339 date-time, got {v}")))
    }

    fn days(&self, v: &Value) -> Res<u32> {
        match v.as_u64() {
            Some(n) if (1..=MAX_WINDOW_DAYS as u64).contains(&n) => Ok(n as u32),
            _ => self.err(format!("expected a whole number of days from 1 to {MAX_WINDOW_DAYS}, got {v}")),
        }
    }

    fn window(&mut self, v: &Value) -> Res<Window> {
        if v.as_str() == Some("ever") {
            return Ok(Window::Ever);
        }
        let Value::Object(w) = v else {
            return self.err("expected \"ever\", {\"last_days\": N} or {\"between\": [FROM, TO]}");
        };
        self.only_keys(w, &["last_days", "between"])?;
        match (w.get("last_days"), w.get("between")) {
            (Some(d), None) => Ok(Window::LastDays(self.at("last_days", |p| p.days(d))?)),
            (None, Some(b)) => self.at("between", |p| {
                let (a, b) = p.pair(b, |p, x| p.date(x))?;
                if a >= b {
                    return p.err("the first date must be before the second");
                }
                Ok(Window::Between(a, b))
            }),
            _ => self.err("expected exactly one of \"last_days\" and \"between\""),
        }
    }

    fn event(&mut self, obj: &Map<String, Value>) -> Res<Rule> {
        self.only_keys(obj, &["event", "where", "count", "window", "first", "last"])?;
        let event = self.at("event", |p| match obj["event"].as_str() {
            Some(e) if !e.trim().is_empty() && e.len() <= 200 => Ok(e.to_string()),
            _ => p.err("expected an event name"),
        })?;
        let filters = match obj.get("where") {
            None => Vec::new(),
            Some(w) => self.at("where", |p| {
                let Some(items) = w.as_array() else {
                    return p.err("expected an array of property conditions");
                };
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        p.at(format!("[{i}]"), |p| {
                            let Value::Object(c) = item else {
                                return p.err("expected {\"property\": PATH, \"op\": OP, \"value\": ...}");
                            };
                            p.only_keys(c, &["property", "op", "value"])?;
                            let path = p.at("property", |p| match c.get("property").and_then(Value::as_str) {
                                Some(s) if !s.is_empty() && s.split('.').all(|x| !x.is_empty()) => {
                                    Ok(s.split('.').map(str::to_string).collect::<Vec<_>>())
                                }
                                _ => p.err("expected a property name or dot path such as \"product.price\""),
                            })?;
                            let op = p.op(c, None)?;
                            Ok(PropertyCond { path, op })
                        })
                    })
                    .collect::<Res<Vec<_>>>()
            })?,
        };
        let timed = obj.contains_key("first") || obj.contains_key("last");
        let counted = obj.contains_key("count") || obj.contains_key("window");
        if timed && counted {
            return self.err("an event condition tests either a count (\"count\", \"window\") or \"first\"/\"last\"");
        }
        if obj.contains_key("first") && obj.contains_key("last") {
            return self.err("use \"first\" or \"last\", not both; combine two conditions with \"and\"");
        }
        let measure = if let Some(t) = obj.get("first") {
            Measure::First(self.at("first", |p| p.time_test(t))?)
        } else if let Some(t) = obj.get("last") {
            Measure::Last(self.at("last", |p| p.time_test(t))?)
        } else {
            let window = match obj.get("window") {
                Some(w) => self.at("window", |p| p.window(w))?,
                None => Window::Ever,
            };
            let (op, n) = match obj.get("count") {
                None => (CountOp::AtLeast, 1),
                Some(c) => self.at("count", |p| {
                    let Value::Object(c) = c else {
                        return p.err("expected {\"op\": \"at_least\"|\"at_most\"|\"exactly\", \"value\": N}");
                    };
                    p.only_keys(c, &["op", "value"])?;
                    let op = p.at("op", |p| match c.get("op").and_then(Value::as_str) {
                        Some("at_least") => Ok(CountOp::AtLeast),
                        Some("at_most") => Ok(CountOp::AtMost),
                        Some("exactly") => Ok(CountOp::Exactly),
                        _ => p.err("expected \"at_least\", \"at_most\" or \"exactly\""),
                    })?;
                    let max = if matches!(window, Window::LastDays(_)) { MAX_WINDOW_COUNT } else { MAX_COUNT };
                    let n = p.at("value", |p| match c.get("value").and_then(Value::as_u64) {
                        Some(n) if n <= max as u64 => Ok(n as u32),
                        _ => p.err(format!("expected a whole number from 0 to {max}")),
                    })?;
                    Ok((op, n))
                })?,
            };
            Measure::Count { op, n, window }
        };
        Ok(Rule::Event(EventCond { event, filters, measure }))
    }

    fn time_test(&mut self, v: &Value) -> Res<TimeTest> {
        let Value::Object(t) = v else {
            return self.err(
                "expected {\"op\": \"before\"|\"after\"|\"within_last_days\"|\"more_than_days_ago\", \"value\": ...}",
            );
        };
        self.only_keys(t, &["op", "value"])?;
        let value = t.get("value").unwrap_or(&Value::Null);
        match t.get("op").and_then(Value::as_str) {
            Some("before") => self.at("value", |p| p.date(value)).map(TimeTest::Before),
            Some("after") => self.at("value", |p| p.date(value)).map(TimeTest::After),
            Some("within_last_days") => self.at("value", |p| p.days(value)).map(TimeTest::WithinLastDays),
            Some("more_than_days_ago") => self.at("value", |p| p.days(value)).map(TimeTest::MoreThanDaysAgo),
            _ => self
                .at("op", |p| p.err("expected \"before\", \"after\", \"within_last_days\" or \"more_than_days_ago\"")),
        }
    }

    fn check_cycles(&self, this: SegmentId, rule: &Rule) -> Res<()> {
        // Depth-first over the existing graph from each segment this rule
        // names; reaching `this` again would make membership undefined.
        let mut stack: Vec<(SegmentId, Vec<SegmentId>)> =
            rule.segment_refs().into_iter().map(|s| (s, vec![s])).collect();
        let mut seen = HashSet::new();
        while let Some((s, chain)) = stack.pop() {
            if s == this {
                let names: Vec<String> = std::iter::once(this).chain(chain).map(|s| s.to_string()).collect();
                return Err(RuleError {
                    path: "$".into(),
                    message: format!("segment references form a cycle: {}", names.join(" -> ")),
                });
            }
            if !seen.insert(s) {
                continue;
            }
            for next in self.schema.segments.get(&s).into_iter().flatten() {
                let mut c = chain.clone();
                c.push(*next);
                stack.push((*next, c));
            }
        }
        Ok(())
    }
}

/// Parse a date (`YYYY-MM-DD`, midnight UTC) or RFC 3339 date-time into ms.
pub fn parse_instant(s: &str) -> Option<i64> {
    let canon = canonical_date(s)?;
    if canon.len() == 10 {
        let d = NaiveDate::parse_from_str(&canon, "%Y-%m-%d").ok()?;
        Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
    } else {
        DateTime::parse_from_rfc3339(&canon).ok().map(|t| t.with_timezone(&Utc).timestamp_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        Schema::with_custom(
            [
                ("plan".to_string(), FieldType::String),
                ("age".into(), FieldType::Number),
                ("birthday".into(), FieldType::Date),
            ],
            [("industry".to_string(), FieldType::String)],
        )
    }

    fn err(v: Value) -> String {
        parse(&v, &schema(), None).unwrap_err().to_string()
    }

    #[test]
    fn accepts_the_documented_shapes() {
        let rule = json!({"and": [
            {"field": "country", "op": "in", "value": ["DE", "AT"]},
            {"or": [
                {"event": "Order Completed", "where": [{"property": "total", "op": "gt", "value": 50}],
                 "count": {"op": "at_least", "value": 2}, "window": {"last_days": 30}},
                {"field": "age", "op": "between", "value": [18, 30]}
            ]},
            {"not": {"company": {"field": "industry", "op": "equals", "value": "Retail"}}},
            {"event": "Signed Up", "first": {"op": "before", "value": "2026-01-01"}},
            {"email": "opened", "window": {"last_days": 7}},
            {"field": "birthday", "op": "anniversary_within_days", "value": 7},
            {"consent": {"channel": "email", "purpose": "marketing"}}
        ]});
        let r = parse(&rule, &schema(), None).unwrap();
        let Rule::And(items) = r else { panic!("expected and") };
        assert_eq!(items.len(), 7);
        assert_eq!(
            items[0],
            Rule::Field(FieldCond {
                field: "country".into(),
                field_type: FieldType::String,
                op: FieldOp::In(vec![Literal::Str("de".into()), Literal::Str("at".into())])
            })
        );
    }

    #[test]
    fn errors_name_the_path() {
        assert_eq!(
            err(json!({"and": [{"field": "country", "op": "equals", "value": "DE"}, {"field": "plann", "op": "equals", "value": "x"}]})),
            "$.and[1].field: unknown contact field \"plann\"; known fields: age, birthday, country, created_at, email, external_id, first_name, last_name, locale, phone, plan, timezone, updated_at"
        );
        assert_eq!(
            err(json!({"or": [{"field": "age", "op": "gt", "value": "old"}]})),
            "$.or[0].value: expected a number, got \"old\""
        );
        assert_eq!(
            err(json!({"field": "age", "op": "contains", "value": "1"})),
            "$.op: operator \"contains\" does not apply to a number field; use one of: is_set, not_set, equals, not_equals, in, not_in, gt, gte, lt, lte, between"
        );
        assert_eq!(
            err(json!({"event": "X", "count": {"op": "at_least", "value": 2}, "window": {"last_days": 100000}})),
            "$.window.last_days: expected a whole number of days from 1 to 3650, got 100000"
        );
        assert_eq!(err(json!({"and": []})), "$.and: expected at least one condition");
        assert_eq!(
            err(json!({"event": "X", "where": [{"property": "a..b", "op": "is_set"}]})),
            "$.where[0].property: expected a property name or dot path such as \"product.price\""
        );
        assert!(err(json!({"segment": "0190b3c0-0000-7000-8000-000000000000"})).contains("does not exist"));
        assert!(err(json!({"field": "plan"})).starts_with("$.op:"));
        assert!(err(json!({"frobnicate": 1})).starts_with("$: unknown condition"));
        assert!(err(json!({"consent": {"channel": "fax", "purpose": "marketing"}})).starts_with("$.consent.channel:"));
        assert!(err(json!({"field": "birthday", "op": "between", "value": ["2026-02-01", "2026-01-01"]}))
            .contains("before"));
    }

    #[test]
    fn score_conditions_name_a_score_and_a_numeric_comparison() {
        let mut sc = schema();
        sc.scores.insert("engagement".into());
        let ok = parse(&json!({"score": "engagement", "op": "between", "value": [10, 20]}), &sc, None).unwrap();
        assert!(matches!(ok, Rule::Field(FieldCond { ref field, .. }) if field == "score.engagement"));
        let e = parse(&json!({"score": "fit", "op": "gte", "value": 1}), &sc, None).unwrap_err();
        assert_eq!(e.path, "$.score");
        let e = parse(&json!({"score": "engagement", "op": "equals", "value": 1}), &sc, None).unwrap_err();
        assert_eq!(e.path, "$.op");
    }

    #[test]
    fn cycles_are_refused() {
        let mut s = schema();
        let a = SegmentId::new();
        let b = SegmentId::new();
        s.segments.insert(a, vec![]);
        s.segments.insert(b, vec![a]);
        // Saving `a` so that it refers to `b`, which refers to `a`.
        let rule = json!({"segment": b.to_string()});
        let e = parse(&rule, &s, Some(a)).unwrap_err();
        assert!(e.message.contains("cycle"), "{e}");
        // A segment may not refer to itself either.
        let e = parse(&json!({"segment": a.to_string()}), &s, Some(a)).unwrap_err();
        assert!(e.message.contains("cycle"), "{e}");
        assert!(parse(&json!({"segment": a.to_string()}), &s, Some(b)).is_ok());
    }
}
