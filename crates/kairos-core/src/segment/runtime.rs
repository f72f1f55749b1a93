//! The incremental segment engine, without I/O. Each segment is compiled into
//! (1) per-contact event tallies — total, first, last, the few most recent
//! timestamps a sliding window needs, counts in fixed date ranges — kept up to
//! date as events arrive, (2) a predicate over the contact's columns and those
//! tallies, (3) the fields, tallies, lists and segments it depends on, so an
//! event re-evaluates only the segments it can change, and (4) for rules with
//! sliding windows, the next instant the answer can change by time alone,
//! kept in a timer queue. Membership lives in one bitset per segment over
//! dense contact numbers, so counts are exact and instant.
//!
//! Time only moves forward: every mutating call takes `now` and first fires
//! the timers due up to it, each evaluated at its own instant, so the state
//! after any call equals the reference evaluator's answer at `now`
//! (`tests/segment_equivalence.rs` checks exactly that). The embedding engine
//! persists the returned [`Change`]s and writes them to the event log.

use super::rule::{
    CountOp, EventCond, FieldCond, FieldOp, Literal, Measure, PropertyCond, Rule, TimeTest, Window, DAY_MS,
};
use super::value::{
    field_is_timed, field_matches, field_next_change, is_score_field, property, reads_calendar, Attr, AttrRef,
    Decaying, Profile, TIMEZONE_FIELD,
};
use crate::ids::{CompanyId, ContactId, ListId, SegmentId};
use fixedbitset::FixedBitSet;
use rustc_hash::FxHashMap;
use serde_json::Value;
use smallvec::SmallVec;
use std::collections::{BTreeSet, HashMap};

/// A contact entered or left a segment at instant `at` (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub segment: SegmentId,
    pub contact: ContactId,
    pub entered: bool,
    pub at: i64,
}

/// An event as the segment engine needs it.
#[derive(Debug, Clone, Copy)]
pub struct EventInput<'a> {
    /// Position in the log; decides whether a backfilling tally has seen it.
    pub seq: i64,
    pub name: &'a str,
    pub timestamp: i64,
    pub properties: &'a Value,
}

/// Interned, lower-case text: a column of strings holds symbol numbers.
#[derive(Default)]
struct Interner {
    ids: HashMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }
}

const UNSET_DATE: i64 = i64::MIN;
const UNSET_SYM: u32 = u32::MAX;
const UNSET_BOOL: u8 = 2;

/// One field of every contact (or company), stored by type.
enum Column {
    Str(Vec<u32>),
    Num(Vec<f64>),
    Bool(Vec<u8>),
    Date(Vec<i64>),
    List(HashMap<u32, Vec<String>>),
    Score(Vec<Decaying>),
}

/// An unset score cell.
const UNSET_SCORE: Decaying = Decaying {
    state: crate::score::ScoreState { behaviour: f64::NAN, as_of: 0, attributes: 0.0, level: 0 },
    half_life_days: None,
};

impl Column {
    fn for_attr(a: &Attr) -> Column {
        match a {
            Attr::Str(_) => Column::Str(Vec::new()),
            Attr::Num(_) => Column::Num(Vec::new()),
            Attr::Bool(_) => Column::Bool(Vec::new()),
            Attr::Date(_) => Column::Date(Vec::new()),
            Attr::List(_) => Column::List(HashMap::new()),
            Attr::Score(_) => Column::Score(Vec::new()),
        }
    }

    fn same_type(&self, a: &Attr) -> bool {
        matches!(
            (self, a),
            (Column::Str(_), Attr::Str(_))
                | (Column::Num(_), Attr::Num(_))
                | (Column::Bool(_), Attr::Bool(_))
                | (Column::Date(_), Attr::Date(_))
                | (Column::List(_), Attr::List(_))
                | (Column::Score(_), Attr::Score(_))
        )
    }

    fn set(&mut self, i: u32, a: Option<&Attr>, strings: &mut Interner) {
        fn put<T: Copy>(v: &mut Vec<T>, i: u32, x: T, unset: T, is_unset: bool) {
            let i = i as usize;
            if v.len() <= i {
                if is_unset {
                    return;
                }
                v.resize(i + 1, unset);
            }
            v[i] = x;
        }
        match (self, a) {
            (Column::Str(v), Some(Attr::Str(s))) => put(v, i, strings.intern(s), UNSET_SYM, false),
            (Column::Str(v), _) => put(v, i, UNSET_SYM, UNSET_SYM, true),
            (Column::Num(v), Some(Attr::Num(n))) => put(v, i, *n, f64::NAN, false),
            (Column::Num(v), _) => put(v, i, f64::NAN, f64::NAN, true),
            (Column::Bool(v), Some(Attr::Bool(b))) => put(v, i, *b as u8, UNSET_BOOL, false),
            (Column::Bool(v), _) => put(v, i, UNSET_BOOL, UNSET_BOOL, true),
            (Column::Date(v), Some(Attr::Date(d))) => put(v, i, *d, UNSET_DATE, false),
            (Column::Date(v), _) => put(v, i, UNSET_DATE, UNSET_DATE, true),
            (Column::List(m), Some(Attr::List(l))) => {
                m.insert(i, l.clone());
            }
            (Column::List(m), _) => {
                m.remove(&i);
            }
            (Column::Score(v), Some(Attr::Score(s))) => put(v, i, *s, UNSET_SCORE, false),
            (Column::Score(v), _) => put(v, i, UNSET_SCORE, UNSET_SCORE, true),
        }
    }

    fn get<'a>(&'a self, i: u32, strings: &'a Interner) -> Option<AttrRef<'a>> {
        let i = i as usize;
        match self {
            Column::Str(v) => {
                v.get(i).filter(|&&s| s != UNSET_SYM).map(|&s| AttrRef::Str(&strings.strings[s as usize]))
            }
            Column::Num(v) => v.get(i).filter(|n| !n.is_nan()).map(|&n| AttrRef::Num(n)),
            Column::Bool(v) => v.get(i).filter(|&&b| b != UNSET_BOOL).map(|&b| AttrRef::Bool(b == 1)),
            Column::Date(v) => v.get(i).filter(|&&d| d != UNSET_DATE).map(|&d| AttrRef::Date(d)),
            Column::List(m) => m.get(&(i as u32)).map(|l| AttrRef::List(l)),
            Column::Score(v) => v.get(i).filter(|s| !s.state.behaviour.is_nan()).map(|s| AttrRef::Score(*s)),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Column::Str(v) => v.capacity() * 4,
            Column::Num(v) => v.capacity() * 8,
            Column::Bool(v) => v.capacity(),
            Column::Date(v) => v.capacity() * 8,
            Column::List(m) => {
                m.capacity() * 40 + m.values().map(|l| l.iter().map(|s| s.len() + 24).sum::<usize>()).sum::<usize>()
            }
            Column::Score(v) => v.capacity() * std::mem::size_of::<Decaying>(),
        }
    }
}

/// The fields of all contacts (or all companies), column by column. A
/// column's number is fixed once given out, so compiled rules refer to
/// columns by number; a column without a type yet holds no values.
#[derive(Default)]
struct Columns {
    index: HashMap<String, usize>,
    columns: Vec<(String, Option<Column>)>,
    strings: Interner,
}

/// A column number no column has: every value in it is unset.
const NO_COLUMN: usize = usize::MAX;
/// A symbol no value has, for a literal never seen.
const NO_SYMBOL: u32 = u32::MAX - 1;

impl Columns {
    fn column_id(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        self.columns.push((name.to_string(), None));
        self.index.insert(name.to_string(), self.columns.len() - 1);
        self.columns.len() - 1
    }

    /// Replace record `i`'s fields with `p`; returns the fields that changed.
    fn set(&mut self, i: u32, p: &Profile) -> Vec<String> {
        let mut changed = Vec::new();
        for (name, col) in self.columns.iter_mut() {
            let Some(col) = col else { continue };
            let new = p.0.get(name);
            let before = col.get(i, &self.strings).map(owned);
            if before.as_ref() != new {
                changed.push(name.clone());
                match new {
                    Some(a) if !col.same_type(a) => {} // replaced below
                    _ => col.set(i, new, &mut self.strings),
                }
            }
        }
        for (name, a) in &p.0 {
            let id = self.column_id(name);
            let slot = &mut self.columns[id].1;
            if !slot.as_ref().is_some_and(|c| c.same_type(a)) {
                // New, or redefined with another type: start it afresh.
                *slot = Some(Column::for_attr(a));
            }
            let col = slot.as_mut().expect("set above");
            if col.get(i, &self.strings).map(owned).as_ref() != Some(a) {
                col.set(i, Some(a), &mut self.strings);
                if !changed.contains(name) {
                    changed.push(name.clone());
                }
            }
        }
        changed
    }

    fn clear(&mut self, i: u32) {
        for (_, col) in self.columns.iter_mut() {
            if let Some(col) = col {
                col.set(i, None, &mut self.strings);
            }
        }
    }

    fn get(&self, i: u32, col: usize) -> Option<AttrRef<'_>> {
        self.columns.get(col).and_then(|(_, c)| c.as_ref()).and_then(|c| c.get(i, &self.strings))
    }

    /// The symbol of a lower-case literal, if any value has it.
    fn symbol(&self, s: &str) -> u32 {
        self.strings.ids.get(s).copied().unwrap_or(NO_SYMBOL)
    }

    fn heap_bytes(&self) -> usize {
        self.columns.iter().filter_map(|(_, c)| c.as_ref()).map(Column::heap_bytes).sum::<usize>()
            + self.strings.strings.iter().map(|s| s.len() * 2 + 40).sum::<usize>()
    }
}

fn owned(a: AttrRef<'_>) -> Attr {
    match a {
        AttrRef::Str(s) => Attr::Str(s.to_string()),
        AttrRef::Num(n) => Attr::Num(n),
        AttrRef::Bool(b) => Attr::Bool(b),
        AttrRef::Date(d) => Attr::Date(d),
        AttrRef::List(l) => Attr::List(l.to_vec()),
        AttrRef::Score(s) => Attr::Score(s),
    }
}

/// What one contact did that matches one event condition.
#[derive(Debug, Clone, Default)]
struct Tally {
    total: u32,
    first: i64,
    last: i64,
    /// The most recent timestamps, newest first, at most `keep` of them.
    recent: SmallVec<[i64; 2]>,
}

/// The tally an event condition needs, shared by every rule that asks for
/// the same event and filters.
struct TallyDef {
    event: String,
    filters: Vec<PropertyCond>,
    keep: usize,
    ranges: Vec<(i64, i64)>,
    /// While backfilling: events up to this log position come from the
    /// backfill scan, later ones from the live stream.
    snapshot: Option<i64>,
    users: usize,
    tallies: FxHashMap<u32, Tally>,
    /// Counts inside each of the fixed date ranges, for contacts with any
    /// (kept apart: most tallies have no ranges).
    in_range: FxHashMap<u32, Box<[u32]>>,
}

impl TallyDef {
    fn passes(&self, ev: &EventInput<'_>) -> bool {
        ev.name == self.event
            && self.filters.iter().all(|f| {
                let v = property(ev.properties, &f.path).and_then(Attr::from_property);
                field_matches(&f.op, v.as_ref().map(Attr::as_ref), ev.timestamp, None)
            })
    }

    fn add(&mut self, c: u32, ts: i64) {
        let t = self.tallies.entry(c).or_default();
        t.total = t.total.saturating_add(1);
        if t.total == 1 {
            t.first = ts;
            t.last = ts;
        } else {
            t.first = t.first.min(ts);
            t.last = t.last.max(ts);
        }
        if self.keep > 0 {
            let pos = t.recent.partition_point(|&x| x >= ts);
            if pos < self.keep {
                t.recent.insert(pos, ts);
                t.recent.truncate(self.keep);
            }
        }
        for (i, (a, b)) in self.ranges.iter().enumerate() {
            if *a <= ts && ts < *b {
                let counts = self.in_range.entry(c).or_insert_with(|| vec![0; self.ranges.len()].into_boxed_slice());
                counts[i] = counts[i].saturating_add(1);
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        self.tallies.capacity() * (4 + std::mem::size_of::<Tally>() + 8)
            + self.tallies.values().map(|t| if t.recent.spilled() { t.recent.capacity() * 8 } else { 0 }).sum::<usize>()
            + self.in_range.capacity() * 24
            + self.in_range.values().map(|r| r.len() * 4).sum::<usize>()
    }
}

/// Record that a segment reads contact field `name` (a change to it
/// re-evaluates the segment).
fn reads_field(slot: &mut SegmentSlot, name: &str) {
    if !slot.fields.iter().any(|x| x == name) {
        slot.fields.push(name.to_string());
    }
}

/// A compiled rule: conditions point at columns, tallies and segment slots.
#[derive(Debug, Clone)]
enum Compiled {
    And(Vec<Compiled>),
    Or(Vec<Compiled>),
    Not(Box<Compiled>),
    /// A field condition on column `col`; `sym` is set for text
    /// equality, which then compares symbols.
    Field {
        col: usize,
        cond: FieldCond,
        sym: Option<u32>,
    },
    Company {
        col: usize,
        cond: FieldCond,
    },
    Event {
        tally: usize,
        measure: Measure,
        range: usize,
    },
    Segment(usize),
    List(ListId),
}

struct SegmentSlot {
    id: SegmentId,
    rule: Compiled,
    members: FixedBitSet,
    count: u64,
    /// Whether time alone can change the answer (sliding windows).
    timed: bool,
    fields: Vec<String>,
    company_fields: Vec<String>,
    tallies: Vec<usize>,
    lists: Vec<ListId>,
    refs: Vec<usize>,
    /// Compiled but still waiting for its backfill; not evaluated yet.
    backfilling: bool,
    /// Replaces an earlier version, whose membership it holds (frozen)
    /// until activation.
    replacing: bool,
}

/// The tallies a new segment needs filled from the log before it can be
/// activated, and the log position up to which the scan must read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillPlan {
    pub events: Vec<String>,
    pub snapshot: i64,
}

impl BackfillPlan {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Tallies kept live after the segment that made them is gone: a
/// preview's, so the segment builder's next counts with the same
/// conditions are answered from memory instead of another pass over the
/// log. Give it back with [`SegmentRuntime::release_held`].
#[derive(Debug, Default)]
#[must_use = "held tallies stay live until released"]
pub struct HeldTallies(Vec<usize>);

impl HeldTallies {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    #[error("segment {0} is not loaded")]
    UnknownSegment(SegmentId),
    #[error("segment {0} refers to segment {1}, which is not loaded; load segments in dependency order")]
    MissingReference(SegmentId, SegmentId),
    #[error("segment {0} is used by segment {1}; change or delete that one first")]
    InUse(SegmentId, SegmentId),
}

/// The live state of every segment of one workspace.
#[derive(Default)]
pub struct SegmentRuntime {
    ids: Vec<ContactId>,
    index: HashMap<ContactId, u32>,
    alive: FixedBitSet,
    fields: Columns,
    companies: Columns,
    company_ids: Vec<CompanyId>,
    company_index: HashMap<CompanyId, u32>,
    contact_companies: HashMap<u32, Vec<u32>>,
    company_contacts: HashMap<u32, Vec<u32>>,
    lists: HashMap<ListId, FixedBitSet>,
    tallies: Vec<Option<TallyDef>>,
    tallies_by_event: HashMap<String, Vec<usize>>,
    segments: Vec<Option<SegmentSlot>>,
    slots: HashMap<SegmentId, usize>,
    /// Active segment slots, each after every segment it refers to.
    order: Vec<usize>,
    timers: BTreeSet<(i64, u32)>,
    /// Each contact's armed timer, if any (indexed by contact number).
    next_timer: Vec<Option<i64>>,
    now: i64,
}

impl SegmentRuntime {
    pub fn new() -> Self {
        Self::default()
    }

    /// The instant of the last call; time never moves back.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The dense number of a contact, and whether it is new.
    fn contact_slot(&mut self, id: ContactId) -> (u32, bool) {
        if let Some(&i) = self.index.get(&id) {
            return (i, false);
        }
        let i = self.ids.len() as u32;
        self.ids.push(id);
        self.index.insert(id, i);
        self.alive.grow(i as usize + 1);
        self.alive.insert(i as usize);
        (i, true)
    }

    fn company_slot(&mut self, id: CompanyId) -> u32 {
        if let Some(&i) = self.company_index.get(&id) {
            return i;
        }
        let i = self.company_ids.len() as u32;
        self.company_ids.push(id);
        self.company_index.insert(id, i);
        i
    }

    /// Create or replace a contact's fields and company links.
    pub fn set_contact(&mut self, id: ContactId, profile: &Profile, companies: &[CompanyId], now: i64) -> Vec<Change> {
        let mut out = self.advance(now);
        let (c, is_new) = self.contact_slot(id);
        let changed = self.fields.set(c, profile);
        let new_links: Vec<u32> = companies.iter().map(|co| self.company_slot(*co)).collect();
        let old_links = self.contact_companies.get(&c).cloned().unwrap_or_default();
        let links_changed = {
            let (mut a, mut b) = (old_links.clone(), new_links.clone());
            a.sort_unstable();
            b.sort_unstable();
            a != b
        };
        if links_changed {
            for co in &old_links {
                if let Some(v) = self.company_contacts.get_mut(co) {
                    v.retain(|x| *x != c);
                }
            }
            for co in &new_links {
                self.company_contacts.entry(*co).or_default().push(c);
            }
            if new_links.is_empty() {
                self.contact_companies.remove(&c);
            } else {
                self.contact_companies.insert(c, new_links);
            }
        }
        let dirty = self.dirty_where(|s| {
            is_new || s.fields.iter().any(|f| changed.contains(f)) || (links_changed && !s.company_fields.is_empty())
        });
        self.reevaluate(c, dirty, self.now, &mut out);
        out
    }

    /// Create or replace a company's fields; its contacts are re-evaluated.
    pub fn set_company(&mut self, id: CompanyId, profile: &Profile, now: i64) -> Vec<Change> {
        let mut out = self.advance(now);
        let co = self.company_slot(id);
        let changed = self.companies.set(co, profile);
        if changed.is_empty() {
            return out;
        }
        let dirty = self.dirty_where(|s| s.company_fields.iter().any(|f| changed.contains(f)));
        if dirty.iter().any(|d| *d) {
            for c in self.company_contacts.get(&co).cloned().unwrap_or_default() {
                self.reevaluate(c, dirty.clone(), self.now, &mut out);
            }
        }
        out
    }

    /// Forget a contact (deleted, erased or merged away). It leaves its
    /// segments silently: the contact no longer exists to be told.
    pub fn remove_contact(&mut self, id: ContactId) {
        let Some(c) = self.index.remove(&id) else { return };
        self.alive.set(c as usize, false);
        self.fields.clear(c);
        for co in self.contact_companies.remove(&c).unwrap_or_default() {
            if let Some(v) = self.company_contacts.get_mut(&co) {
                v.retain(|x| *x != c);
            }
        }
        for t in self.tallies.iter_mut().flatten() {
            t.tallies.remove(&c);
            t.in_range.remove(&c);
        }
        for s in self.segments.iter_mut().flatten() {
            if s.members.contains(c as usize) {
                s.members.set(c as usize, false);
                s.count -= 1;
            }
        }
        for l in self.lists.values_mut() {
            if (c as usize) < l.len() {
                l.set(c as usize, false);
            }
        }
        if let Some(t) = self.next_timer.get_mut(c as usize).and_then(Option::take) {
            self.timers.remove(&(t, c));
        }
    }

    /// Forget everything a contact did, before replaying its whole history
    /// (after a merge moved another contact's events onto it).
    pub fn reset_history(&mut self, id: ContactId) {
        if let Some(&c) = self.index.get(&id) {
            for t in self.tallies.iter_mut().flatten() {
                t.tallies.remove(&c);
                t.in_range.remove(&c);
                t.in_range.remove(&c);
            }
        }
    }

    /// Record an event. Tallies that are backfilling take it only if the
    /// backfill scan will not (it is newer than their snapshot).
    pub fn apply_event(&mut self, contact: ContactId, ev: &EventInput<'_>, now: i64) -> Vec<Change> {
        let mut out = self.advance(now);
        let (c, is_new) = self.contact_slot(contact);
        if is_new {
            let dirty = self.dirty_where(|_| true);
            self.reevaluate(c, dirty, self.now, &mut out);
        }
        let Some(ids) = self.tallies_by_event.get(ev.name) else {
            return out;
        };
        let mut touched = Vec::new();
        for &t in ids {
            let Some(def) = self.tallies[t].as_mut() else { continue };
            if def.snapshot.is_some_and(|s| ev.seq <= s) || !def.passes(ev) {
                continue;
            }
            def.add(c, ev.timestamp);
            touched.push(t);
        }
        if touched.is_empty() {
            return out;
        }
        let dirty = self.dirty_where(|s| s.tallies.iter().any(|t| touched.contains(t)));
        self.reevaluate(c, dirty, self.now, &mut out);
        out
    }

    /// Feed a backfilling tally an event from the log scan (only events at or
    /// before the snapshot count; later ones arrive live).
    pub fn backfill_event(&mut self, contact: ContactId, ev: &EventInput<'_>) {
        let Some(ids) = self.tallies_by_event.get(ev.name) else { return };
        let ids = ids.clone();
        let (c, _) = self.contact_slot(contact);
        for t in ids {
            let Some(def) = self.tallies[t].as_mut() else { continue };
            if def.snapshot.is_some_and(|s| ev.seq <= s) && def.passes(ev) {
                def.add(c, ev.timestamp);
            }
        }
    }

    /// Replay one event of a contact's history into every tally (after
    /// [`Self::reset_history`]); call [`Self::touch`] when done.
    pub fn replay_event(&mut self, contact: ContactId, ev: &EventInput<'_>) {
        let Some(ids) = self.tallies_by_event.get(ev.name) else { return };
        let ids = ids.clone();
        let (c, _) = self.contact_slot(contact);
        for t in ids {
            let Some(def) = self.tallies[t].as_mut() else { continue };
            if def.passes(ev) {
                def.add(c, ev.timestamp);
            }
        }
    }

    /// Re-evaluate every segment for one contact.
    pub fn touch(&mut self, contact: ContactId, now: i64) -> Vec<Change> {
        let mut out = self.advance(now);
        if let Some(&c) = self.index.get(&contact) {
            let dirty = self.dirty_where(|_| true);
            self.reevaluate(c, dirty, self.now, &mut out);
        }
        out
    }

    /// Add or remove a contact from a static list.
    pub fn set_list_member(&mut self, list: ListId, contact: ContactId, member: bool, now: i64) -> Vec<Change> {
        let mut out = self.advance(now);
        let (c, is_new) = self.contact_slot(contact);
        if is_new {
            let dirty = self.dirty_where(|_| true);
            self.reevaluate(c, dirty, self.now, &mut out);
        }
        let bits = self.lists.entry(list).or_default();
        if bits.len() <= c as usize {
            bits.grow(c as usize + 1);
        }
        if bits.contains(c as usize) == member {
            return out;
        }
        bits.set(c as usize, member);
        let dirty = self.dirty_where(|s| s.lists.contains(&list));
        self.reevaluate(c, dirty, self.now, &mut out);
        out
    }

    /// Whether a contact is on a static list.
    pub fn list_contains(&self, list: ListId, contact: ContactId) -> bool {
        self.index.get(&contact).is_some_and(|&c| self.lists.get(&list).is_some_and(|l| l.contains(c as usize)))
    }

    /// Drop a static list; segments referring to it must be gone first.
    pub fn remove_list(&mut self, list: ListId) {
        self.lists.remove(&list);
    }

    /// Fire every timer due up to `now`, each evaluated at its own instant.
    pub fn advance(&mut self, now: i64) -> Vec<Change> {
        let mut out = Vec::new();
        if now > self.now {
            self.now = now;
        }
        while let Some(&(t, c)) = self.timers.first() {
            if t > self.now {
                break;
            }
            self.timers.pop_first();
            if let Some(t) = self.next_timer.get_mut(c as usize) {
                *t = None;
            }
            let dirty = self.dirty_where(|s| s.timed);
            self.reevaluate(c, dirty, t, &mut out);
        }
        out
    }

    fn dirty_where(&self, f: impl Fn(&SegmentSlot) -> bool) -> Vec<bool> {
        self.segments.iter().map(|s| s.as_ref().is_some_and(|s| !s.backfilling && f(s))).collect()
    }

    /// Re-evaluate the dirty segments (and those that refer to them) for one
    /// contact at instant `at`, and re-arm its timer.
    fn reevaluate(&mut self, c: u32, mut dirty: Vec<bool>, at: i64, out: &mut Vec<Change>) {
        if !self.alive.contains(c as usize) {
            return;
        }
        let mut next: Option<i64> = self.next_timer.get(c as usize).copied().flatten().filter(|&t| t > at);
        for k in 0..self.order.len() {
            let slot = self.order[k];
            if !dirty[slot] {
                continue;
            }
            let (is_member, timer, changed) = {
                let s = self.segments[slot].as_ref().expect("ordered slots exist");
                let m = self.eval(&s.rule, c, at);
                let timer = if s.timed { self.next_change(&s.rule, c, at) } else { None };
                (m, timer, s.members.contains(c as usize) != m)
            };
            if let Some(t) = timer {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
            if changed {
                let s = self.segments[slot].as_mut().expect("ordered slots exist");
                if s.members.len() <= c as usize {
                    s.members.grow((c as usize + 1).max(s.members.len() * 2));
                }
                s.members.set(c as usize, is_member);
                if is_member {
                    s.count += 1;
                } else {
                    s.count -= 1;
                }
                out.push(Change { segment: s.id, contact: self.ids[c as usize], entered: is_member, at });
                for (r, d) in self.segments.iter().zip(dirty.iter_mut()) {
                    if r.as_ref().is_some_and(|r| !r.backfilling && r.refs.contains(&slot)) {
                        *d = true;
                    }
                }
            }
        }
        let old = self.next_timer.get(c as usize).copied().flatten();
        if old != next {
            if let Some(o) = old {
                self.timers.remove(&(o, c));
            }
            match next {
                Some(n) => {
                    self.timers.insert((n, c));
                    if self.next_timer.len() <= c as usize {
                        self.next_timer.resize(c as usize + 1, None);
                    }
                    self.next_timer[c as usize] = Some(n);
                }
                None => {
                    if let Some(t) = self.next_timer.get_mut(c as usize) {
                        *t = None;
                    }
                }
            }
        }
    }

    /// Contact `c`'s time zone when `op` reads the calendar (anniversaries
    /// fall on the contact's own days); otherwise none is looked up.
    fn zone(&self, op: &FieldOp, c: u32) -> Option<&str> {
        if !reads_calendar(op) {
            return None;
        }
        match self.fields.get(c, *self.fields.index.get(TIMEZONE_FIELD)?)? {
            AttrRef::Str(z) => Some(z),
            _ => None,
        }
    }

    fn eval(&self, rule: &Compiled, c: u32, now: i64) -> bool {
        match rule {
            Compiled::And(rs) => rs.iter().all(|r| self.eval(r, c, now)),
            Compiled::Or(rs) => rs.iter().any(|r| self.eval(r, c, now)),
            Compiled::Not(r) => !self.eval(r, c, now),
            Compiled::Field { col, cond, sym } => {
                if let (Some(sym), Some((_, Some(Column::Str(v))))) = (sym, self.fields.columns.get(*col)) {
                    let eq = v.get(c as usize) == Some(sym);
                    return if matches!(cond.op, FieldOp::NotEquals(_)) { !eq } else { eq };
                }
                field_matches(&cond.op, self.fields.get(c, *col), now, self.zone(&cond.op, c))
            }
            Compiled::Company { col, cond } => self.contact_companies.get(&c).is_some_and(|cos| {
                let zone = self.zone(&cond.op, c);
                cos.iter().any(|&co| field_matches(&cond.op, self.companies.get(co, *col), now, zone))
            }),
            Compiled::Event { tally, measure, range } => {
                let def = self.tallies[*tally].as_ref().expect("compiled tallies exist");
                let counts = def.in_range.get(&c).and_then(|r| r.get(*range)).copied().unwrap_or(0);
                event_matches(def.tallies.get(&c), counts, measure, now)
            }
            Compiled::Segment(slot) => self.segments[*slot].as_ref().is_some_and(|s| s.members.contains(c as usize)),
            Compiled::List(l) => self.lists.get(l).is_some_and(|b| b.contains(c as usize)),
        }
    }

    /// A lower bound on the next instant after `now` at which `rule`'s answer
    /// can change with no new input.
    fn next_change(&self, rule: &Compiled, c: u32, now: i64) -> Option<i64> {
        let min = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, None) => x,
            (None, y) => y,
        };
        match rule {
            Compiled::And(rs) | Compiled::Or(rs) => {
                rs.iter().fold(None, |acc, r| min(acc, self.next_change(r, c, now)))
            }
            Compiled::Not(r) => self.next_change(r, c, now),
            Compiled::Field { col, cond, .. } => {
                field_next_change(&cond.op, self.fields.get(c, *col), now, self.zone(&cond.op, c))
            }
            Compiled::Company { col, cond } => self.contact_companies.get(&c).and_then(|cos| {
                let zone = self.zone(&cond.op, c);
                cos.iter().fold(None, |acc, &co| {
                    min(acc, field_next_change(&cond.op, self.companies.get(co, *col), now, zone))
                })
            }),
            Compiled::Event { tally, measure, .. } => {
                let def = self.tallies[*tally].as_ref().expect("compiled tallies exist");
                def.tallies.get(&c).and_then(|t| event_next_change(t, measure, now))
            }
            // A referenced segment's own timer re-evaluates this one.
            Compiled::Segment(_) | Compiled::List(_) => None,
        }
    }

    /// Compile a segment and register its tallies. Segments it refers to
    /// must be loaded. If the plan is not empty, feed the log up to
    /// `plan.snapshot` through [`Self::backfill_event`], then
    /// [`Self::activate`]. Replacing a loaded segment keeps the old version
    /// serving until then.
    pub fn load_segment(&mut self, id: SegmentId, rule: &Rule, snapshot: i64) -> Result<BackfillPlan, RuntimeError> {
        self.load_segments(&[(id, rule.clone())], snapshot)
    }

    /// Load several segments that will be backfilled by one scan (at start,
    /// or in a benchmark): they share the tallies they have in common.
    /// Segments must come after the segments they refer to.
    pub fn load_segments(
        &mut self,
        segments: &[(SegmentId, Rule)],
        snapshot: i64,
    ) -> Result<BackfillPlan, RuntimeError> {
        let mut new_tallies = Vec::new();
        for (id, rule) in segments {
            self.load_one(*id, rule, snapshot, &mut new_tallies)?;
        }
        let mut events: Vec<String> =
            new_tallies.iter().filter_map(|&t| self.tallies[t].as_ref().map(|d| d.event.clone())).collect();
        events.sort();
        events.dedup();
        Ok(BackfillPlan { events, snapshot })
    }

    fn load_one(
        &mut self,
        id: SegmentId,
        rule: &Rule,
        snapshot: i64,
        new_tallies: &mut Vec<usize>,
    ) -> Result<(), RuntimeError> {
        for r in rule.segment_refs() {
            if !self.slots.contains_key(&r) {
                return Err(RuntimeError::MissingReference(id, r));
            }
        }
        let mut slot = SegmentSlot {
            id,
            rule: Compiled::And(Vec::new()),
            members: FixedBitSet::with_capacity(self.ids.len()),
            count: 0,
            timed: false,
            fields: Vec::new(),
            company_fields: Vec::new(),
            tallies: Vec::new(),
            lists: Vec::new(),
            refs: Vec::new(),
            backfilling: true,
            replacing: false,
        };
        slot.rule = self.compile(rule, &mut slot, new_tallies, snapshot);
        match self.slots.get(&id) {
            Some(&i) => {
                let old = self.segments[i].take().expect("slot exists");
                // Segments referring to this one see the old membership
                // until the new version is activated; the diff is then
                // reported as changes.
                slot.replacing = old.replacing || !old.backfilling;
                slot.members = old.members.clone();
                slot.count = old.count;
                self.release_tallies(&old);
                self.segments[i] = Some(slot);
                self.recompute_order();
            }
            None => {
                self.segments.push(Some(slot));
                self.slots.insert(id, self.segments.len() - 1);
            }
        }
        Ok(())
    }

    fn compile(
        &mut self,
        rule: &Rule,
        slot: &mut SegmentSlot,
        new_tallies: &mut Vec<usize>,
        snapshot: i64,
    ) -> Compiled {
        match rule {
            Rule::And(rs) => Compiled::And(rs.iter().map(|r| self.compile(r, slot, new_tallies, snapshot)).collect()),
            Rule::Or(rs) => Compiled::Or(rs.iter().map(|r| self.compile(r, slot, new_tallies, snapshot)).collect()),
            Rule::Not(r) => Compiled::Not(Box::new(self.compile(r, slot, new_tallies, snapshot))),
            Rule::Field(f) => {
                slot.timed |= field_is_timed(&f.op) || is_score_field(&f.field);
                reads_field(slot, &f.field);
                if reads_calendar(&f.op) {
                    reads_field(slot, TIMEZONE_FIELD);
                }
                let col = self.fields.column_id(&f.field);
                let sym = text_equality(&f.op).map(|l| self.fields.strings.intern(l));
                Compiled::Field { col, cond: f.clone(), sym }
            }
            Rule::Company(f) => {
                slot.timed |= field_is_timed(&f.op);
                if !slot.company_fields.contains(&f.field) {
                    slot.company_fields.push(f.field.clone());
                }
                if reads_calendar(&f.op) {
                    reads_field(slot, TIMEZONE_FIELD);
                }
                Compiled::Company { col: self.companies.column_id(&f.field), cond: f.clone() }
            }
            Rule::Event(e) => {
                let (keep, range) = needs(e);
                slot.timed |= match e.measure {
                    Measure::Count { window, .. } => matches!(window, Window::LastDays(_)),
                    Measure::First(t) | Measure::Last(t) => {
                        matches!(t, TimeTest::WithinLastDays(_) | TimeTest::MoreThanDaysAgo(_))
                    }
                };
                let (tally, range) = self.tally_for(e, keep, range, new_tallies, snapshot);
                if !slot.tallies.contains(&tally) {
                    slot.tallies.push(tally);
                    if let Some(d) = self.tallies[tally].as_mut() {
                        d.users += 1;
                    }
                }
                Compiled::Event { tally, measure: e.measure, range }
            }
            Rule::Segment(s) => {
                let target = self.slots[s];
                if !slot.refs.contains(&target) {
                    slot.refs.push(target);
                }
                Compiled::Segment(target)
            }
            Rule::List(l) => {
                if !slot.lists.contains(l) {
                    slot.lists.push(*l);
                }
                Compiled::List(*l)
            }
        }
    }

    /// Find a live tally that can answer the condition, or make a new one.
    fn tally_for(
        &mut self,
        e: &EventCond,
        keep: usize,
        range: Option<(i64, i64)>,
        new_tallies: &mut Vec<usize>,
        snapshot: i64,
    ) -> (usize, usize) {
        let fits = |d: &TallyDef| {
            d.event == e.event
                && d.filters == e.filters
                && d.keep >= keep
                && range.is_none_or(|r| d.ranges.contains(&r))
        };
        let found = self.tallies.iter().position(|d| d.as_ref().is_some_and(|d| d.snapshot.is_none() && fits(d)));
        let found = found.or_else(|| new_tallies.iter().copied().find(|&t| self.tallies[t].as_ref().is_some_and(fits)));
        let t = match found {
            Some(t) => t,
            None => {
                // A new tally for this segment; grow one made for it already
                // rather than keep two.
                if let Some(&t) = new_tallies
                    .iter()
                    .find(|&&t| self.tallies[t].as_ref().is_some_and(|d| d.event == e.event && d.filters == e.filters))
                {
                    let d = self.tallies[t].as_mut().expect("new tally exists");
                    d.keep = d.keep.max(keep);
                    if let Some(r) = range {
                        if !d.ranges.contains(&r) {
                            d.ranges.push(r);
                        }
                    }
                    t
                } else {
                    let def = TallyDef {
                        event: e.event.clone(),
                        filters: e.filters.clone(),
                        keep,
                        ranges: range.into_iter().collect(),
                        snapshot: Some(snapshot),
                        users: 0,
                        tallies: FxHashMap::default(),
                        in_range: FxHashMap::default(),
                    };
                    let t = match self.tallies.iter().position(Option::is_none) {
                        Some(free) => {
                            self.tallies[free] = Some(def);
                            free
                        }
                        None => {
                            self.tallies.push(Some(def));
                            self.tallies.len() - 1
                        }
                    };
                    self.tallies_by_event.entry(e.event.clone()).or_default().push(t);
                    new_tallies.push(t);
                    t
                }
            }
        };
        let d = self.tallies[t].as_ref().expect("tally exists");
        let range_index = range.and_then(|r| d.ranges.iter().position(|x| *x == r)).unwrap_or(0);
        (t, range_index)
    }

    /// Keep the tallies of a loaded, activated segment live whatever becomes
    /// of it (they go on taking events as they arrive).
    pub fn hold_tallies(&mut self, id: SegmentId) -> HeldTallies {
        let Some(s) = self.slots.get(&id).and_then(|&i| self.segments[i].as_ref()) else {
            return HeldTallies::default();
        };
        if s.backfilling {
            return HeldTallies::default();
        }
        let held = s.tallies.clone();
        for &t in &held {
            if let Some(d) = self.tallies[t].as_mut() {
                d.users += 1;
            }
        }
        HeldTallies(held)
    }

    /// Give back held tallies: those no segment uses are dropped.
    pub fn release_held(&mut self, held: HeldTallies) {
        self.release(&held.0);
    }

    fn release_tallies(&mut self, slot: &SegmentSlot) {
        self.release(&slot.tallies.clone());
    }

    fn release(&mut self, tallies: &[usize]) {
        for &t in tallies {
            if let Some(d) = self.tallies[t].as_mut() {
                d.users = d.users.saturating_sub(1);
                if d.users == 0 {
                    let event = d.event.clone();
                    self.tallies[t] = None;
                    if let Some(v) = self.tallies_by_event.get_mut(&event) {
                        v.retain(|x| *x != t);
                    }
                }
            }
        }
    }

    /// Finish a segment's load: its tallies go live and every contact is
    /// evaluated. Contacts that join (or, replacing a version, whose answer
    /// changes) are reported as changes at `now`.
    pub fn activate(&mut self, id: SegmentId, now: i64) -> Result<Vec<Change>, RuntimeError> {
        self.activate_many(&[id], now)
    }

    /// Activate several loaded segments with one pass over the contacts.
    pub fn activate_many(&mut self, ids: &[SegmentId], now: i64) -> Result<Vec<Change>, RuntimeError> {
        let mut out = self.advance(now);
        let mut dirty = vec![false; self.segments.len()];
        for id in ids {
            let &i = self.slots.get(id).ok_or(RuntimeError::UnknownSegment(*id))?;
            let s = self.segments[i].as_mut().expect("slot exists");
            if !s.backfilling {
                continue;
            }
            s.backfilling = false;
            s.replacing = false;
            dirty[i] = true;
            for t in s.tallies.clone() {
                if let Some(d) = self.tallies[t].as_mut() {
                    d.snapshot = None;
                }
            }
        }
        if !dirty.iter().any(|d| *d) {
            return Ok(out);
        }
        self.recompute_order();
        for c in 0..self.ids.len() as u32 {
            if self.alive.contains(c as usize) {
                self.reevaluate(c, dirty.clone(), self.now, &mut out);
            }
        }
        Ok(out)
    }

    /// Unload a segment. Refused while another segment refers to it.
    pub fn remove_segment(&mut self, id: SegmentId) -> Result<(), RuntimeError> {
        let &i = self.slots.get(&id).ok_or(RuntimeError::UnknownSegment(id))?;
        for s in self.segments.iter().flatten() {
            if s.id != id && s.refs.contains(&i) {
                return Err(RuntimeError::InUse(id, s.id));
            }
        }
        let slot = self.segments[i].take().expect("slot exists");
        self.release_tallies(&slot);
        self.slots.remove(&id);
        self.recompute_order();
        Ok(())
    }

    fn recompute_order(&mut self) {
        // Depth-first topological order over references (cycles are refused
        // when rules are saved).
        fn visit(i: usize, segs: &[Option<SegmentSlot>], seen: &mut Vec<bool>, out: &mut Vec<usize>) {
            if seen[i] {
                return;
            }
            seen[i] = true;
            if let Some(s) = &segs[i] {
                for &r in &s.refs {
                    visit(r, segs, seen, out);
                }
                if !s.backfilling {
                    out.push(i);
                }
            }
        }
        let mut seen = vec![false; self.segments.len()];
        let mut order = Vec::new();
        for i in 0..self.segments.len() {
            visit(i, &self.segments, &mut seen, &mut order);
        }
        self.order = order;
    }

    /// Exact member count of an active segment.
    pub fn count(&self, id: SegmentId) -> Option<u64> {
        let s = self.segments[*self.slots.get(&id)?].as_ref()?;
        (!s.backfilling || s.replacing).then_some(s.count)
    }

    /// Whether a segment has been loaded and activated.
    pub fn is_active(&self, id: SegmentId) -> bool {
        self.slots.get(&id).and_then(|&i| self.segments[i].as_ref()).is_some_and(|s| !s.backfilling)
    }

    pub fn is_member(&self, id: SegmentId, contact: ContactId) -> bool {
        let (Some(&i), Some(&c)) = (self.slots.get(&id), self.index.get(&contact)) else { return false };
        self.segments[i].as_ref().is_some_and(|s| s.members.contains(c as usize))
    }

    /// Members in a stable order, `limit` of them after `after`.
    pub fn members(&self, id: SegmentId, after: Option<ContactId>, limit: usize) -> Vec<ContactId> {
        let Some(s) = self.slots.get(&id).and_then(|&i| self.segments[i].as_ref()) else { return Vec::new() };
        let start = after.and_then(|a| self.index.get(&a)).map_or(0, |&c| c as usize + 1);
        s.members.ones().skip_while(|&c| c < start).take(limit).map(|c| self.ids[c]).collect()
    }

    /// The active segments a contact belongs to.
    pub fn segments_of(&self, contact: ContactId) -> Vec<SegmentId> {
        let Some(&c) = self.index.get(&contact) else { return Vec::new() };
        self.segments.iter().flatten().filter(|s| s.members.contains(c as usize)).map(|s| s.id).collect()
    }

    /// Count the contacts an unsaved rule matches at `now`, if every event
    /// condition in it can be answered by a live tally; `None` means the
    /// rule needs a backfill first (load it as a temporary segment).
    pub fn preview(&self, rule: &Rule, now: i64) -> Option<u64> {
        let compiled = self.compile_readonly(rule)?;
        Some(self.matching(&compiled, now).count() as u64)
    }

    /// [`Runtime::preview`] with up to `sample` of the matching contacts,
    /// each match equally likely to be picked (the builder's sample members).
    pub fn preview_sample(
        &self,
        rule: &Rule,
        now: i64,
        sample: usize,
        rng: &mut impl rand::Rng,
    ) -> Option<(u64, Vec<ContactId>)> {
        use rand::seq::IteratorRandom;
        let compiled = self.compile_readonly(rule)?;
        let mut n = 0u64;
        let picked = self.matching(&compiled, now).inspect(|_| n += 1).choose_multiple(rng, sample);
        Some((n, picked.into_iter().map(|c| self.ids[c]).collect()))
    }

    /// Up to `sample` members of a loaded segment, each equally likely.
    pub fn member_sample(&self, id: SegmentId, sample: usize, rng: &mut impl rand::Rng) -> Vec<ContactId> {
        use rand::seq::IteratorRandom;
        let Some(s) = self.slots.get(&id).and_then(|&i| self.segments[i].as_ref()) else { return Vec::new() };
        s.members.ones().choose_multiple(rng, sample).into_iter().map(|c| self.ids[c]).collect()
    }

    /// The contact indexes a compiled rule matches at `now`.
    fn matching<'a>(&'a self, compiled: &'a Compiled, now: i64) -> impl Iterator<Item = usize> + 'a {
        let at = now.max(self.now);
        self.alive.ones().filter(move |&c| c < self.ids.len() && self.eval(compiled, c as u32, at))
    }

    fn compile_readonly(&self, rule: &Rule) -> Option<Compiled> {
        Some(match rule {
            Rule::And(rs) => Compiled::And(rs.iter().map(|r| self.compile_readonly(r)).collect::<Option<_>>()?),
            Rule::Or(rs) => Compiled::Or(rs.iter().map(|r| self.compile_readonly(r)).collect::<Option<_>>()?),
            Rule::Not(r) => Compiled::Not(Box::new(self.compile_readonly(r)?)),
            Rule::Field(f) => Compiled::Field {
                col: self.fields.index.get(&f.field).copied().unwrap_or(NO_COLUMN),
                cond: f.clone(),
                sym: text_equality(&f.op).map(|l| self.fields.symbol(l)),
            },
            Rule::Company(f) => Compiled::Company {
                col: self.companies.index.get(&f.field).copied().unwrap_or(NO_COLUMN),
                cond: f.clone(),
            },
            Rule::Event(e) => {
                let (keep, range) = needs(e);
                let t = self.tallies.iter().position(|d| {
                    d.as_ref().is_some_and(|d| {
                        d.snapshot.is_none()
                            && d.event == e.event
                            && d.filters == e.filters
                            && d.keep >= keep
                            && range.is_none_or(|r| d.ranges.contains(&r))
                    })
                })?;
                let d = self.tallies[t].as_ref()?;
                let range = range.and_then(|r| d.ranges.iter().position(|x| *x == r)).unwrap_or(0);
                Compiled::Event { tally: t, measure: e.measure, range }
            }
            Rule::Segment(s) => {
                let i = *self.slots.get(s)?;
                let slot = self.segments[i].as_ref()?;
                if slot.backfilling && !slot.replacing {
                    return None;
                }
                Compiled::Segment(i)
            }
            Rule::List(l) => Compiled::List(*l),
        })
    }

    /// Evaluate a rule for one contact with live state (no tallies needed
    /// beyond those [`Self::preview`] needs).
    pub fn matches(&self, rule: &Rule, contact: ContactId, now: i64) -> Option<bool> {
        let compiled = self.compile_readonly(rule)?;
        let &c = self.index.get(&contact)?;
        Some(self.eval(&compiled, c, now.max(self.now)))
    }

    pub fn contact_count(&self) -> usize {
        self.index.len()
    }

    /// Approximate heap bytes held, for the memory report.
    pub fn heap_bytes(&self) -> usize {
        self.ids.capacity() * 16
            + self.index.capacity() * (16 + 4 + 8)
            + self.fields.heap_bytes()
            + self.companies.heap_bytes()
            + self.tallies.iter().flatten().map(TallyDef::heap_bytes).sum::<usize>()
            + self.segments.iter().flatten().map(|s| s.members.len() / 8).sum::<usize>()
            + self.timers.len() * 32
            + self.next_timer.capacity() * 16
    }
}

/// The literal of a text equality test, which compiles to a symbol compare.
fn text_equality(op: &FieldOp) -> Option<&str> {
    match op {
        FieldOp::Equals(Literal::Str(l)) | FieldOp::NotEquals(Literal::Str(l)) => Some(l),
        _ => None,
    }
}

/// How many recent timestamps and which fixed range a condition needs.
fn needs(e: &EventCond) -> (usize, Option<(i64, i64)>) {
    match e.measure {
        Measure::Count { op, n, window: Window::LastDays(_) } => {
            let k = match op {
                CountOp::AtLeast => n,
                CountOp::AtMost | CountOp::Exactly => n + 1,
            };
            (k as usize, None)
        }
        Measure::Count { window: Window::Between(a, b), .. } => (0, Some((a, b))),
        _ => (0, None),
    }
}

fn at_least_in_window(t: &Tally, k: u32, cutoff: i64) -> bool {
    k == 0 || t.recent.get(k as usize - 1).is_some_and(|&ts| ts > cutoff)
}

/// `in_range` is the contact's count inside the condition's fixed range.
fn event_matches(t: Option<&Tally>, in_range: u32, measure: &Measure, now: i64) -> bool {
    let test = |x: i64, test: &TimeTest| match *test {
        TimeTest::Before(b) => x < b,
        TimeTest::After(a) => x > a,
        TimeTest::WithinLastDays(n) => x > now - n as i64 * DAY_MS,
        TimeTest::MoreThanDaysAgo(n) => x <= now - n as i64 * DAY_MS,
    };
    match *measure {
        Measure::Count { op, n, window } => {
            let ge = |k: u32| -> bool {
                match (t, window) {
                    (_, _) if k == 0 => true,
                    (None, _) => false,
                    (Some(t), Window::Ever) => t.total >= k,
                    (Some(_), Window::Between(..)) => in_range >= k,
                    (Some(t), Window::LastDays(d)) => at_least_in_window(t, k, now - d as i64 * DAY_MS),
                }
            };
            match op {
                CountOp::AtLeast => ge(n),
                CountOp::AtMost => !ge(n + 1),
                CountOp::Exactly => ge(n) && !ge(n + 1),
            }
        }
        Measure::First(tt) => t.is_some_and(|t| t.total > 0 && test(t.first, &tt)),
        Measure::Last(tt) => t.is_some_and(|t| t.total > 0 && test(t.last, &tt)),
    }
}

fn event_next_change(t: &Tally, measure: &Measure, now: i64) -> Option<i64> {
    let after = |x: i64| (x > now).then_some(x);
    match *measure {
        Measure::Count { op, n, window: Window::LastDays(d) } => {
            let span = d as i64 * DAY_MS;
            let at = |k: u32| if k == 0 { None } else { t.recent.get(k as usize - 1).and_then(|&ts| after(ts + span)) };
            match op {
                CountOp::AtLeast => at(n),
                CountOp::AtMost => at(n + 1),
                CountOp::Exactly => match (at(n), at(n + 1)) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                },
            }
        }
        Measure::First(TimeTest::WithinLastDays(n)) | Measure::First(TimeTest::MoreThanDaysAgo(n)) if t.total > 0 => {
            after(t.first + n as i64 * DAY_MS)
        }
        Measure::Last(TimeTest::WithinLastDays(n)) | Measure::Last(TimeTest::MoreThanDaysAgo(n)) if t.total > 0 => {
            after(t.last + n as i64 * DAY_MS)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::FieldType;
    use crate::segment::rule::{parse, Schema};
    use serde_json::json;

    const T0: i64 = 1_780_000_000_000;

    #[test]
    fn a_window_slides_without_any_event() {
        let schema = Schema::with_custom([], []);
        let rule = parse(
            &json!({"event": "Order Completed", "window": {"last_days": 30}, "count": {"op": "at_least", "value": 1}}),
            &schema,
            None,
        )
        .unwrap();
        let mut rt = SegmentRuntime::new();
        let seg = SegmentId::new();
        let contact = ContactId::new();
        rt.set_contact(contact, &Profile::default(), &[], T0);
        let plan = rt.load_segment(seg, &rule, 0).unwrap();
        assert_eq!(plan.events, vec!["Order Completed".to_string()]);
        assert!(rt.activate(seg, T0).unwrap().is_empty());
        let props = json!({});
        let ev = EventInput { seq: 1, name: "Order Completed", timestamp: T0, properties: &props };
        let changes = rt.apply_event(contact, &ev, T0);
        assert_eq!(changes, vec![Change { segment: seg, contact, entered: true, at: T0 }]);
        assert_eq!(rt.count(seg), Some(1));
        assert!(rt.advance(T0 + 30 * DAY_MS - 1).is_empty());
        let changes = rt.advance(T0 + 31 * DAY_MS);
        assert_eq!(changes, vec![Change { segment: seg, contact, entered: false, at: T0 + 30 * DAY_MS }]);
        assert_eq!(rt.count(seg), Some(0));
    }

    #[test]
    fn segments_of_segments_follow_their_inputs() {
        let mut schema = Schema::with_custom([("plan".to_string(), FieldType::String)], []);
        let pro = SegmentId::new();
        let not_pro = SegmentId::new();
        let mut rt = SegmentRuntime::new();
        let r1 = parse(&json!({"field": "plan", "op": "equals", "value": "Pro"}), &schema, Some(pro)).unwrap();
        rt.load_segment(pro, &r1, 0).unwrap();
        rt.activate(pro, T0).unwrap();
        schema.segments.insert(pro, vec![]);
        let r2 = parse(&json!({"not": {"segment": pro.to_string()}}), &schema, Some(not_pro)).unwrap();
        rt.load_segment(not_pro, &r2, 0).unwrap();
        rt.activate(not_pro, T0).unwrap();
        let c = ContactId::new();
        let mut p = Profile::default();
        let ch = rt.set_contact(c, &p, &[], T0);
        assert_eq!(ch, vec![Change { segment: not_pro, contact: c, entered: true, at: T0 }]);
        p.0.insert("plan".into(), Attr::Str("pro".into()));
        let ch = rt.set_contact(c, &p, &[], T0 + 1);
        assert_eq!(
            ch,
            vec![
                Change { segment: pro, contact: c, entered: true, at: T0 + 1 },
                Change { segment: not_pro, contact: c, entered: false, at: T0 + 1 }
            ]
        );
        assert_eq!(rt.remove_segment(pro), Err(RuntimeError::InUse(pro, not_pro)));
    }

    #[test]
    fn held_tallies_answer_previews_after_their_segment_is_gone() {
        let schema = Schema::with_custom([], []);
        let carts = json!({"event": "Added to Cart", "window": {"last_days": 7}});
        let rule = parse(&carts, &schema, None).unwrap();
        let mut rt = SegmentRuntime::new();
        let (a, b) = (ContactId::new(), ContactId::new());
        rt.set_contact(a, &Profile::default(), &[], T0);
        rt.set_contact(b, &Profile::default(), &[], T0);
        assert_eq!(rt.preview(&rule, T0), None, "no tally yet: the log must be read");
        // A preview's temporary segment, backfilled from the log.
        let tmp = SegmentId::new();
        let plan = rt.load_segment(tmp, &rule, 10).unwrap();
        assert_eq!(plan.events, vec!["Added to Cart".to_string()]);
        let props = json!({});
        rt.backfill_event(a, &EventInput { seq: 3, name: "Added to Cart", timestamp: T0 - DAY_MS, properties: &props });
        assert!(rt.hold_tallies(tmp).is_empty(), "nothing is held before activation");
        rt.activate(tmp, T0).unwrap();
        let held = rt.hold_tallies(tmp);
        assert!(!held.is_empty());
        rt.remove_segment(tmp).unwrap();
        // Answered from memory, and still live: a new event counts.
        assert_eq!(rt.preview(&rule, T0), Some(1));
        rt.apply_event(b, &EventInput { seq: 11, name: "Added to Cart", timestamp: T0, properties: &props }, T0);
        assert_eq!(rt.preview(&rule, T0), Some(2));
        assert_eq!(rt.preview(&rule, T0 + 6 * DAY_MS + 1), Some(1), "the window slides past the first");
        // A condition the held tally cannot answer still needs the log.
        let twice =
            json!({"event": "Added to Cart", "window": {"last_days": 7}, "count": {"op": "at_least", "value": 2}});
        assert_eq!(rt.preview(&parse(&twice, &schema, None).unwrap(), T0), None);
        rt.release_held(held);
        assert_eq!(rt.preview(&rule, T0), None, "released: gone");
        assert_eq!(rt.tallies.iter().flatten().count(), 0);
    }
}
