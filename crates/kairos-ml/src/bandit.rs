//! A/B/n tests that shift traffic by themselves: Thompson sampling over
//! Beta posteriors of each variant's conversion rate. Each send draws a
//! rate from every variant's posterior and goes to the highest draw, so
//! traffic moves to the better variants as evidence accumulates; a winner is
//! declared once the probability that it is best reaches the stated level.

use rand::Rng;
use serde::Serialize;

/// What a variant has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Arm {
    pub trials: u64,
    pub successes: u64,
}

/// Standard normal by Box–Muller.
pub(crate) fn normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Gamma(shape, 1) by Marsaglia and Tsang.
pub(crate) fn gamma(rng: &mut impl Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u: f64 = rng.gen_range(f64::EPSILON..1.0);
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = rng.gen_range(f64::EPSILON..1.0);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// A draw from Beta(a, b).
pub fn beta(rng: &mut impl Rng, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    x / (x + y)
}

/// The posterior of an arm under a uniform Beta(1, 1) prior.
fn posterior(arm: &Arm) -> (f64, f64) {
    (1.0 + arm.successes as f64, 1.0 + arm.trials.saturating_sub(arm.successes) as f64)
}

/// Which variant the next send goes to.
pub fn choose(arms: &[Arm], rng: &mut impl Rng) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, arm) in arms.iter().enumerate() {
        let (a, b) = posterior(arm);
        let draw = beta(rng, a, b);
        if draw > best.1 {
            best = (i, draw);
        }
    }
    best.0
}

/// The probability that each variant is the best, by Monte Carlo.
pub fn probability_best(arms: &[Arm], draws: usize, rng: &mut impl Rng) -> Vec<f64> {
    let mut wins = vec![0usize; arms.len()];
    for _ in 0..draws {
        wins[choose(arms, rng)] += 1;
    }
    wins.into_iter().map(|w| w as f64 / draws as f64).collect()
}

/// The winner, if one variant is best with at least `level` probability.
pub fn winner(arms: &[Arm], level: f64, rng: &mut impl Rng) -> Option<(usize, f64)> {
    let p = probability_best(arms, 20_000, rng);
    p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).filter(|(_, &q)| q >= level).map(|(i, &q)| (i, q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn beta_draws_have_the_right_mean() {
        let mut rng = StdRng::seed_from_u64(1);
        let n = 20_000;
        let mean = (0..n).map(|_| beta(&mut rng, 3.0, 7.0)).sum::<f64>() / n as f64;
        assert!((mean - 0.3).abs() < 0.01, "{mean}");
        let small = (0..n).map(|_| beta(&mut rng, 0.5, 0.5)).sum::<f64>() / n as f64;
        assert!((small - 0.5).abs() < 0.02, "{small}");
    }

    #[test]
    fn traffic_shifts_to_the_better_variant_and_a_winner_is_declared() {
        let mut rng = StdRng::seed_from_u64(7);
        let rates = [0.04, 0.06, 0.10];
        let mut arms = [Arm::default(); 3];
        for _ in 0..6_000 {
            let i = choose(&arms, &mut rng);
            arms[i].trials += 1;
            if rng.gen::<f64>() < rates[i] {
                arms[i].successes += 1;
            }
        }
        // Most traffic went to the best variant, yet every variant was tried.
        assert!(arms[2].trials > 3_500, "{arms:?}");
        assert!(arms.iter().all(|a| a.trials > 50), "{arms:?}");
        let (w, p) = winner(&arms, 0.95, &mut rng).expect("a winner at 95%");
        assert_eq!(w, 2);
        assert!(p >= 0.95);
        // With no evidence there is no winner.
        assert_eq!(winner(&[Arm::default(); 3], 0.95, &mut rng), None);
    }
}
