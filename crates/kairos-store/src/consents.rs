//! Consent as stored: the current state per contact, channel and purpose, and
//! the append-only history of every change (double opt-in confirmations in
//! flight are in `forms.rs`). Recording a change writes both
//! in the caller's transaction and marks the contact touched, so segments
//! with consent conditions follow.

use crate::rows::{parse_id, parse_json, to_json};
use crate::{with_conn, Result, StoreError, Tx};
use chrono::DateTime;
use kairos_core::consent::{Channel, ConsentChange, ConsentState, LawfulBasis, Purpose};
use kairos_core::ids::{ContactId, WorkspaceId};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct ConsentRow {
    channel: String,
    purpose: String,
    state: String,
    source: String,
    lawful_basis: String,
    wording: Option<String>,
    wording_version: Option<String>,
    proof: String,
    at: i64,
}

impl ConsentRow {
    fn into_change(self) -> Result<ConsentChange> {
        let bad = |what: &str, v: &str| StoreError::Corrupt(format!("consent {what} {v:?}"));
        Ok(ConsentChange {
            channel: Channel::parse(&self.channel).ok_or_else(|| bad("channel", &self.channel))?,
            purpose: Purpose::parse(&self.purpose).ok_or_else(|| bad("purpose", &self.purpose))?,
            state: ConsentState::parse(&self.state).ok_or_else(|| bad("state", &self.state))?,
            source: self.source,
            lawful_basis: LawfulBasis::parse(&self.lawful_basis)
                .ok_or_else(|| bad("lawful basis", &self.lawful_basis))?,
            wording: self.wording,
            wording_version: self.wording_version,
            proof: parse_json(&self.proof, "consent proof")?,
            at: DateTime::from_timestamp_millis(self.at).unwrap_or_default(),
        })
    }
}

impl Tx {
    /// Append a change to the history and make it the current state (unless
    /// a newer change for the same channel and purpose is already recorded).
    pub async fn record_consent(&mut self, ws: WorkspaceId, contact: ContactId, c: &ConsentChange) -> Result<()> {
        let (w, id) = (ws.to_string(), contact.to_string());
        let proof = to_json(&c.proof);
        let at = c.at.timestamp_millis();
        with_conn!(self, conn => sqlx::query(
            "INSERT INTO consent_history (workspace_id, id, contact_id, channel, purpose, state, source, lawful_basis, wording, wording_version, proof, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
            .bind(&w).bind(Uuid::now_v7().to_string()).bind(&id).bind(c.channel.as_str()).bind(c.purpose.as_str())
            .bind(c.state.as_str()).bind(&c.source).bind(c.lawful_basis.as_str()).bind(&c.wording)
            .bind(&c.wording_version).bind(&proof).bind(at)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        with_conn!(self, conn => sqlx::query(
            "INSERT INTO consents (workspace_id, contact_id, channel, purpose, state, source, lawful_basis, wording, wording_version, proof, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (workspace_id, contact_id, channel, purpose) DO UPDATE SET state = excluded.state,
               source = excluded.source, lawful_basis = excluded.lawful_basis, wording = excluded.wording,
               wording_version = excluded.wording_version, proof = excluded.proof, updated_at = excluded.updated_at
             WHERE consents.updated_at <= excluded.updated_at")
            .bind(&w).bind(&id).bind(c.channel.as_str()).bind(c.purpose.as_str()).bind(c.state.as_str())
            .bind(&c.source).bind(c.lawful_basis.as_str()).bind(&c.wording).bind(&c.wording_version)
            .bind(&proof).bind(at)
            .execute(conn).await.map(|r| r.rows_affected()))?;
        self.touch_contact(ws, contact);
        Ok(())
    }

    /// A contact's current consent, one entry per channel and purpose recorded.
    pub async fn consents_of(&mut self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<ConsentChange>> {
        let rows: Vec<ConsentRow> = with_conn!(self, c => sqlx::query_as(
            "SELECT channel, purpose, state, source, lawful_basis, wording, wording_version, proof, updated_at AS at
             FROM consents WHERE workspace_id = $1 AND contact_id = $2 ORDER BY channel, purpose")
            .bind(ws.to_string()).bind(contact.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(ConsentRow::into_change).collect()
    }

    /// Every consent change of a contact, oldest first.
    pub async fn consent_history_of(&mut self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<ConsentChange>> {
        let rows: Vec<ConsentRow> = with_conn!(self, c => sqlx::query_as(
            "SELECT channel, purpose, state, source, lawful_basis, wording, wording_version, proof, at
             FROM consent_history WHERE workspace_id = $1 AND contact_id = $2 ORDER BY at, id")
            .bind(ws.to_string()).bind(contact.to_string()).fetch_all(c).await)?;
        rows.into_iter().map(ConsentRow::into_change).collect()
    }

    /// The current consent states of these contacts, in one query per
    /// thousand (scoring reads them for every contact a commit touched).
    pub async fn consent_states_of(
        &mut self,
        ws: WorkspaceId,
        contacts: &[ContactId],
    ) -> Result<std::collections::HashMap<ContactId, Vec<(Channel, Purpose, ConsentState)>>> {
        let mut out: std::collections::HashMap<ContactId, Vec<(Channel, Purpose, ConsentState)>> =
            std::collections::HashMap::new();
        for chunk in contacts.chunks(1000) {
            let rows: Vec<(String, String, String, String)> = with_conn!(self, c => {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT contact_id, channel, purpose, state FROM consents WHERE workspace_id = ");
                qb.push_bind(ws.to_string()).push(" AND contact_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.to_string());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(c).await
            })?;
            for (c, ch, p, s) in rows {
                if let (Some(ch), Some(p), Some(s)) = (Channel::parse(&ch), Purpose::parse(&p), ConsentState::parse(&s))
                {
                    out.entry(parse_id(&c, "contact")?).or_default().push((ch, p, s));
                }
            }
        }
        Ok(out)
    }

    /// Every current consent state of a workspace (for the segment engine).
    pub async fn all_consent_states(
        &mut self,
        ws: WorkspaceId,
    ) -> Result<Vec<(ContactId, Channel, Purpose, ConsentState)>> {
        let rows: Vec<(String, String, String, String)> = with_conn!(self, c => sqlx::query_as(
            "SELECT contact_id, channel, purpose, state FROM consents WHERE workspace_id = $1")
            .bind(ws.to_string()).fetch_all(c).await)?;
        rows.into_iter()
            .filter_map(|(c, ch, p, s)| {
                let parsed = (Channel::parse(&ch)?, Purpose::parse(&p)?, ConsentState::parse(&s)?);
                Some(parse_id(&c, "contact").map(|id| (id, parsed.0, parsed.1, parsed.2)))
            })
            .collect()
    }

    /// Merge `from`'s consent into `to`: history moves, and the newer state
    /// per channel and purpose wins.
    pub(crate) async fn merge_consents(&mut self, ws: WorkspaceId, from: ContactId, to: ContactId) -> Result<()> {
        let (w, f, t) = (ws.to_string(), from.to_string(), to.to_string());
        with_conn!(self, c => sqlx::query("UPDATE consent_history SET contact_id = $3 WHERE workspace_id = $1 AND contact_id = $2")
            .bind(&w).bind(&f).bind(&t).execute(c).await.map(|r| r.rows_affected()))?;
        with_conn!(self, c => sqlx::query(
            "INSERT INTO consents (workspace_id, contact_id, channel, purpose, state, source, lawful_basis, wording, wording_version, proof, updated_at)
             SELECT workspace_id, $3, channel, purpose, state, source, lawful_basis, wording, wording_version, proof, updated_at
             FROM consents WHERE workspace_id = $1 AND contact_id = $2
             ON CONFLICT (workspace_id, contact_id, channel, purpose) DO UPDATE SET state = excluded.state,
               source = excluded.source, lawful_basis = excluded.lawful_basis, wording = excluded.wording,
               wording_version = excluded.wording_version, proof = excluded.proof, updated_at = excluded.updated_at
             WHERE consents.updated_at < excluded.updated_at")
            .bind(&w).bind(&f).bind(&t).execute(c).await.map(|r| r.rows_affected()))?;
        with_conn!(self, c => sqlx::query("DELETE FROM consents WHERE workspace_id = $1 AND contact_id = $2")
            .bind(&w).bind(&f).execute(c).await.map(|r| r.rows_affected()))?;
        // Double opt-in confirmations in flight follow the person, so a link
        // mailed before the merge still confirms.
        with_conn!(self, c => sqlx::query("UPDATE form_confirmations SET contact_id = $3 WHERE workspace_id = $1 AND contact_id = $2")
            .bind(&w).bind(&f).bind(&t).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
