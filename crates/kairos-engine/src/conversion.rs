//! Predictive conversion scoring in the running system: build each
//! contact's facts from the store (events of the conversion and of the
//! workspace's most frequent events, numeric and categorical profile fields,
//! their company's numbers), train on the features at `now − 2·horizon` with
//! the label "converted in the horizon after", evaluate on the same one
//! horizon later (the time-based hold-out), audit fairness on that hold-out
//! when a sensitive attribute is named, and store the version with its
//! metrics. A new version is promoted only when it beats the current one on
//! the new hold-out (the current one is re-scored there from its own stored
//! feature spec). A contact is scored on demand from their history as it is
//! now, with the features that moved the score most.

use crate::Engine;
use kairos_core::fields::FieldType;
use kairos_core::ids::{CompanyId, ContactId, WorkspaceId};
use kairos_core::segment::event_name;
use kairos_ml::conversion::{fit, ConversionModel, Explanation, FitOptions, TrainingSet};
use kairos_ml::fairness::{audit_scores, FairnessReport};
use kairos_ml::features::{Facts, FeatureSpec, DAY_MS};
use kairos_ml::metrics::Metrics;
use kairos_store::StoreError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use thiserror::Error;

const KIND: &str = "conversion";
/// Events besides the conversion that get columns.
const TOP_EVENTS: i64 = 12;
/// Values of a categorical field that get a column each.
const TOP_VALUES: usize = 8;
const CHUNK: i64 = 10_000;

/// What to train.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversionRequest {
    /// The conversion event, as segment rules name events.
    pub event: String,
    pub horizon_days: u32,
    /// A contact field to audit the model's fairness by (e.g. `gender`).
    #[serde(default)]
    pub sensitive_attribute: Option<String>,
    /// Let the sensitive attribute be a feature (it is left out otherwise).
    #[serde(default)]
    pub allow_sensitive: bool,
    /// Score at or above which a contact counts as selected in the audit;
    /// default: the hold-out's top-decile score.
    #[serde(default)]
    pub fairness_threshold: Option<f64>,
    /// The L2 penalty (default 1).
    #[serde(default)]
    pub l2: Option<f64>,
    /// Profile fields to leave out. Fields are read as they are now (no
    /// history of field values is kept), so one derived from the outcome
    /// (a lifetime value, a "customer since") would leak it into the past.
    #[serde(default)]
    pub exclude_fields: Vec<String>,
}

/// Events Kairos derives from others: counting them would count the same
/// behaviour twice, under a name that mixes every segment or score.
const ENGAGEMENT_EVENTS: [&str; 2] = ["Email Opened", "Email Clicked"];

/// Whether the workspace has any `event`.
async fn has_event(engine: &Engine, ws: WorkspaceId, event: &str) -> Result<bool, StoreError> {
    let mut tx = engine.store().begin().await?;
    let found = tx.has_event_named(ws, event).await?;
    tx.commit().await?;
    Ok(found)
}

const DERIVED_EVENTS: [&str; 3] = ["Segment Entered", "Segment Exited", kairos_core::score::THRESHOLD_EVENT];

/// A trained version as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConversionVersion {
    #[serde(default)]
    pub id: String,
    pub event: String,
    pub horizon_days: u32,
    pub trained_at: i64,
    /// Features as of this instant, labels in the horizon after it.
    pub training_cutoff: i64,
    pub holdout_cutoff: i64,
    pub spec: FeatureSpec,
    pub model: ConversionModel,
    pub holdout: Metrics,
    /// The current model's figures on this version's hold-out, when there
    /// was one.
    pub current_on_holdout: Option<Metrics>,
    pub promoted: bool,
    pub promotion: String,
    pub sensitive_attribute: Option<String>,
    pub sensitive_excluded: bool,
    pub fairness: Option<FairnessReport>,
}

/// A contact's score.
#[derive(Debug, Clone, Serialize)]
pub struct ContactConversion {
    pub model_id: String,
    pub event: String,
    pub horizon_days: u32,
    pub probability: f64,
    pub explanation: Explanation,
}

#[derive(Debug, Error)]
pub enum ConversionError {
    #[error("{0}")]
    Invalid(String),
    /// Not trained: too little data, no usable feature, no convergence.
    #[error("{0}")]
    NotTrained(String),
    #[error("no conversion model has been promoted; POST /api/v1/models/conversion first")]
    NoModel,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Everything read for training, by contact.
pub(crate) struct Population {
    pub facts: BTreeMap<ContactId, Facts>,
    pub sensitive: HashMap<ContactId, String>,
}

fn number_of(v: &Value, ty: FieldType) -> Option<f64> {
    match ty {
        FieldType::Number => v.as_f64(),
        FieldType::Boolean => v.as_bool().map(|b| if b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

pub(crate) fn text_of(c: &kairos_core::contact::Contact, field: &str) -> Option<String> {
    match c.standard(field) {
        Some(v) => v.clone().map(|s| s.to_lowercase()),
        None => c.custom.get(field).map(|v| match v {
            Value::String(s) => s.to_lowercase(),
            other => other.to_string(),
        }),
    }
}

/// The workspace's contacts and companies as features need them.
pub(crate) struct Profiles {
    pub contacts: Vec<kairos_core::contact::Contact>,
    companies: HashMap<CompanyId, kairos_core::company::Company>,
    first_company: HashMap<ContactId, CompanyId>,
    fields: Vec<kairos_core::fields::FieldDefinition>,
}

impl Profiles {
    /// Field types by feature name (`company.NAME` for company fields).
    fn types(&self) -> HashMap<String, FieldType> {
        field_types(&self.fields)
    }
}

pub(crate) fn field_types(fields: &[kairos_core::fields::FieldDefinition]) -> HashMap<String, FieldType> {
    fields
        .iter()
        .map(|f| {
            let prefix = match f.entity {
                kairos_core::fields::FieldEntity::Contact => "",
                kairos_core::fields::FieldEntity::Company => "company.",
            };
            (format!("{prefix}{}", f.name), f.field_type)
        })
        .collect()
}

/// A contact's profile values in the spec's order.
fn profile_facts(
    spec: &FeatureSpec,
    types: &HashMap<String, FieldType>,
    c: &kairos_core::contact::Contact,
    company: Option<&kairos_core::company::Company>,
) -> Facts {
    let numeric = spec
        .numeric
        .iter()
        .map(|name| {
            let ty = types.get(name).copied().unwrap_or(FieldType::Number);
            match name.strip_prefix("company.") {
                Some(f) => company.and_then(|co| co.custom.get(f)).and_then(|v| number_of(v, ty)),
                None => c.custom.get(name).and_then(|v| number_of(v, ty)),
            }
        })
        .collect();
    let categorical = spec.categorical.iter().map(|(f, _)| text_of(c, f)).collect();
    Facts { events: Vec::new(), numeric, categorical, first_seen: c.created_at.timestamp_millis() }
}

/// One contact's facts for `spec`, read from the store (None when the
/// contact does not exist).
pub(crate) async fn contact_facts(
    tx: &mut kairos_store::Tx,
    ws: WorkspaceId,
    spec: &FeatureSpec,
    types: &HashMap<String, FieldType>,
    contact: ContactId,
) -> Result<Option<Facts>, StoreError> {
    let Some(c) = tx.contact(ws, contact).await? else { return Ok(None) };
    let company = match c.company_ids.first() {
        Some(id) => tx.company(ws, *id).await?,
        None => None,
    };
    let index: HashMap<&str, usize> = spec.all_events().enumerate().map(|(i, e)| (e, i)).collect();
    let mut facts = profile_facts(spec, types, &c, company.as_ref());
    let mut before = None;
    loop {
        let page = tx.contact_events(ws, contact, before, 1_000).await?;
        let Some(last) = page.last() else { break };
        before = Some(kairos_store::EventCursor { timestamp_ms: last.timestamp.timestamp_millis(), seq: last.seq });
        for e in &page {
            let t = e.timestamp.timestamp_millis();
            facts.first_seen = facts.first_seen.min(t);
            if let Some(&i) = event_name(e.kind, e.name.as_deref()).and_then(|n| index.get(n)) {
                facts.events.push((i, t));
            }
        }
    }
    Ok(Some(facts))
}

impl Engine {
    pub(crate) async fn profiles(&self, ws: WorkspaceId) -> Result<Profiles, StoreError> {
        let mut tx = self.store().begin().await?;
        let fields = tx.list_fields(ws).await?;
        let mut contacts = Vec::new();
        let mut after = None;
        loop {
            let page = tx.contacts_after(ws, after, CHUNK).await?;
            let Some(last) = page.last().map(|c| c.id) else { break };
            after = Some(last);
            contacts.extend(page);
        }
        let mut companies = HashMap::new();
        let mut next = None;
        loop {
            let (page, more) = tx.list_companies(ws, None, next, 1_000).await?;
            companies.extend(page.into_iter().map(|c| (c.id, c)));
            match more {
                Some(m) => next = Some(m),
                None => break,
            }
        }
        let mut first_company = HashMap::new();
        for (contact, company) in tx.all_company_links(ws).await? {
            first_company.entry(contact).or_insert(company);
        }
        tx.commit().await?;
        Ok(Profiles { contacts, companies, first_company, fields })
    }

    /// Decide the columns: the conversion, the most frequent other events
    /// (180 days), numeric custom fields of contacts and companies, and the
    /// country and string custom fields with their most common values. The
    /// sensitive attribute is left out unless allowed.
    async fn decide_spec(
        &self,
        ws: WorkspaceId,
        profiles: &Profiles,
        req: &ConversionRequest,
        now: i64,
    ) -> Result<FeatureSpec, StoreError> {
        let mut tx = self.store().begin().await?;
        let since = kairos_core::clock::from_millis(now - 180 * DAY_MS);
        let top = tx.top_event_names(ws, since, TOP_EVENTS + 1 + DERIVED_EVENTS.len() as i64).await?;
        tx.commit().await?;
        let excluded = |name: &str| {
            (!req.allow_sensitive && req.sensitive_attribute.as_deref() == Some(name))
                || req.exclude_fields.iter().any(|f| f == name)
        };
        let seen: Vec<String> = top.into_iter().map(|(n, _)| n).collect();
        let mut events: Vec<String> = seen
            .iter()
            .filter(|n| **n != req.event && !n.is_empty() && !DERIVED_EVENTS.contains(&n.as_str()))
            .take(TOP_EVENTS as usize)
            .cloned()
            .collect();
        // Email engagement is always a feature when the workspace has any.
        for e in ENGAGEMENT_EVENTS {
            if e != req.event && !events.iter().any(|x| x == e) && has_event(self, ws, e).await? {
                events.push(e.to_string());
            }
        }
        let mut numeric = Vec::new();
        let mut categorical_fields = vec!["country".to_string()];
        for f in &profiles.fields {
            let company = f.entity == kairos_core::fields::FieldEntity::Company;
            let name = if company { format!("company.{}", f.name) } else { f.name.clone() };
            if excluded(&name) {
                continue;
            }
            match f.field_type {
                FieldType::Number | FieldType::Boolean => numeric.push(name),
                FieldType::String if !company => categorical_fields.push(name),
                _ => {}
            }
        }
        categorical_fields.retain(|f| !excluded(f));
        let mut categorical = Vec::new();
        let people = profiles.contacts.len();
        for field in &categorical_fields {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for c in &profiles.contacts {
                if let Some(v) = text_of(c, field) {
                    *counts.entry(v).or_default() += 1;
                }
            }
            // A field with a value per person (an id, a name) says nothing.
            if counts.is_empty() || counts.len() > people / 2 + 1 {
                continue;
            }
            let mut values: Vec<(String, usize)> = counts.into_iter().collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            categorical.push((field.clone(), values.into_iter().take(TOP_VALUES).map(|(v, _)| v).collect()));
        }
        Ok(FeatureSpec { conversion: req.event.clone(), events, numeric, categorical })
    }

    /// Every contact's facts for `spec`: profile values, then one pass over
    /// the log for the events the spec counts.
    pub(crate) async fn population(
        &self,
        ws: WorkspaceId,
        profiles: &Profiles,
        spec: &FeatureSpec,
        sensitive: Option<&str>,
    ) -> Result<Population, StoreError> {
        let types = profiles.types();
        let mut pop = Population { facts: BTreeMap::new(), sensitive: HashMap::new() };
        for c in &profiles.contacts {
            let company = profiles.first_company.get(&c.id).and_then(|id| profiles.companies.get(id));
            pop.facts.insert(c.id, profile_facts(spec, &types, c, company));
            if let Some(attr) = sensitive {
                pop.sensitive.insert(c.id, text_of(c, attr).unwrap_or_else(|| "(not set)".into()));
            }
        }
        let index: HashMap<&str, usize> = spec.all_events().enumerate().map(|(i, e)| (e, i)).collect();
        let mut cursor = 0;
        loop {
            let mut tx = self.store().begin().await?;
            let events = tx.events_after(ws, cursor, CHUNK).await?;
            tx.commit().await?;
            let Some(last) = events.last().map(|e| e.seq) else { break };
            cursor = last;
            for e in &events {
                let Some(f) = pop.facts.get_mut(&e.contact_id) else { continue };
                // First seen by any event, so every spec has the same rows.
                let t = e.timestamp.timestamp_millis();
                f.first_seen = f.first_seen.min(t);
                if let Some(&i) = event_name(e.kind, e.name.as_deref()).and_then(|n| index.get(n)) {
                    f.events.push((i, t));
                }
            }
        }
        Ok(pop)
    }

    /// Refuse a request that cannot train, naming the field.
    pub async fn check_conversion_request(
        &self,
        ws: WorkspaceId,
        req: &ConversionRequest,
    ) -> Result<(), ConversionError> {
        if req.event.trim().is_empty() || req.event.len() > 200 {
            return Err(ConversionError::Invalid("event: expected the name of the conversion event".into()));
        }
        if !(1..=365).contains(&req.horizon_days) {
            return Err(ConversionError::Invalid("horizon_days: expected a number of days from 1 to 365".into()));
        }
        if let Some(l2) = req.l2 {
            if !(l2.is_finite() && l2 > 0.0) {
                return Err(ConversionError::Invalid("l2: expected a positive number".into()));
            }
        }
        let mut tx = self.store().begin().await?;
        let fields = field_types(&tx.list_fields(ws).await?);
        tx.commit().await?;
        let known = |f: &str| fields.contains_key(f) || kairos_core::segment::rule::STANDARD_CONTACT_TEXT.contains(&f);
        if let Some(attr) = req.sensitive_attribute.as_deref() {
            if !known(attr) {
                return Err(ConversionError::Invalid(format!(
                    "sensitive_attribute: {attr:?} is not a contact field of this workspace"
                )));
            }
            // Groups are the field's values: a number or a date would make
            // one group per person.
            if let Some(ty @ (FieldType::Number | FieldType::Date)) = fields.get(attr) {
                return Err(ConversionError::Invalid(format!(
                    "sensitive_attribute: {attr:?} is a {} field; audit by a field whose values name groups \
                     (an age band rather than an age)",
                    if *ty == FieldType::Number { "number" } else { "date" }
                )));
            }
        }
        if let Some(f) = req.exclude_fields.iter().find(|f| !known(f)) {
            return Err(ConversionError::Invalid(format!(
                "exclude_fields: {f:?} is not a field of this workspace (company fields are company.NAME)"
            )));
        }
        Ok(())
    }

    /// Train, evaluate, audit, store; promote when better than the current.
    pub async fn train_conversion(
        &self,
        ws: WorkspaceId,
        req: &ConversionRequest,
    ) -> Result<ConversionVersion, ConversionError> {
        self.check_conversion_request(ws, req).await?;
        let now = self.clock().now().timestamp_millis();
        let horizon = req.horizon_days as i64 * DAY_MS;
        let (train_cut, hold_cut) = (now - 2 * horizon, now - horizon);
        // The model to beat predicts the same event over the same horizon.
        let current = self.conversion_model(ws, Some(&req.event)).await?.filter(|c| c.horizon_days == req.horizon_days);
        let profiles = self.profiles(ws).await?;
        let spec = self.decide_spec(ws, &profiles, req, now).await?;
        let pop = self.population(ws, &profiles, &spec, req.sensitive_attribute.as_deref()).await?;
        let set_at = |pop: &Population,
                      spec: &FeatureSpec,
                      cutoff: i64|
         -> Result<(TrainingSet, Vec<ContactId>), ConversionError> {
            let mut set = TrainingSet::new(spec.names()).map_err(|e| ConversionError::Invalid(e.to_string()))?;
            let mut ids = Vec::new();
            for (id, f) in &pop.facts {
                if f.first_seen > cutoff {
                    continue;
                }
                set.push(&spec.row(f, cutoff), spec.converted(f, cutoff, horizon))
                    .map_err(|e| ConversionError::Invalid(e.to_string()))?;
                ids.push(*id);
            }
            Ok((set, ids))
        };
        let (train, _) = set_at(&pop, &spec, train_cut)?;
        let (holdout, hold_ids) = set_at(&pop, &spec, hold_cut)?;
        let options = FitOptions { l2: req.l2.unwrap_or(1.0), ..FitOptions::default() };
        let model = fit(&train, &options).map_err(|e| ConversionError::NotTrained(format!("not trained: {e}")))?;
        let probabilities = model.score_set(&holdout).map_err(|e| ConversionError::NotTrained(e.to_string()))?;
        let metrics = Metrics::evaluate(&probabilities, holdout.labels())
            .map_err(|e| ConversionError::NotTrained(format!("the hold-out cannot be evaluated: {e}")))?;
        // The current model on this hold-out, from its own feature spec.
        let current_on_holdout = match &current {
            None => None,
            Some(c) => {
                let theirs = self.population(ws, &profiles, &c.spec, None).await?;
                let (set, _) = set_at(&theirs, &c.spec, hold_cut)?;
                match c.model.score_set(&set) {
                    Ok(p) => Metrics::evaluate(&p, set.labels()).ok(),
                    Err(_) => None,
                }
            }
        };
        let (promoted, promotion) = match (&current, &current_on_holdout) {
            (None, _) => (true, "the first model".to_string()),
            (Some(c), Some(m)) if metrics.is_better_than(m) => {
                (true, format!("hold-out AUC {:.4} against {:.4} for the current model {}", metrics.auc, m.auc, c.id))
            }
            (Some(c), Some(m)) => (
                false,
                format!(
                    "not promoted: hold-out AUC {:.4} (log loss {:.4}) does not beat the current model {} at {:.4} ({:.4})",
                    metrics.auc, metrics.log_loss, c.id, m.auc, m.log_loss
                ),
            ),
            (Some(c), None) => (false, format!("not promoted: the current model {} could not be scored on the hold-out", c.id)),
        };
        let fairness = match &req.sensitive_attribute {
            None => None,
            Some(_) => {
                let threshold = req.fairness_threshold.unwrap_or_else(|| {
                    let mut sorted = probabilities.clone();
                    sorted.sort_by(|a, b| b.total_cmp(a));
                    sorted.get(sorted.len() / 10).copied().unwrap_or(0.5)
                });
                let groups: Vec<&str> =
                    hold_ids.iter().map(|id| pop.sensitive.get(id).map_or("(not set)", String::as_str)).collect();
                audit_scores(&probabilities, threshold, holdout.labels(), &groups).ok()
            }
        };
        let mut version = ConversionVersion {
            id: String::new(),
            event: req.event.clone(),
            horizon_days: req.horizon_days,
            trained_at: now,
            training_cutoff: train_cut,
            holdout_cutoff: hold_cut,
            spec,
            model,
            holdout: metrics,
            current_on_holdout,
            promoted,
            promotion,
            sensitive_attribute: req.sensitive_attribute.clone(),
            sensitive_excluded: req.sensitive_attribute.is_some() && !req.allow_sensitive,
            fairness,
        };
        let params = serde_json::to_value(&version).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.store().begin_write().await?;
        version.id = tx.save_model(ws, KIND, &params, now).await?;
        tx.commit().await?;
        if version.promoted {
            self.conversion_promoted(ws);
        }
        Ok(version)
    }

    /// Every stored version, newest first.
    pub async fn conversion_versions(&self, ws: WorkspaceId) -> Result<Vec<ConversionVersion>, StoreError> {
        let mut tx = self.store().begin().await?;
        let rows = tx.models(ws, KIND).await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, params, _)| {
                let mut v: ConversionVersion = serde_json::from_value(params).ok()?;
                v.id = id;
                Some(v)
            })
            .collect())
    }

    /// The promoted version in use: the newest promoted one (predicting
    /// `event`, when given).
    pub async fn conversion_model(
        &self,
        ws: WorkspaceId,
        event: Option<&str>,
    ) -> Result<Option<ConversionVersion>, StoreError> {
        Ok(self
            .conversion_versions(ws)
            .await?
            .into_iter()
            .find(|v| v.promoted && event.is_none_or(|e| v.event == e) && v.model.validate().is_ok()))
    }

    /// Score a contact as of now, with the features that moved it most.
    pub async fn contact_conversion(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        event: Option<&str>,
        top: usize,
    ) -> Result<ContactConversion, ConversionError> {
        let v = self.conversion_model(ws, event).await?.ok_or(ConversionError::NoModel)?;
        let now = self.clock().now().timestamp_millis();
        let mut tx = self.store().begin().await?;
        let types = field_types(&tx.list_fields(ws).await?);
        let facts = contact_facts(&mut tx, ws, &v.spec, &types, contact)
            .await?
            .ok_or_else(|| ConversionError::Invalid(format!("no contact {contact}")))?;
        tx.commit().await?;
        let row = v.spec.row(&facts, now);
        let explanation = v.model.explain(&row, top).map_err(|e| ConversionError::NotTrained(e.to_string()))?;
        Ok(ContactConversion {
            model_id: v.id,
            event: v.event,
            horizon_days: v.horizon_days,
            probability: explanation.probability,
            explanation,
        })
    }
}
