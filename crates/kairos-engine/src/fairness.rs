//! Fairness audits of any model or score, stored with the version audited.
//! A conversion model version is audited on its own time-based hold-out
//! (rebuilt from its stored feature spec and cutoffs), selected at a score
//! threshold; a rule-based score is audited on every contact as it stands
//! now — selected when the score is at or above a threshold — against
//! whether they performed an outcome event in the last days. The figures
//! are `kairos-ml::fairness`'s (checked against fairlearn).

use crate::conversion::{text_of, ConversionError, ConversionVersion};
use crate::Engine;
use kairos_core::fields::FieldType;
use kairos_core::ids::{ContactId, WorkspaceId};
use kairos_ml::fairness::{audit_scores, FairnessReport};
use kairos_ml::features::DAY_MS;
use kairos_store::FairnessAudit;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;

/// What to audit a subject by.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRequest {
    pub sensitive_attribute: String,
    /// Selected at or above this score (for a score, also a threshold's
    /// name). Default: a model's top decile; a score's highest threshold.
    #[serde(default)]
    pub threshold: Option<Value>,
    /// For scores: the outcome that counts as a conversion …
    #[serde(default)]
    pub outcome_event: Option<String>,
    /// … within this many days before now (default 30).
    #[serde(default)]
    pub outcome_days: Option<u32>,
}

impl Engine {
    /// Refuse an attribute that is not a field, or whose values do not name
    /// groups.
    async fn check_attribute(&self, ws: WorkspaceId, attr: &str) -> Result<(), ConversionError> {
        let mut tx = self.store().begin().await?;
        let fields = tx.list_fields(ws).await?;
        tx.commit().await?;
        let ty = fields.iter().find(|f| f.name == attr).map(|f| f.field_type);
        if ty.is_none() && !kairos_core::segment::rule::STANDARD_CONTACT_TEXT.contains(&attr) {
            return Err(ConversionError::Invalid(format!(
                "sensitive_attribute: {attr:?} is not a contact field of this workspace"
            )));
        }
        if matches!(ty, Some(FieldType::Number | FieldType::Date)) {
            return Err(ConversionError::Invalid(format!(
                "sensitive_attribute: {attr:?} holds numbers or dates; audit by a field whose values name groups \
                 (an age band rather than an age)"
            )));
        }
        Ok(())
    }

    async fn store_audit(
        &self,
        ws: WorkspaceId,
        subject: String,
        version: String,
        req: &AuditRequest,
        report: &FairnessReport,
    ) -> Result<FairnessAudit, ConversionError> {
        let audit = FairnessAudit {
            id: uuid::Uuid::now_v7().to_string(),
            subject,
            version,
            request: serde_json::to_value(req).unwrap_or(Value::Null),
            report: serde_json::to_value(report).unwrap_or(Value::Null),
            created_at: self.clock().now().timestamp_millis(),
        };
        let mut tx = self.store().begin_write().await?;
        tx.save_fairness_audit(ws, &audit).await?;
        tx.commit().await?;
        Ok(audit)
    }

    /// Audit a conversion model version on its hold-out.
    pub async fn audit_conversion(
        &self,
        ws: WorkspaceId,
        model_id: &str,
        req: &AuditRequest,
    ) -> Result<FairnessAudit, ConversionError> {
        self.check_attribute(ws, &req.sensitive_attribute).await?;
        if req.outcome_event.is_some() || req.outcome_days.is_some() {
            return Err(ConversionError::Invalid(
                "outcome_event: a model is audited against its own outcome on its hold-out".into(),
            ));
        }
        let v: ConversionVersion = self
            .conversion_versions(ws)
            .await?
            .into_iter()
            .find(|v| v.id == model_id)
            .ok_or_else(|| ConversionError::Invalid(format!("no conversion model version {model_id:?}")))?;
        let profiles = self.profiles(ws).await?;
        let pop = self.population(ws, &profiles, &v.spec, Some(&req.sensitive_attribute)).await?;
        let horizon = v.horizon_days as i64 * DAY_MS;
        let (mut scores, mut labels, mut groups) = (Vec::new(), Vec::new(), Vec::new());
        for (id, f) in &pop.facts {
            if f.first_seen > v.holdout_cutoff {
                continue;
            }
            let p = v
                .model
                .score(&v.spec.row(f, v.holdout_cutoff))
                .map_err(|e| ConversionError::NotTrained(e.to_string()))?;
            scores.push(p);
            labels.push(v.spec.converted(f, v.holdout_cutoff, horizon));
            groups.push(pop.sensitive.get(id).cloned().unwrap_or_else(|| "(not set)".into()));
        }
        let threshold = match &req.threshold {
            None => {
                let mut sorted = scores.clone();
                sorted.sort_by(|a, b| b.total_cmp(a));
                sorted.get(sorted.len() / 10).copied().unwrap_or(0.5)
            }
            Some(t) => t
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| ConversionError::Invalid("threshold: expected a probability such as 0.3".into()))?,
        };
        let report = audit_scores(&scores, threshold, &labels, &groups)
            .map_err(|e| ConversionError::NotTrained(format!("cannot audit: {e}")))?;
        self.store_audit(ws, format!("conversion:{}", v.id), v.id.clone(), req, &report).await
    }

    /// Audit a rule-based score as it stands now.
    pub async fn audit_score(
        &self,
        ws: WorkspaceId,
        name: &str,
        req: &AuditRequest,
    ) -> Result<FairnessAudit, ConversionError> {
        self.check_attribute(ws, &req.sensitive_attribute).await?;
        let Some(outcome) = req.outcome_event.as_deref().filter(|e| !e.trim().is_empty()) else {
            return Err(ConversionError::Invalid(
                "outcome_event: name the event that counts as a conversion (e.g. \"Order Completed\")".into(),
            ));
        };
        let days = req.outcome_days.unwrap_or(30);
        if !(1..=365).contains(&days) {
            return Err(ConversionError::Invalid("outcome_days: expected a number of days from 1 to 365".into()));
        }
        let now = self.clock().now().timestamp_millis();
        let mut tx = self.store().begin().await?;
        let record = tx
            .score_definition(ws, name)
            .await?
            .ok_or_else(|| ConversionError::Invalid(format!("no score named {name:?}")))?;
        let def: Value = serde_json::from_str(&record.definition).unwrap_or(Value::Null);
        let states = tx.all_score_states(ws, name).await?;
        let converted: HashSet<ContactId> = tx
            .purchases(ws, outcome, None, now)
            .await?
            .into_iter()
            .filter(|(_, t, _)| *t > now - days as i64 * DAY_MS)
            .map(|(c, ..)| c)
            .collect();
        tx.commit().await?;
        let thresholds: Vec<(String, f64)> = def["thresholds"]
            .as_array()
            .map(|a| a.iter().filter_map(|t| Some((t["name"].as_str()?.to_string(), t["value"].as_f64()?))).collect())
            .unwrap_or_default();
        let threshold = match &req.threshold {
            None => thresholds
                .iter()
                .map(|t| t.1)
                .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
                .ok_or_else(|| ConversionError::Invalid("threshold: the score has no thresholds; give one".into()))?,
            Some(Value::String(n)) => thresholds.iter().find(|t| t.0 == *n).map(|t| t.1).ok_or_else(|| {
                ConversionError::Invalid(format!("threshold: the score has no threshold named {n:?}"))
            })?,
            Some(t) => t
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| ConversionError::Invalid("threshold: expected a number or a threshold's name".into()))?,
        };
        let values: std::collections::HashMap<ContactId, f64> =
            states.into_iter().map(|(c, s, h)| (c, s.value_at(h, now))).collect();
        let profiles = self.profiles(ws).await?;
        let (mut scores, mut labels, mut groups) = (Vec::new(), Vec::new(), Vec::new());
        for c in &profiles.contacts {
            scores.push(values.get(&c.id).copied().unwrap_or(0.0));
            labels.push(converted.contains(&c.id));
            groups.push(text_of(c, &req.sensitive_attribute).unwrap_or_else(|| "(not set)".into()));
        }
        let report = audit_scores(&scores, threshold, &labels, &groups)
            .map_err(|e| ConversionError::NotTrained(format!("cannot audit: {e}")))?;
        self.store_audit(ws, format!("score:{name}"), record.live_version.to_string(), req, &report).await
    }

    pub async fn fairness_audits(
        &self,
        ws: WorkspaceId,
        subject: Option<&str>,
    ) -> Result<Vec<FairnessAudit>, kairos_store::StoreError> {
        let mut tx = self.store().begin().await?;
        let r = tx.fairness_audits(ws, subject).await?;
        tx.commit().await?;
        Ok(r)
    }
}
