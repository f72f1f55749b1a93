//! Conversion scoring against scikit-learn, on identical data in one run.
//!
//! Generates `--contacts` synthetic contacts (default 250,000) with the
//! documented generator in `kairos_ml::synthetic`, splits them by signup day
//! (days 0–291 train, 292–364 test: a time-based hold-out of about 20%),
//! leaves out the sensitive columns (gender, age band), and trains Kairos's
//! logistic regression, timing the fastest of `--repeat` fits (default 3)
//! for each thread count in `--threads` (default "1,2"). Then writes the same
//! rows to a temporary CSV and runs `predict_sklearn.py` beside this
//! package, which trains scikit-learn's LogisticRegression (lbfgs, C = 1,
//! mean imputation with missing indicators and StandardScaler) and
//! HistGradientBoostingClassifier on them, and checks Kairos's hold-out AUC
//! and log loss with scikit-learn's own functions. Prints a table and
//! whether the targets are met: hold-out AUC within 0.005 of scikit-learn's
//! best, and Kairos training faster than scikit-learn's LogisticRegression.
//!
//! Needs `python3` with scikit-learn and pandas
//! (`python3 -m pip install scikit-learn==1.9.1 pandas`).

use kairos_ml::conversion::{fit, FitOptions};
use kairos_ml::metrics::{auc, Metrics};
use kairos_ml::synthetic::{self, Contact, FEATURES, SENSITIVE_FEATURES};
use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

/// Contacts who signed up before this day train the model.
const SPLIT_DAY: u32 = 292;

struct Args {
    contacts: usize,
    seed: u64,
    threads: Vec<usize>,
    repeat: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args { contacts: 250_000, seed: 7, threads: vec![1, 2], repeat: 3 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: std::num::ParseIntError| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--contacts" => a.contacts = value.parse().map_err(bad)?,
            "--seed" => a.seed = value.parse().map_err(bad)?,
            "--repeat" => a.repeat = value.parse::<usize>().map_err(bad)?.max(1),
            "--threads" => {
                a.threads =
                    value.split(',').map(|t| t.trim().parse::<usize>().map_err(bad)).collect::<Result<_, _>>()?
            }
            _ => return Err(format!("unknown flag {flag} (--contacts N --seed S --threads 1,2 --repeat R)")),
        }
    }
    Ok(a)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("predict: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args = args()?;
    let started = Instant::now();
    let contacts = synthetic::contacts(args.contacts, args.seed);
    let generated = started.elapsed();
    let (train, test): (Vec<Contact>, Vec<Contact>) = contacts.into_iter().partition(|c| c.signup_day < SPLIT_DAY);
    let (train_set, test_set) = (synthetic::training_set(&train), synthetic::training_set(&test));
    let sensitive: Vec<String> = SENSITIVE_FEATURES.iter().map(|s| s.to_string()).collect();
    let rate = train.iter().chain(&test).filter(|c| c.converted).count() as f64 / args.contacts as f64;
    println!(
        "{} synthetic contacts (seed {}, generated in {:.2} s), split by signup day: {} train / {} test, {:.1}% converted",
        args.contacts,
        args.seed,
        generated.as_secs_f64(),
        train.len(),
        test.len(),
        100.0 * rate
    );

    let mut kairos = Vec::new();
    let mut model = None;
    for &threads in &args.threads {
        let options = FitOptions { sensitive_features: sensitive.clone(), threads, ..FitOptions::default() };
        let mut best = f64::INFINITY;
        for _ in 0..args.repeat {
            let t = Instant::now();
            let m = fit(&train_set, &options).map_err(|e| format!("Kairos could not train: {e}"))?;
            best = best.min(t.elapsed().as_secs_f64());
            model = Some(m);
        }
        kairos.push((threads, best));
    }
    let model = model.ok_or("no thread count given")?;
    let scores = model.score_set(&test_set).map_err(|e| e.to_string())?;
    let metrics = Metrics::evaluate(&scores, test_set.labels()).map_err(|e| e.to_string())?;
    let truth: Vec<f64> = test.iter().map(|c| c.probability).collect();
    let ceiling = Metrics::evaluate(&truth, test_set.labels()).map_err(|e| e.to_string())?;

    let dir = std::env::temp_dir().join(format!("kairos-bench-ml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let data_path = dir.join("data.csv");
    let scores_path = dir.join("kairos_scores.csv");
    write_data(&data_path, &train, &test)?;
    let scores_csv: String = scores.iter().fold(String::new(), |mut s, p| {
        let _ = writeln!(s, "{p}");
        s
    });
    std::fs::write(&scores_path, scores_csv).map_err(|e| format!("{}: {e}", scores_path.display()))?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/predict_sklearn.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(&data_path)
        .arg(&scores_path)
        .arg(args.repeat.to_string())
        .output()
        .map_err(|e| format!("cannot run python3: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    let output = output?;
    if !output.status.success() {
        return Err(format!(
            "{script} failed (python3 -m pip install scikit-learn==1.9.1 pandas):\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let sk: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("{script} printed no JSON: {e}"))?;
    let num = |path: &[&str]| -> Result<f64, String> {
        path.iter()
            .try_fold(&sk, |v, k| v.get(k))
            .and_then(|v| v.as_f64())
            .ok_or(format!("{script} did not report {}", path.join(".")))
    };
    let (lr_auc, lr_ll, lr_s) = (
        num(&["logistic_regression", "auc"])?,
        num(&["logistic_regression", "log_loss"])?,
        num(&["logistic_regression", "train_seconds"])?,
    );
    let (hgb_auc, hgb_ll, hgb_s) = (
        num(&["hist_gradient_boosting", "auc"])?,
        num(&["hist_gradient_boosting", "log_loss"])?,
        num(&["hist_gradient_boosting", "train_seconds"])?,
    );

    println!();
    println!("| model | hold-out AUC | log loss | training (fastest of {}) |", args.repeat);
    println!("|---|---|---|---|");
    for (threads, seconds) in &kairos {
        println!(
            "| Kairos logistic regression, {threads} thread{} ({} Newton iterations) | {:.5} | {:.5} | {:.3} s |",
            if *threads == 1 { "" } else { "s" },
            model.training.iterations,
            metrics.auc,
            metrics.log_loss,
            seconds
        );
    }
    println!(
        "| scikit-learn {} LogisticRegression (lbfgs, {} iterations) | {lr_auc:.5} | {lr_ll:.5} | {lr_s:.3} s |",
        sk.get("sklearn").and_then(|v| v.as_str()).unwrap_or("?"),
        num(&["logistic_regression", "iterations"])?
    );
    println!(
        "| scikit-learn HistGradientBoostingClassifier ({} trees) | {hgb_auc:.5} | {hgb_ll:.5} | {hgb_s:.3} s |",
        num(&["hist_gradient_boosting", "iterations"])?
    );
    let pools: Vec<&str> = sk
        .get("threadpools")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|p| p.as_str()).collect())
        .unwrap_or_default();
    println!("| the planted probability (the ceiling) | {:.5} | {:.5} | — |", ceiling.auc, ceiling.log_loss);
    let best_single = (0..FEATURES.len() - SENSITIVE_FEATURES.len())
        .map(|j| {
            let v: Vec<f64> = test_set.rows().map(|r| if r[j].is_nan() { f64::NEG_INFINITY } else { r[j] }).collect();
            let a = auc(&v, test_set.labels()).unwrap_or(0.5);
            (a.max(1.0 - a), FEATURES[j])
        })
        .fold((0.0, ""), |a, b| if b.0 > a.0 { b } else { a });
    println!("| baseline: ranking by {} alone | {:.5} | — | — |", best_single.1, best_single.0);
    println!();
    println!(
        "scikit-learn's thread pools: {}",
        if pools.is_empty() { "none reported".to_string() } else { pools.join(", ") }
    );
    println!(
        "Kairos hold-out: lift at the top decile {:.2} ({:.1}% vs {:.1}%), Brier {:.4}, calibration error {:.4}",
        metrics.lift_top_decile,
        100.0 * metrics.top_decile_rate,
        100.0 * metrics.base_rate,
        metrics.brier,
        metrics.calibration_error
    );
    println!(
        "Kairos's AUC and log loss recomputed by scikit-learn: {:.6} and {:.6} (Kairos: {:.6} and {:.6})",
        num(&["kairos_checked", "auc"])?,
        num(&["kairos_checked", "log_loss"])?,
        metrics.auc,
        metrics.log_loss
    );

    let best_sk = lr_auc.max(hgb_auc);
    let gap = best_sk - metrics.auc;
    let fastest = kairos.iter().map(|k| k.1).fold(f64::INFINITY, f64::min);
    let single = kairos.iter().find(|k| k.0 == 1).map(|k| k.1);
    println!();
    println!(
        "target: AUC within 0.005 of scikit-learn's best ({best_sk:.5}): {} (Kairos is {:.5} {})",
        if gap <= 0.005 { "met" } else { "NOT met" },
        gap.abs(),
        if gap > 0.0 { "below" } else { "above" }
    );
    println!(
        "target: training faster than scikit-learn's LogisticRegression ({lr_s:.3} s): {} (Kairos {fastest:.3} s, {:.1}x faster{})",
        if fastest < lr_s { "met" } else { "NOT met" },
        lr_s / fastest,
        single.map_or(String::new(), |s| format!("; on one thread {s:.3} s, {:.1}x", lr_s / s))
    );
    Ok(())
}

/// The train and test rows with their split and label, sensitive columns
/// left out (the model never sees them), missing values as empty fields.
fn write_data(path: &std::path::Path, train: &[Contact], test: &[Contact]) -> Result<(), String> {
    let used = FEATURES.len() - SENSITIVE_FEATURES.len();
    let mut out = String::with_capacity((train.len() + test.len()) * 100);
    out.push_str("split,converted");
    for f in &FEATURES[..used] {
        out.push(',');
        out.push_str(f);
    }
    out.push('\n');
    for (split, rows) in [("train", train), ("test", test)] {
        for c in rows {
            let _ = write!(out, "{split},{}", u8::from(c.converted));
            for v in &c.features()[..used] {
                if v.is_nan() {
                    out.push(',');
                } else {
                    let _ = write!(out, ",{v}");
                }
            }
            out.push('\n');
        }
    }
    std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
}
