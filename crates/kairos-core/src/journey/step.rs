//! Journey step semantics: the pure function that moves one contact's run
//! through a journey. Given the run, one input (entry, a timer, an event, an
//! action's result, an unsubscribe) and the time, it returns the run's new
//! position and the effects to carry out — nothing here reads a clock, a
//! store or the network, so the runner can persist the new state and the
//! effects in one transaction and replay nothing twice.

use super::definition::{Action, Definition, Delay, Node, NodeId};
use crate::ids::ContactId;
use crate::segment::reference::event_passes;
use crate::segment::rule::Rule;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Most nodes one input may pass through (the publish check already
/// refuses cycles without a wait; this bounds a bug, not a journey).
const MAX_HOPS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// Waiting for a delay to pass.
    Delayed,
    /// Waiting for an event, or the timeout.
    Waiting,
    /// Waiting for an external action (message, webhook) to be delivered.
    Acting,
    /// Reached an exit or the end of the graph.
    Completed,
    /// Met a goal.
    Converted,
    /// Pulled out (unsubscribed, removed by the marketer).
    Exited,
    /// An action failed for good; parked until someone retries it.
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Delayed => "delayed",
            RunStatus::Waiting => "waiting",
            RunStatus::Acting => "acting",
            RunStatus::Completed => "completed",
            RunStatus::Converted => "converted",
            RunStatus::Exited => "exited",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "delayed" => RunStatus::Delayed,
            "waiting" => RunStatus::Waiting,
            "acting" => RunStatus::Acting,
            "completed" => RunStatus::Completed,
            "converted" => RunStatus::Converted,
            "exited" => RunStatus::Exited,
            "failed" => RunStatus::Failed,
            _ => return None,
        })
    }

    /// Whether the run is still in the journey (a failed run is parked,
    /// not finished: it blocks re-entry like a running one).
    pub fn is_active(self) -> bool {
        matches!(self, RunStatus::Delayed | RunStatus::Waiting | RunStatus::Acting | RunStatus::Failed)
    }
}

/// One contact's way through one version of a journey.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The run's id; idempotency keys of its actions start with it.
    pub id: String,
    /// The journey's id; seeds the split so paths differ across journeys.
    pub journey: String,
    pub contact: ContactId,
    pub node: NodeId,
    pub status: RunStatus,
    /// Nodes entered so far; makes each visit's action key unique.
    pub visit: u32,
    /// When the run's timer fires (delays, wait timeouts), ms since epoch.
    pub due_at: Option<i64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Timer,
    Event {
        name: &'a str,
        properties: &'a Value,
    },
    /// The external action the run waits for was delivered.
    ActionDone,
    /// The external action failed for good.
    ActionFailed {
        error: &'a str,
    },
    /// The contact unsubscribed from marketing messages.
    Unsubscribed,
    /// Retry a failed run's action.
    Retry,
}

/// An action to carry out. `key` is the same every time this visit of
/// this node is replayed, and differs for every other visit: the outbox's
/// idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    pub node: NodeId,
    pub key: String,
    pub action: Action,
}

/// One line of the run's path.
#[derive(Debug, Clone, PartialEq)]
pub struct PathStep {
    pub node: NodeId,
    /// `passed` (went straight on), `arrived` (stays a while), `left`,
    /// `exit`, `converted`, `unsubscribed`, `failed`, `retried`.
    pub outcome: &'static str,
    /// Which exit, or why: `branch 1`, `otherwise`, `path 0`, `event`,
    /// `timeout`, an error message.
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub effects: Vec<Effect>,
    pub path: Vec<PathStep>,
}

/// What a step may ask about the contact.
pub trait Facts {
    /// Whether the contact currently satisfies a segment rule.
    fn matches(&self, rule: &Rule) -> bool;
    /// The contact's time zone (the workspace default when unset).
    fn timezone(&self) -> jiff::tz::TimeZone;
    /// The local hour (0–23) the contact best receives messages at.
    fn best_hour(&self) -> u8;
    /// For an optimising split, the path this contact takes (Thompson
    /// sampling over the paths' conversions so far, or the declared winner);
    /// `None` leaves it to the weights.
    fn optimised_path(&self, _node: &str, _paths: usize) -> Option<usize> {
        None
    }
}

/// Start a run at the journey's start node.
pub fn enter(
    def: &Definition,
    id: String,
    journey: String,
    contact: ContactId,
    now: i64,
    facts: &dyn Facts,
) -> (Run, Outcome) {
    let mut run = Run {
        id,
        journey,
        contact,
        node: def.start.clone(),
        status: RunStatus::Delayed,
        visit: 0,
        due_at: None,
        error: None,
    };
    let mut out = Outcome::default();
    advance(def, &mut run, def.start.clone(), now, facts, &mut out);
    (run, out)
}

/// Apply one input to a run. Inputs that do not concern the run's current
/// state (a stale timer, an event nobody waits for) change nothing.
pub fn step(def: &Definition, run: &mut Run, input: Input<'_>, now: i64, facts: &dyn Facts) -> Outcome {
    let mut out = Outcome::default();
    if !run.status.is_active() {
        return out;
    }
    let Some(node) = def.nodes.get(&run.node) else {
        // Only a botched migration can put a run on a missing node.
        fail(run, format!("node \"{}\" is not part of this journey version", run.node), &mut out);
        return out;
    };
    match input {
        Input::Event { name, properties } => {
            if run.status != RunStatus::Failed && def.goals.iter().any(|g| event_passes(g, name, properties, now)) {
                finish(run, RunStatus::Converted, "converted", name.to_string(), &mut out);
                return out;
            }
            if let (RunStatus::Waiting, Node::WaitEvent { event, next, .. }) = (run.status, node) {
                if event_passes(event, name, properties, now) {
                    leave(run, "event", &mut out);
                    advance(def, run, next.clone(), now, facts, &mut out);
                }
            }
        }
        Input::Timer => {
            if run.due_at.is_some_and(|d| d > now) {
                return out;
            }
            match (run.status, node) {
                (RunStatus::Delayed, Node::Delay { next, .. }) => {
                    leave(run, "delay over", &mut out);
                    advance(def, run, next.clone(), now, facts, &mut out);
                }
                (RunStatus::Waiting, Node::WaitEvent { timeout_next, .. }) => {
                    leave(run, "timeout", &mut out);
                    advance(def, run, timeout_next.clone(), now, facts, &mut out);
                }
                _ => {}
            }
        }
        Input::ActionDone => {
            if let (RunStatus::Acting, Node::Action { next, .. }) = (run.status, node) {
                leave(run, "delivered", &mut out);
                advance(def, run, next.clone(), now, facts, &mut out);
            }
        }
        Input::ActionFailed { error } => {
            if run.status == RunStatus::Acting {
                fail(run, error.to_string(), &mut out);
            }
        }
        Input::Retry => {
            if let (RunStatus::Failed, Node::Action { action, .. }) = (run.status, node) {
                run.status = RunStatus::Acting;
                run.error = None;
                out.path.push(PathStep { node: run.node.clone(), outcome: "retried", detail: String::new() });
                out.effects.push(Effect { node: run.node.clone(), key: action_key(run), action: action.clone() });
            }
        }
        Input::Unsubscribed => {
            if def.exit_on_unsubscribe {
                finish(run, RunStatus::Exited, "unsubscribed", String::new(), &mut out);
            }
        }
    }
    out
}

fn action_key(run: &Run) -> String {
    format!("{}:{}:{}", run.id, run.node, run.visit)
}

fn leave(run: &mut Run, detail: &str, out: &mut Outcome) {
    out.path.push(PathStep { node: run.node.clone(), outcome: "left", detail: detail.into() });
    run.due_at = None;
}

fn finish(run: &mut Run, status: RunStatus, outcome: &'static str, detail: String, out: &mut Outcome) {
    run.status = status;
    run.due_at = None;
    out.path.push(PathStep { node: run.node.clone(), outcome, detail });
}

fn fail(run: &mut Run, error: String, out: &mut Outcome) {
    run.status = RunStatus::Failed;
    run.due_at = None;
    out.path.push(PathStep { node: run.node.clone(), outcome: "failed", detail: error.clone() });
    run.error = Some(error);
}

/// Move the run to `to` and on through every node that passes a contact on
/// at once, until one that holds it (or the end).
fn advance(def: &Definition, run: &mut Run, mut to: NodeId, now: i64, facts: &dyn Facts, out: &mut Outcome) {
    for _ in 0..MAX_HOPS {
        run.node = to.clone();
        run.visit += 1;
        run.due_at = None;
        let Some(node) = def.nodes.get(&to) else {
            fail(run, format!("node \"{to}\" is not part of this journey version"), out);
            return;
        };
        let passed = |out: &mut Outcome, detail: String| {
            out.path.push(PathStep { node: to.clone(), outcome: "passed", detail });
        };
        match node {
            Node::Delay { wait, .. } => {
                let due = match wait {
                    Delay::For { ms } => now.saturating_add(*ms),
                    Delay::Until { weekdays, hour, minute } => {
                        next_local_time(now, &facts.timezone(), weekdays, *hour, *minute)
                    }
                    Delay::BestHour => {
                        next_local_time(now, &facts.timezone(), &[0, 1, 2, 3, 4, 5, 6], facts.best_hour(), 0)
                    }
                };
                run.status = RunStatus::Delayed;
                run.due_at = Some(due);
                out.path.push(PathStep { node: to, outcome: "arrived", detail: String::new() });
                return;
            }
            Node::WaitEvent { timeout_ms, .. } => {
                run.status = RunStatus::Waiting;
                run.due_at = Some(now.saturating_add(*timeout_ms));
                out.path.push(PathStep { node: to, outcome: "arrived", detail: String::new() });
                return;
            }
            Node::Branch { branches, otherwise } => match branches.iter().position(|(rule, _)| facts.matches(rule)) {
                Some(i) => {
                    passed(out, format!("branch {i}"));
                    to = branches[i].1.clone();
                }
                None => {
                    passed(out, "otherwise".into());
                    to = otherwise.clone();
                }
            },
            Node::Split { paths, optimise } => {
                let i = optimise
                    .as_ref()
                    .and_then(|_| facts.optimised_path(&to, paths.len()))
                    .filter(|i| *i < paths.len())
                    .unwrap_or_else(|| split_path(&run.journey, &to, run.contact, paths));
                passed(out, format!("path {i}"));
                to = paths[i].1.clone();
            }
            Node::Action { action, next } => {
                out.effects.push(Effect { node: to.clone(), key: action_key(run), action: action.clone() });
                if action.is_external() {
                    run.status = RunStatus::Acting;
                    out.path.push(PathStep { node: to, outcome: "arrived", detail: String::new() });
                    return;
                }
                passed(out, "done".into());
                to = next.clone();
            }
            Node::Exit => {
                finish(run, RunStatus::Completed, "exit", String::new(), out);
                return;
            }
        }
    }
    fail(run, format!("passed {MAX_HOPS} nodes without stopping"), out);
}

/// The split path for a contact: a hash of journey, node and contact, so
/// the same contact always takes the same path and paths are independent
/// across journeys and nodes.
pub fn split_path(journey: &str, node: &str, contact: ContactId, paths: &[(u32, NodeId)]) -> usize {
    let total: u64 = paths.iter().map(|(w, _)| *w as u64).sum();
    if total == 0 {
        return 0;
    }
    let mut h = Sha256::new();
    h.update(journey.as_bytes());
    h.update([0]);
    h.update(node.as_bytes());
    h.update([0]);
    h.update(contact.0.as_bytes());
    let d = h.finalize();
    let mut x = [0u8; 8];
    x.copy_from_slice(&d[..8]);
    let mut bucket = u64::from_be_bytes(x) % total;
    for (i, (w, _)) in paths.iter().enumerate() {
        if bucket < *w as u64 {
            return i;
        }
        bucket -= *w as u64;
    }
    paths.len() - 1
}

/// The first instant after `now` that falls on one of `weekdays` (0 =
/// Monday) at `hour:minute` local time in `tz`. A local time skipped by a
/// daylight-saving change resolves to the instant just after the gap.
pub fn next_local_time(now: i64, tz: &jiff::tz::TimeZone, weekdays: &[u8], hour: u8, minute: u8) -> i64 {
    use jiff::Timestamp;
    let Ok(ts) = Timestamp::from_millisecond(now) else { return now };
    let mut date = ts.to_zoned(tz.clone()).date();
    for _ in 0..9 {
        let wd = date.weekday().to_monday_zero_offset() as u8;
        if weekdays.contains(&wd) {
            if let Ok(z) = date.at(hour as i8, minute as i8, 0, 0).to_zoned(tz.clone()) {
                let t = z.timestamp().as_millisecond();
                if t > now {
                    return t;
                }
            }
        }
        match date.tomorrow() {
            Ok(d) => date = d,
            Err(_) => break,
        }
    }
    now
}
