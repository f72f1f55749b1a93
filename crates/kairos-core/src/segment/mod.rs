//! Segmentation: who a message is for. A segment is a [`rule::Rule`] over a
//! contact's fields, companies, events, lists and other segments. This module
//! holds the rule language and its validation ([`rule`]), the meaning of each
//! operator on a value ([`value`]), the plain reference evaluator
//! ([`reference`]) and the incremental engine that keeps membership current
//! ([`runtime`]); the I/O around them lives in `kairos-engine`.

pub mod reference;
pub mod rule;
pub mod runtime;
pub mod value;

pub use rule::{parse, Rule, RuleError, Schema};
pub use runtime::{Change, EventInput, HeldTallies, SegmentRuntime};
pub use value::{Attr, Profile};

/// The event name segment rules use for an event of the log: `track` calls
/// by their name, page and screen calls as `Page Viewed` / `Screen Viewed`.
pub fn event_name(kind: crate::event::EventKind, name: Option<&str>) -> Option<&str> {
    use crate::event::EventKind;
    match kind {
        EventKind::Track => name,
        EventKind::Page => Some("Page Viewed"),
        EventKind::Screen => Some("Screen Viewed"),
        _ => None,
    }
}
