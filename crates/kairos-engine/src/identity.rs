//! Identity resolution: which contact a tracked message belongs to.
//!
//! Contacts are matched by `userId` (the external id, or an alias recorded
//! by `alias`), then by `anonymousId`, then — for `identify` — by email.
//! When a message proves that an anonymous visitor is a known person, the
//! anonymous contact is merged into the known one (events, fields, company
//! links move; the merge is recorded). Two contacts that each have their own
//! external id are never merged implicitly: only `alias` or an explicit API
//! merge does that.

use crate::{IdKind, Known, WriterState};
use chrono::{DateTime, Utc};
use kairos_core::contact::Contact;
use kairos_core::event::EventKind;
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_core::merge::merge_contacts;
use kairos_core::tracking::TrackingMessage;
use kairos_store::{Result, StoreError, Tx};
use std::collections::{HashMap, HashSet};

pub(crate) struct Resolver<'a> {
    pub state: &'a mut WriterState,
    pub ws: WorkspaceId,
    pub now: DateTime<Utc>,
    /// Merges made by this resolver: source → target.
    pub merged: HashMap<ContactId, ContactId>,
    /// Identifiers [`Resolver::prefetch`] found unknown, so single lookups
    /// can be skipped; an identifier leaves the set when it becomes known.
    absent_users: HashSet<String>,
    absent_alts: HashSet<String>,
}

impl<'a> Resolver<'a> {
    pub fn new(state: &'a mut WriterState, ws: WorkspaceId, now: DateTime<Utc>) -> Self {
        Resolver { state, ws, now, merged: HashMap::new(), absent_users: HashSet::new(), absent_alts: HashSet::new() }
    }

    /// Look up, in two queries, every user id and anonymous id of a batch
    /// that the cache does not know, instead of several queries per message.
    pub async fn prefetch(&mut self, tx: &mut Tx, messages: &[TrackingMessage]) -> Result<()> {
        let ws = self.ws;
        let mut users: Vec<String> = Vec::new();
        let mut alts: Vec<String> = Vec::new();
        for m in messages {
            if let Some(u) = &m.user_id {
                if !self.state.identities.contains_key(&(ws, IdKind::User, u.clone())) {
                    users.push(u.clone());
                }
            }
            for a in [&m.anonymous_id, &m.previous_id].into_iter().flatten() {
                if !self.state.identities.contains_key(&(ws, IdKind::Alt, a.clone())) {
                    alts.push(a.clone());
                }
            }
        }
        users.sort();
        users.dedup();
        alts.sort();
        alts.dedup();
        if users.is_empty() && alts.is_empty() {
            return Ok(());
        }
        let mut found_users = HashSet::new();
        for (x, id) in tx.contact_ids_by_external_ids(ws, &users).await? {
            self.state.remember(ws, IdKind::User, &x, Known { contact: id, identified: true });
            found_users.insert(x);
        }
        // A user id may also be an alias (recorded as an anonymous id).
        let mut lookup: Vec<String> = users.iter().filter(|u| !found_users.contains(*u)).cloned().collect();
        lookup.extend(alts.iter().cloned());
        lookup.sort();
        lookup.dedup();
        let mut found_alts = HashSet::new();
        for (a, id, identified) in tx.contacts_by_anonymous_ids(ws, &lookup).await? {
            if users.contains(&a) && !found_users.contains(&a) {
                self.state.remember(ws, IdKind::User, &a, Known { contact: id, identified: true });
                found_users.insert(a.clone());
            }
            self.state.remember(ws, IdKind::Alt, &a, Known { contact: id, identified });
            found_alts.insert(a);
        }
        self.absent_users = users.into_iter().filter(|u| !found_users.contains(u)).collect();
        self.absent_alts = alts.into_iter().filter(|a| !found_alts.contains(a)).collect();
        Ok(())
    }

    fn now_known(&mut self, kind: IdKind, value: &str, k: Known) {
        match kind {
            IdKind::User => self.absent_users.remove(value),
            IdKind::Alt => self.absent_alts.remove(value),
        };
        self.state.remember(self.ws, kind, value, k);
    }

    /// The contact `id` was merged into, if this resolver merged it away.
    pub fn survivor_of(&self, id: ContactId) -> Option<ContactId> {
        let mut cur = *self.merged.get(&id)?;
        while let Some(next) = self.merged.get(&cur) {
            cur = *next;
        }
        Some(cur)
    }

    /// The contact whose external id or alias is `user_id`.
    async fn by_user(&mut self, tx: &mut Tx, user_id: &str) -> Result<Option<Known>> {
        if let Some(k) = self.state.identities.get(&(self.ws, IdKind::User, user_id.to_string())) {
            return Ok(Some(*k));
        }
        if self.absent_users.contains(user_id) {
            return Ok(None);
        }
        let found = match tx.contact_by_external_id(self.ws, user_id).await? {
            Some(c) => Some(Known { contact: c.id, identified: true }),
            None => {
                tx.contact_id_by_anonymous_id(self.ws, user_id).await?.map(|id| Known { contact: id, identified: true })
            }
        };
        if let Some(k) = found {
            self.state.remember(self.ws, IdKind::User, user_id, k);
        }
        Ok(found)
    }

    /// The contact an anonymous id (or alias) points at.
    async fn by_alt(&mut self, tx: &mut Tx, alt: &str) -> Result<Option<Known>> {
        if let Some(k) = self.state.identities.get(&(self.ws, IdKind::Alt, alt.to_string())) {
            return Ok(Some(*k));
        }
        if self.absent_alts.contains(alt) {
            return Ok(None);
        }
        let Some(id) = tx.contact_id_by_anonymous_id(self.ws, alt).await? else {
            return Ok(None);
        };
        let identified = tx.contact(self.ws, id).await?.is_some_and(|c| c.external_id.is_some());
        let k = Known { contact: id, identified };
        self.state.remember(self.ws, IdKind::Alt, alt, k);
        Ok(Some(k))
    }

    async fn link_alt(&mut self, tx: &mut Tx, alt: &str, k: Known) -> Result<()> {
        tx.link_anonymous_id(self.ws, alt, k.contact, self.now).await?;
        self.now_known(IdKind::Alt, alt, k);
        Ok(())
    }

    async fn create(&mut self, tx: &mut Tx, user_id: Option<&str>) -> Result<Known> {
        let mut c = Contact::new(self.ws, self.now);
        if let Some(u) = user_id {
            c.external_id = Some(u.to_string());
            c.field_times.insert("external_id".into(), self.now.timestamp_millis());
        }
        tx.insert_contact(&c).await?;
        let k = Known { contact: c.id, identified: user_id.is_some() };
        if let Some(u) = user_id {
            self.now_known(IdKind::User, u, k);
        }
        Ok(k)
    }

    /// Give an anonymous contact its external id.
    async fn identify_as(&mut self, tx: &mut Tx, contact: ContactId, user_id: &str) -> Result<Known> {
        let mut c = load(tx, self.ws, contact).await?;
        c.external_id = Some(user_id.to_string());
        c.field_times.insert("external_id".into(), self.now.timestamp_millis());
        c.updated_at = self.now;
        tx.update_contact(&c).await?;
        self.state.forget_contact(contact);
        let k = Known { contact, identified: true };
        self.now_known(IdKind::User, user_id, k);
        Ok(k)
    }

    /// Merge `source` into `target`; returns the survivor.
    pub async fn merge(&mut self, tx: &mut Tx, target: ContactId, source: ContactId, reason: &str) -> Result<Known> {
        let t = load(tx, self.ws, target).await?;
        let s = load(tx, self.ws, source).await?;
        let merged = merge_contacts(&t, &s);
        tx.merge_contacts(self.ws, &merged, &s, reason, self.now).await?;
        self.state.forget_contact(source);
        self.state.forget_contact(target);
        self.merged.insert(source, target);
        Ok(Known { contact: target, identified: merged.external_id.is_some() })
    }

    /// Resolve (creating or merging as needed) the contact of a message.
    pub async fn resolve(&mut self, tx: &mut Tx, m: &TrackingMessage) -> Result<ContactId> {
        if m.kind == EventKind::Alias {
            return self.resolve_alias(tx, m).await;
        }
        let user = match &m.user_id {
            Some(u) => self.by_user(tx, u).await?,
            None => None,
        };
        let anon = match &m.anonymous_id {
            Some(a) => self.by_alt(tx, a).await?,
            None => None,
        };
        let known = match (user, anon) {
            (Some(u), Some(a)) if u.contact != a.contact => {
                if a.identified {
                    // The device was used by another known person: re-point it.
                    self.link_alt(tx, m.anonymous_id.as_deref().unwrap_or_default(), u).await?;
                    u
                } else {
                    self.merge(tx, u.contact, a.contact, "identify: anonymous visitor identified").await?
                }
            }
            (Some(u), Some(_)) => u,
            (Some(u), None) => {
                if let Some(a) = &m.anonymous_id {
                    self.link_alt(tx, a, u).await?;
                }
                u
            }
            (None, Some(a)) => match &m.user_id {
                Some(uid) if !a.identified => self.identify_as(tx, a.contact, uid).await?,
                Some(uid) => {
                    let k = self.create(tx, Some(uid)).await?;
                    if let Some(anon) = &m.anonymous_id {
                        self.link_alt(tx, anon, k).await?;
                    }
                    k
                }
                None => a,
            },
            (None, None) => {
                let by_email = match (m.kind, trait_email(m)) {
                    (EventKind::Identify, Some(email)) => tx.contact_by_email(self.ws, &email).await?,
                    _ => None,
                };
                let k = match by_email {
                    Some(c) if c.external_id.is_none() || c.external_id == m.user_id => match &m.user_id {
                        Some(uid) if c.external_id.is_none() => self.identify_as(tx, c.id, uid).await?,
                        _ => Known { contact: c.id, identified: c.external_id.is_some() },
                    },
                    _ => self.create(tx, m.user_id.as_deref()).await?,
                };
                if let Some(a) = &m.anonymous_id {
                    self.link_alt(tx, a, k).await?;
                }
                k
            }
        };
        Ok(known.contact)
    }

    async fn resolve_alias(&mut self, tx: &mut Tx, m: &TrackingMessage) -> Result<ContactId> {
        let (Some(user_id), Some(previous)) = (&m.user_id, &m.previous_id) else {
            return Err(StoreError::Corrupt("alias without userId/previousId passed validation".into()));
        };
        let to = self.by_user(tx, user_id).await?;
        let from = match self.by_user(tx, previous).await? {
            Some(k) => Some(k),
            None => self.by_alt(tx, previous).await?,
        };
        let known = match (to, from) {
            (Some(t), Some(f)) if t.contact != f.contact => {
                let k = self.merge(tx, t.contact, f.contact, &format!("alias: {previous:?} is {user_id:?}")).await?;
                // The previous id keeps finding the person.
                self.link_alt(tx, previous, k).await?;
                k
            }
            (Some(t), Some(_)) => t,
            (Some(t), None) => {
                self.link_alt(tx, previous, t).await?;
                t
            }
            (None, Some(f)) => {
                let c = load(tx, self.ws, f.contact).await?;
                let k = if c.external_id.is_none() {
                    self.identify_as(tx, f.contact, user_id).await?
                } else {
                    // Known under the previous id: the new id becomes an alias.
                    self.link_alt(tx, user_id, f).await?;
                    self.state.remember(self.ws, IdKind::User, user_id, f);
                    f
                };
                self.link_alt(tx, previous, k).await?;
                k
            }
            (None, None) => {
                let k = self.create(tx, Some(user_id)).await?;
                self.link_alt(tx, previous, k).await?;
                k
            }
        };
        Ok(known.contact)
    }
}

/// The normalised email in an identify's traits, if valid.
fn trait_email(m: &TrackingMessage) -> Option<String> {
    m.traits()?.get("email")?.as_str().and_then(|e| kairos_core::address::normalize_email(e).ok())
}

pub(crate) async fn load(tx: &mut Tx, ws: WorkspaceId, id: ContactId) -> Result<Contact> {
    tx.contact(ws, id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("contact {id} vanished during identity resolution")))
}
