//! What attribution reports read: the conversions of a period, the touches
//! of the contacts who converted (emails sent, opened or clicked; visits
//! tagged with a UTM campaign), the messages each source sent in the period,
//! and the marketing costs entered per source. Reads start from the
//! conversions and follow only the converting contacts through the
//! per-contact indexes, so a report's cost grows with its conversions rather
//! than with the whole log.

use crate::{with_conn, Result, Tx};
use kairos_core::ids::WorkspaceId;
use serde::Serialize;

/// A tracked event as a report reads it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EventMoment {
    pub contact_id: String,
    pub timestamp: i64,
    /// JSON text: the properties of a conversion, the context of a visit.
    pub data: String,
}

/// When an email reached a contact, by the moment a report counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailMoment {
    Sent,
    Opened,
    Clicked,
}

impl EmailMoment {
    fn column(self) -> &'static str {
        match self {
            EmailMoment::Sent => "sent_at",
            EmailMoment::Opened => "first_opened_at",
            EmailMoment::Clicked => "first_clicked_at",
        }
    }
}

/// Sources of messages that are not marketing: test sends, Kairos's own
/// confirmations, team notifications, complaint handling.
const NOT_MARKETING: &str = "('test', 'kairos', 'notify', 'complaint')";

/// A marketing cost entered for a source.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct MarketingCost {
    pub source: String,
    /// Spent on the source as a whole.
    pub amount: f64,
    /// Spent per message the source sent in a report's period.
    pub per_message: f64,
    pub currency: String,
    pub note: Option<String>,
    /// When `amount` was spent (ms, `[start, end)`): a report charges the
    /// share of it that falls in its own period. Without one, all of it.
    pub period_start: Option<i64>,
    pub period_end: Option<i64>,
    pub updated_at: i64,
}

impl MarketingCost {
    /// What this source cost over `[since, until)`: the part of the amount
    /// spent then, and the price of the `messages` it sent then.
    pub fn cost_between(&self, since: i64, until: i64, messages: i64) -> f64 {
        let fixed = match (self.period_start, self.period_end) {
            (Some(a), Some(b)) if b > a => {
                let overlap = (until.min(b) - since.max(a)).max(0);
                self.amount * overlap as f64 / (b - a) as f64
            }
            _ => self.amount,
        };
        fixed + self.per_message * messages as f64
    }
}

const CHUNK: usize = 500;

impl Tx {
    /// Tracked events called `name` with a timestamp in `[since, until)`,
    /// with their properties.
    pub async fn tracked_between(
        &mut self,
        ws: WorkspaceId,
        name: &str,
        since: i64,
        until: i64,
    ) -> Result<Vec<EventMoment>> {
        Ok(with_conn!(self, c => sqlx::query_as(
            "SELECT contact_id, timestamp, properties AS data FROM events
             WHERE workspace_id = $1 AND kind = 'track' AND name = $2 AND timestamp >= $3 AND timestamp < $4
             ORDER BY timestamp, seq")
            .bind(ws.to_string()).bind(name).bind(since).bind(until).fetch_all(c).await)?)
    }

    /// Marketing emails of these contacts with their `moment` in
    /// `[since, until]`: (contact, instant, source).
    pub async fn email_touches(
        &mut self,
        ws: WorkspaceId,
        contacts: &[String],
        moment: EmailMoment,
        since: i64,
        until: i64,
    ) -> Result<Vec<(String, i64, String)>> {
        let col = moment.column();
        let mut out = Vec::new();
        for chunk in contacts.chunks(CHUNK) {
            let rows: Vec<(String, i64, String)> = with_conn!(self, cn => {
                let mut qb = sqlx::QueryBuilder::new(format!("SELECT contact_id, {col}, source FROM email_messages WHERE workspace_id = "));
                qb.push_bind(ws.to_string());
                qb.push(format!(" AND {col} IS NOT NULL AND {col} >= ")).push_bind(since);
                qb.push(format!(" AND {col} <= ")).push_bind(until);
                qb.push(format!(" AND source NOT IN {NOT_MARKETING} AND contact_id IN ("));
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.clone());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(cn).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Events of these contacts in `[since, until]` whose context names a
    /// campaign (Segment's `context.campaign`, filled from UTM parameters),
    /// with that context.
    pub async fn campaign_visits(
        &mut self,
        ws: WorkspaceId,
        contacts: &[String],
        since: i64,
        until: i64,
    ) -> Result<Vec<EventMoment>> {
        let mut out = Vec::new();
        for chunk in contacts.chunks(CHUNK) {
            let rows: Vec<EventMoment> = with_conn!(self, cn => {
                let mut qb = sqlx::QueryBuilder::new("SELECT contact_id, timestamp, context AS data FROM events WHERE workspace_id = ");
                qb.push_bind(ws.to_string());
                qb.push(" AND timestamp >= ").push_bind(since);
                qb.push(" AND timestamp <= ").push_bind(until);
                qb.push(" AND context LIKE '%\"campaign\"%' AND contact_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.clone());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(cn).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Marketing messages sent in `[since, until)`, per source.
    pub async fn messages_sent_per_source(
        &mut self,
        ws: WorkspaceId,
        since: i64,
        until: i64,
    ) -> Result<Vec<(String, i64)>> {
        let q = format!(
            "SELECT source, COUNT(*) FROM email_messages
             WHERE workspace_id = $1 AND sent_at >= $2 AND sent_at < $3 AND source NOT IN {NOT_MARKETING}
             GROUP BY source ORDER BY source"
        );
        Ok(with_conn!(self, c => sqlx::query_as(&q).bind(ws.to_string()).bind(since).bind(until).fetch_all(c).await)?)
    }

    pub async fn marketing_costs(&mut self, ws: WorkspaceId) -> Result<Vec<MarketingCost>> {
        Ok(with_conn!(self, c => sqlx::query_as(
            "SELECT source, amount, per_message, currency, note, period_start, period_end, updated_at FROM marketing_costs
             WHERE workspace_id = $1 ORDER BY source")
            .bind(ws.to_string()).fetch_all(c).await)?)
    }

    pub async fn put_marketing_cost(&mut self, ws: WorkspaceId, cost: &MarketingCost) -> Result<()> {
        Ok(with_conn!(self, c => sqlx::query(
            "INSERT INTO marketing_costs (workspace_id, source, amount, per_message, currency, note, period_start,
               period_end, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (workspace_id, source) DO UPDATE SET amount = excluded.amount,
               per_message = excluded.per_message, currency = excluded.currency, note = excluded.note,
               period_start = excluded.period_start, period_end = excluded.period_end, updated_at = excluded.updated_at")
            .bind(ws.to_string()).bind(&cost.source).bind(cost.amount).bind(cost.per_message).bind(&cost.currency)
            .bind(&cost.note).bind(cost.period_start).bind(cost.period_end).bind(cost.updated_at)
            .execute(c).await.map(|_| ()))?)
    }

    pub async fn delete_marketing_cost(&mut self, ws: WorkspaceId, source: &str) -> Result<bool> {
        Ok(with_conn!(self, c => sqlx::query("DELETE FROM marketing_costs WHERE workspace_id = $1 AND source = $2")
            .bind(ws.to_string()).bind(source).execute(c).await.map(|r| r.rows_affected() > 0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::MarketingCost;

    const DAY: i64 = 86_400_000;

    #[test]
    fn a_cost_with_a_period_is_charged_by_overlap() {
        let mut c = MarketingCost {
            source: "utm:google/cpc/x".into(),
            amount: 300.0,
            per_message: 0.5,
            currency: "USD".into(),
            note: None,
            period_start: Some(0),
            period_end: Some(30 * DAY),
            updated_at: 0,
        };
        assert_eq!(c.cost_between(0, 10 * DAY, 0), 100.0, "a third of the period");
        assert_eq!(c.cost_between(20 * DAY, 60 * DAY, 4), 102.0, "the last third and four messages");
        assert_eq!(c.cost_between(40 * DAY, 60 * DAY, 0), 0.0, "outside the period");
        c.period_start = None;
        assert_eq!(c.cost_between(40 * DAY, 60 * DAY, 0), 300.0, "without a period, all of it");
    }
}
