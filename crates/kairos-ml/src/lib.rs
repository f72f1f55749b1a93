//! Kairos predictive models, as pure numerical code with no I/O: customer
//! lifetime (BG/NBD, Gamma-Gamma: [`clv`]), clustering ([`cluster`]),
//! Thompson-sampling A/B/n tests ([`bandit`]), send-time optimisation
//! ([`send_time`]), conversion scoring by regularised logistic regression
//! with explanations ([`conversion`]) over features computed from a contact's
//! history as of a cutoff ([`features`]), its hold-out figures and the rule for
//! promoting a new model ([`metrics`]), fairness audits of a score or
//! decision across the groups of a sensitive attribute ([`fairness`]), and
//! the seeded generator of contacts with planted effects that the tests and
//! `bench/ml` use ([`synthetic`]).

pub mod bandit;
pub mod cluster;
pub mod clv;
pub mod conversion;
pub mod fairness;
pub mod features;
pub mod metrics;
pub mod send_time;
pub mod synthetic;
