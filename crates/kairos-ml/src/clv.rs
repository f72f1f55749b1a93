//! Customer lifetime: the BG/NBD model (Fader, Hardie & Lee, 2005) of repeat
//! purchasing. Each customer buys at a Poisson rate λ ~ Gamma(r, α) while
//! alive and may drop out after any purchase with probability p ~ Beta(a, b).
//! Fitted by maximum likelihood on each customer's (x, t_x, T) — repeat
//! purchases, time of the last one, time observed — it gives, per customer,
//! the probability of being alive and the expected purchases in a future
//! period.
//!
//! The optimiser is a small Nelder–Mead over the logarithms of the four
//! parameters (which keeps them positive): four dimensions and a smooth
//! likelihood need nothing heavier, and it keeps this crate dependency-free.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One customer's purchase summary, in a consistent time unit (weeks here).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rfm {
    /// Repeat purchases (transactions after the first) in the period.
    pub x: f64,
    /// Time from the first purchase to the last one.
    pub t_x: f64,
    /// Time from the first purchase to the end of the period.
    pub t: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum FitError {
    #[error("no customers to fit on")]
    Empty,
    #[error("the fit did not converge to finite parameters")]
    Diverged,
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; about 15 significant digits).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Gauss hypergeometric ₂F₁(a, b; c; z) by its series, for |z| < 1.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 0..10_000 {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() < 1e-14 * sum.abs() {
            break;
        }
    }
    sum
}

impl BgNbd {
    /// One customer's log-likelihood.
    pub fn log_likelihood_one(&self, c: &Rfm) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let x = c.x;
        let common = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let t1 = ln_beta(a, b + x) - ln_beta(a, b) - (r + x) * (alpha + c.t).ln();
        if x > 0.0 {
            let t2 = ln_beta(a + 1.0, b + x - 1.0) - ln_beta(a, b) - (r + x) * (alpha + c.t_x).ln();
            let m = t1.max(t2);
            common + m + ((t1 - m).exp() + (t2 - m).exp()).ln()
        } else {
            common + t1
        }
    }

    pub fn log_likelihood(&self, customers: &[Rfm]) -> f64 {
        customers.iter().map(|c| self.log_likelihood_one(c)).sum()
    }

    /// Fit by maximum likelihood.
    pub fn fit(customers: &[Rfm]) -> Result<(BgNbd, f64), FitError> {
        if customers.is_empty() {
            return Err(FitError::Empty);
        }
        let objective = |p: &[f64; 4]| {
            let m = BgNbd { r: p[0].exp(), alpha: p[1].exp(), a: p[2].exp(), b: p[3].exp() };
            let ll = m.log_likelihood(customers);
            if ll.is_finite() {
                -ll
            } else {
                f64::INFINITY
            }
        };
        let best = nelder_mead(objective, [0.0, 0.0, 0.0, 0.0], 0.5, 20_000);
        let m = BgNbd { r: best[0].exp(), alpha: best[1].exp(), a: best[2].exp(), b: best[3].exp() };
        let ll = m.log_likelihood(customers);
        if !ll.is_finite() || ![m.r, m.alpha, m.a, m.b].iter().all(|v| v.is_finite()) {
            return Err(FitError::Diverged);
        }
        Ok((m, ll))
    }

    /// Probability that a customer with this history is still alive at `t`.
    pub fn p_alive(&self, c: &Rfm) -> f64 {
        if c.x == 0.0 {
            return 1.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let ratio = (a / (b + c.x - 1.0)) * ((alpha + c.t) / (alpha + c.t_x)).powf(r + c.x);
        1.0 / (1.0 + ratio)
    }

    /// Expected purchases in the next `horizon` time units.
    pub fn expected_purchases(&self, c: &Rfm, horizon: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let (x, t) = (c.x, c.t);
        let z = horizon / (alpha + t + horizon);
        let head = (a + b + x - 1.0) / (a - 1.0);
        let tail = 1.0 - ((alpha + t) / (alpha + t + horizon)).powf(r + x) * hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        let denominator =
            1.0 + if x > 0.0 { a / (b + x - 1.0) * ((alpha + t) / (alpha + c.t_x)).powf(r + x) } else { 0.0 };
        head * tail / denominator
    }
}

/// Minimise `f` from `start` (Nelder–Mead, standard coefficients).
fn nelder_mead<const N: usize>(f: impl Fn(&[f64; N]) -> f64, start: [f64; N], step: f64, max_iter: usize) -> [f64; N] {
    let mut simplex: Vec<([f64; N], f64)> = Vec::with_capacity(N + 1);
    simplex.push((start, f(&start)));
    for i in 0..N {
        let mut p = start;
        p[i] += step;
        simplex.push((p, f(&p)));
    }
    for _ in 0..max_iter {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[N].1);
        if (worst - best).abs() < 1e-10 * (1.0 + best.abs()) {
            break;
        }
        let mut centroid = [0.0; N];
        for (p, _) in &simplex[..N] {
            for d in 0..N {
                centroid[d] += p[d] / N as f64;
            }
        }
        let along = |k: f64| {
            let mut p = [0.0; N];
            for d in 0..N {
                p[d] = centroid[d] + k * (simplex[N].0[d] - centroid[d]);
            }
            p
        };
        let reflected = along(-1.0);
        let fr = f(&reflected);
        if fr < simplex[0].1 {
            let expanded = along(-2.0);
            let fe = f(&expanded);
            simplex[N] = if fe < fr { (expanded, fe) } else { (reflected, fr) };
        } else if fr < simplex[N - 1].1 {
            simplex[N] = (reflected, fr);
        } else {
            let contracted = if fr < simplex[N].1 { along(-0.5) } else { along(0.5) };
            let fc = f(&contracted);
            if fc < simplex[N].1.min(fr) {
                simplex[N] = (contracted, fc);
            } else {
                // Shrink towards the best point.
                let best = simplex[0].0;
                for (p, v) in simplex.iter_mut().skip(1) {
                    for d in 0..N {
                        p[d] = best[d] + 0.5 * (p[d] - best[d]);
                    }
                    *v = f(p);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex[0].0
}

const DAY_MS: i64 = 86_400_000;

/// A customer's summary from their purchases (`(timestamp ms, value)`,
/// oldest first) as of `now`, in days. Several purchases on one day are one
/// transaction; the first transaction is the acquisition, not a repeat.
pub fn summarize(purchases: &[(i64, f64)], now: i64) -> Option<(Rfm, Spend)> {
    let first = purchases.first()?.0;
    let mut days: Vec<(i64, i64, f64)> = Vec::new(); // (day, last timestamp that day, value)
    for &(ts, v) in purchases {
        let d = ts.div_euclid(DAY_MS);
        match days.last_mut() {
            Some(last) if last.0 == d => {
                last.1 = ts;
                last.2 += v;
            }
            _ => days.push((d, ts, v)),
        }
    }
    let last = days.last()?.1;
    let x = (days.len() - 1) as f64;
    let rfm = Rfm { x, t_x: (last - first) as f64 / DAY_MS as f64, t: (now - first).max(0) as f64 / DAY_MS as f64 };
    let repeat: Vec<f64> = days.iter().skip(1).map(|d| d.2).collect();
    let mean_value = if repeat.is_empty() { 0.0 } else { repeat.iter().sum::<f64>() / repeat.len() as f64 };
    Some((rfm, Spend { x, mean_value }))
}

/// One customer's spend: repeat transactions and their mean value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spend {
    pub x: f64,
    pub mean_value: f64,
}

/// The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee,
/// 2005): values vary around a customer's own mean, which varies across
/// customers. Fitted on customers with at least one repeat transaction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

impl GammaGamma {
    pub fn log_likelihood(&self, customers: &[Spend]) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        customers
            .iter()
            .filter(|c| c.x > 0.0 && c.mean_value > 0.0)
            .map(|c| {
                let (x, z) = (c.x, c.mean_value);
                ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q)
                    + q * gamma.ln()
                    + (p * x - 1.0) * z.ln()
                    + p * x * x.ln()
                    - (p * x + q) * (gamma + x * z).ln()
            })
            .sum()
    }

    pub fn fit(customers: &[Spend]) -> Result<(GammaGamma, f64), FitError> {
        if !customers.iter().any(|c| c.x > 0.0 && c.mean_value > 0.0) {
            return Err(FitError::Empty);
        }
        let objective = |v: &[f64; 3]| {
            let m = GammaGamma { p: v[0].exp(), q: v[1].exp(), gamma: v[2].exp() };
            let ll = m.log_likelihood(customers);
            if ll.is_finite() {
                -ll
            } else {
                f64::INFINITY
            }
        };
        let best = nelder_mead(objective, [0.0, 0.0, 0.0], 0.5, 20_000);
        let m = GammaGamma { p: best[0].exp(), q: best[1].exp(), gamma: best[2].exp() };
        let ll = m.log_likelihood(customers);
        if !ll.is_finite() {
            return Err(FitError::Diverged);
        }
        Ok((m, ll))
    }

    /// Expected value of a customer's future transactions.
    pub fn expected_value(&self, c: &Spend) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        (p * (gamma + c.x * c.mean_value)) / (p * c.x + q - 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_functions() {
        assert!((ln_gamma(1.0)).abs() < 1e-12);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z
        let z = 0.4;
        assert!((hyp2f1(1.0, 1.0, 2.0, z) - (-(1.0f64 - z).ln() / z)).abs() < 1e-12);
    }

    #[test]
    fn recovers_parameters_of_a_simple_surface() {
        let f = |p: &[f64; 4]| (p[0] - 1.0).powi(2) + (p[1] + 2.0).powi(2) + (p[2] - 0.5).powi(2) + p[3].powi(2);
        let m = nelder_mead(f, [0.0; 4], 0.5, 10_000);
        assert!((m[0] - 1.0).abs() < 1e-4 && (m[1] + 2.0).abs() < 1e-4, "{m:?}");
    }
}
