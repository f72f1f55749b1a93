//! Trained models in the running system. Today: the customer-lifetime model
//! (BG/NBD for purchases, Gamma-Gamma for spend) trained on a workspace's
//! purchase events, stored as a new version, and applied to one contact on
//! request (probability alive, expected purchases and revenue).

use crate::Engine;
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_ml::cluster::{cluster, Clustering, FeatureWords};
use kairos_ml::clv::{summarize, BgNbd, GammaGamma};
use kairos_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use thiserror::Error;

const KIND: &str = "clv";

/// A trained customer-lifetime model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClvModel {
    pub id: String,
    pub event: String,
    pub value_property: Option<String>,
    pub purchases: BgNbd,
    pub spend: Option<GammaGamma>,
    pub customers: usize,
    pub repeat_customers: usize,
    pub log_likelihood: f64,
    pub trained_at: i64,
}

/// The model applied to one contact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactClv {
    pub model_id: String,
    pub p_alive: f64,
    pub horizon_days: f64,
    pub expected_purchases: f64,
    pub expected_value_per_purchase: Option<f64>,
    pub expected_revenue: Option<f64>,
    pub repeat_purchases: f64,
}

#[derive(Debug, Error)]
pub enum ModelError {
    #[error("{0}")]
    NotEnoughData(String),
    #[error("no customer-lifetime model has been trained; POST /api/v1/models/clv first")]
    NoModel,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn value_of(props: &Value, property: Option<&str>) -> f64 {
    property.and_then(|p| props.get(p)).and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(0.0)
}

/// The features customers are clustered on, in order, and how they read.
pub const CLUSTER_FEATURES: [&str; 3] = ["recency_days", "purchase_days", "average_value"];
const CLUSTER_WORDS: [FeatureWords; 3] = [
    FeatureWords { high: "lapsing", low: "recently active" },
    FeatureWords { high: "frequent buyers", low: "one-off buyers" },
    FeatureWords { high: "high value", low: "low value" },
];

impl Engine {
    /// Each customer's `event`s up to `now` as (timestamp, value), oldest
    /// first — of the whole workspace, or of one contact.
    async fn purchase_histories(
        &self,
        ws: WorkspaceId,
        event: &str,
        value_property: Option<&str>,
        contact: Option<ContactId>,
        now: i64,
    ) -> Result<BTreeMap<ContactId, Vec<(i64, f64)>>, StoreError> {
        let mut tx = self.store().begin().await?;
        let rows = tx.purchases(ws, event, contact, now).await?;
        tx.commit().await?;
        let mut by_contact: BTreeMap<ContactId, Vec<(i64, f64)>> = BTreeMap::new();
        for (c, ts, props) in rows {
            by_contact.entry(c).or_default().push((ts, value_of(&props, value_property)));
        }
        Ok(by_contact)
    }

    /// Cluster the customers who performed `event` on recency, frequency and
    /// value (k-means on standardised features; k by silhouette unless
    /// given). Returns the clustering and the contact of each row.
    pub async fn cluster_customers(
        &self,
        ws: WorkspaceId,
        event: &str,
        value_property: Option<&str>,
        k: Option<usize>,
    ) -> Result<(Clustering, Vec<ContactId>), ModelError> {
        let now = self.clock().now().timestamp_millis();
        let by_contact = self.purchase_histories(ws, event, value_property, None, now).await?;
        let mut ids = Vec::new();
        let mut features = Vec::new();
        for (c, p) in &by_contact {
            let Some((rfm, _)) = summarize(p, now) else { continue };
            let avg = p.iter().map(|(_, v)| v).sum::<f64>() / p.len() as f64;
            ids.push(*c);
            features.push(vec![rfm.t - rfm.t_x, rfm.x + 1.0, avg]);
        }
        if features.len() < 10 {
            return Err(ModelError::NotEnoughData(format!(
                "{} customers with {event:?} events; clustering needs at least 10",
                features.len()
            )));
        }
        let clustering = cluster(&features, k, 8, &CLUSTER_WORDS)
            .ok_or_else(|| ModelError::NotEnoughData("too few customers to cluster".into()))?;
        Ok((clustering, ids))
    }

    /// Train on every `event` in the workspace up to now and store the model.
    pub async fn fit_clv(
        &self,
        ws: WorkspaceId,
        event: &str,
        value_property: Option<&str>,
    ) -> Result<ClvModel, ModelError> {
        let now = self.clock().now().timestamp_millis();
        let by_contact = self.purchase_histories(ws, event, value_property, None, now).await?;
        let summaries: Vec<_> = by_contact.values().filter_map(|p| summarize(p, now)).collect();
        let repeat = summaries.iter().filter(|(r, _)| r.x > 0.0).count();
        if summaries.len() < 20 || repeat < 5 {
            return Err(ModelError::NotEnoughData(format!(
                "{} customers with {event:?} events, {repeat} of them repeat buyers; the model needs at least 20 and 5",
                summaries.len()
            )));
        }
        let rfm: Vec<_> = summaries.iter().map(|(r, _)| *r).collect();
        let (purchases, ll) = BgNbd::fit(&rfm).map_err(|e| ModelError::NotEnoughData(e.to_string()))?;
        let spend = match value_property {
            Some(_) => {
                let s: Vec<_> = summaries.iter().map(|(_, s)| *s).collect();
                GammaGamma::fit(&s).ok().map(|(m, _)| m)
            }
            None => None,
        };
        let mut model = ClvModel {
            id: String::new(),
            event: event.to_string(),
            value_property: value_property.map(str::to_string),
            purchases,
            spend,
            customers: summaries.len(),
            repeat_customers: repeat,
            log_likelihood: ll,
            trained_at: now,
        };
        let mut tx = self.store().begin_write().await?;
        model.id = tx.save_model(ws, KIND, &serde_json::to_value(&model).unwrap_or_default(), now).await?;
        tx.commit().await?;
        Ok(model)
    }

    pub async fn clv_model(&self, ws: WorkspaceId) -> Result<Option<ClvModel>, ModelError> {
        let mut tx = self.store().begin().await?;
        let latest = tx.latest_model(ws, KIND).await?;
        tx.commit().await?;
        Ok(latest.and_then(|(id, params, _)| {
            let mut m: ClvModel = serde_json::from_value(params).ok()?;
            m.id = id;
            Some(m)
        }))
    }

    /// Apply the latest model to one contact over the next `days` days.
    pub async fn contact_clv(&self, ws: WorkspaceId, contact: ContactId, days: f64) -> Result<ContactClv, ModelError> {
        let model = self.clv_model(ws).await?.ok_or(ModelError::NoModel)?;
        let now = self.clock().now().timestamp_millis();
        let histories =
            self.purchase_histories(ws, &model.event, model.value_property.as_deref(), Some(contact), now).await?;
        let purchases = histories.into_values().next().unwrap_or_default();
        let Some((rfm, spend)) = summarize(&purchases, now) else {
            return Err(ModelError::NotEnoughData(format!("the contact has no {:?} events yet", model.event)));
        };
        let expected = model.purchases.expected_purchases(&rfm, days);
        let value = model.spend.map(|g| g.expected_value(&spend));
        Ok(ContactClv {
            model_id: model.id,
            p_alive: model.purchases.p_alive(&rfm),
            horizon_days: days,
            expected_purchases: expected,
            expected_value_per_purchase: value,
            expected_revenue: value.map(|v| v * expected),
            repeat_purchases: rfm.x,
        })
    }
}
