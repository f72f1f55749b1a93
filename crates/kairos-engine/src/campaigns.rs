//! Broadcast campaigns at run time. Launching fixes the recipients (the
//! segment's or list's members at that moment), each with its due time (the
//! recipient's local send time when asked) and variant. A runner task then
//! sends what is due, within the campaign's per-minute throttle, through the
//! same send path as everything else (so consent, suppression, caps and
//! quiet hours are checked for each recipient at send time); after an A/B
//! test's wait it picks the winner by Thompson sampling over the variants'
//! open or click rates and sends it to the rest; an adaptive test instead
//! draws each recipient's variant at send time from the results so far, so
//! traffic shifts while the throttled send goes on, until a winner is best
//! at the declared probability. Message ids derive from
//! campaign and contact, so a crash mid-send never sends anyone twice.

use crate::email::{EmailError, EmailOutcome, EmailRequest};
use crate::Engine;
use kairos_core::ids::{ContactId, ListId, SegmentId, WorkspaceId};
use kairos_email::campaign::{self, AbMode, Audience, CampaignDefinition, Metric};
use kairos_store::{CampaignRecord, Recipient, StoreError};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// How often the runner looks for due recipients.
const TICK: Duration = Duration::from_millis(250);
/// Sends in flight at once per campaign.
const CONCURRENCY: usize = 16;
/// Most recipients taken per tick without a throttle.
const UNTHROTTLED_BATCH: i64 = 400;
/// Probability of being best at which an A/B winner is "declared"; below
/// it the best-looking variant still goes out, and the report says so.
const WIN_PROBABILITY: f64 = 0.95;
/// Sends an adaptive test makes before a winner may be declared.
const MIN_ADAPTIVE_TRIALS: u64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("no campaign with id {0}")]
    NotFound(String),
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(path: &str, message: impl Into<String>) -> CampaignError {
    CampaignError::Invalid { path: path.into(), message: message.into() }
}

fn now_ms(e: &Engine) -> i64 {
    e.clock().now().timestamp_millis()
}

/// The message id of a campaign's message to a contact.
fn message_id(ws: WorkspaceId, campaign: &str, contact: &str) -> uuid::Uuid {
    crate::email::message_id_for_intent(ws, &format!("campaign:{campaign}:{contact}"))
}

impl Engine {
    async fn check_campaign(&self, ws: WorkspaceId, def: &Value) -> Result<CampaignDefinition, CampaignError> {
        let d = CampaignDefinition::parse(def).map_err(|e| invalid(&e.path, e.message))?;
        let mut tx = self.store().begin().await?;
        for t in d.templates() {
            if tx.email_template(ws, t).await?.is_none() {
                return Err(invalid(
                    if d.ab.is_some() { "ab.variants" } else { "template" },
                    format!("no template \"{t}\""),
                ));
            }
        }
        match &d.audience {
            Audience::Segment(s) => {
                let id: SegmentId =
                    s.parse().map_err(|_| invalid("audience.segment", format!("{s:?} is not a segment id")))?;
                if tx.segment(ws, id).await?.is_none() {
                    return Err(invalid("audience.segment", format!("no segment with id {s}")));
                }
            }
            Audience::List(l) => {
                let id: ListId = l.parse().map_err(|_| invalid("audience.list", format!("{l:?} is not a list id")))?;
                if tx.list(ws, id).await?.is_none() {
                    return Err(invalid("audience.list", format!("no list with id {l}")));
                }
            }
        }
        if let Some(s) = &d.sender {
            if tx.email_sender(ws, Some(s)).await?.is_none() {
                return Err(invalid("sender", format!("no sender identity with id {s}")));
            }
        }
        tx.commit().await?;
        Ok(d)
    }

    /// Create a campaign as a draft.
    pub async fn create_campaign(
        &self,
        ws: WorkspaceId,
        name: &str,
        def: &Value,
    ) -> Result<CampaignRecord, CampaignError> {
        self.check_campaign(ws, def).await?;
        let now = now_ms(self);
        let c = CampaignRecord {
            id: uuid::Uuid::now_v7().to_string(),
            name: name.to_string(),
            definition: def.to_string(),
            status: "draft".into(),
            winner: None,
            detail: None,
            created_at: now,
            updated_at: now,
            started_at: None,
            finished_at: None,
        };
        let mut tx = self.store().begin_write().await?;
        tx.insert_campaign(ws, &c).await?;
        tx.commit().await?;
        Ok(c)
    }

    async fn campaign_or_404(&self, ws: WorkspaceId, id: &str) -> Result<CampaignRecord, CampaignError> {
        let mut tx = self.store().begin().await?;
        let c = tx.campaign(ws, id).await?;
        tx.commit().await?;
        c.ok_or_else(|| CampaignError::NotFound(id.to_string()))
    }

    /// Replace a draft's name or definition.
    pub async fn update_campaign(
        &self,
        ws: WorkspaceId,
        id: &str,
        name: Option<&str>,
        def: Option<&Value>,
    ) -> Result<CampaignRecord, CampaignError> {
        let mut c = self.campaign_or_404(ws, id).await?;
        if c.status != "draft" {
            return Err(CampaignError::Conflict(format!("the campaign is {}; only drafts can be edited", c.status)));
        }
        if let Some(d) = def {
            self.check_campaign(ws, d).await?;
            c.definition = d.to_string();
        }
        if let Some(n) = name {
            c.name = n.to_string();
        }
        c.updated_at = now_ms(self);
        let mut tx = self.store().begin_write().await?;
        tx.update_campaign(ws, &c).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Launch: fix the recipients and start (or schedule) sending.
    pub async fn launch_campaign(&self, ws: WorkspaceId, id: &str) -> Result<CampaignRecord, CampaignError> {
        let mut c = self.campaign_or_404(ws, id).await?;
        if c.status != "draft" {
            return Err(CampaignError::Conflict(format!("the campaign is {}; only a draft can be launched", c.status)));
        }
        let def_json: Value = serde_json::from_str(&c.definition).unwrap_or(Value::Null);
        let def = self.check_campaign(ws, &def_json).await?;
        let now = now_ms(self);
        let start = def.send_at.unwrap_or(now).max(now);
        // The audience now.
        let mut members: Vec<ContactId> = Vec::new();
        match &def.audience {
            Audience::Segment(s) => {
                let sid: SegmentId = s.parse().map_err(|_| invalid("audience.segment", "not a segment id"))?;
                let mut after = None;
                loop {
                    let page = self.segment_members(ws, sid, after, 10_000);
                    after = page.last().copied();
                    let done = page.len() < 10_000;
                    members.extend(page);
                    if done {
                        break;
                    }
                }
            }
            Audience::List(l) => {
                let lid: ListId = l.parse().map_err(|_| invalid("audience.list", "not a list id"))?;
                let mut tx = self.store().begin().await?;
                let mut after = None;
                loop {
                    let page = tx.list_members(ws, lid, after, 10_000).await?;
                    after = page.last().copied();
                    let done = page.len() < 10_000;
                    members.extend(page);
                    if done {
                        break;
                    }
                }
                tx.commit().await?;
            }
        }
        // Optimised send times: each recipient's best hour, the workspace's
        // when they have no history.
        let best = if def.optimise_send_time {
            let (best, population) = self.best_send_hours(ws).await?;
            let fallback = kairos_ml::send_time::best_hour(&[0.0; 24], &population).hour;
            Some((best, fallback))
        } else {
            None
        };
        let mut tx = self.store().begin().await?;
        let policy = tx.workspace_policy(ws).await?;
        let default_tz = policy.default_timezone.as_deref();
        let mut recipients = Vec::with_capacity(members.len());
        for m in &members {
            let local = def.local_time.is_some() || best.is_some();
            let tz = if local { tx.contact(ws, *m).await?.and_then(|c| c.timezone) } else { None };
            let contact = m.to_string();
            let due_at = match &best {
                Some((hours, fallback)) => {
                    let hour = hours.get(m).map_or(*fallback, |b| b.hour);
                    campaign::next_local(start, tz.as_deref(), default_tz, hour, 0)
                }
                None => campaign::due_at(&def, start, tz.as_deref(), default_tz),
            };
            recipients.push(Recipient {
                variant: campaign::variant_for(&def, &c.id, &contact),
                due_at,
                contact_id: contact,
            });
        }
        tx.commit().await?;
        let mut tx = self.store().begin_write().await?;
        tx.add_recipients(ws, &c.id, &recipients).await?;
        c.status = if start > now { "scheduled".into() } else { "sending".into() };
        c.started_at = Some(start);
        c.updated_at = now;
        c.detail = Some(format!("{} recipients", recipients.len()));
        tx.update_campaign(ws, &c).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Pause, resume or cancel.
    pub async fn set_campaign_status(
        &self,
        ws: WorkspaceId,
        id: &str,
        action: &str,
    ) -> Result<CampaignRecord, CampaignError> {
        let mut c = self.campaign_or_404(ws, id).await?;
        let next = match (action, c.status.as_str()) {
            ("pause", "sending" | "scheduled") => "paused",
            ("resume", "paused") => "sending",
            ("cancel", "draft" | "scheduled" | "sending" | "paused") => "cancelled",
            (a, s) => return Err(CampaignError::Conflict(format!("cannot {a} a campaign that is {s}"))),
        };
        c.status = next.into();
        c.updated_at = now_ms(self);
        if next == "cancelled" {
            c.finished_at = Some(c.updated_at);
        }
        let mut tx = self.store().begin_write().await?;
        tx.update_campaign(ws, &c).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Sent, delivered, bounced, opened (unique, total, machine), clicked
    /// (per link), unsubscribed, complained, converted — overall and per
    /// variant — and day by day.
    pub async fn campaign_report(&self, ws: WorkspaceId, id: &str) -> Result<Value, CampaignError> {
        let c = self.campaign_or_404(ws, id).await?;
        let def: Value = serde_json::from_str(&c.definition).unwrap_or(Value::Null);
        let parsed = CampaignDefinition::parse(&def).ok();
        let source = format!("campaign:{}", c.id);
        let mut tx = self.store().begin().await?;
        let totals = tx.email_totals(ws, Some(&source), None).await?;
        let recipients = tx.recipient_counts(ws, &c.id).await?;
        let links = tx.email_link_clicks_of_source(ws, &source).await?;
        let today = self.clock().now().timestamp_millis().div_euclid(86_400_000);
        let series = tx.email_series(ws, Some(&source), None, today).await?;
        let conversions = match parsed.as_ref().and_then(|d| d.conversion.clone()) {
            Some(conv) => Some(json!({"event": conv.event, "days": conv.days,
                "converted": tx.conversions(ws, &source, &conv.event, conv.days as i64 * 86_400_000).await?})),
            None => None,
        };
        let mut variants = Vec::new();
        if let Some(ab) = parsed.as_ref().and_then(|d| d.ab.clone()) {
            for v in &ab.variants {
                let t = tx.email_template(ws, v).await?;
                let tid = t.as_ref().map(|t| t.id.clone()).unwrap_or_default();
                variants.push(json!({"template": v, "totals": tx.email_totals(ws, Some(&source), Some(&tid)).await?}));
            }
        }
        tx.commit().await?;
        Ok(json!({"campaign": c.id, "status": c.status, "winner": c.winner, "detail": c.detail,
                  "recipients": recipients, "totals": totals, "links": links, "conversions": conversions,
                  "variants": variants, "series": series}))
    }
}

/// The campaign runner: started with the server (not by one-off commands).
pub(crate) fn start(engine: Engine) {
    tokio::spawn(async move {
        let mut carry: HashMap<String, f64> = HashMap::new();
        loop {
            tokio::time::sleep(TICK).await;
            if engine.inner.jobs.is_closed() {
                return;
            }
            if let Err(e) = tick(&engine, &mut carry).await {
                tracing::error!(error = %e, "the campaign runner failed a tick");
            }
        }
    });
}

async fn tick(engine: &Engine, carry: &mut HashMap<String, f64>) -> Result<(), StoreError> {
    let mut tx = engine.store().begin().await?;
    let live = tx.live_campaigns().await?;
    tx.commit().await?;
    let now = now_ms(engine);
    for (ws_s, mut c) in live {
        let Ok(ws) = ws_s.parse::<WorkspaceId>() else { continue };
        let Ok(def) = CampaignDefinition::parse(&serde_json::from_str(&c.definition).unwrap_or(Value::Null)) else {
            continue;
        };
        if c.status == "scheduled" {
            if c.started_at.unwrap_or(now) > now {
                continue;
            }
            c.status = "sending".into();
            c.updated_at = now;
            let mut tx = engine.store().begin_write().await?;
            tx.update_campaign(ws, &c).await?;
            tx.commit().await?;
        }
        // An adaptive test draws each recipient's variant from the results
        // so far, until one variant is best at the declared probability.
        let mut draw = None;
        if let (Some(ab), None) = (&def.ab, &c.winner) {
            match ab.mode {
                AbMode::Sample => {
                    if now >= c.started_at.unwrap_or(now) + ab.wait_minutes as i64 * 60_000 {
                        let state = ab_state(engine, ws, &c, ab.metric, &ab.variants).await?;
                        declare_winner(engine, ws, &mut c, ab.metric, &ab.variants, &state, now).await?;
                    }
                }
                AbMode::Adaptive => {
                    let state = ab_state(engine, ws, &c, ab.metric, &ab.variants).await?;
                    let best = state.best();
                    let sent: u64 = state.arms.iter().map(|a| a.trials).sum();
                    if state.p[best] >= WIN_PROBABILITY && sent >= MIN_ADAPTIVE_TRIALS {
                        declare_winner(engine, ws, &mut c, ab.metric, &ab.variants, &state, now).await?;
                    } else {
                        draw = Some(state);
                    }
                }
            }
        }
        // This tick's allowance under the throttle (fractions carried over).
        let budget = match def.per_minute {
            Some(pm) => {
                let acc = carry.entry(c.id.clone()).or_insert(0.0);
                *acc += pm as f64 * TICK.as_secs_f64() / 60.0;
                let whole = acc.floor();
                *acc -= whole;
                whole as i64
            }
            None => UNTHROTTLED_BATCH,
        };
        if budget > 0 {
            let mut tx = engine.store().begin().await?;
            let due = tx.due_recipients(ws, &c.id, now, budget).await?;
            tx.commit().await?;
            let mut due = due;
            if let Some(state) = &draw {
                let mut rng = rand::thread_rng();
                for r in due.iter_mut().filter(|r| r.variant == campaign::DRAWN_AT_SEND) {
                    r.variant = state.templates[kairos_ml::bandit::choose(&state.arms, &mut rng)].clone();
                }
            }
            due.retain(|r| r.variant != campaign::DRAWN_AT_SEND);
            send_batch(engine, ws, &c, &def, due).await?;
        }
        let mut tx = engine.store().begin().await?;
        let counts = tx.recipient_counts(ws, &c.id).await?;
        tx.commit().await?;
        if counts.pending == 0 {
            c.status = "sent".into();
            c.finished_at = Some(now);
            c.updated_at = now;
            let mut tx = engine.store().begin_write().await?;
            tx.update_campaign(ws, &c).await?;
            tx.commit().await?;
            carry.remove(&c.id);
        }
    }
    Ok(())
}

async fn send_batch(
    engine: &Engine,
    ws: WorkspaceId,
    c: &CampaignRecord,
    def: &CampaignDefinition,
    due: Vec<Recipient>,
) -> Result<(), StoreError> {
    let mut set = tokio::task::JoinSet::new();
    let mut queue = due.into_iter();
    let mut failures = 0usize;
    loop {
        while set.len() < CONCURRENCY {
            let Some(r) = queue.next() else { break };
            let Ok(contact) = r.contact_id.parse::<uuid::Uuid>() else { continue };
            let req = EmailRequest {
                id: message_id(ws, &c.id, &r.contact_id),
                contact: ContactId(contact),
                template: r.variant.clone(),
                sender: def.sender.clone(),
                transactional: false,
                event: None,
                source: format!("campaign:{}", c.id),
                intent_key: None,
                to_override: None,
                // A campaign that runs into quiet hours waits for them.
                can_delay: true,
                utm_campaign: Some(c.name.clone()),
            };
            let engine = engine.clone();
            set.spawn(async move {
                let out = engine.send_email(ws, req.clone()).await;
                (r, req.id, out)
            });
        }
        let Some(joined) = set.join_next().await else { break };
        let Ok((r, id, out)) = joined else { continue };
        match out {
            Ok(EmailOutcome::Delayed { until }) => {
                // Quiet hours: due again when they end.
                let mut tx = engine.store().begin_write().await?;
                tx.recipient_delay(ws, &c.id, &r.contact_id, until).await?;
                tx.commit().await?;
            }
            Ok(_)
            | Err(EmailError::Permanent(_))
            | Err(EmailError::NotFound(_))
            | Err(EmailError::Invalid(_))
            | Err(EmailError::Template(_)) => {
                if let Err(e) = &out {
                    failures += 1;
                    tracing::warn!(campaign = %c.id, contact = %r.contact_id, error = %e, "campaign send failed");
                }
                let mut tx = engine.store().begin_write().await?;
                tx.recipient_done(ws, &c.id, &r.contact_id, &id.to_string()).await?;
                tx.commit().await?;
            }
            // Transient: stays pending; the next tick tries again.
            Err(e) => tracing::warn!(campaign = %c.id, error = %e, "campaign send deferred"),
        }
    }
    if failures > 0 {
        tracing::warn!(campaign = %c.id, failures, "campaign sends failed for good this tick");
    }
    Ok(())
}

/// How the variants of a test have done so far.
struct AbState {
    arms: Vec<kairos_ml::bandit::Arm>,
    /// Each variant's template id.
    templates: Vec<String>,
    /// Each variant's probability of being best.
    p: Vec<f64>,
}

impl AbState {
    fn best(&self) -> usize {
        self.p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i).unwrap_or(0)
    }
}

async fn ab_state(
    engine: &Engine,
    ws: WorkspaceId,
    c: &CampaignRecord,
    metric: Metric,
    variants: &[String],
) -> Result<AbState, StoreError> {
    let source = format!("campaign:{}", c.id);
    let mut tx = engine.store().begin().await?;
    let mut arms = Vec::new();
    let mut templates = Vec::new();
    for v in variants {
        let t = tx.email_template(ws, v).await?;
        let tid = t.as_ref().map(|t| t.id.clone()).unwrap_or_default();
        let totals = tx.email_totals(ws, Some(&source), Some(&tid)).await?;
        let successes = match metric {
            Metric::Opens => totals.unique_opens,
            Metric::Clicks => totals.unique_clicks,
        };
        arms.push(kairos_ml::bandit::Arm { trials: totals.sent.max(0) as u64, successes: successes.max(0) as u64 });
        templates.push(t.map(|t| t.id).unwrap_or_else(|| v.clone()));
    }
    tx.commit().await?;
    let p = {
        let mut rng = rand::thread_rng();
        kairos_ml::bandit::probability_best(&arms, 20_000, &mut rng)
    };
    Ok(AbState { arms, templates, p })
}

async fn declare_winner(
    engine: &Engine,
    ws: WorkspaceId,
    c: &mut CampaignRecord,
    metric: Metric,
    variants: &[String],
    state: &AbState,
    now: i64,
) -> Result<(), StoreError> {
    let (arms, templates, p) = (&state.arms, &state.templates, &state.p);
    let best = state.best();
    let declared = p[best] >= WIN_PROBABILITY;
    c.winner = Some(variants[best].clone());
    c.detail = Some(format!(
        "variant \"{}\" chosen on {}: P(best) = {:.3}{}; {}",
        variants[best],
        match metric {
            Metric::Opens => "unique opens",
            Metric::Clicks => "unique clicks",
        },
        p[best],
        if declared { "" } else { " (below 0.95: the best-looking variant, not a significant winner)" },
        arms.iter()
            .zip(variants)
            .map(|(a, v)| format!("{v}: {}/{}", a.successes, a.trials))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    c.updated_at = now;
    let mut tx = engine.store().begin_write().await?;
    tx.assign_winner(ws, &c.id, &templates[best], now).await?;
    tx.update_campaign(ws, c).await?;
    tx.commit().await?;
    Ok(())
}
