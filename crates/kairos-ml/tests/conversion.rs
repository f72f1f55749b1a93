//! Known-answer and bad-input tests of the conversion model, on contacts
//! from the documented generator in `kairos_ml::synthetic` (planted effects
//! listed there).

use kairos_ml::conversion::{fit, ColumnKind, DropReason, FitOptions, ScoreError, TrainingError, TrainingSet};
use kairos_ml::fairness::audit_scores;
use kairos_ml::metrics::{auc, Metrics};
use kairos_ml::synthetic::{self, Contact, FEATURES, PLANTED, PLANTED_INTERCEPT, SENSITIVE_FEATURES};
use proptest::prelude::*;

fn options() -> FitOptions {
    FitOptions { sensitive_features: SENSITIVE_FEATURES.iter().map(|s| s.to_string()).collect(), ..Default::default() }
}

/// 60,000 contacts: those who signed up before day 292 train (about
/// 48,000), the rest are the time-based hold-out.
fn split() -> (Vec<Contact>, Vec<Contact>) {
    synthetic::contacts(60_000, 11).into_iter().partition(|c| c.signup_day < 292)
}

#[test]
fn the_generator_documents_its_columns() {
    let planted: Vec<&str> = PLANTED.iter().map(|p| p.0).collect();
    assert_eq!(planted, FEATURES[..PLANTED.len()]);
    assert_eq!(SENSITIVE_FEATURES, FEATURES[PLANTED.len()..]);
    assert_eq!(synthetic::contacts(50, 3), synthetic::contacts(50, 3), "same seed, same contacts");
}

#[test]
fn learns_the_planted_effects_and_beats_the_baselines() {
    let (train, test) = split();
    let (train_set, test_set) = (synthetic::training_set(&train), synthetic::training_set(&test));
    let model = fit(&train_set, &options()).unwrap();

    // Every planted effect: the right sign and within 25% of its size;
    // effects planted at 0 within three standard errors of 0.
    for (name, planted) in PLANTED {
        let (_, got) = model.coefficient(name).unwrap_or_else(|| panic!("{name} is in the model"));
        let se = model.columns.iter().find(|c| c.name == name).unwrap().standard_error_original;
        if planted == 0.0 {
            assert!(got.abs() < 3.0 * se, "{name}: planted 0, learned {got:.4} (standard error {se:.4})");
        } else {
            assert!(
                got.signum() == planted.signum() && (got - planted).abs() <= 0.25 * planted.abs(),
                "{name}: planted {planted}, learned {got:.4}"
            );
        }
    }
    assert!((model.intercept_original - PLANTED_INTERCEPT).abs() < 0.3, "intercept {}", model.intercept_original);
    // Sensitive attributes left out and said so; the unknown company sizes
    // got their indicator.
    for s in SENSITIVE_FEATURES {
        assert!(model.dropped.iter().any(|d| d.feature == s && d.reason == DropReason::Sensitive), "{s}");
        assert!(model.columns.iter().all(|c| c.name != s));
    }
    assert!(model
        .columns
        .iter()
        .any(|c| c.name == "log10_employees (missing)" && c.kind == ColumnKind::MissingIndicator));

    // The hold-out: better than the best single feature by a clear margin
    // (both computed here, on this hold-out), close to the planted
    // probability, which no model can beat on average.
    let scores = model.score_set(&test_set).unwrap();
    let m = Metrics::evaluate(&scores, test_set.labels()).unwrap();
    let best_single = (0..PLANTED.len())
        .map(|j| {
            let v: Vec<f64> = test_set.rows().map(|r| if r[j].is_nan() { f64::NEG_INFINITY } else { r[j] }).collect();
            let a = auc(&v, test_set.labels()).unwrap();
            a.max(1.0 - a)
        })
        .fold(0.5, f64::max);
    let truth: Vec<f64> = test.iter().map(|c| c.probability).collect();
    let ceiling = auc(&truth, test_set.labels()).unwrap();
    println!("hold-out AUC {:.4}; best single feature {best_single:.4}; planted probability {ceiling:.4}", m.auc);
    assert!(m.auc > best_single + 0.05, "AUC {:.4} vs the best single feature {best_single:.4}", m.auc);
    assert!(m.auc > ceiling - 0.01, "AUC {:.4} vs the planted probability {ceiling:.4}", m.auc);
    assert!(m.lift_top_decile > 3.0, "lift {}", m.lift_top_decile);
    assert!(m.calibration_error < 0.02, "calibration error {}", m.calibration_error);
    assert_eq!(m.calibration.iter().map(|b| b.count).sum::<usize>(), test.len());

    // Stored and read back, it scores the same. (serde_json without its
    // float_roundtrip feature may read a float back one bit off, so the
    // scores are compared to 1e-12 rather than for identity.)
    let json = serde_json::to_string(&model).unwrap();
    let back: kairos_ml::conversion::ConversionModel = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (&back.features, &back.dropped, back.columns.len()),
        (&model.features, &model.dropped, model.columns.len())
    );
    assert_eq!(back.validate(), Ok(()));
    // A tampered copy is refused, not a panic.
    let mut broken = back.clone();
    broken.columns[0].feature = 99;
    assert!(matches!(broken.validate(), Err(ScoreError::InvalidModel(_))));
    assert!(matches!(broken.score(test_set.row(0)), Err(ScoreError::InvalidModel(_))));
    let mut future = back.clone();
    future.format += 1;
    assert!(future.validate().unwrap_err().to_string().contains("layout version"));
    for (a, b) in back.score_set(&test_set).unwrap().iter().zip(&scores) {
        assert!((a - b).abs() < 1e-12);
    }

    // A score is explained exactly: the contributions of all features add up
    // to the logit; the top ones come first.
    let row = test_set.row(0);
    let all = model.explain(row, usize::MAX).unwrap();
    let sum: f64 = all.contributions.iter().map(|c| c.contribution).sum();
    assert!((all.baseline_logit + sum - all.logit).abs() < 1e-9);
    assert!((all.probability - model.score(row).unwrap()).abs() < 1e-15);
    let top = model.explain(row, 3).unwrap();
    assert_eq!(top.contributions.len(), 3);
    assert!(top.contributions.windows(2).all(|w| w[0].contribution.abs() >= w[1].contribution.abs()));
    // A demo request is a planted +1.2: for a contact who asked for one it
    // is among the top reasons, with a positive sign.
    let demo = test.iter().position(|c| c.demo_requested).unwrap();
    let why = model.explain(test_set.row(demo), 5).unwrap();
    let part = why.contributions.iter().find(|c| c.feature == "demo_requested").expect("demo among the top 5");
    assert!(part.contribution > 0.5 && part.value == Some(1.0), "{part:?}");

    // Two threads find the same optimum.
    let parallel = fit(&train_set, &FitOptions { threads: 2, ..options() }).unwrap();
    for (a, b) in parallel.columns.iter().zip(&model.columns) {
        assert!((a.coefficient - b.coefficient).abs() < 1e-6, "{}: {} vs {}", a.name, a.coefficient, b.coefficient);
    }
}

#[test]
fn an_audit_of_the_top_decile_finds_the_planted_age_gap() {
    // Age is never a feature, but the share of visits from a phone falls
    // with age and lowers conversion: selecting the top 10% by score picks
    // older contacts more often. Gender is independent of everything.
    let (train, test) = split();
    let model = fit(&synthetic::training_set(&train), &options()).unwrap();
    let scores = model.score_set(&synthetic::training_set(&test)).unwrap();
    let mut sorted = scores.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let threshold = sorted[sorted.len() / 10];
    let labels: Vec<bool> = test.iter().map(|c| c.converted).collect();
    let ages: Vec<&str> = test.iter().map(|c| c.age_band).collect();
    let by_age = audit_scores(&scores, threshold, &labels, &ages).unwrap();
    assert!(by_age.four_fifths_violated, "{by_age:?}");
    assert!(by_age.warning.as_deref().unwrap_or_default().contains("\"18-24\""), "{:?}", by_age.warning);
    let genders: Vec<&str> = test.iter().map(|c| c.gender).collect();
    let by_gender = audit_scores(&scores, threshold, &labels, &genders).unwrap();
    assert!(by_gender.demographic_parity_ratio.unwrap() > 0.8, "{by_gender:?}");

    // Allowed explicitly, the sensitive columns are used.
    let allowed =
        fit(&synthetic::training_set(&train), &FitOptions { allow_sensitive_features: true, ..options() }).unwrap();
    assert!(allowed.columns.iter().any(|c| c.name == "age_18_24"));
}

/// A small set: `positives` conversions and `negatives` non-conversions on
/// one informative feature.
fn small(positives: usize, negatives: usize) -> TrainingSet {
    let mut set = TrainingSet::new(vec!["visits".to_string(), "opens".to_string()]).unwrap();
    for i in 0..positives {
        set.push(&[3.0 + (i % 5) as f64, (i % 3) as f64], true).unwrap();
    }
    for i in 0..negatives {
        set.push(&[(i % 7) as f64, (i % 4) as f64], false).unwrap();
    }
    set
}

#[test]
fn too_few_conversions_are_refused_with_the_counts() {
    let err = fit(&small(30, 500), &FitOptions::default()).unwrap_err();
    assert_eq!(err, TrainingError::TooFewConversions { found: 30, needed: 50 });
    let message = err.to_string();
    assert!(message.contains("only 30 conversions") && message.contains("at least 50"), "{message}");
    let err = fit(&small(500, 12), &FitOptions::default()).unwrap_err();
    assert_eq!(err, TrainingError::TooFewNonConversions { found: 12, needed: 50 });
    // The minimum is the caller's to set.
    assert!(fit(&small(30, 500), &FitOptions { min_class_count: 25, ..Default::default() }).is_ok());
}

#[test]
fn constant_and_missing_features_are_handled() {
    let names = ["visits", "always_one", "never_known", "trial_if_known", "opens"].map(String::from).to_vec();
    let mut set = TrainingSet::new(names).unwrap();
    for i in 0..600 {
        let converted = i % 4 == 0;
        let visits = if i % 10 == 3 { f64::NAN } else { (i % 9) as f64 + if converted { 3.0 } else { 0.0 } };
        // Known mostly for converters: the value is constant, whether it is
        // known is informative.
        let trial = if converted || i % 5 == 1 { 1.0 } else { f64::NAN };
        set.push(&[visits, 1.0, f64::NAN, trial, (i % 5) as f64], converted).unwrap();
    }
    let model = fit(&set, &FitOptions::default()).unwrap();
    let reason = |f: &str| model.dropped.iter().find(|d| d.feature == f).map(|d| d.reason.clone());
    assert_eq!(reason("always_one"), Some(DropReason::Constant { value: 1.0 }));
    assert_eq!(reason("never_known"), Some(DropReason::AllMissing));
    assert_eq!(reason("trial_if_known"), Some(DropReason::ConstantWherePresent { value: 1.0 }));
    let names: Vec<&str> = model.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["visits", "visits (missing)", "trial_if_known (missing)", "opens"]);

    // A missing value scores as the training mean plus the missing
    // indicator's effect; a feature never missing in training is simply
    // imputed with its mean.
    let visits = &model.columns[0];
    let with_mean = model.logit(&[visits.mean, 1.0, 0.0, 1.0, 2.0]).unwrap();
    let missing = model.logit(&[f64::NAN, 1.0, 0.0, 1.0, 2.0]).unwrap();
    let indicator = &model.columns[1];
    let shift = indicator.coefficient * (1.0 - indicator.mean) / indicator.scale
        - indicator.coefficient * (0.0 - indicator.mean) / indicator.scale;
    assert!((missing - with_mean - shift).abs() < 1e-12);
    let opens_mean = model.columns[3].mean;
    let a = model.score(&[2.0, 1.0, 0.0, 1.0, f64::NAN]).unwrap();
    let b = model.score(&[2.0, 1.0, 0.0, 1.0, opens_mean]).unwrap();
    assert!((a - b).abs() < 1e-15);

    // Nothing usable left: the reasons are in the error.
    let mut useless = TrainingSet::new(vec!["flat".to_string(), "gender".to_string()]).unwrap();
    for i in 0..200 {
        useless.push(&[5.0, (i % 2) as f64], i % 2 == 0).unwrap();
    }
    let err = fit(&useless, &FitOptions { sensitive_features: vec!["gender".to_string()], ..Default::default() })
        .unwrap_err();
    assert!(matches!(err, TrainingError::NoUsableFeatures { .. }));
    assert!(err.to_string().contains("flat (always 5)") && err.to_string().contains("gender (sensitive"), "{err}");
}

#[test]
fn non_finite_values_and_failed_fits_give_clear_errors() {
    let mut set = small(100, 100);
    set.push(&[f64::INFINITY, 1.0], true).unwrap();
    let err = fit(&set, &FitOptions::default()).unwrap_err();
    assert_eq!(err, TrainingError::NonFinite { feature: "visits".to_string(), row: 200, value: f64::INFINITY });
    assert!(err.to_string().contains("\"visits\" is inf in row 200"), "{err}");

    let model = fit(&small(100, 100), &FitOptions::default()).unwrap();
    assert!(matches!(model.score(&[f64::NEG_INFINITY, 0.0]), Err(ScoreError::NonFinite { .. })));
    assert_eq!(model.score(&[1.0]), Err(ScoreError::RowLength { len: 1, expected: 2 }));
    let other = TrainingSet::new(vec!["opens".to_string(), "visits".to_string()]).unwrap();
    assert!(matches!(model.score_set(&other), Err(ScoreError::FeatureMismatch { .. })));

    // Perfectly separated and unregularised, the coefficients run off to
    // infinity: a typed error that says what to do, never a model.
    let mut separated = TrainingSet::new(vec!["score".to_string()]).unwrap();
    for i in 0..200 {
        separated.push(&[i as f64], i >= 100).unwrap();
    }
    let err = fit(&separated, &FitOptions { l2: 0.0, ..Default::default() }).unwrap_err();
    assert!(matches!(err, TrainingError::DidNotConverge { .. } | TrainingError::Numerical(_)), "{err:?}");
    println!("{err}");
    // With the default penalty the same data fits.
    assert!(fit(&separated, &FitOptions::default()).is_ok());
    let err = fit(&separated, &FitOptions { l2: f64::NAN, ..Default::default() }).unwrap_err();
    assert!(matches!(err, TrainingError::InvalidOptions(_)), "{err}");
}

#[test]
fn training_sets_check_their_shape() {
    use kairos_ml::conversion::DataError;
    assert_eq!(TrainingSet::new(vec![]), Err(DataError::NoFeatures));
    assert_eq!(
        TrainingSet::new(vec!["a".to_string(), "a".to_string()]),
        Err(DataError::DuplicateFeature { name: "a".to_string() })
    );
    let names = vec!["a".to_string(), "b".to_string()];
    assert_eq!(
        TrainingSet::from_rows(names.clone(), &[vec![1.0, 2.0], vec![3.0]], &[true, false]),
        Err(DataError::RowLength { row: 1, len: 1, expected: 2 })
    );
    assert_eq!(
        TrainingSet::from_rows(names, &[vec![1.0, 2.0]], &[true, false]),
        Err(DataError::LabelCount { rows: 1, labels: 2 })
    );
}

proptest! {
    /// AUC depends only on the order of the scores: any strictly increasing
    /// transform leaves it unchanged, and reversing the order gives 1 − AUC.
    #[test]
    fn auc_is_invariant_to_monotone_transforms(
        data in proptest::collection::vec((0u8..20, any::<bool>()), 2..200),
        scale in 0.1f64..10.0,
        shift in -5.0f64..5.0,
    ) {
        let scores: Vec<f64> = data.iter().map(|d| d.0 as f64).collect();
        let labels: Vec<bool> = data.iter().map(|d| d.1).collect();
        prop_assume!(labels.iter().any(|&y| y) && labels.iter().any(|&y| !y));
        let base = auc(&scores, &labels).unwrap();
        let affine: Vec<f64> = scores.iter().map(|s| s * scale + shift).collect();
        let exp: Vec<f64> = scores.iter().map(|s| (s / 4.0).exp()).collect();
        let logistic: Vec<f64> = scores.iter().map(|s| 1.0 / (1.0 + (-(s - 10.0)).exp())).collect();
        prop_assert_eq!(auc(&affine, &labels).unwrap(), base);
        prop_assert_eq!(auc(&exp, &labels).unwrap(), base);
        prop_assert_eq!(auc(&logistic, &labels).unwrap(), base);
        let reversed: Vec<f64> = scores.iter().map(|s| -s).collect();
        prop_assert!((auc(&reversed, &labels).unwrap() - (1.0 - base)).abs() < 1e-12);
    }
}
