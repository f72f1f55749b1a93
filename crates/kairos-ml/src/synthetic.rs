//! Synthetic contacts with a known answer, for the conversion model's tests
//! and benchmark: a seeded generator of the per-contact features a marketing
//! platform builds, and a conversion label drawn from a planted logistic
//! model whose coefficients are [`PLANTED`] (on the features as given,
//! log-odds per unit) plus [`PLANTED_INTERCEPT`].
//!
//! How a contact is drawn: an engagement level e ~ Gamma(2)/2 (mean 1)
//! drives page views ~ Poisson(8e), email opens ~ Poisson(3e + 1), clicks ~
//! Binomial(opens, 0.2), pricing-page visits ~ Poisson(0.4e) and days since
//! the last visit ~ Exponential(mean 20/(0.5 + e)) capped at 180, so those
//! features are correlated as in real data. Company size (log10 employees ~
//! Normal(1.8, 0.7) clamped to 0–5) is unknown for 12% of contacts at random
//! (NaN; the planted logit uses the true size). Flags: demo requested 6%,
//! webinar attended 10%, free trial 20%, unsubscribed 5%, newsletter 40%;
//! support tickets ~ Poisson(0.3). Industry (retail 25%, software 20%,
//! finance 15%, healthcare 15%, education 10%, manufacturing 15%) and
//! country (US 45%, GB 15%, DE 15%, FR 10%, BR 15%) are one-hot columns
//! against retail and US. Sensitive attributes: gender (female 47%, male
//! 47%, undisclosed 6%) and age band (18–24 12%, 25–34 30%, 35–44 28%, 45–54
//! 18%, 55+ 12%). Neither enters the planted logit, but the share of visits
//! from a phone, which lowers conversion, falls with age (Beta with mean
//! 0.70 at 18–24 down to 0.30 at 55+), so a score is expected to select age
//! bands unequally and a fairness audit to show it; gender is independent of
//! everything. Each contact signs up on a day 0–364 (uniform); the planted
//! model does not change over time, so a split by signup day is a clean
//! time-based hold-out.
//!
//! Four planted effects are 0 (support tickets, newsletter, the healthcare
//! industry, Germany): a model should find nothing there. The conversion
//! rate comes out at about 11%. Baselines on the benchmark's data (250,000
//! contacts, seed 7, the last 20% of the year held out): ranking by the
//! best single feature (email opens) gives a hold-out AUC of 0.693, and the
//! planted probability itself, the best any model can do on average, 0.813.
//! The tests compute their baselines on their own data rather than trust
//! these numbers.
//!
//! The same seed gives the same contacts on every machine (rand's `StdRng`
//! at the version in Cargo.lock).

use crate::bandit::{beta, gamma, normal};
use crate::conversion::TrainingSet;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The feature columns of [`training_set`], in order.
pub const FEATURES: [&str; 28] = [
    "page_views_30d",
    "email_opens_30d",
    "email_clicks_30d",
    "days_since_last_visit",
    "pricing_page_visits_30d",
    "log10_employees",
    "demo_requested",
    "webinar_attended",
    "free_trial",
    "unsubscribed",
    "mobile_share",
    "support_tickets_30d",
    "newsletter_subscriber",
    "industry_software",
    "industry_finance",
    "industry_healthcare",
    "industry_education",
    "industry_manufacturing",
    "country_GB",
    "country_DE",
    "country_FR",
    "country_BR",
    "gender_female",
    "gender_male",
    "age_18_24",
    "age_25_34",
    "age_45_54",
    "age_55_plus",
];

/// The columns that encode a sensitive attribute: to be left out of
/// training ([`crate::conversion::FitOptions::sensitive_features`]).
pub const SENSITIVE_FEATURES: [&str; 6] =
    ["gender_female", "gender_male", "age_18_24", "age_25_34", "age_45_54", "age_55_plus"];

/// The planted log-odds per unit of each non-sensitive feature.
pub const PLANTED: [(&str, f64); 22] = [
    ("page_views_30d", 0.03),
    ("email_opens_30d", 0.08),
    ("email_clicks_30d", 0.30),
    ("days_since_last_visit", -0.03),
    ("pricing_page_visits_30d", 0.50),
    ("log10_employees", 0.40),
    ("demo_requested", 1.20),
    ("webinar_attended", 0.50),
    ("free_trial", 0.80),
    ("unsubscribed", -1.00),
    ("mobile_share", -1.20),
    ("support_tickets_30d", 0.0),
    ("newsletter_subscriber", 0.0),
    ("industry_software", 0.60),
    ("industry_finance", 0.50),
    ("industry_healthcare", 0.0),
    ("industry_education", -0.60),
    ("industry_manufacturing", -0.50),
    ("country_GB", 0.50),
    ("country_DE", 0.0),
    ("country_FR", -0.50),
    ("country_BR", -0.70),
];

/// The planted log-odds of a contact whose every feature is 0.
pub const PLANTED_INTERCEPT: f64 = -3.6;

const INDUSTRIES: [(&str, f64); 6] = [
    ("retail", 0.25),
    ("software", 0.20),
    ("finance", 0.15),
    ("healthcare", 0.15),
    ("education", 0.10),
    ("manufacturing", 0.15),
];
const COUNTRIES: [(&str, f64); 5] = [("US", 0.45), ("GB", 0.15), ("DE", 0.15), ("FR", 0.10), ("BR", 0.15)];
const GENDERS: [(&str, f64); 3] = [("female", 0.47), ("male", 0.47), ("undisclosed", 0.06)];
/// Age band, its share, and the mean share of visits from a phone.
const AGE_BANDS: [(&str, f64, f64); 5] =
    [("18-24", 0.12, 0.70), ("25-34", 0.30, 0.60), ("35-44", 0.28, 0.50), ("45-54", 0.18, 0.40), ("55+", 0.12, 0.30)];

/// One synthetic contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    /// Day of signup, 0–364: the time axis for a time-based split.
    pub signup_day: u32,
    pub page_views_30d: f64,
    pub email_opens_30d: f64,
    pub email_clicks_30d: f64,
    pub days_since_last_visit: f64,
    pub pricing_page_visits_30d: f64,
    /// None when the company size is unknown.
    pub log10_employees: Option<f64>,
    pub demo_requested: bool,
    pub webinar_attended: bool,
    pub free_trial: bool,
    pub unsubscribed: bool,
    pub mobile_share: f64,
    pub support_tickets_30d: f64,
    pub newsletter_subscriber: bool,
    pub industry: &'static str,
    pub country: &'static str,
    pub gender: &'static str,
    pub age_band: &'static str,
    /// The planted probability of conversion.
    pub probability: f64,
    pub converted: bool,
}

fn pick<T: Copy>(rng: &mut StdRng, options: &[T], share: impl Fn(&T) -> f64) -> T {
    let mut u: f64 = rng.gen();
    for o in options {
        u -= share(o);
        if u < 0.0 {
            return *o;
        }
    }
    options[options.len() - 1]
}

/// Poisson by multiplying uniforms (Knuth); the means here are small.
fn poisson(rng: &mut StdRng, mean: f64) -> f64 {
    let limit = (-mean).exp();
    let (mut k, mut p) = (0.0, 1.0);
    loop {
        p *= rng.gen::<f64>();
        if p <= limit {
            return k;
        }
        k += 1.0;
    }
}

/// `n` contacts from `seed`.
pub fn contacts(n: usize, seed: u64) -> Vec<Contact> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| contact(&mut rng)).collect()
}

fn flag(rng: &mut StdRng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

fn contact(rng: &mut StdRng) -> Contact {
    let signup_day = rng.gen_range(0..365);
    let engagement = gamma(rng, 2.0) / 2.0;
    let page_views_30d = poisson(rng, 8.0 * engagement);
    let email_opens_30d = poisson(rng, 3.0 * engagement + 1.0);
    let email_clicks_30d = (0..email_opens_30d as u32).filter(|_| flag(rng, 0.2)).count() as f64;
    let pricing_page_visits_30d = poisson(rng, 0.4 * engagement);
    let mean_gap = 20.0 / (0.5 + engagement);
    let days_since_last_visit = (-mean_gap * rng.gen_range(f64::EPSILON..1.0).ln()).floor().min(180.0);
    let employees = (1.8 + 0.7 * normal(rng)).clamp(0.0, 5.0);
    let known = !flag(rng, 0.12);
    let demo_requested = flag(rng, 0.06);
    let webinar_attended = flag(rng, 0.10);
    let free_trial = flag(rng, 0.20);
    let unsubscribed = flag(rng, 0.05);
    let newsletter_subscriber = flag(rng, 0.40);
    let support_tickets_30d = poisson(rng, 0.3);
    let industry = pick(rng, &INDUSTRIES, |i| i.1).0;
    let country = pick(rng, &COUNTRIES, |c| c.1).0;
    let gender = pick(rng, &GENDERS, |g| g.1).0;
    let (age_band, _, mobile_mean) = pick(rng, &AGE_BANDS, |a| a.1);
    let mobile_share = beta(rng, 4.0 * mobile_mean, 4.0 * (1.0 - mobile_mean));

    let mut c = Contact {
        signup_day,
        page_views_30d,
        email_opens_30d,
        email_clicks_30d,
        days_since_last_visit,
        pricing_page_visits_30d,
        log10_employees: known.then_some(employees),
        demo_requested,
        webinar_attended,
        free_trial,
        unsubscribed,
        mobile_share,
        support_tickets_30d,
        newsletter_subscriber,
        industry,
        country,
        gender,
        age_band,
        probability: 0.0,
        converted: false,
    };
    // The planted logit sees the true company size, known or not.
    let mut truth = c.features();
    truth[5] = employees;
    let logit = PLANTED_INTERCEPT + PLANTED.iter().zip(truth).map(|((_, b), x)| b * x).sum::<f64>();
    c.probability = 1.0 / (1.0 + (-logit).exp());
    c.converted = rng.gen::<f64>() < c.probability;
    c
}

impl Contact {
    /// The contact's row in [`FEATURES`] order (NaN for an unknown size).
    pub fn features(&self) -> [f64; 28] {
        let b = |x: bool| if x { 1.0 } else { 0.0 };
        [
            self.page_views_30d,
            self.email_opens_30d,
            self.email_clicks_30d,
            self.days_since_last_visit,
            self.pricing_page_visits_30d,
            self.log10_employees.unwrap_or(f64::NAN),
            b(self.demo_requested),
            b(self.webinar_attended),
            b(self.free_trial),
            b(self.unsubscribed),
            self.mobile_share,
            self.support_tickets_30d,
            b(self.newsletter_subscriber),
            b(self.industry == "software"),
            b(self.industry == "finance"),
            b(self.industry == "healthcare"),
            b(self.industry == "education"),
            b(self.industry == "manufacturing"),
            b(self.country == "GB"),
            b(self.country == "DE"),
            b(self.country == "FR"),
            b(self.country == "BR"),
            b(self.gender == "female"),
            b(self.gender == "male"),
            b(self.age_band == "18-24"),
            b(self.age_band == "25-34"),
            b(self.age_band == "45-54"),
            b(self.age_band == "55+"),
        ]
    }
}

/// The contacts as a training set with [`FEATURES`] (sensitive columns
/// included; the fit leaves them out unless told otherwise).
pub fn training_set(contacts: &[Contact]) -> TrainingSet {
    let mut set = TrainingSet::new(FEATURES.iter().map(|f| f.to_string()).collect())
        .unwrap_or_else(|e| unreachable!("the feature list is fixed and valid: {e}"));
    for c in contacts {
        set.push(&c.features(), c.converted).unwrap_or_else(|e| unreachable!("rows have the fixed width: {e}"));
    }
    set
}
