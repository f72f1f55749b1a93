//! Contact writes from the REST API and imports. They take the writer's
//! lock so the identity cache stays true, validate through the same
//! [`ContactPatch`] rules as tracked traits, and run in one transaction each.

use crate::identity::Resolver;
use crate::profile::field_types;
use crate::Engine;
use kairos_core::contact::{Contact, ContactError, ContactPatch};
use kairos_core::fields::{FieldDefinition, FieldEntity, FieldType};
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_store::{MergeRecord, StoreError, Tx};
use std::collections::HashMap;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ContactWriteError {
    #[error(transparent)]
    Invalid(#[from] ContactError),
    #[error("{0}")]
    Conflict(String),
    #[error("contact {0} not found")]
    NotFound(ContactId),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ContactWriteError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => ContactWriteError::Conflict(format!("{what} already exists")),
            other => ContactWriteError::Store(other),
        }
    }
}

/// How an upsert finds the existing contact.
#[derive(Debug, Clone)]
pub enum UpsertKey {
    Email(String),
    ExternalId(String),
}

impl Engine {
    async fn contact_types(
        &self,
        state: &mut crate::WriterState,
        tx: &mut Tx,
        ws: WorkspaceId,
    ) -> Result<HashMap<String, FieldType>, StoreError> {
        Ok(field_types(&mut state.fields, tx, ws, FieldEntity::Contact).await?.clone())
    }

    /// Create a contact from a patch (with a `Contact Created` event in the
    /// log, so journeys triggered by new contacts see it).
    pub async fn create_contact(&self, ws: WorkspaceId, patch: &ContactPatch) -> Result<Contact, ContactWriteError> {
        let mut state = self.inner.state.lock().await;
        let mut tx = self.inner.store.begin_write().await?;
        let types = self.contact_types(&mut state, &mut tx, ws).await?;
        let now = self.inner.clock.now();
        let mut c = Contact::new(ws, now);
        patch.apply(&mut c, now, &|n| types.get(n).copied())?;
        tx.insert_contact(&c).await?;
        let seqs = tx.append_events(&[created_event(&c, now)]).await?;
        self.commit(tx).await?;
        self.wake_journeys(seqs.values().max().copied());
        Ok(c)
    }

    /// Update the contact found by `key` with `patch`, or create it.
    /// Returns the contact and whether it was created.
    pub async fn upsert_contact(
        &self,
        ws: WorkspaceId,
        key: &UpsertKey,
        patch: &ContactPatch,
    ) -> Result<(Contact, bool), ContactWriteError> {
        let mut state = self.inner.state.lock().await;
        let mut tx = self.inner.store.begin_write().await?;
        let types = self.contact_types(&mut state, &mut tx, ws).await?;
        let now = self.inner.clock.now();
        let existing = match key {
            UpsertKey::Email(e) => {
                let email = kairos_core::address::normalize_email(e).map_err(ContactError::from)?;
                tx.contact_by_email(ws, &email).await?
            }
            UpsertKey::ExternalId(x) => tx.contact_by_external_id(ws, x).await?,
        };
        let created = existing.is_none();
        let mut c = existing.unwrap_or_else(|| Contact::new(ws, now));
        let mut patch = patch.clone();
        match key {
            UpsertKey::Email(e) => {
                patch.standard.entry("email".into()).or_insert_with(|| Some(e.clone()));
            }
            UpsertKey::ExternalId(x) => {
                patch.standard.entry("external_id".into()).or_insert_with(|| Some(x.clone()));
            }
        }
        patch.apply(&mut c, now, &|n| types.get(n).copied())?;
        let mut seqs = Default::default();
        if created {
            tx.insert_contact(&c).await?;
            seqs = tx.append_events(&[created_event(&c, now)]).await?;
        } else {
            tx.update_contact(&c).await?;
        }
        self.commit(tx).await?;
        self.wake_journeys(seqs.values().max().copied());
        state.forget_contact(c.id);
        Ok((c, created))
    }

    /// Apply a patch to an existing contact.
    pub async fn patch_contact(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        patch: &ContactPatch,
    ) -> Result<Contact, ContactWriteError> {
        let mut state = self.inner.state.lock().await;
        let mut tx = self.inner.store.begin_write().await?;
        let types = self.contact_types(&mut state, &mut tx, ws).await?;
        let mut c = tx.contact(ws, id).await?.ok_or(ContactWriteError::NotFound(id))?;
        patch.apply(&mut c, self.inner.clock.now(), &|n| types.get(n).copied())?;
        tx.update_contact(&c).await?;
        self.commit(tx).await?;
        state.forget_contact(id);
        Ok(c)
    }

    /// Delete a contact with its events.
    pub async fn delete_contact(&self, ws: WorkspaceId, id: ContactId) -> Result<bool, ContactWriteError> {
        let mut state = self.inner.state.lock().await;
        let mut tx = self.inner.store.begin_write().await?;
        let deleted = tx.delete_contact(ws, id).await?;
        self.commit(tx).await?;
        state.forget_contact(id);
        Ok(deleted)
    }

    /// Erase a contact everywhere (GDPR Art. 17), leaving only salted hashes
    /// of their addresses in the suppression list, and record who did it.
    pub async fn erase_contact(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        actor: &str,
    ) -> Result<Option<kairos_store::Erasure>, ContactWriteError> {
        // The journey runner keeps runs in memory and would write them back:
        // it forgets the person first, and again after, for a run that an
        // event started in between.
        self.journeys_forget(ws, id).await;
        let mut state = self.inner.state.lock().await;
        let mut tx = self.inner.store.begin_write().await?;
        let now = self.inner.clock.now().timestamp_millis();
        let Some(erasure) = tx.erase_contact(ws, id, now).await? else { return Ok(None) };
        let detail = serde_json::to_value(&erasure).unwrap_or_default();
        tx.audit(ws, now, actor, "contact.erased", &id.to_string(), &detail).await?;
        self.commit(tx).await?;
        state.forget_contact(id);
        drop(state);
        self.journeys_forget(ws, id).await;
        Ok(Some(erasure))
    }

    /// Everything held about a contact, as one JSON document (GDPR Art. 15
    /// and 20); `None` if there is no such contact. Audited.
    pub async fn export_contact(
        &self,
        ws: WorkspaceId,
        id: ContactId,
        actor: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        use serde_json::json;
        let mut tx = self.inner.store.begin().await?;
        let Some(contact) = tx.contact(ws, id).await? else { return Ok(None) };
        let mut companies = Vec::new();
        for co in &contact.company_ids {
            if let Some(c) = tx.company(ws, *co).await? {
                companies.push(c);
            }
        }
        let anonymous_ids = tx.anonymous_ids_of(ws, id).await?;
        let mut events = Vec::new();
        let mut before = None;
        loop {
            let page = tx.contact_events(ws, id, before, 1000).await?;
            let Some(last) = page.last() else { break };
            before = Some(kairos_store::EventCursor { timestamp_ms: last.timestamp.timestamp_millis(), seq: last.seq });
            events.extend(page);
        }
        let consents = tx.consents_of(ws, id).await?;
        let consent_history = tx.consent_history_of(ws, id).await?;
        let segments = tx.segment_entries_of(ws, id).await?;
        let lists = tx.lists_of(ws, id).await?;
        let merges = tx.merges_of(ws, id).await?;
        tx.commit().await?;
        let now = self.inner.clock.now();
        let mut w = self.inner.store.begin_write().await?;
        w.audit(ws, now.timestamp_millis(), actor, "contact.exported", &id.to_string(), &json!({})).await?;
        w.commit().await?;
        Ok(Some(json!({
            "exported_at": now,
            "contact": contact,
            "companies": companies,
            "anonymous_ids": anonymous_ids,
            "events": events,
            "consent": {"current": consents, "history": consent_history},
            "segments": segments.into_iter().map(|(s, since)| json!({"segment_id": s, "since": since})).collect::<Vec<_>>(),
            "lists": lists,
            "merges": merges,
        })))
    }

    /// Merge `source` into `target` on request.
    pub async fn merge_contacts(
        &self,
        ws: WorkspaceId,
        target: ContactId,
        source: ContactId,
    ) -> Result<(Contact, MergeRecord), ContactWriteError> {
        if target == source {
            return Err(ContactWriteError::Conflict("a contact cannot be merged into itself".into()));
        }
        let mut state = self.inner.state.lock().await;
        let mut tx = self.inner.store.begin_write().await?;
        if tx.contact(ws, target).await?.is_none() {
            return Err(ContactWriteError::NotFound(target));
        }
        if tx.contact(ws, source).await?.is_none() {
            return Err(ContactWriteError::NotFound(source));
        }
        let now = self.inner.clock.now();
        let mut resolver = Resolver::new(&mut state, ws, now);
        resolver.merge(&mut tx, target, source, "merged through the API").await?;
        let merged = tx.contact(ws, target).await?.ok_or(ContactWriteError::NotFound(target))?;
        let record = tx
            .merges_of(ws, target)
            .await?
            .into_iter()
            .rfind(|m| m.source_id == source)
            .ok_or(ContactWriteError::NotFound(source))?;
        self.commit(tx).await?;
        Ok((merged, record))
    }

    /// Define (or relabel) a custom field.
    pub async fn define_field(&self, ws: WorkspaceId, def: &FieldDefinition) -> Result<(), StoreError> {
        let mut state = self.inner.state.lock().await;
        let mut tx = self.inner.store.begin_write().await?;
        tx.define_field(ws, def, self.inner.clock.now()).await?;
        self.commit(tx).await?;
        state.fields.remove(&ws);
        state.company_fields.remove(&ws);
        self.fields_changed(ws);
        Ok(())
    }

    /// Delete a custom field definition (stored values stay until overwritten).
    pub async fn delete_field(&self, ws: WorkspaceId, entity: FieldEntity, name: &str) -> Result<bool, StoreError> {
        let mut state = self.inner.state.lock().await;
        let mut tx = self.inner.store.begin_write().await?;
        let deleted = tx.delete_field(ws, entity, name).await?;
        self.commit(tx).await?;
        state.fields.remove(&ws);
        state.company_fields.remove(&ws);
        self.fields_changed(ws);
        Ok(deleted)
    }
}

impl Engine {
    /// The log grew outside the writer's batches: the writer takes the new
    /// events' journey starts in its next transaction (and then wakes the
    /// runner). A full queue means that transaction is coming anyway.
    pub(crate) fn wake_journeys(&self, seq: Option<i64>) {
        if seq.is_some() {
            let _ = self.inner.jobs.try_send(crate::ingest::Job::Starts(None));
        }
    }
}

/// The log entry of a contact created through the REST API (contacts
/// created by tracking calls appear with their first event instead).
fn created_event(c: &Contact, now: chrono::DateTime<chrono::Utc>) -> kairos_core::event::Event {
    kairos_core::event::Event {
        seq: 0,
        id: uuid::Uuid::now_v7(),
        workspace_id: c.workspace_id,
        contact_id: c.id,
        kind: kairos_core::event::EventKind::Track,
        name: Some("Contact Created".into()),
        message_id: format!("kairos-contact-created-{}", c.id),
        user_id: c.external_id.clone(),
        anonymous_id: None,
        properties: serde_json::json!({"source": "api"}),
        context: serde_json::json!({"library": {"name": "kairos-api"}}),
        timestamp: now,
        received_at: now,
    }
}
