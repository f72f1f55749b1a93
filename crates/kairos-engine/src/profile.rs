//! Applying tracked traits to profiles: `identify` traits to the contact,
//! `group` traits to the company (and the link between them).
//!
//! Segment's reserved traits map to standard fields (`email`, `phone`,
//! `firstName`, `lastName`, `name`, `address.country`, `timezone`; the
//! context's `locale` and `timezone`); every other trait is a custom field,
//! defined on first sight with the type its value implies. A trait that
//! cannot be applied (an invalid email, a value of the wrong type) is skipped
//! with a warning: the event itself is already in the log, so nothing is lost,
//! and the rest of the profile update still happens.

use crate::identity::{load, Resolver};
use chrono::{DateTime, Utc};
use kairos_core::company::Company;
use kairos_core::contact::{ContactError, ContactPatch};
use kairos_core::fields::{infer_type, validate_field_name, FieldDefinition, FieldEntity, FieldType};
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_core::tracking::TrackingMessage;
use kairos_store::{Result, Tx};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Traits that are not profile fields.
const IGNORED_TRAITS: &[&str] =
    &["id", "userId", "anonymousId", "createdAt", "created_at", "address", "company", "avatar"];

fn standard_name(trait_name: &str) -> Option<&'static str> {
    Some(match trait_name {
        "email" => "email",
        "phone" => "phone",
        "firstName" | "first_name" => "first_name",
        "lastName" | "last_name" => "last_name",
        "timezone" => "timezone",
        "locale" => "locale",
        "country" => "country",
        _ => return None,
    })
}

/// Load (once per workspace) the custom field types of an entity.
pub(crate) async fn field_types<'a>(
    cache: &'a mut HashMap<WorkspaceId, HashMap<String, FieldType>>,
    tx: &mut Tx,
    ws: WorkspaceId,
    entity: FieldEntity,
) -> Result<&'a mut HashMap<String, FieldType>> {
    if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry(ws) {
        let defs = tx.list_fields(ws).await?;
        let map = defs.into_iter().filter(|d| d.entity == entity).map(|d| (d.name, d.field_type)).collect();
        slot.insert(map);
    }
    Ok(cache.entry(ws).or_default())
}

/// Ensure custom fields exist for the given trait values, defining missing
/// ones with their inferred type. Returns warnings for traits skipped.
async fn define_missing(
    types: &mut HashMap<String, FieldType>,
    tx: &mut Tx,
    ws: WorkspaceId,
    entity: FieldEntity,
    values: &Map<String, Value>,
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    for (name, v) in values {
        if types.contains_key(name) || v.is_null() {
            continue;
        }
        if let Err(e) = validate_field_name(entity, name) {
            warnings.push(format!("trait {name:?} skipped: {e}"));
            continue;
        }
        let Some(ft) = infer_type(v) else {
            warnings.push(format!("trait {name:?} skipped: objects cannot be stored in a custom field"));
            continue;
        };
        let def = FieldDefinition { entity, name: name.clone(), field_type: ft, label: None };
        tx.define_field(ws, &def, now).await?;
        types.insert(name.clone(), ft);
    }
    Ok(())
}

impl Resolver<'_> {
    /// Apply an identify's traits (and context locale/timezone) to a contact.
    pub async fn apply_traits(
        &mut self,
        tx: &mut Tx,
        contact: ContactId,
        m: &TrackingMessage,
        warnings: &mut Vec<String>,
    ) -> Result<()> {
        let empty = Map::new();
        let traits = m.traits().unwrap_or(&empty);
        let mut standard: Vec<(&'static str, Value)> = Vec::new();
        let mut custom = Map::new();
        for (k, v) in traits {
            if let Some(s) = standard_name(k) {
                standard.push((s, v.clone()));
            } else if k == "name" {
                if let Some(full) = v.as_str() {
                    let mut parts = full.trim().splitn(2, ' ');
                    if !traits.contains_key("firstName") && !traits.contains_key("first_name") {
                        if let Some(f) = parts.next().filter(|s| !s.is_empty()) {
                            standard.push(("first_name", Value::String(f.into())));
                        }
                    }
                    if !traits.contains_key("lastName") && !traits.contains_key("last_name") {
                        if let Some(l) = parts.next().filter(|s| !s.is_empty()) {
                            standard.push(("last_name", Value::String(l.into())));
                        }
                    }
                }
            } else if k == "address" {
                if let Some(country) = v.get("country") {
                    standard.push(("country", country.clone()));
                }
            } else if !IGNORED_TRAITS.contains(&k.as_str()) {
                custom.insert(k.clone(), v.clone());
            }
        }
        for key in ["locale", "timezone"] {
            if !traits.contains_key(key) {
                if let Some(v) = m.context.get(key) {
                    standard.push((if key == "locale" { "locale" } else { "timezone" }, v.clone()));
                }
            }
        }
        // Country first: it is the default region for phone numbers.
        standard.sort_by_key(|(k, _)| *k != "country");

        let types = field_types(&mut self.state.fields, tx, self.ws, FieldEntity::Contact).await?;
        define_missing(types, tx, self.ws, FieldEntity::Contact, &custom, self.now, warnings).await?;
        let types = types.clone();

        let mut c = load(tx, self.ws, contact).await?;
        let lookup = |n: &str| types.get(n).copied();
        let mut changed = false;
        let at = m.timestamp.timestamp_millis();
        // A trait older than the field's current value (a late or replayed
        // identify) does not overwrite it.
        let newer = |c: &kairos_core::contact::Contact, name: &str| c.field_times.get(name).is_some_and(|t| *t > at);
        for (name, v) in standard {
            if newer(&c, name) {
                continue;
            }
            let value = match &v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Null => None,
                _ => {
                    warnings.push(format!("trait {name:?} skipped: must be a string"));
                    continue;
                }
            };
            if name == "email" {
                if let Some(email) = value.as_deref().and_then(|e| kairos_core::address::normalize_email(e).ok()) {
                    if let Some(other) = tx.contact_by_email(self.ws, &email).await? {
                        if other.id != c.id {
                            if other.external_id.is_none() {
                                tx.update_contact(&c).await?;
                                let k = self
                                    .merge(tx, c.id, other.id, "identify: email belongs to an anonymous contact")
                                    .await?;
                                c = load(tx, self.ws, k.contact).await?;
                            } else {
                                warnings.push(format!(
                                    "trait \"email\" skipped: {email:?} already belongs to contact {}",
                                    other.id
                                ));
                                continue;
                            }
                        }
                    }
                }
            }
            let patch = ContactPatch { standard: [(name.to_string(), value)].into(), custom: Default::default() };
            match patch.apply(&mut c, m.timestamp, &lookup) {
                Ok(ch) => changed |= ch,
                Err(e) => warnings.push(format!("trait {name:?} skipped: {e}")),
            }
        }
        for (name, v) in custom {
            if !types.contains_key(&name) || newer(&c, &name) {
                continue;
            }
            let patch = ContactPatch { standard: Default::default(), custom: [(name.clone(), v)].into() };
            match patch.apply(&mut c, m.timestamp, &lookup) {
                Ok(ch) => changed |= ch,
                Err(ContactError::Field(e)) => warnings.push(format!("trait {name:?} skipped: {e}")),
                Err(e) => warnings.push(format!("trait {name:?} skipped: {e}")),
            }
        }
        if changed {
            c.updated_at = self.now;
            tx.update_contact(&c).await?;
        }
        // Segment's `traits.company` links the contact to a company.
        if let Some(Value::Object(company)) = traits.get("company") {
            let external = company.get("id").and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            if let Some(ext) = external {
                let mut traits = company.clone();
                traits.remove("id");
                self.upsert_company(tx, contact, &ext, &traits, warnings).await?;
            }
        }
        Ok(())
    }

    /// Apply a `group` call: upsert the company by its external id and link
    /// the contact to it.
    pub async fn apply_group(
        &mut self,
        tx: &mut Tx,
        contact: ContactId,
        m: &TrackingMessage,
        warnings: &mut Vec<String>,
    ) -> Result<()> {
        let Some(group_id) = &m.group_id else { return Ok(()) };
        self.upsert_company(tx, contact, group_id, &m.properties, warnings).await
    }

    async fn upsert_company(
        &mut self,
        tx: &mut Tx,
        contact: ContactId,
        external_id: &str,
        traits: &Map<String, Value>,
        warnings: &mut Vec<String>,
    ) -> Result<()> {
        let existing = tx.company_by_external_id(self.ws, external_id).await?;
        let is_new = existing.is_none();
        let mut company = existing.unwrap_or_else(|| {
            let mut c = Company::new(self.ws, external_id.to_string(), self.now);
            c.external_id = Some(external_id.to_string());
            c
        });
        let mut custom = Map::new();
        let mut standard = Map::new();
        for (k, v) in traits {
            match k.as_str() {
                "name" => {
                    standard.insert("name".into(), v.clone());
                }
                "domain" | "website" => {
                    standard.insert("domain".into(), v.clone());
                }
                "id" | "createdAt" | "created_at" | "address" => {}
                _ => {
                    custom.insert(k.clone(), v.clone());
                }
            }
        }
        let types = field_types(&mut self.state.company_fields, tx, self.ws, FieldEntity::Company).await?;
        define_missing(types, tx, self.ws, FieldEntity::Company, &custom, self.now, warnings).await?;
        let types = types.clone();
        let lookup = |n: &str| types.get(n).copied();
        for (k, v) in standard.into_iter().chain(custom) {
            let one: Map<String, Value> = [(k.clone(), v)].into_iter().collect();
            if let Err(e) = company.apply_json(&one, self.now, &lookup) {
                warnings.push(format!("company trait {k:?} skipped: {e}"));
            }
        }
        if is_new {
            tx.insert_company(&company).await?;
        } else {
            tx.update_company(&company).await?;
        }
        tx.link_company(self.ws, contact, company.id, self.now).await?;
        Ok(())
    }
}
