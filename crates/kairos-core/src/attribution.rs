//! Attribution: which marketing touches get the credit for a conversion, and
//! how much of its value. A touch is a moment a contact met the marketing —
//! an email of a campaign or journey sent, opened or clicked, or a visit
//! tagged with UTM parameters — and it can only be credited for conversions
//! that follow it within the look-back window. The models are the field's
//! usual ones (first touch, last touch, linear, time decay, position-based);
//! each conversion's credit sums to one, or to nothing when no touch was in
//! its window, so attributed plus unattributed always equals the total and
//! reports under different models can be compared side by side.

use serde::Serialize;
use std::collections::BTreeMap;

/// How a conversion's credit is shared among the touches in its window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "name")]
pub enum Model {
    FirstTouch,
    LastTouch,
    Linear,
    /// Weight halves for every `half_life_days` a touch lies before the conversion.
    TimeDecay {
        half_life_days: f64,
    },
    /// 40% to the first touch, 40% to the last, 20% shared by those between
    /// (half each when there are two).
    PositionBased,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AttributionError {
    #[error("unknown attribution model {0:?}: use first_touch, last_touch, linear, time_decay or position_based")]
    UnknownModel(String),
    #[error("half_life_days must be a number greater than 0 and at most 365, got {0}")]
    HalfLife(f64),
}

impl Model {
    pub const NAMES: [&'static str; 5] = ["first_touch", "last_touch", "linear", "time_decay", "position_based"];

    /// The model's name, as `parse` reads it.
    pub fn name(&self) -> &'static str {
        match self {
            Model::FirstTouch => "first_touch",
            Model::LastTouch => "last_touch",
            Model::Linear => "linear",
            Model::TimeDecay { .. } => "time_decay",
            Model::PositionBased => "position_based",
        }
    }

    /// The model called `name`; `half_life_days` is used by `time_decay`
    /// (default 7).
    pub fn parse(name: &str, half_life_days: Option<f64>) -> Result<Model, AttributionError> {
        Ok(match name {
            "first_touch" => Model::FirstTouch,
            "last_touch" => Model::LastTouch,
            "linear" => Model::Linear,
            "time_decay" => {
                let h = half_life_days.unwrap_or(7.0);
                if !(h > 0.0 && h <= 365.0) {
                    return Err(AttributionError::HalfLife(h));
                }
                Model::TimeDecay { half_life_days: h }
            }
            "position_based" => Model::PositionBased,
            other => return Err(AttributionError::UnknownModel(other.to_string())),
        })
    }

    /// The share of credit of each of `times` (the instants of the touches in
    /// a conversion's window, oldest first) for a conversion at `at`. The
    /// shares sum to 1 when there is at least one touch.
    pub fn shares(&self, times: &[i64], at: i64) -> Vec<f64> {
        let n = times.len();
        if n == 0 {
            return Vec::new();
        }
        let mut w = vec![0.0; n];
        match *self {
            Model::FirstTouch => w[0] = 1.0,
            Model::LastTouch => w[n - 1] = 1.0,
            Model::Linear => w.iter_mut().for_each(|x| *x = 1.0 / n as f64),
            Model::TimeDecay { half_life_days } => {
                let half_life_ms = half_life_days * 86_400_000.0;
                for (x, t) in w.iter_mut().zip(times) {
                    *x = (-((at - t).max(0) as f64) / half_life_ms * std::f64::consts::LN_2).exp();
                }
                let sum: f64 = w.iter().sum();
                w.iter_mut().for_each(|x| *x /= sum);
            }
            Model::PositionBased => match n {
                1 => w[0] = 1.0,
                2 => w = vec![0.5, 0.5],
                _ => {
                    w[0] = 0.4;
                    w[n - 1] = 0.4;
                    let middle = 0.2 / (n - 2) as f64;
                    w[1..n - 1].iter_mut().for_each(|x| *x = middle);
                }
            },
        }
        w
    }
}

/// A moment a contact met the marketing: `source` names what touched them
/// (`campaign:ID`, `journey:ID`, `utm:SOURCE/MEDIUM/NAME`).
#[derive(Debug, Clone, PartialEq)]
pub struct Touch {
    pub at: i64,
    pub source: String,
}

/// Credit as summed over conversions: fractional conversions and value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Credit {
    pub conversions: f64,
    pub value: f64,
}

impl Credit {
    fn add(&mut self, share: f64, value: f64) {
        self.conversions += share;
        self.value += share * value;
    }
}

/// Credit summed over many conversions, per source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attribution {
    pub by_source: BTreeMap<String, Credit>,
    pub unattributed: Credit,
    pub total: Credit,
}

impl Attribution {
    /// Credit one conversion at `at` worth `value` to the touches of its
    /// contact (`touches`, any order) that lie in the window `[at − window_ms, at]`.
    pub fn add(&mut self, model: &Model, window_ms: i64, touches: &[Touch], at: i64, value: f64) -> Credit {
        self.total.add(1.0, value);
        let mut eligible: Vec<&Touch> = touches.iter().filter(|t| t.at <= at && t.at >= at - window_ms).collect();
        eligible.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.source.cmp(&b.source)));
        let times: Vec<i64> = eligible.iter().map(|t| t.at).collect();
        let shares = model.shares(&times, at);
        if shares.is_empty() {
            self.unattributed.add(1.0, value);
            return Credit::default();
        }
        for (t, s) in eligible.iter().zip(shares) {
            self.by_source.entry(t.source.clone()).or_default().add(s, value);
        }
        Credit { conversions: 1.0, value }
    }
}

/// Return on investment: what was earned beyond the cost, per unit of cost;
/// none when nothing was spent.
pub fn roi(value: f64, cost: f64) -> Option<f64> {
    (cost > 0.0).then(|| (value - cost) / cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn touch(at: i64, source: &str) -> Touch {
        Touch { at, source: source.into() }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn parse_names_and_refuse_others() {
        for n in Model::NAMES {
            assert_eq!(Model::parse(n, None).map(|m| m.name()), Ok(n));
        }
        assert_eq!(Model::parse("time_decay", None), Ok(Model::TimeDecay { half_life_days: 7.0 }));
        assert_eq!(Model::parse("time_decay", Some(0.0)), Err(AttributionError::HalfLife(0.0)));
        assert!(Model::parse("markov", None).unwrap_err().to_string().contains("\"markov\""));
    }

    #[test]
    fn shares_per_model() {
        let t = [0, 2 * DAY, 4 * DAY, 6 * DAY];
        let at = 6 * DAY;
        assert_eq!(Model::FirstTouch.shares(&t, at), vec![1.0, 0.0, 0.0, 0.0]);
        assert_eq!(Model::LastTouch.shares(&t, at), vec![0.0, 0.0, 0.0, 1.0]);
        assert_eq!(Model::Linear.shares(&t, at), vec![0.25; 4]);
        assert_eq!(Model::PositionBased.shares(&t, at), vec![0.4, 0.1, 0.1, 0.4]);
        assert_eq!(Model::PositionBased.shares(&t[..2], at), vec![0.5, 0.5]);
        // Half-life of two days: weights 1/8, 1/4, 1/2, 1 before normalising.
        let d = Model::TimeDecay { half_life_days: 2.0 }.shares(&t, at);
        let sum = 1.0 / 8.0 + 0.25 + 0.5 + 1.0;
        for (got, want) in d.iter().zip([1.0 / 8.0, 0.25, 0.5, 1.0]) {
            assert!(close(*got, want / sum), "{d:?}");
        }
        assert!(Model::Linear.shares(&[], at).is_empty());
    }

    #[test]
    fn every_model_sums_to_one() {
        for n in Model::NAMES {
            let m = Model::parse(n, None).unwrap();
            for k in 1..7 {
                let t: Vec<i64> = (0..k).map(|i| i * DAY).collect();
                let s: f64 = m.shares(&t, k * DAY).iter().sum();
                assert!(close(s, 1.0), "{n} with {k} touches: {s}");
            }
        }
    }

    #[test]
    fn window_and_order_decide_who_is_credited() {
        let mut a = Attribution::default();
        // Out of the 7-day window, after the conversion, and two in it.
        let touches = [
            touch(-10 * DAY, "campaign:old"),
            touch(DAY, "utm:google/cpc/x"),
            touch(-DAY, "campaign:a"),
            touch(-3 * DAY, "journey:j"),
        ];
        let c = a.add(&Model::LastTouch, 7 * DAY, &touches, 0, 80.0);
        assert_eq!(c, Credit { conversions: 1.0, value: 80.0 });
        assert_eq!(a.by_source.get("campaign:a"), Some(&Credit { conversions: 1.0, value: 80.0 }));
        assert_eq!(a.by_source.get("journey:j"), Some(&Credit { conversions: 0.0, value: 0.0 }));
        assert!(!a.by_source.contains_key("campaign:old") && !a.by_source.contains_key("utm:google/cpc/x"));
        // No touch in the window: the conversion stays unattributed.
        a.add(&Model::LastTouch, 7 * DAY, &touches, 30 * DAY, 20.0);
        assert_eq!(a.unattributed, Credit { conversions: 1.0, value: 20.0 });
        assert_eq!(a.total, Credit { conversions: 2.0, value: 100.0 });
        let attributed: f64 = a.by_source.values().map(|c| c.value).sum();
        assert!(close(attributed + a.unattributed.value, a.total.value));
    }

    #[test]
    fn linear_splits_value_and_sources_repeat() {
        let mut a = Attribution::default();
        let touches = [touch(-2, "campaign:a"), touch(-1, "campaign:a"), touch(0, "campaign:b")];
        a.add(&Model::Linear, DAY, &touches, 0, 30.0);
        assert!(close(a.by_source["campaign:a"].value, 20.0));
        assert!(close(a.by_source["campaign:b"].conversions, 1.0 / 3.0));
    }

    #[test]
    fn roi_needs_a_cost() {
        assert_eq!(roi(300.0, 100.0), Some(2.0));
        assert_eq!(roi(50.0, 100.0), Some(-0.5));
        assert_eq!(roi(50.0, 0.0), None);
    }
}
