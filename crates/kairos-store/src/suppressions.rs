//! The suppression list: addresses that must not be sent to on a channel,
//! keyed by a salted hash of the canonical address (the salt is a secret of
//! the workspace), with the reason. Erased people leave only the hash.

use crate::{with_conn, Result, Tx};
use kairos_core::consent::Channel;
use kairos_core::gate::SuppressionReason;
use kairos_core::ids::WorkspaceId;
use rand::RngCore;
use serde::Serialize;

/// One suppressed address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppression {
    pub channel: String,
    pub address_hash: String,
    /// Absent for erased people.
    pub address: Option<String>,
    pub reason: String,
    pub note: Option<String>,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    channel: String,
    address_hash: String,
    address: Option<String>,
    reason: String,
    note: Option<String>,
    created_at: i64,
}

impl From<Row> for Suppression {
    fn from(r: Row) -> Self {
        Suppression {
            channel: r.channel,
            address_hash: r.address_hash,
            address: r.address,
            reason: r.reason,
            note: r.note,
            created_at: r.created_at,
        }
    }
}

impl Tx {
    /// The workspace's secret salt for address hashes (made on first use).
    pub async fn address_salt(&mut self, ws: WorkspaceId) -> Result<String> {
        // Read first: the salt is written once per workspace, and an INSERT
        // in a read transaction (`Store::begin`, as every send's tracking key
        // takes it) would need SQLite's write lock and can fail with
        // "database is locked" while another writer holds it.
        let existing: Option<String> = with_conn!(self, c => sqlx::query_scalar("SELECT address_salt FROM workspace_secrets WHERE workspace_id = $1")
            .bind(ws.to_string()).fetch_optional(c).await)?;
        if let Some(salt) = existing {
            return Ok(salt);
        }
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        with_conn!(self, c => sqlx::query(
            "INSERT INTO workspace_secrets (workspace_id, address_salt) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(ws.to_string()).bind(hex::encode(bytes)).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(
            with_conn!(self, c => sqlx::query_scalar("SELECT address_salt FROM workspace_secrets WHERE workspace_id = $1")
            .bind(ws.to_string()).fetch_one(c).await)?,
        )
    }

    /// Suppress an address (the newest reason wins).
    #[allow(clippy::too_many_arguments)]
    pub async fn suppress(
        &mut self,
        ws: WorkspaceId,
        channel: Channel,
        address_hash: &str,
        address: Option<&str>,
        reason: SuppressionReason,
        note: Option<&str>,
        now: i64,
    ) -> Result<()> {
        with_conn!(self, c => sqlx::query(
            "INSERT INTO suppressions (workspace_id, channel, address_hash, address, reason, note, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (workspace_id, channel, address_hash) DO UPDATE SET address = excluded.address,
               reason = excluded.reason, note = excluded.note, created_at = excluded.created_at")
            .bind(ws.to_string()).bind(channel.as_str()).bind(address_hash).bind(address).bind(reason.as_str())
            .bind(note).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn suppression(
        &mut self,
        ws: WorkspaceId,
        channel: Channel,
        address_hash: &str,
    ) -> Result<Option<Suppression>> {
        let row: Option<Row> = with_conn!(self, c => sqlx::query_as(
            "SELECT channel, address_hash, address, reason, note, created_at FROM suppressions
             WHERE workspace_id = $1 AND channel = $2 AND address_hash = $3")
            .bind(ws.to_string()).bind(channel.as_str()).bind(address_hash).fetch_optional(c).await)?;
        Ok(row.map(Into::into))
    }

    /// A page of suppressions ordered by channel and hash, after `after`.
    pub async fn suppressions(
        &mut self,
        ws: WorkspaceId,
        channel: Option<Channel>,
        after: Option<(String, String)>,
        limit: i64,
    ) -> Result<Vec<Suppression>> {
        let (ac, ah) = after.unwrap_or_default();
        let rows: Vec<Row> = with_conn!(self, c => sqlx::query_as(
            "SELECT channel, address_hash, address, reason, note, created_at FROM suppressions
             WHERE workspace_id = $1 AND ($2 = '' OR channel = $2) AND (channel > $3 OR (channel = $3 AND address_hash > $4))
             ORDER BY channel, address_hash LIMIT $5")
            .bind(ws.to_string()).bind(channel.map(|c| c.as_str()).unwrap_or("")).bind(ac).bind(ah).bind(limit)
            .fetch_all(c).await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Which of these hashes belong to erased people on a channel.
    pub async fn erased_among(
        &mut self,
        ws: WorkspaceId,
        channel: Channel,
        hashes: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        for chunk in hashes.chunks(500) {
            let rows: Vec<String> = with_conn!(self, c => {
                let mut qb = sqlx::QueryBuilder::new("SELECT address_hash FROM suppressions WHERE workspace_id = ");
                qb.push_bind(ws.to_string()).push(" AND channel = ").push_bind(channel.as_str());
                qb.push(" AND reason = 'erased' AND address_hash IN (");
                let mut sep = qb.separated(", ");
                for h in chunk {
                    sep.push_bind(h.clone());
                }
                qb.push(")");
                qb.build_query_scalar().fetch_all(c).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    pub async fn unsuppress(&mut self, ws: WorkspaceId, channel: Channel, address_hash: &str) -> Result<bool> {
        let n = with_conn!(self, c => sqlx::query(
            "DELETE FROM suppressions WHERE workspace_id = $1 AND channel = $2 AND address_hash = $3")
            .bind(ws.to_string()).bind(channel.as_str()).bind(address_hash).execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }
}
