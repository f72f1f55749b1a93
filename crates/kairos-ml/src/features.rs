//! The features conversion scoring learns from, computed from what a contact
//! did and who they are as of one instant (the cutoff), and the label: did
//! they convert within the horizon after it. Training takes the features at
//! an older cutoff and the label after it; the hold-out repeats that one
//! horizon later, so the model is judged on a future it never saw — the
//! time-based split. The same [`FeatureSpec`] is stored with a model so a
//! contact is scored later on exactly the columns it was trained on.

use serde::{Deserialize, Serialize};

pub const DAY_MS: i64 = 86_400_000;
/// The recent window event counts are taken over.
pub const RECENT_DAYS: i64 = 30;

/// Which columns a model has, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// The conversion event; also counted as a feature (earlier conversions).
    pub conversion: String,
    /// Other events counted (as segment rules name them), most frequent first.
    pub events: Vec<String>,
    /// Numeric profile fields (booleans as 0/1), of the contact or of their
    /// company (`company.NAME`).
    pub numeric: Vec<String>,
    /// Categorical profile fields with the values that get a column each.
    pub categorical: Vec<(String, Vec<String>)>,
}

/// What is known of one contact: events as (index, timestamp ms) where index
/// 0 is the conversion event and `i + 1` is `spec.events[i]`, and profile
/// values aligned with the spec's fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub events: Vec<(usize, i64)>,
    pub numeric: Vec<Option<f64>>,
    pub categorical: Vec<Option<String>>,
    /// When the contact was first seen (created).
    pub first_seen: i64,
}

impl FeatureSpec {
    /// Every event the spec counts, the conversion first.
    pub fn all_events(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.conversion.as_str()).chain(self.events.iter().map(String::as_str))
    }

    /// Column names, in row order.
    pub fn names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.all_events() {
            out.push(format!("{e} in the last {RECENT_DAYS} days"));
            out.push(format!("{e} ever"));
        }
        out.push("days since last activity".into());
        out.push("days since first seen".into());
        out.extend(self.numeric.iter().cloned());
        for (field, values) in &self.categorical {
            for v in values {
                out.push(format!("{field} = {v}"));
            }
        }
        out
    }

    /// The row of a contact as of `cutoff`: event counts (log(1 + n)) before
    /// it, recency and tenure in days, profile values (NaN when missing).
    pub fn row(&self, facts: &Facts, cutoff: i64) -> Vec<f64> {
        let n = 1 + self.events.len();
        let mut recent = vec![0u32; n];
        let mut ever = vec![0u32; n];
        let mut last: Option<i64> = None;
        for &(i, t) in &facts.events {
            if t > cutoff || i >= n {
                continue;
            }
            ever[i] += 1;
            if t > cutoff - RECENT_DAYS * DAY_MS {
                recent[i] += 1;
            }
            last = Some(last.map_or(t, |l| l.max(t)));
        }
        let mut row = Vec::with_capacity(2 * n + 2 + self.numeric.len());
        for i in 0..n {
            row.push(f64::from(recent[i]).ln_1p());
            row.push(f64::from(ever[i]).ln_1p());
        }
        row.push(last.map_or(f64::NAN, |l| (cutoff - l) as f64 / DAY_MS as f64));
        row.push(((cutoff - facts.first_seen).max(0)) as f64 / DAY_MS as f64);
        for (i, _) in self.numeric.iter().enumerate() {
            row.push(facts.numeric.get(i).copied().flatten().filter(|x| x.is_finite()).unwrap_or(f64::NAN));
        }
        for (i, (_, values)) in self.categorical.iter().enumerate() {
            let v = facts.categorical.get(i).and_then(|v| v.as_deref());
            for value in values {
                row.push(if v == Some(value.as_str()) { 1.0 } else { 0.0 });
            }
        }
        row
    }

    /// Whether the contact converted in `(cutoff, cutoff + horizon]`.
    pub fn converted(&self, facts: &Facts, cutoff: i64, horizon_ms: i64) -> bool {
        facts.events.iter().any(|&(i, t)| i == 0 && t > cutoff && t <= cutoff + horizon_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> FeatureSpec {
        FeatureSpec {
            conversion: "Demo Booked".into(),
            events: vec!["Pricing Viewed".into()],
            numeric: vec!["employees".into()],
            categorical: vec![("country".into(), vec!["de".into(), "fr".into()])],
        }
    }

    #[test]
    fn rows_count_only_what_happened_before_the_cutoff() {
        let s = spec();
        let day = DAY_MS;
        let facts = Facts {
            events: vec![(1, 10 * day), (1, 45 * day), (1, 55 * day), (0, 50 * day), (1, 70 * day)],
            numeric: vec![Some(120.0)],
            categorical: vec![Some("fr".into())],
            first_seen: 5 * day,
        };
        let row = s.row(&facts, 60 * day);
        assert_eq!(s.names().len(), row.len());
        let names = s.names();
        let at = |n: &str| row[names.iter().position(|x| x == n).unwrap()];
        assert_eq!(at("Pricing Viewed in the last 30 days"), 2f64.ln_1p());
        assert_eq!(at("Pricing Viewed ever"), 3f64.ln_1p());
        assert_eq!(at("Demo Booked ever"), 1f64.ln_1p());
        assert_eq!(at("days since last activity"), 5.0);
        assert_eq!(at("days since first seen"), 55.0);
        assert_eq!(at("employees"), 120.0);
        assert_eq!((at("country = de"), at("country = fr")), (0.0, 1.0));
        assert!(s.converted(&facts, 40 * day, 30 * day));
        assert!(!s.converted(&facts, 50 * day, 30 * day), "the window starts after the cutoff");
    }

    #[test]
    fn missing_values_are_nan() {
        let s = spec();
        let row = s.row(&Facts { numeric: vec![None], categorical: vec![None], ..Facts::default() }, 0);
        let names = s.names();
        assert!(row[names.iter().position(|n| n == "days since last activity").unwrap()].is_nan());
        assert!(row[names.iter().position(|n| n == "employees").unwrap()].is_nan());
    }
}
