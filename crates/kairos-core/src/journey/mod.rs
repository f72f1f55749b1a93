//! Journeys: event-driven workflows a contact moves through. The
//! [`definition`] is a versioned JSON graph, validated on save and again on
//! publish; [`step`] is the pure state machine of one contact's run; the
//! runner that persists runs, fires timers and delivers effects lives in
//! `kairos-engine`.

pub mod definition;
pub mod step;

pub use definition::{
    parse, Action, Catalog, Definition, EntryMode, EntryRule, EventInterest, JourneyError, Node, NodeId, Trigger,
};
pub use step::{enter, step, Effect, Facts, Input, Outcome, PathStep, Run, RunStatus};

/// What the runner knows of a contact's earlier runs of one journey.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntryHistory {
    /// When the contact last entered, ms since epoch.
    pub last_entered: Option<i64>,
    /// Whether a run of theirs is still in the journey.
    pub active: bool,
}

/// Why a trigger did not start a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryRefusal {
    AlreadyEntered,
    StillRunning,
    CoolingDown { until: i64 },
}

/// Whether a trigger at `now` may start a new run under the journey's entry
/// rule.
pub fn may_enter(rule: &EntryRule, history: EntryHistory, now: i64) -> Result<(), EntryRefusal> {
    match rule.mode {
        EntryMode::Once if history.last_entered.is_some() => return Err(EntryRefusal::AlreadyEntered),
        EntryMode::OnceAtATime if history.active => return Err(EntryRefusal::StillRunning),
        _ => {}
    }
    if let Some(last) = history.last_entered {
        let until = last.saturating_add(rule.cooldown_ms);
        if rule.cooldown_ms > 0 && now < until {
            return Err(EntryRefusal::CoolingDown { until });
        }
    }
    Ok(())
}

/// When a date-field trigger fires for a contact whose field holds `date`:
/// the date shifted by `offset_days`, at `hour:minute` in the contact's time
/// zone. For `yearly` triggers, the first such instant after `after` (the
/// year's recurrence of the month and day; 29 February falls on 28 February
/// in other years); otherwise the one instant, whenever it is.
pub fn date_trigger_at(
    date: jiff::civil::Date,
    offset_days: i32,
    hour: u8,
    minute: u8,
    yearly: bool,
    tz: &jiff::tz::TimeZone,
    after: i64,
) -> Option<i64> {
    use jiff::ToSpan;
    let instant = |d: jiff::civil::Date| -> Option<i64> {
        let shifted = d.checked_add((offset_days as i64).days()).ok()?;
        let z = shifted.at(hour as i8, minute as i8, 0, 0).to_zoned(tz.clone()).ok()?;
        Some(z.timestamp().as_millisecond())
    };
    if !yearly {
        return instant(date);
    }
    let after_year = jiff::Timestamp::from_millisecond(after).ok()?.to_zoned(tz.clone()).year();
    for year in (after_year - 1)..=(after_year + 1) {
        let day = date.day().min(jiff::civil::date(year, date.month(), 1).days_in_month());
        let Ok(d) = jiff::civil::Date::new(year, date.month(), day) else { continue };
        if let Some(t) = instant(d) {
            if t > after {
                return Some(t);
            }
        }
    }
    None
}

/// Where a run waiting in an older version continues in the newer one, when
/// the marketer moves running contacts: its node under `mapping` (or the
/// node of the same id), which must exist in the new version and be the
/// same kind of node (a delay stays a delay, a wait stays a wait), so the
/// run's timer and what it waits for still mean the same. Only runs that
/// are waiting (on a delay or for an event) move; one in the middle of an
/// action finishes it on its own version.
pub fn migrate_node(
    run: &Run,
    old: &Definition,
    new: &Definition,
    mapping: &std::collections::BTreeMap<NodeId, NodeId>,
) -> Result<NodeId, String> {
    if !matches!(run.status, RunStatus::Delayed | RunStatus::Waiting) {
        return Err(format!("the run is {}, not waiting", run.status.as_str()));
    }
    let target = mapping.get(&run.node).unwrap_or(&run.node);
    let (Some(from), Some(to)) = (old.nodes.get(&run.node), new.nodes.get(target)) else {
        return Err(format!("node \"{}\" has no counterpart in the new version; map it", run.node));
    };
    if std::mem::discriminant(from) != std::mem::discriminant(to) {
        return Err(format!("node \"{}\" and node \"{target}\" are different kinds of step", run.node));
    }
    Ok(target.clone())
}
