//! The fairness audit checked number for number against fairlearn, an
//! independent implementation: `fairness_reference.py` computes fairlearn's
//! figures for `fixtures/fairness.csv` and every one must match Kairos's to
//! 1e-12. Needs python3 with fairlearn; without it the test fails (in CI and
//! locally) and says what to install.

use kairos_ml::fairness::{audit_decisions, audit_scores};
use serde_json::Value;
use std::process::Command;

const INSTALL: &str = "python3 -m pip install fairlearn==0.15.0 scikit-learn==1.9.1";

fn close(kairos: f64, fairlearn: &Value, what: &str) {
    let reference = fairlearn.as_f64().unwrap_or_else(|| panic!("fairlearn gave no number for {what}: {fairlearn}"));
    assert!((kairos - reference).abs() <= 1e-12, "{what}: Kairos {kairos}, fairlearn {reference}");
}

#[test]
fn fairness_figures_match_fairlearn_on_the_fixture() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let fixture = format!("{dir}/tests/fixtures/fairness.csv");
    let output = Command::new("python3")
        .arg(format!("{dir}/tests/fairness_reference.py"))
        .arg(&fixture)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); install Python 3 and then: {INSTALL}"));
    assert!(
        output.status.success(),
        "the fairlearn reference failed; install it with: {INSTALL}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reference: Value = serde_json::from_slice(&output.stdout).expect("the reference prints JSON");

    let text = std::fs::read_to_string(&fixture).expect("the fixture is in tests/fixtures");
    let (mut labels, mut decisions, mut groups) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        labels.push(cols[0] == "1");
        decisions.push(cols[1] == "1");
        groups.push(cols[2].to_string());
    }
    let report = audit_decisions(&decisions, &labels, &groups).unwrap();

    let by_group = reference["groups"].as_object().expect("per-group figures");
    assert_eq!(report.groups.len(), by_group.len());
    for g in &report.groups {
        let r = &by_group[&g.group];
        close(g.count as f64, &r["count"], &format!("{} count", g.group));
        close(g.selection_rate, &r["selection_rate"], &format!("{} selection rate", g.group));
        close(g.true_positive_rate.expect("defined"), &r["true_positive_rate"], &format!("{} TPR", g.group));
        close(g.false_positive_rate.expect("defined"), &r["false_positive_rate"], &format!("{} FPR", g.group));
    }
    close(report.demographic_parity_difference, &reference["demographic_parity_difference"], "DP difference");
    close(report.demographic_parity_ratio.expect("defined"), &reference["demographic_parity_ratio"], "DP ratio");
    close(
        report.equalized_odds_difference.expect("defined"),
        &reference["equalized_odds_difference"],
        "equalised odds difference",
    );
    // The fixture's ratio is 0.59: the four-fifths rule is broken, and the
    // warning names the most-selected group and those below 80% of it.
    assert!(report.four_fifths_violated);
    let warning = report.warning.as_deref().unwrap_or_default();
    assert!(warning.contains("\"male\"") && warning.contains("\"undisclosed\""), "{warning}");

    // The same decisions given as scores and a threshold audit the same.
    let scores: Vec<f64> = decisions.iter().map(|&d| if d { 0.7 } else { 0.2 }).collect();
    let from_scores = audit_scores(&scores, 0.5, &labels, &groups).unwrap();
    assert_eq!(from_scores.groups, report.groups);
    assert_eq!(from_scores.threshold, Some(0.5));
}
