//! Attribution and return-on-investment reports: the conversions of a
//! period (a tracked event and the value in one of its properties), credited
//! to the campaigns, journeys and UTM-tagged visits that touched each
//! converting contact within the look-back window, under a chosen model
//! (`kairos_core::attribution`), set against what each source cost (a fixed
//! amount plus a price per message it sent in the period).

use crate::Engine;
use chrono::DateTime;
use kairos_core::attribution::{roi, Attribution, Model, Touch};
use kairos_core::clock::{day_label, DAY_MS};
use kairos_core::ids::WorkspaceId;
use kairos_store::{EmailMoment, MarketingCost, StoreError};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Properties tried, in order, for a conversion's value when none is named:
/// Segment's e-commerce spec puts it in `revenue`, `total` or `value`.
pub const VALUE_PROPERTIES: [&str; 3] = ["revenue", "total", "value"];

/// What an attribution report is asked for.
#[derive(Debug, Clone)]
pub struct AttributionQuery {
    /// The conversion: a tracked event's name.
    pub event: String,
    /// Conversions with a timestamp in `[since, until)` (milliseconds).
    pub since: i64,
    pub until: i64,
    /// How long before a conversion a touch may lie and still be credited.
    pub window_days: u32,
    pub model: Model,
    /// Which moment of an email counts as its touch.
    pub email_moment: EmailMoment,
    /// The property holding the value (a dotted path); none tries `VALUE_PROPERTIES`.
    pub value_property: Option<String>,
    /// Conversions in another currency (their `currency` property) are left
    /// out and counted; none takes the most frequent one.
    pub currency: Option<String>,
}

/// One source's line in a report.
#[derive(Debug, Clone, Serialize)]
pub struct SourceLine {
    /// `campaign:ID`, `journey:ID`, `utm:SOURCE/MEDIUM/NAME`, or an API send's own source.
    pub source: String,
    /// `email` or `web`.
    pub channel: &'static str,
    /// The campaign's or journey's name, or the UTM campaign with its source and medium.
    pub name: String,
    /// Credited conversions (fractions under multi-touch models).
    pub conversions: f64,
    /// Credited value.
    pub value: f64,
    /// Marketing messages the source sent in the period.
    pub messages_sent: i64,
    /// What the source cost for the period, when a cost in the report's currency is entered.
    pub cost: Option<f64>,
    /// (value − cost) / cost.
    pub roi: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayLine {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub conversions: u64,
    pub value: f64,
    pub attributed_value: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub conversions: u64,
    /// Distinct contacts who converted.
    pub contacts: u64,
    pub value: f64,
    pub attributed_conversions: f64,
    pub attributed_value: f64,
    pub unattributed_conversions: f64,
    pub unattributed_value: f64,
    /// Conversions with no numeric value in the value property (counted, worth 0).
    pub without_value: u64,
    /// Conversions left out because their `currency` differs from the report's.
    pub other_currency: u64,
    pub cost: f64,
    /// Over the sources with a cost: (their credited value − cost) / cost.
    pub roi: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttributionReport {
    pub event: String,
    pub since: String,
    pub until: String,
    pub window_days: u32,
    pub model: Model,
    /// `sent`, `opened` or `clicked`.
    pub email_touch: &'static str,
    pub value_property: String,
    pub currency: String,
    pub totals: Totals,
    /// Every source that was credited, sent messages in the period or has a
    /// cost; most valuable first.
    pub sources: Vec<SourceLine>,
    /// Every UTC day of the period, oldest first.
    pub series: Vec<DayLine>,
    /// Things the reader should know (a cost in another currency, …).
    pub warnings: Vec<String>,
}

/// The moment's name as reports show it.
pub fn moment_name(m: EmailMoment) -> &'static str {
    match m {
        EmailMoment::Sent => "sent",
        EmailMoment::Opened => "opened",
        EmailMoment::Clicked => "clicked",
    }
}

/// A conversion's value: the number at `path`, or at the first of
/// `VALUE_PROPERTIES` present. Numbers written as strings count.
fn value_of(properties: &Value, path: Option<&str>) -> Option<f64> {
    let number = |p: &str| {
        let v = p.split('.').try_fold(properties, |v, k| v.get(k))?;
        match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|x| x.is_finite())
    };
    match path {
        Some(p) => number(p),
        None => VALUE_PROPERTIES.iter().find_map(|p| number(p)),
    }
}

/// The source key and label of a visit's `context.campaign` (UTM parameters).
fn campaign_touch(context: &Value) -> Option<(String, String)> {
    let c = context.get("campaign")?;
    let part = |k: &str| c.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let name = part("name")?;
    let (source, medium) = (part("source").unwrap_or("-"), part("medium").unwrap_or("-"));
    Some((format!("utm:{source}/{medium}/{name}"), format!("{name} ({source} / {medium})")))
}

/// What reports call a source: a campaign's or journey's name, a UTM
/// campaign as `NAME (SOURCE / MEDIUM)`; other sources (API sends) by their
/// own name.
fn source_label(source: &str, names: &HashMap<String, String>) -> String {
    if let Some(n) = names.get(source) {
        return n.clone();
    }
    match source.strip_prefix("utm:").map(|r| r.splitn(3, '/').collect::<Vec<_>>()).as_deref() {
        Some([src, medium, name]) => format!("{name} ({src} / {medium})"),
        _ => source.to_string(),
    }
}

/// The names of the workspace's campaigns and journeys by source.
async fn definition_names(tx: &mut kairos_store::Tx, ws: WorkspaceId) -> Result<HashMap<String, String>, StoreError> {
    let mut names = HashMap::new();
    for c in tx.campaigns(ws).await? {
        names.insert(format!("campaign:{}", c.id), c.name);
    }
    for j in tx.journeys(ws).await? {
        names.insert(format!("journey:{}", j.id), j.name);
    }
    Ok(names)
}

fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default()
}

/// What a report reads from the store, once for any number of models: the
/// conversions, the converting contacts' touches, what each source sent and
/// cost, and the names to show.
struct Evidence {
    /// Each conversion: contact, timestamp, properties.
    conversions: Vec<(String, i64, Value)>,
    /// Whether an event of that name is in the log at all (for the warning).
    seen_event: bool,
    costs: Vec<MarketingCost>,
    currency: String,
    touches: HashMap<String, Vec<Touch>>,
    channels: HashMap<String, &'static str>,
    names: HashMap<String, String>,
    sent: HashMap<String, i64>,
}

fn currency_of(p: &Value) -> Option<String> {
    p.get("currency").and_then(Value::as_str).map(|c| c.trim().to_ascii_uppercase())
}

impl Engine {
    /// The attribution report for `q`.
    pub async fn attribution_report(
        &self,
        ws: WorkspaceId,
        q: &AttributionQuery,
    ) -> Result<AttributionReport, StoreError> {
        let evidence = self.attribution_evidence(ws, q).await?;
        Ok(credit(&evidence, q, q.model))
    }

    /// The report for `q` under each of `models` (`q.model` is not used),
    /// from one reading of the store: the same conversions and touches, so
    /// the reports differ only by the model.
    pub async fn attribution_reports(
        &self,
        ws: WorkspaceId,
        q: &AttributionQuery,
        models: &[Model],
    ) -> Result<Vec<AttributionReport>, StoreError> {
        let evidence = self.attribution_evidence(ws, q).await?;
        Ok(models.iter().map(|m| credit(&evidence, q, *m)).collect())
    }

    async fn attribution_evidence(&self, ws: WorkspaceId, q: &AttributionQuery) -> Result<Evidence, StoreError> {
        let window_ms = q.window_days as i64 * DAY_MS;
        let mut tx = self.store().begin().await?;
        let conversions = tx.tracked_between(ws, &q.event, q.since, q.until).await?;
        let seen_event = !conversions.is_empty() || tx.has_event_named(ws, &q.event).await?;
        let parsed: Vec<(String, i64, Value)> = conversions
            .into_iter()
            .map(|e| (e.contact_id, e.timestamp, serde_json::from_str(&e.data).unwrap_or(Value::Null)))
            .collect();
        let costs = tx.marketing_costs(ws).await?;
        let currency = match &q.currency {
            Some(c) => c.trim().to_ascii_uppercase(),
            None => {
                let mut seen: BTreeMap<String, u64> = BTreeMap::new();
                for (_, _, p) in &parsed {
                    if let Some(c) = currency_of(p) {
                        *seen.entry(c).or_default() += 1;
                    }
                }
                seen.into_iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                    .map(|(c, _)| c)
                    .or_else(|| costs.first().map(|c| c.currency.to_ascii_uppercase()))
                    .unwrap_or_else(|| "USD".into())
            }
        };

        let mut contacts: Vec<String> = parsed.iter().map(|(c, _, _)| c.clone()).collect();
        contacts.sort();
        contacts.dedup();
        let from = q.since - window_ms;
        let mut touches: HashMap<String, Vec<Touch>> = HashMap::new();
        let mut channels: HashMap<String, &'static str> = HashMap::new();
        let mut names: HashMap<String, String> = HashMap::new();
        for (contact, at, source) in tx.email_touches(ws, &contacts, q.email_moment, from, q.until).await? {
            channels.insert(source.clone(), "email");
            touches.entry(contact).or_default().push(Touch { at, source });
        }
        for visit in tx.campaign_visits(ws, &contacts, from, q.until).await? {
            let context: Value = serde_json::from_str(&visit.data).unwrap_or(Value::Null);
            if let Some((source, label)) = campaign_touch(&context) {
                channels.insert(source.clone(), "web");
                names.insert(source.clone(), label);
                touches.entry(visit.contact_id).or_default().push(Touch { at: visit.timestamp, source });
            }
        }
        let sent: HashMap<String, i64> = tx.messages_sent_per_source(ws, q.since, q.until).await?.into_iter().collect();
        names.extend(definition_names(&mut tx, ws).await?);
        tx.commit().await?;
        Ok(Evidence { conversions: parsed, seen_event, costs, currency, touches, channels, names, sent })
    }
}

/// The report under `model` from what was read for `q`.
fn credit(e: &Evidence, q: &AttributionQuery, model: Model) -> AttributionReport {
    let window_ms = q.window_days as i64 * DAY_MS;
    let (currency, costs) = (e.currency.as_str(), &e.costs);
    let first_day = q.since.div_euclid(DAY_MS);
    let last_day = (q.until - 1).div_euclid(DAY_MS);
    let mut days: BTreeMap<i64, DayLine> = (first_day..=last_day)
        .map(|d| (d, DayLine { day: day_label(d), conversions: 0, value: 0.0, attributed_value: 0.0 }))
        .collect();
    let mut attribution = Attribution::default();
    let (mut without_value, mut other_currency) = (0u64, 0u64);
    let mut converters: Vec<&str> = Vec::new();
    for (contact, at, props) in &e.conversions {
        if currency_of(props).is_some_and(|c| c != currency) {
            other_currency += 1;
            continue;
        }
        let value = value_of(props, q.value_property.as_deref()).unwrap_or_else(|| {
            without_value += 1;
            0.0
        });
        let credited =
            attribution.add(&model, window_ms, e.touches.get(contact).map(Vec::as_slice).unwrap_or(&[]), *at, value);
        converters.push(contact);
        if let Some(d) = days.get_mut(&at.div_euclid(DAY_MS)) {
            d.conversions += 1;
            d.value += value;
            d.attributed_value += credited.value;
        }
    }
    converters.sort_unstable();
    converters.dedup();

    let mut warnings = Vec::new();
    let cost_of: HashMap<&str, &MarketingCost> = costs.iter().map(|c| (c.source.as_str(), c)).collect();
    let mut sources: Vec<String> = attribution.by_source.keys().cloned().collect();
    sources.extend(e.sent.keys().cloned());
    sources.extend(costs.iter().map(|c| c.source.clone()));
    sources.sort();
    sources.dedup();
    let mut total_cost = 0.0;
    let mut lines: Vec<SourceLine> = sources
        .into_iter()
        .map(|source| {
            let credit = attribution.by_source.get(&source).copied().unwrap_or_default();
            let messages_sent = e.sent.get(&source).copied().unwrap_or(0);
            let cost = cost_of.get(source.as_str()).and_then(|c| {
                if !c.currency.eq_ignore_ascii_case(currency) {
                    warnings.push(format!(
                        "the cost of {source} is in {}, not {currency}: left out of the return on investment",
                        c.currency
                    ));
                    return None;
                }
                Some(c.cost_between(q.since, q.until, messages_sent))
            });
            total_cost += cost.unwrap_or(0.0);
            let channel =
                e.channels.get(&source).copied().unwrap_or(if source.starts_with("utm:") { "web" } else { "email" });
            let name = source_label(&source, &e.names);
            SourceLine {
                channel,
                name,
                conversions: credit.conversions,
                value: credit.value,
                messages_sent,
                roi: cost.and_then(|c| roi(credit.value, c)),
                cost,
                source,
            }
        })
        .collect();
    lines.sort_by(|a, b| b.value.total_cmp(&a.value).then_with(|| b.conversions.total_cmp(&a.conversions)));

    let attributed_value: f64 = attribution.total.value - attribution.unattributed.value;
    let costed_value: f64 = lines.iter().filter(|l| l.cost.is_some()).map(|l| l.value).sum();
    if e.conversions.is_empty() && !e.seen_event {
        warnings.push(format!("no tracked event named {:?} is in the log: check the name", q.event));
    }
    let counted = attribution.total.conversions.round() as u64;
    if counted > 0 && without_value == counted {
        warnings.push(format!(
            "no conversion has a numeric value in {}: every value counts as 0",
            q.value_property.clone().unwrap_or_else(|| VALUE_PROPERTIES.join(", "))
        ));
    }
    let totals = Totals {
        conversions: attribution.total.conversions.round() as u64,
        contacts: converters.len() as u64,
        value: attribution.total.value,
        attributed_conversions: attribution.total.conversions - attribution.unattributed.conversions,
        attributed_value,
        unattributed_conversions: attribution.unattributed.conversions,
        unattributed_value: attribution.unattributed.value,
        without_value,
        other_currency,
        cost: total_cost,
        roi: roi(costed_value, total_cost),
    };
    AttributionReport {
        event: q.event.clone(),
        since: rfc3339(q.since),
        until: rfc3339(q.until),
        window_days: q.window_days,
        model,
        email_touch: moment_name(q.email_moment),
        value_property: q.value_property.clone().unwrap_or_else(|| VALUE_PROPERTIES.join("|")),
        currency: currency.to_string(),
        totals,
        sources: lines,
        series: days.into_values().collect(),
        warnings,
    }
}

impl Engine {
    /// The marketing costs entered for the workspace.
    /// The costs entered, each with what reports call its source.
    pub async fn marketing_costs(&self, ws: WorkspaceId) -> Result<Vec<(MarketingCost, String)>, StoreError> {
        let mut tx = self.store().begin().await?;
        let costs = tx.marketing_costs(ws).await?;
        let names = definition_names(&mut tx, ws).await?;
        tx.commit().await?;
        Ok(costs
            .into_iter()
            .map(|c| {
                let name = source_label(&c.source, &names);
                (c, name)
            })
            .collect())
    }

    /// Enter or replace the cost of `cost.source`.
    pub async fn put_marketing_cost(
        &self,
        ws: WorkspaceId,
        mut cost: MarketingCost,
    ) -> Result<MarketingCost, StoreError> {
        cost.updated_at = self.clock().now().timestamp_millis();
        cost.currency = cost.currency.trim().to_ascii_uppercase();
        let mut tx = self.store().begin_write().await?;
        tx.put_marketing_cost(ws, &cost).await?;
        tx.commit().await?;
        Ok(cost)
    }

    /// Remove the cost of `source`; whether there was one.
    pub async fn delete_marketing_cost(&self, ws: WorkspaceId, source: &str) -> Result<bool, StoreError> {
        let mut tx = self.store().begin_write().await?;
        let removed = tx.delete_marketing_cost(ws, source).await?;
        tx.commit().await?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_from_named_or_usual_properties() {
        let p = json!({"total": "12.50", "order": {"revenue": 9}, "revenue": null});
        assert_eq!(value_of(&p, None), Some(12.5), "revenue is null, so total");
        assert_eq!(value_of(&p, Some("order.revenue")), Some(9.0));
        assert_eq!(value_of(&p, Some("order.missing")), None);
        assert_eq!(value_of(&json!({"value": "n/a"}), None), None);
    }

    #[test]
    fn utm_campaigns_become_sources() {
        let ctx = json!({"campaign": {"name": "spring", "source": "google", "medium": "cpc"}});
        assert_eq!(campaign_touch(&ctx), Some(("utm:google/cpc/spring".into(), "spring (google / cpc)".into())));
        assert_eq!(campaign_touch(&json!({"campaign": {"name": "x"}})).map(|t| t.0), Some("utm:-/-/x".into()));
        assert_eq!(campaign_touch(&json!({"campaign": {"source": "google"}})), None, "a campaign needs a name");
    }
}
