//! Kairos predictive models, as pure numerical code with no I/O: customer
//! lifetime (BG/NBD, Gamma-Gamma: [`clv`]), clustering ([`cluster`]),
//! Thompson-sampling A/B/n tests ([`bandit`]) and send-time optimisation
//! ([`send_time`]). Conversion scoring and fairness audits are to come.

pub mod bandit;
pub mod cluster;
pub mod clv;
pub mod conversion;
pub mod fairness;
pub mod metrics;
pub mod send_time;
pub mod synthetic;
