//! Fairness audit of a score or a decision: for a sensitive attribute (gender,
//! age band, country, ...) it reports, per group, how many contacts are
//! selected (score at or above the threshold) and the true and false positive
//! rates, then the gaps between groups: demographic-parity difference
//! (highest minus lowest selection rate) and ratio (lowest over highest),
//! and the equalised-odds difference (the larger of the TPR gap and the FPR
//! gap). The definitions are fairlearn's, and a test checks them number for
//! number against fairlearn. A selection-rate ratio below 0.8 breaks the
//! four-fifths rule of US employment practice, the usual first flag of
//! adverse impact; the report then carries a warning naming the groups.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The four-fifths rule: a group selected at less than this share of the
/// most-selected group's rate is flagged.
pub const FOUR_FIFTHS: f64 = 0.8;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum FairnessError {
    #[error("{decisions} scores or decisions, {labels} outcomes and {groups} groups; they must pair up one to one")]
    LengthMismatch { decisions: usize, labels: usize, groups: usize },
    #[error("nothing to audit: no rows")]
    Empty,
    #[error("the threshold must be a number, not {0}")]
    BadThreshold(f64),
    #[error("score {value} in row {row} is not a number")]
    NotANumber { row: usize, value: f64 },
}

/// One group's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRates {
    pub group: String,
    pub count: usize,
    pub selected: usize,
    /// Rows that actually converted, and that did not.
    pub positives: usize,
    pub negatives: usize,
    /// Share of the group selected.
    pub selection_rate: f64,
    /// Share of the group's converters selected; None without converters.
    pub true_positive_rate: Option<f64>,
    /// Share of the group's non-converters selected; None without any.
    pub false_positive_rate: Option<f64>,
}

/// The audit of one score (or decision) against one sensitive attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairnessReport {
    /// The score threshold for "selected"; None when decisions were given.
    pub threshold: Option<f64>,
    /// Every group, ordered by name.
    pub groups: Vec<GroupRates>,
    /// Highest minus lowest selection rate.
    pub demographic_parity_difference: f64,
    /// Lowest over highest selection rate; None when no group has anyone
    /// selected (the ratio is 0/0).
    pub demographic_parity_ratio: Option<f64>,
    /// The larger of the between-group differences in TPR and in FPR; groups
    /// where a rate is undefined are left out of that rate's difference.
    /// None when neither difference is defined.
    pub equalized_odds_difference: Option<f64>,
    /// Whether the selection-rate ratio is below [`FOUR_FIFTHS`].
    pub four_fifths_violated: bool,
    /// What to tell a person when the rule is broken.
    pub warning: Option<String>,
}

/// Audit scores: a row is selected when its score is at or above `threshold`.
pub fn audit_scores<G: AsRef<str>>(
    scores: &[f64],
    threshold: f64,
    labels: &[bool],
    groups: &[G],
) -> Result<FairnessReport, FairnessError> {
    if threshold.is_nan() {
        return Err(FairnessError::BadThreshold(threshold));
    }
    if let Some((row, &value)) = scores.iter().enumerate().find(|(_, s)| s.is_nan()) {
        return Err(FairnessError::NotANumber { row, value });
    }
    let selected: Vec<bool> = scores.iter().map(|&s| s >= threshold).collect();
    let mut report = audit_decisions(&selected, labels, groups)?;
    report.threshold = Some(threshold);
    Ok(report)
}

/// Audit yes/no decisions (e.g. "was sent the offer").
pub fn audit_decisions<G: AsRef<str>>(
    selected: &[bool],
    labels: &[bool],
    groups: &[G],
) -> Result<FairnessReport, FairnessError> {
    if selected.len() != labels.len() || selected.len() != groups.len() {
        return Err(FairnessError::LengthMismatch {
            decisions: selected.len(),
            labels: labels.len(),
            groups: groups.len(),
        });
    }
    if selected.is_empty() {
        return Err(FairnessError::Empty);
    }
    // (count, selected, positives, true positives, false positives)
    let mut tally: std::collections::BTreeMap<&str, [usize; 5]> = std::collections::BTreeMap::new();
    for ((&s, &y), g) in selected.iter().zip(labels).zip(groups) {
        let t = tally.entry(g.as_ref()).or_default();
        t[0] += 1;
        t[1] += usize::from(s);
        t[2] += usize::from(y);
        t[3] += usize::from(s && y);
        t[4] += usize::from(s && !y);
    }
    let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
    let groups: Vec<GroupRates> = tally
        .into_iter()
        .map(|(group, [count, chosen, positives, tp, fp])| GroupRates {
            group: group.to_string(),
            count,
            selected: chosen,
            positives,
            negatives: count - positives,
            selection_rate: chosen as f64 / count as f64,
            true_positive_rate: ratio(tp, positives),
            false_positive_rate: ratio(fp, count - positives),
        })
        .collect();

    let spread = |rates: Vec<f64>| -> Option<(f64, f64)> {
        let lo = rates.iter().copied().reduce(f64::min)?;
        let hi = rates.iter().copied().reduce(f64::max)?;
        Some((lo, hi))
    };
    let (lowest, highest) = spread(groups.iter().map(|g| g.selection_rate).collect()).unwrap_or((0.0, 0.0));
    let demographic_parity_ratio = (highest > 0.0).then(|| lowest / highest);
    let tpr_gap = spread(groups.iter().filter_map(|g| g.true_positive_rate).collect()).map(|(lo, hi)| hi - lo);
    let fpr_gap = spread(groups.iter().filter_map(|g| g.false_positive_rate).collect()).map(|(lo, hi)| hi - lo);
    let equalized_odds_difference = match (tpr_gap, fpr_gap) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let four_fifths_violated = demographic_parity_ratio.is_some_and(|r| r < FOUR_FIFTHS);
    let warning = four_fifths_violated.then(|| four_fifths_warning(&groups, highest));
    Ok(FairnessReport {
        threshold: None,
        groups,
        demographic_parity_difference: highest - lowest,
        demographic_parity_ratio,
        equalized_odds_difference,
        four_fifths_violated,
        warning,
    })
}

fn four_fifths_warning(groups: &[GroupRates], highest: f64) -> String {
    let top = groups.iter().find(|g| g.selection_rate == highest).map_or("?", |g| g.group.as_str());
    let below: Vec<String> = groups
        .iter()
        .filter(|g| g.selection_rate < FOUR_FIFTHS * highest)
        .map(|g| {
            format!(
                "{:?} ({:.1}%, {:.0}% of it)",
                g.group,
                100.0 * g.selection_rate,
                100.0 * g.selection_rate / highest
            )
        })
        .collect();
    let which = if below.len() == 1 { "one group is" } else { "these groups are" };
    format!(
        "four-fifths rule broken: {top:?} is selected at {:.1}%, and {which} selected at less than 80% of that \
         rate: {}. Check whether the score treats these groups unfairly before acting on it.",
        100.0 * highest,
        below.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_by_hand_and_the_four_fifths_warning() {
        // Group a: 4 rows, 2 selected (rate 0.5); b: 4 rows, 1 selected (0.25).
        let selected = [true, true, false, false, true, false, false, false];
        let labels = [true, false, true, false, true, true, false, false];
        let groups = ["a", "a", "a", "a", "b", "b", "b", "b"];
        let r = audit_decisions(&selected, &labels, &groups).unwrap();
        assert_eq!(r.groups.len(), 2);
        let (a, b) = (&r.groups[0], &r.groups[1]);
        assert_eq!((a.selection_rate, a.true_positive_rate, a.false_positive_rate), (0.5, Some(0.5), Some(0.5)));
        assert_eq!((b.selection_rate, b.true_positive_rate, b.false_positive_rate), (0.25, Some(0.5), Some(0.0)));
        assert_eq!(r.demographic_parity_difference, 0.25);
        assert_eq!(r.demographic_parity_ratio, Some(0.5));
        assert_eq!(r.equalized_odds_difference, Some(0.5));
        assert!(r.four_fifths_violated);
        let w = r.warning.unwrap();
        assert!(w.contains("\"a\" is selected at 50.0%") && w.contains("\"b\" (25.0%, 50% of it)"), "{w}");

        // Equal rates: no warning.
        let r = audit_scores(&[0.9, 0.1, 0.8, 0.2], 0.5, &[true, false, false, true], &["x", "x", "y", "y"]).unwrap();
        assert_eq!(r.threshold, Some(0.5));
        assert_eq!(r.demographic_parity_ratio, Some(1.0));
        assert!(!r.four_fifths_violated && r.warning.is_none());
    }

    #[test]
    fn undefined_rates_are_none_and_bad_input_is_refused() {
        // Group b has no converters: its TPR is undefined and left out.
        let r =
            audit_decisions(&[true, false, true, false], &[true, false, false, false], &["a", "a", "b", "b"]).unwrap();
        assert_eq!(r.groups[1].true_positive_rate, None);
        assert_eq!(r.equalized_odds_difference, Some(0.5)); // FPR 0 vs 0.5
        let none = audit_decisions(&[false, false], &[true, false], &["a", "b"]).unwrap();
        assert_eq!(none.demographic_parity_ratio, None);
        assert!(!none.four_fifths_violated);
        assert!(matches!(audit_decisions(&[true], &[true, false], &["a"]), Err(FairnessError::LengthMismatch { .. })));
        assert_eq!(audit_decisions::<&str>(&[], &[], &[]), Err(FairnessError::Empty));
        assert!(matches!(audit_scores(&[f64::NAN], 0.5, &[true], &["a"]), Err(FairnessError::NotANumber { .. })));
    }
}
