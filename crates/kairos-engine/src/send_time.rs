//! Send-time optimisation in the running system: each contact's best local
//! hour to receive a message, from the hours (in their time zone, else the
//! workspace's default) at which they opened or clicked in the last 180
//! days, shrunk towards the workspace's pattern (`kairos-ml::send_time`).
//! Broadcasts with `"send_time": "optimised"` and journey delays
//! `"until": {"best_hour": true}` use it.

use crate::Engine;
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_ml::send_time::{best_hour, population_shares, BestHour, HourCounts};
use kairos_store::{StoreError, Tx};
use std::collections::HashMap;

const LOOKBACK_MS: i64 = 180 * 86_400_000;
/// How long a workspace's pattern is reused before it is read again.
const POPULATION_TTL_MS: i64 = 3_600_000;

fn local_hour(at: i64, tz: Option<&str>, default_tz: Option<&str>) -> Option<usize> {
    let zone = tz
        .and_then(|t| jiff::tz::TimeZone::get(t).ok())
        .or_else(|| default_tz.and_then(|t| jiff::tz::TimeZone::get(t).ok()))
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let ts = jiff::Timestamp::from_millisecond(at).ok()?;
    Some(ts.to_zoned(zone).hour() as usize)
}

fn tally(rows: &[(ContactId, i64, Option<String>)], default_tz: Option<&str>) -> HashMap<ContactId, HourCounts> {
    let mut by_contact: HashMap<ContactId, HourCounts> = HashMap::new();
    for (c, at, tz) in rows {
        if let Some(h) = local_hour(*at, tz.as_deref(), default_tz) {
            by_contact.entry(*c).or_insert([0.0; 24])[h] += 1.0;
        }
    }
    by_contact
}

impl Engine {
    /// The workspace's engagement pattern (shares per local hour), cached
    /// for an hour; read through `tx` when stale.
    async fn population_hours(&self, tx: &mut Tx, ws: WorkspaceId) -> Result<HourCounts, StoreError> {
        let now = self.clock().now().timestamp_millis();
        if let Some((at, shares)) = self.inner.send_hours.lock().unwrap_or_else(|e| e.into_inner()).get(&ws) {
            if now - at < POPULATION_TTL_MS {
                return Ok(*shares);
            }
        }
        let (_, population) = self.best_send_hours_in(tx, ws).await?;
        Ok(population)
    }

    /// Every engaged contact's best hour, and the workspace's pattern (which
    /// is also what a contact without data gets).
    pub async fn best_send_hours(
        &self,
        ws: WorkspaceId,
    ) -> Result<(HashMap<ContactId, BestHour>, HourCounts), StoreError> {
        let mut tx = self.store().begin().await?;
        let out = self.best_send_hours_in(&mut tx, ws).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn best_send_hours_in(
        &self,
        tx: &mut Tx,
        ws: WorkspaceId,
    ) -> Result<(HashMap<ContactId, BestHour>, HourCounts), StoreError> {
        let now = self.clock().now().timestamp_millis();
        let rows = tx.engagement_times(ws, now - LOOKBACK_MS, None).await?;
        let default_tz = tx.workspace_policy(ws).await?.default_timezone;
        let by_contact = tally(&rows, default_tz.as_deref());
        let counts: Vec<HourCounts> = by_contact.values().copied().collect();
        let population = population_shares(&counts);
        self.inner.send_hours.lock().unwrap_or_else(|e| e.into_inner()).insert(ws, (now, population));
        Ok((by_contact.iter().map(|(c, own)| (*c, best_hour(own, &population))).collect(), population))
    }

    /// One contact's best hour (the workspace's when they have no data).
    pub async fn best_send_hour(&self, ws: WorkspaceId, contact: ContactId) -> Result<BestHour, StoreError> {
        let mut tx = self.store().begin().await?;
        let best = self.best_send_hour_in(&mut tx, ws, contact).await?;
        tx.commit().await?;
        Ok(best)
    }

    /// [`Engine::best_send_hour`] read through `tx`: the writer asks inside its own transaction, where
    /// taking a second connection could wait on writers waiting on it.
    pub(crate) async fn best_send_hour_in(
        &self,
        tx: &mut Tx,
        ws: WorkspaceId,
        contact: ContactId,
    ) -> Result<BestHour, StoreError> {
        let population = self.population_hours(tx, ws).await?;
        let now = self.clock().now().timestamp_millis();
        let rows = tx.engagement_times(ws, now - LOOKBACK_MS, Some(contact)).await?;
        let default_tz = tx.workspace_policy(ws).await?.default_timezone;
        let own = tally(&rows, default_tz.as_deref()).remove(&contact).unwrap_or([0.0; 24]);
        Ok(best_hour(&own, &population))
    }
}
