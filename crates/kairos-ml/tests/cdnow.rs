//! BG/NBD validated on the real CDNOW sample (2,357 customers): calibrate on
//! weeks 1–39 (1997-01-01 to 1997-09-30), forecast weeks 40–78, compare with
//! what those customers actually bought. The fitted parameters must match
//! the published ones (Fader, Hardie & Lee 2005: r = 0.243, α = 4.414,
//! a = 0.793, b = 2.426, log-likelihood −9,582.4) and the forecast must track
//! the hold-out. Prints the figures recorded in `bench/RESULTS.md`.

use chrono::NaiveDate;
use kairos_ml::clv::{BgNbd, GammaGamma, Rfm, Spend};
use std::collections::{BTreeMap, BTreeSet};

const CAL_END: i64 = 273; // days from 1997-01-01 to 1997-10-01
const HOLD_END: i64 = 546; // to 1998-07-01

fn load() -> Vec<(Rfm, f64)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/CDNOW_sample.txt"))
        .expect("the CDNOW sample is in tests/data");
    let epoch = NaiveDate::from_ymd_opt(1997, 1, 1).unwrap();
    let mut days: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let date = NaiveDate::parse_from_str(cols[2], "%Y%m%d").expect("a date");
        days.entry(cols[1].to_string()).or_default().insert((date - epoch).num_days());
    }
    days.values()
        .map(|d| {
            let first = *d.iter().next().unwrap();
            let cal: Vec<i64> = d.iter().copied().filter(|&x| x < CAL_END).collect();
            let hold = d.iter().filter(|&&x| (CAL_END..HOLD_END).contains(&x)).count() as f64;
            let last = *cal.last().unwrap();
            let rfm = Rfm {
                x: (cal.len() - 1) as f64,
                t_x: (last - first) as f64 / 7.0,
                // As in the published analysis: T runs to 1997-09-30 (a
                // customer who first bought on 1 January has T = 38.86).
                t: (CAL_END - 1 - first) as f64 / 7.0,
            };
            (rfm, hold)
        })
        .collect()
}

#[test]
fn bg_nbd_on_cdnow_matches_the_published_fit_and_forecasts_the_hold_out() {
    let data = load();
    assert_eq!(data.len(), 2357);
    let customers: Vec<Rfm> = data.iter().map(|(c, _)| *c).collect();
    let (m, ll) = BgNbd::fit(&customers).unwrap();
    println!("BG/NBD on CDNOW (2,357 customers, weeks 1-39): r = {:.4}, alpha = {:.4}, a = {:.4}, b = {:.4}, log-likelihood = {:.2}",
        m.r, m.alpha, m.a, m.b, ll);
    assert!((m.r - 0.243).abs() < 0.005, "r = {}", m.r);
    assert!((m.alpha - 4.414).abs() < 0.1, "alpha = {}", m.alpha);
    assert!((m.a - 0.793).abs() < 0.02, "a = {}", m.a);
    assert!((m.b - 2.426).abs() < 0.1, "b = {}", m.b);
    assert!((ll - -9582.4).abs() < 1.0, "log-likelihood = {ll}");

    // Forecast the 39 hold-out weeks, customer by customer.
    let predicted: Vec<f64> = customers.iter().map(|c| m.expected_purchases(c, 39.0)).collect();
    let total_pred: f64 = predicted.iter().sum();
    let total_actual: f64 = data.iter().map(|(_, h)| h).sum();
    println!(
        "hold-out weeks 40-78: predicted {total_pred:.1} transactions, actual {total_actual:.0} ({:+.1}%)",
        (total_pred / total_actual - 1.0) * 100.0
    );
    assert!((total_pred / total_actual - 1.0).abs() < 0.15, "forecast {total_pred} vs actual {total_actual}");
    // Conditional expectations by calibration frequency track the actuals
    // (the paper's Figure 4): compare the groups with at least 20 customers.
    for x in 0..=6 {
        let group: Vec<usize> = (0..data.len()).filter(|&i| customers[i].x == x as f64).collect();
        if group.len() < 20 {
            continue;
        }
        let p = group.iter().map(|&i| predicted[i]).sum::<f64>() / group.len() as f64;
        let a = group.iter().map(|&i| data[i].1).sum::<f64>() / group.len() as f64;
        println!("  x = {x}: {} customers, predicted {p:.2}, actual {a:.2}", group.len());
        assert!((p - a).abs() < 0.35 * a.max(0.5), "x = {x}: predicted {p}, actual {a}");
    }
    // P(alive) is 1 with no repeat purchase and falls with long silence.
    assert_eq!(m.p_alive(&Rfm { x: 0.0, t_x: 0.0, t: 30.0 }), 1.0);
    let recent = m.p_alive(&Rfm { x: 4.0, t_x: 30.0, t: 32.0 });
    let lapsed = m.p_alive(&Rfm { x: 4.0, t_x: 5.0, t: 32.0 });
    assert!(recent > 0.8 && lapsed < 0.1, "{recent} {lapsed}");
}

#[test]
fn gamma_gamma_on_cdnow_matches_the_published_fit() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/CDNOW_sample.txt")).unwrap();
    let epoch = NaiveDate::from_ymd_opt(1997, 1, 1).unwrap();
    // Spend per customer per day (one transaction a day), calibration only.
    let mut spend: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let day = (NaiveDate::parse_from_str(cols[2], "%Y%m%d").unwrap() - epoch).num_days();
        if day < CAL_END {
            *spend.entry(cols[1].to_string()).or_default().entry(day).or_default() += cols[4].parse::<f64>().unwrap();
        }
    }
    // Repeat transactions only: the first day is the acquisition purchase.
    let customers: Vec<Spend> = spend
        .values()
        .filter(|days| days.len() > 1)
        .map(|days| {
            let repeat: Vec<f64> = days.values().skip(1).copied().collect();
            Spend { x: repeat.len() as f64, mean_value: repeat.iter().sum::<f64>() / repeat.len() as f64 }
        })
        .collect();
    let (m, ll) = GammaGamma::fit(&customers).unwrap();
    println!(
        "Gamma-Gamma on CDNOW ({} repeat buyers): p = {:.3}, q = {:.3}, gamma = {:.3}, log-likelihood = {ll:.2}",
        customers.len(),
        m.p,
        m.q,
        m.gamma
    );
    // lifetimes' documented fit of the same data: p = 6.25, q = 3.74, v = 15.44.
    assert_eq!(customers.len(), 946);
    assert!((m.p - 6.25).abs() < 0.1 && (m.q - 3.74).abs() < 0.1 && (m.gamma - 15.44).abs() < 0.5, "{m:?}");
    let mean_spend = customers.iter().map(|c| c.mean_value).sum::<f64>() / customers.len() as f64;
    let modelled = customers.iter().map(|c| m.expected_value(c)).sum::<f64>() / customers.len() as f64;
    println!("mean observed spend per repeat transaction {mean_spend:.2}, mean expected {modelled:.2}");
    assert!((modelled / mean_spend - 1.0).abs() < 0.05);
}
