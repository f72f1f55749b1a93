//! Kairos domain types and pure logic.
//!
//! Everything here is about marketing concepts — workspaces, contacts,
//! companies, custom fields, tracking messages, identity rules — and nothing
//! here performs I/O: no HTTP, no SQL, no files, no clock reads except through
//! the injectable [`clock::Clock`]. That keeps the rules testable in isolation
//! and lets every other crate share one definition of each concept.

pub mod access;
pub mod address;
pub mod apikey;
pub mod attribution;
pub mod clock;
pub mod company;
pub mod consent;
pub mod consent_text;
pub mod contact;
pub mod event;
pub mod event_catalog;
pub mod fields;
pub mod form;
pub mod gate;
pub mod ids;
pub mod journey;
pub mod links;
pub mod merge;
pub mod retention;
pub mod score;
pub mod secrets;
pub mod segment;
pub mod tcf;
pub mod tracking;
pub mod webhook;

pub use ids::{CompanyId, ContactId, ListId, SegmentId, WorkspaceId};
