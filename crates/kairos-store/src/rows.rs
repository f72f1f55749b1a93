//! Row shapes as stored, and their conversion to domain types. Rows use only
//! types both drivers decode (text, BIGINT, nullable text), so one
//! `#[derive(FromRow)]` serves SQLite and PostgreSQL alike.

use crate::{Result, StoreError};
use kairos_core::clock::from_millis;
use kairos_core::company::Company;
use kairos_core::contact::Contact;
use kairos_core::event::{Event, EventKind};
use std::str::FromStr;

pub(crate) fn parse_id<T: FromStr>(s: &str, what: &str) -> Result<T> {
    s.parse().map_err(|_| StoreError::Corrupt(format!("{what} id {s:?} is not a UUID")))
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    // Serialising maps of JSON values cannot fail.
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}

#[derive(sqlx::FromRow)]
pub(crate) struct ContactRow {
    pub workspace_id: String,
    pub id: String,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub timezone: Option<String>,
    pub locale: Option<String>,
    pub country: Option<String>,
    pub custom: String,
    pub field_times: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) const CONTACT_COLUMNS: &str = "workspace_id, id, external_id, email, phone, first_name, last_name, timezone, locale, country, custom, field_times, created_at, updated_at";

impl ContactRow {
    pub fn into_contact(self) -> Result<Contact> {
        Ok(Contact {
            id: parse_id(&self.id, "contact")?,
            workspace_id: parse_id(&self.workspace_id, "workspace")?,
            external_id: self.external_id,
            email: self.email,
            phone: self.phone,
            first_name: self.first_name,
            last_name: self.last_name,
            timezone: self.timezone,
            locale: self.locale,
            country: self.country,
            custom: parse_json(&self.custom, "contact custom fields")?,
            field_times: parse_json(&self.field_times, "contact field times")?,
            company_ids: Vec::new(),
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CompanyRow {
    pub workspace_id: String,
    pub id: String,
    pub external_id: Option<String>,
    pub name: String,
    pub domain: Option<String>,
    pub custom: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) const COMPANY_COLUMNS: &str = "workspace_id, id, external_id, name, domain, custom, created_at, updated_at";

impl CompanyRow {
    pub fn into_company(self) -> Result<Company> {
        Ok(Company {
            id: parse_id(&self.id, "company")?,
            workspace_id: parse_id(&self.workspace_id, "workspace")?,
            external_id: self.external_id,
            name: self.name,
            domain: self.domain,
            custom: parse_json(&self.custom, "company custom fields")?,
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    pub seq: i64,
    pub id: String,
    pub workspace_id: String,
    pub contact_id: String,
    pub kind: String,
    pub name: Option<String>,
    pub message_id: String,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub properties: String,
    pub context: String,
    pub timestamp: i64,
    pub received_at: i64,
}

pub(crate) const EVENT_COLUMNS: &str = "seq, id, workspace_id, contact_id, kind, name, message_id, user_id, anonymous_id, properties, context, timestamp, received_at";

impl EventRow {
    pub fn into_event(self) -> Result<Event> {
        Ok(Event {
            seq: self.seq,
            id: parse_id(&self.id, "event")?,
            workspace_id: parse_id(&self.workspace_id, "workspace")?,
            contact_id: parse_id(&self.contact_id, "contact")?,
            kind: EventKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("event kind {:?}", self.kind)))?,
            name: self.name,
            message_id: self.message_id,
            user_id: self.user_id,
            anonymous_id: self.anonymous_id,
            properties: parse_json(&self.properties, "event properties")?,
            context: parse_json(&self.context, "event context")?,
            timestamp: from_millis(self.timestamp),
            received_at: from_millis(self.received_at),
        })
    }
}
