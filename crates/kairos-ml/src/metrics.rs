//! How good a conversion score is on contacts it was not trained on: ranking
//! (AUC by the Mann–Whitney statistic, ties counted as half), probability
//! quality (log loss, Brier score, a calibration curve) and the marketer's
//! figure, lift at the top decile (how much more often the 10% best-scored
//! contacts convert than contacts overall). [`Metrics::is_better_than`] is
//! the rule for never promoting a model that is worse than the current one.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Scores and outcomes that cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MetricsError {
    #[error("{scores} scores but {labels} outcomes; they must pair up one to one")]
    LengthMismatch { scores: usize, labels: usize },
    #[error(
        "the hold-out has {positives} conversions and {negatives} non-conversions; both are needed to measure a score"
    )]
    OneClass { positives: usize, negatives: usize },
    #[error("score {value} in row {row} is not a probability between 0 and 1")]
    NotAProbability { row: usize, value: f64 },
}

/// One bin of a calibration curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Lowest and highest predicted probability in the bin.
    pub lower: f64,
    pub upper: f64,
    pub mean_predicted: f64,
    pub observed_rate: f64,
    pub count: usize,
}

/// A model's figures on a hold-out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub rows: usize,
    pub positives: usize,
    pub negatives: usize,
    /// Area under the ROC curve: the probability that a random converter is
    /// scored above a random non-converter (ties count half).
    pub auc: f64,
    /// Mean negative log-likelihood, probabilities clipped to
    /// [ε, 1 − ε] with ε = f64::EPSILON as scikit-learn does.
    pub log_loss: f64,
    /// Mean squared difference between probability and outcome.
    pub brier: f64,
    /// Conversion rate of the whole hold-out.
    pub base_rate: f64,
    /// Conversion rate of the 10% best-scored contacts.
    pub top_decile_rate: f64,
    /// `top_decile_rate / base_rate`.
    pub lift_top_decile: f64,
    /// Ten bins of (about) equal count by predicted probability.
    pub calibration: Vec<CalibrationBin>,
    /// Expected calibration error: the count-weighted mean gap between
    /// predicted and observed rate over the calibration bins.
    pub calibration_error: f64,
}

/// AUC differences smaller than this are ties (the same model evaluated
/// twice can differ in the last bits).
pub const AUC_TIE: f64 = 1e-9;

impl Metrics {
    /// Evaluate probabilities against outcomes.
    pub fn evaluate(probabilities: &[f64], labels: &[bool]) -> Result<Metrics, MetricsError> {
        if probabilities.len() != labels.len() {
            return Err(MetricsError::LengthMismatch { scores: probabilities.len(), labels: labels.len() });
        }
        if let Some((row, &value)) = probabilities.iter().enumerate().find(|(_, p)| !(0.0..=1.0).contains(*p)) {
            return Err(MetricsError::NotAProbability { row, value });
        }
        let positives = labels.iter().filter(|&&y| y).count();
        let negatives = labels.len() - positives;
        if positives == 0 || negatives == 0 {
            return Err(MetricsError::OneClass { positives, negatives });
        }
        let auc = auc(probabilities, labels).ok_or(MetricsError::OneClass { positives, negatives })?;
        let calibration = calibration_curve(probabilities, labels, 10);
        let n = labels.len() as f64;
        let calibration_error =
            calibration.iter().map(|b| b.count as f64 / n * (b.mean_predicted - b.observed_rate).abs()).sum();
        let base_rate = positives as f64 / n;
        let top_decile_rate = top_rate(probabilities, labels, 0.1).unwrap_or(base_rate);
        Ok(Metrics {
            rows: labels.len(),
            positives,
            negatives,
            auc,
            log_loss: log_loss(probabilities, labels),
            brier: brier(probabilities, labels),
            base_rate,
            top_decile_rate,
            lift_top_decile: top_decile_rate / base_rate,
            calibration,
            calibration_error,
        })
    }

    /// Whether a candidate model (`self`) should replace the current one.
    ///
    /// Both figures must come from the same hold-out: score the current model
    /// on the candidate's hold-out first. When they plainly do not (different
    /// row or conversion counts) the answer is false, so a mismatch never
    /// promotes anything.
    ///
    /// The rule: the candidate is better when its AUC is higher; when the
    /// AUCs tie (within [`AUC_TIE`]) when its log loss is lower. Equal on
    /// both, the current model stays.
    pub fn is_better_than(&self, current: &Metrics) -> bool {
        if self.rows != current.rows || self.positives != current.positives {
            return false;
        }
        if (self.auc - current.auc).abs() > AUC_TIE {
            return self.auc > current.auc;
        }
        self.log_loss < current.log_loss
    }
}

/// Row indices ordered by score, ascending.
fn order_by_score(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    order
}

/// Runs of equal scores in `order`, as (start, end) index ranges into it.
fn tie_groups<'a>(scores: &'a [f64], order: &'a [usize]) -> impl Iterator<Item = std::ops::Range<usize>> + 'a {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= order.len() {
            return None;
        }
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let range = start..end;
        start = end;
        Some(range)
    })
}

/// Area under the ROC curve, None when either class is absent. Equal scores
/// count as half a correct ordering (the Mann–Whitney U with mid-ranks).
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let order = order_by_score(scores);
    // Twice the U statistic, counted exactly in integers.
    let (mut twice_u, mut negatives_below) = (0u128, 0u128);
    let (mut positives, mut negatives) = (0u128, 0u128);
    for group in tie_groups(scores, &order) {
        let pos = order[group.clone()].iter().filter(|&&i| labels[i]).count() as u128;
        let neg = group.len() as u128 - pos;
        twice_u += pos * (2 * negatives_below + neg);
        negatives_below += neg;
        positives += pos;
        negatives += neg;
    }
    (positives > 0 && negatives > 0).then(|| twice_u as f64 / (2 * positives * negatives) as f64)
}

/// Mean log loss with probabilities clipped to [ε, 1 − ε].
pub fn log_loss(probabilities: &[f64], labels: &[bool]) -> f64 {
    let eps = f64::EPSILON;
    let total: f64 = probabilities
        .iter()
        .zip(labels)
        .map(|(&p, &y)| {
            let p = p.clamp(eps, 1.0 - eps);
            if y {
                -p.ln()
            } else {
                -(1.0 - p).ln()
            }
        })
        .sum();
    total / labels.len().max(1) as f64
}

/// Mean squared error of the probabilities.
pub fn brier(probabilities: &[f64], labels: &[bool]) -> f64 {
    let total: f64 = probabilities.iter().zip(labels).map(|(&p, &y)| (p - if y { 1.0 } else { 0.0 }).powi(2)).sum();
    total / labels.len().max(1) as f64
}

/// Conversion rate among the `fraction` best-scored rows (None for no rows).
/// The cut-off is exact: when it falls inside a run of equal scores, that run
/// counts in proportion to how much of it is inside (the expected rate if the
/// ties were broken at random), so the answer never depends on row order.
pub fn top_rate(scores: &[f64], labels: &[bool], fraction: f64) -> Option<f64> {
    let wanted = fraction.clamp(0.0, 1.0) * scores.len() as f64;
    if wanted <= 0.0 {
        return None;
    }
    let mut order = order_by_score(scores);
    order.reverse();
    let (mut taken, mut converted) = (0.0, 0.0);
    for group in tie_groups(scores, &order) {
        let size = group.len() as f64;
        let pos = order[group].iter().filter(|&&i| labels[i]).count() as f64;
        let take = size.min(wanted - taken);
        converted += pos * take / size;
        taken += take;
        if taken >= wanted {
            break;
        }
    }
    Some(converted / wanted)
}

/// Lift among the `fraction` best-scored rows: their conversion rate over
/// the overall rate (None without rows or conversions).
pub fn lift(scores: &[f64], labels: &[bool], fraction: f64) -> Option<f64> {
    let positives = labels.iter().filter(|&&y| y).count();
    if positives == 0 {
        return None;
    }
    Some(top_rate(scores, labels, fraction)? / (positives as f64 / labels.len() as f64))
}

/// A calibration curve of `bins` bins of about equal count: the bin edges
/// are the predicted probabilities at every 1/bins of the sorted rows, and
/// rows with equal probabilities always share a bin (so with many ties
/// there are fewer, unequal bins). Empty bins are left out.
pub fn calibration_curve(probabilities: &[f64], labels: &[bool], bins: usize) -> Vec<CalibrationBin> {
    let n = probabilities.len();
    if n == 0 || bins == 0 {
        return Vec::new();
    }
    let order = order_by_score(probabilities);
    let edges: Vec<f64> = (1..bins).map(|b| probabilities[order[b * n / bins]]).collect();
    let mut out: Vec<CalibrationBin> = Vec::new();
    let mut current: Option<(usize, f64, f64, usize, f64, f64)> = None; // (bin, sum p, converted, count, lower, upper)
    for &i in &order {
        let p = probabilities[i];
        let bin = edges.partition_point(|&e| e <= p);
        if current.as_ref().is_some_and(|c| c.0 != bin) {
            out.extend(current.take().map(finish_bin));
        }
        let c = current.get_or_insert((bin, 0.0, 0.0, 0, p, p));
        c.1 += p;
        c.2 += if labels[i] { 1.0 } else { 0.0 };
        c.3 += 1;
        c.5 = p;
    }
    out.extend(current.map(finish_bin));
    out
}

fn finish_bin((_, sum, converted, count, lower, upper): (usize, f64, f64, usize, f64, f64)) -> CalibrationBin {
    CalibrationBin { lower, upper, mean_predicted: sum / count as f64, observed_rate: converted / count as f64, count }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_as_half() {
        // Pairs (pos, neg): (0.8 vs 0.3) win, (0.8 vs 0.5) win, (0.5 vs 0.3)
        // win, (0.5 vs 0.5) tie → 3.5 of 4.
        let scores = [0.8, 0.5, 0.5, 0.3];
        let labels = [true, true, false, false];
        assert_eq!(auc(&scores, &labels), Some(3.5 / 4.0));
        // All tied: 0.5 exactly.
        assert_eq!(auc(&[0.2; 6], &[true, false, true, false, false, true]), Some(0.5));
        // Reversed ranking.
        assert_eq!(auc(&[0.1, 0.9], &[true, false]), Some(0.0));
        assert_eq!(auc(&[0.1, 0.9], &[true, true]), None);
    }

    #[test]
    fn log_loss_and_brier_by_hand() {
        let p = [0.9, 0.2, 0.6, 0.5];
        let y = [true, false, false, true];
        let expected = -(0.9f64.ln() + 0.8f64.ln() + 0.4f64.ln() + 0.5f64.ln()) / 4.0;
        assert!((log_loss(&p, &y) - expected).abs() < 1e-15);
        assert!((brier(&p, &y) - (0.01 + 0.04 + 0.36 + 0.25) / 4.0).abs() < 1e-15);
        // A confident mistake is clipped, not infinite.
        assert!(log_loss(&[0.0], &[true]).is_finite());
    }

    #[test]
    fn lift_at_the_top_decile_by_hand() {
        // 20 rows, 4 conversions (20%). The top 2 by score: one converted →
        // 50% → lift 2.5.
        let scores: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let mut labels = vec![false; 20];
        for i in [19, 10, 5, 2] {
            labels[i] = true;
        }
        assert_eq!(top_rate(&scores, &labels, 0.1), Some(0.5));
        assert_eq!(lift(&scores, &labels, 0.1), Some(2.5));
        // A tie across the cut-off counts in proportion: the top 2 of 20 are
        // one row at 9 (converted) and one of the three rows at 8 (one of
        // which converted): (1 + 1/3) / 2.
        let scores = [9.0, 8.0, 8.0, 8.0].into_iter().chain(std::iter::repeat_n(0.0, 16)).collect::<Vec<_>>();
        let mut labels = vec![false; 20];
        labels[0] = true;
        labels[2] = true;
        let rate = top_rate(&scores, &labels, 0.1).unwrap();
        assert!((rate - (1.0 + 1.0 / 3.0) / 2.0).abs() < 1e-15, "{rate}");
        // All scores equal: no lift.
        assert_eq!(
            lift(&[0.3; 10], &[true, false, false, false, false, true, false, false, false, false], 0.1),
            Some(1.0)
        );
    }

    #[test]
    fn calibration_bins_have_equal_counts_and_keep_ties_together() {
        let p: Vec<f64> = (0..100).map(|i| i as f64 / 100.0).collect();
        let y: Vec<bool> = (0..100).map(|i| i % 4 == 0).collect();
        let curve = calibration_curve(&p, &y, 10);
        assert_eq!(curve.len(), 10);
        assert!(curve.iter().all(|b| b.count == 10));
        assert!((curve[0].mean_predicted - 0.045).abs() < 1e-12);
        assert!((curve[0].observed_rate - 0.3).abs() < 1e-12); // 0, 4, 8 of 0..10
        assert_eq!((curve[9].lower, curve[9].upper), (0.9, 0.99));
        let tied = calibration_curve(&[0.5; 30], &[false; 30], 10);
        assert_eq!(tied.len(), 1);
        assert_eq!(tied[0].count, 30);
    }

    fn metrics(auc: f64, log_loss: f64) -> Metrics {
        Metrics {
            rows: 1000,
            positives: 100,
            negatives: 900,
            auc,
            log_loss,
            brier: 0.08,
            base_rate: 0.1,
            top_decile_rate: 0.3,
            lift_top_decile: 3.0,
            calibration: Vec::new(),
            calibration_error: 0.01,
        }
    }

    #[test]
    fn a_worse_model_is_never_promoted() {
        let current = metrics(0.80, 0.30);
        assert!(metrics(0.81, 0.31).is_better_than(&current), "higher AUC wins");
        assert!(!metrics(0.79, 0.20).is_better_than(&current), "lower AUC loses whatever the log loss");
        assert!(metrics(0.80, 0.29).is_better_than(&current), "tie on AUC, lower log loss");
        assert!(!metrics(0.80, 0.30).is_better_than(&current), "equal: the current model stays");
        let mut other_holdout = metrics(0.9, 0.1);
        other_holdout.rows = 2000;
        assert!(!other_holdout.is_better_than(&current), "figures from another hold-out never promote");
    }

    #[test]
    fn evaluate_rejects_what_it_cannot_measure() {
        assert!(matches!(Metrics::evaluate(&[0.5], &[true, false]), Err(MetricsError::LengthMismatch { .. })));
        assert!(matches!(Metrics::evaluate(&[0.5, 0.4], &[true, true]), Err(MetricsError::OneClass { .. })));
        let err = Metrics::evaluate(&[0.5, f64::NAN], &[true, false]).unwrap_err();
        assert!(matches!(err, MetricsError::NotAProbability { row: 1, .. }), "{err}");
        let m = Metrics::evaluate(&[0.9, 0.1, 0.8, 0.3], &[true, false, true, false]).unwrap();
        assert_eq!((m.auc, m.positives, m.negatives), (1.0, 2, 2));
    }
}
