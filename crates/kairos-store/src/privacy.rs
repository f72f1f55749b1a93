//! Data-subject rights in the store: erasing a person everywhere (profile,
//! events, identities, consent, memberships, merge snapshots), leaving only
//! salted hashes of their addresses in the suppression list so a re-import
//! cannot bring them back; and the audit trail that records it.

use crate::{with_conn, Result, Tx};
use kairos_core::consent::Channel;
use kairos_core::gate::{address_hash, SuppressionReason};
use kairos_core::ids::{ContactId, WorkspaceId};
use serde::Serialize;
use serde_json::Value;

/// What an erasure removed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Erasure {
    pub contact_id: String,
    /// Channels whose address now sits, hashed, in the suppression list.
    pub suppressed: Vec<String>,
    pub merges_removed: u64,
    /// Journey runs, their paths and outbox rows, and scores removed.
    pub journey_rows_removed: u64,
}

/// Which audit entries to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Actions starting with this, e.g. `user.` or `contact.erased`.
    pub action: Option<String>,
    /// Entries whose actor or subject is exactly this.
    pub who: Option<String>,
    /// From this instant (ms since the epoch), inclusive.
    pub since: Option<i64>,
    /// Up to this instant, exclusive.
    pub until: Option<i64>,
    /// Entries after this one (its `at` and `id`) in newest-first order.
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: Value,
}

impl Tx {
    /// Erase a contact everywhere; `None` if there is no such contact.
    pub async fn erase_contact(&mut self, ws: WorkspaceId, id: ContactId, now: i64) -> Result<Option<Erasure>> {
        let Some(contact) = self.contact(ws, id).await? else { return Ok(None) };
        let salt = self.address_salt(ws).await?;
        let mut erasure = Erasure { contact_id: id.to_string(), ..Erasure::default() };
        let mut addresses: Vec<(Channel, &String)> = Vec::new();
        if let Some(e) = &contact.email {
            addresses.push((Channel::Email, e));
        }
        if let Some(p) = &contact.phone {
            addresses.push((Channel::Sms, p));
            addresses.push((Channel::Phone, p));
        }
        for (channel, address) in addresses {
            let hash = address_hash(&salt, channel, address);
            self.suppress(ws, channel, &hash, None, SuppressionReason::Erased, None, now).await?;
            erasure.suppressed.push(channel.as_str().to_string());
        }
        // Merge records hold snapshots of the merged-away profiles.
        erasure.merges_removed = with_conn!(self, c => sqlx::query(
            "DELETE FROM contact_merges WHERE workspace_id = $1 AND (source_id = $2 OR target_id = $2)")
            .bind(ws.to_string()).bind(id.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        erasure.journey_rows_removed = self.erase_journey_rows(ws, id).await?;
        self.delete_contact(ws, id).await?;
        Ok(Some(erasure))
    }

    /// Append an audit entry.
    pub async fn audit(
        &mut self,
        ws: WorkspaceId,
        at: i64,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &Value,
    ) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO audit_log (workspace_id, id, at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(ws.to_string()).bind(uuid::Uuid::now_v7().to_string()).bind(at).bind(actor).bind(action)
            .bind(subject).bind(detail.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Audit entries matching `f`, newest first.
    pub async fn audit_entries(&mut self, ws: WorkspaceId, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let (before_at, before_id) = f.before.clone().unwrap_or((i64::MAX, "~".into()));
        let rows: Vec<(String, i64, String, String, String, String)> = with_conn!(self, c => sqlx::query_as(
            "SELECT id, at, actor, action, subject, detail FROM audit_log WHERE workspace_id = $1 \
             AND ($2 = '' OR substr(action, 1, length($2)) = $2) AND ($3 = '' OR actor = $3 OR subject = $3) \
             AND at >= $4 AND at < $5 AND (at < $6 OR (at = $6 AND id < $7)) \
             ORDER BY at DESC, id DESC LIMIT $8")
            .bind(ws.to_string()).bind(f.action.as_deref().unwrap_or("")).bind(f.who.as_deref().unwrap_or(""))
            .bind(f.since.unwrap_or(i64::MIN)).bind(f.until.unwrap_or(i64::MAX)).bind(before_at).bind(before_id)
            .bind(f.limit).fetch_all(c).await)?;
        Ok(rows
            .into_iter()
            .map(|(id, at, actor, action, subject, detail)| AuditEntry {
                id,
                at,
                actor,
                action,
                subject,
                detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
            })
            .collect())
    }
}
