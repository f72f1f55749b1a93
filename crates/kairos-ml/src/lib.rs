//! Kairos predictive models, as pure numerical code with no I/O: today the
//! BG/NBD customer-lifetime model ([`clv`]); conversion scoring, clustering
//! and bandits are to come (issue 7).

pub mod cluster;
pub mod clv;
