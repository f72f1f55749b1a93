//! The email channel's pure logic, apart from any I/O: templates (Liquid,
//! MJML, plain-text derivation), message composition (RFC 5322, one-click
//! unsubscribe headers), DKIM signing and key generation, tracking links and
//! their signatures, and the parsing of bounces (RFC 3464 DSN) and
//! complaints (RFC 5965 ARF). SMTP delivery, storage and HTTP live in
//! `kairos-engine` and `kairos-server`.

pub mod bounce;
pub mod campaign;
pub mod dkim;
pub mod filters;
pub mod message;
pub mod scan;
pub mod template;
pub mod tracking;
