//! `kairos demo`: a realistic demo workspace. Contacts with names, emails,
//! countries and companies, custom fields, and a few months of page views,
//! signups and purchases — all sent through the real ingest path, as an SDK
//! would send them. Seeding happens once; every start prints fresh keys.

use anyhow::Result;
use chrono::{Duration, Utc};
use kairos_core::apikey::Scope;
use kairos_core::fields::{FieldDefinition, FieldEntity, FieldType};
use kairos_core::tracking::{parse_batch, Arrival};
use kairos_engine::Engine;
use kairos_store::Store;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

pub const WORKSPACE: &str = "demo";

pub struct DemoKeys {
    pub admin: String,
    pub write: String,
    /// The owner's sign-in for the web UI, with a fresh password each run.
    pub owner_email: String,
    pub owner_password: String,
    pub workspace_id: kairos_core::ids::WorkspaceId,
}

/// The demo workspace's owner, who signs in to the web UI.
pub const OWNER_EMAIL: &str = "owner@demo.kairos.dev";

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Radia",
    "Tim",
    "Frances",
    "John",
    "Hedy",
    "Edsger",
    "Sophie",
    "Lena",
    "Mateo",
    "Yuki",
    "Priya",
    "Omar",
    "Chen",
    "Fatima",
    "Lars",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Perlman",
    "Berners-Lee",
    "Allen",
    "McCarthy",
    "Lamarr",
    "Dijkstra",
    "Wilson",
    "Schmidt",
    "Garcia",
    "Tanaka",
    "Patel",
    "Haddad",
    "Wang",
    "Okafor",
    "Nilsson",
];
const COUNTRIES: &[(&str, &str, &str)] = &[
    ("US", "en-US", "America/New_York"),
    ("GB", "en-GB", "Europe/London"),
    ("DE", "de-DE", "Europe/Berlin"),
    ("FR", "fr-FR", "Europe/Paris"),
    ("ES", "es-ES", "Europe/Madrid"),
    ("JP", "ja-JP", "Asia/Tokyo"),
    ("IN", "en-IN", "Asia/Kolkata"),
    ("BR", "pt-BR", "America/Sao_Paulo"),
    ("SE", "sv-SE", "Europe/Stockholm"),
    ("CA", "en-CA", "America/Toronto"),
];
const INDUSTRIES: &[&str] = &["Software", "Retail", "Finance", "Healthcare", "Media", "Manufacturing", "Education"];
const PAGES: &[(&str, &str)] = &[
    ("Home", "/"),
    ("Pricing", "/pricing"),
    ("Docs", "/docs"),
    ("Blog", "/blog"),
    ("Features", "/features"),
    ("Careers", "/careers"),
];
const PRODUCTS: &[(&str, &str, f64)] = &[
    ("sku-1", "Starter Kit", 29.0),
    ("sku-2", "Pro Bundle", 99.0),
    ("sku-3", "Gift Card", 50.0),
    ("sku-4", "Annual Plan", 480.0),
    ("sku-5", "Sticker Pack", 5.0),
];

/// Seed the demo workspace if it does not exist yet; always issue new keys.
pub async fn seed(store: &Store, contacts: usize, engine: Engine) -> Result<DemoKeys> {
    let existing = {
        let mut tx = store.begin().await?;
        tx.workspace_by_name(WORKSPACE).await?
    };
    let ws = crate::workspace(store, WORKSPACE).await?;
    let (_, admin) = kairos_server::issue_key(store, ws.id, "demo admin", Scope::Admin, Utc::now()).await?;
    let (_, write) = kairos_server::issue_key(store, ws.id, "demo write", Scope::Write, Utc::now()).await?;
    let owner_password = kairos_core::access::random_token(8);
    let known = {
        let mut tx = store.begin().await?;
        tx.user_by_email(OWNER_EMAIL).await?
    };
    match known {
        None => {
            kairos_server::enrol(
                store,
                ws.id,
                OWNER_EMAIL,
                Some("Demo Owner"),
                kairos_core::access::Role::Owner,
                Some(owner_password.clone()),
                "demo",
                Utc::now(),
            )
            .await
            .map_err(|p| anyhow::anyhow!("demo owner: {}", p.detail))?;
        }
        Some((user, _)) => {
            let hash = kairos_core::access::hash_password(&owner_password);
            let mut tx = store.begin_write().await?;
            tx.set_password(user.id, &hash, Utc::now()).await?;
            tx.commit().await?;
        }
    }
    if existing.is_none() {
        eprintln!("seeding the demo workspace with {contacts} contacts…");
        populate(store, &engine, ws.id, contacts).await?;
    }
    Ok(DemoKeys { admin, write, owner_email: OWNER_EMAIL.into(), owner_password, workspace_id: ws.id })
}

async fn populate(store: &Store, engine: &Engine, ws: kairos_core::ids::WorkspaceId, contacts: usize) -> Result<()> {
    for (name, t) in [
        ("plan", FieldType::String),
        ("lifetime_value", FieldType::Number),
        ("newsletter", FieldType::Boolean),
        ("signup_date", FieldType::Date),
        ("interests", FieldType::List),
        ("stage", FieldType::String),
    ] {
        engine
            .define_field(
                ws,
                &FieldDefinition { entity: FieldEntity::Contact, name: name.into(), field_type: t, label: None },
            )
            .await?;
    }
    let mut rng = StdRng::seed_from_u64(7);
    let now = Utc::now();
    let companies = (contacts / 12).max(3);
    let bar = indicatif::ProgressBar::with_draw_target(Some(contacts as u64), indicatif::ProgressDrawTarget::stderr());
    let mut batch: Vec<Value> = Vec::new();
    let mut n_events = 0usize;
    for i in 0..contacts {
        let first = FIRST.choose(&mut rng).copied().unwrap_or("Ada");
        let last = LAST.choose(&mut rng).copied().unwrap_or("Lovelace");
        let (country, locale, tz) = *COUNTRIES.choose(&mut rng).unwrap_or(&COUNTRIES[0]);
        let user = format!("user-{i:05}");
        let anon = format!("anon-{i:05}");
        let signup = now - Duration::minutes(rng.gen_range(60..150 * 24 * 60));
        let ts = |t: chrono::DateTime<Utc>| t.to_rfc3339();
        let first_of_contact = batch.len();
        // Anonymous browsing before signing up.
        let visits_before = rng.gen_range(1..6);
        for v in 0..visits_before {
            let (page, path) = PAGES.choose(&mut rng).copied().unwrap_or(PAGES[0]);
            let at = signup - Duration::minutes(rng.gen_range(1..20_000)) + Duration::seconds(v);
            batch.push(json!({"type": "page", "anonymousId": anon, "name": page, "messageId": format!("demo-{i}-pre-{v}"),
                "properties": {"path": path, "url": format!("https://shop.example.com{path}"), "referrer": "https://www.google.com/"},
                "context": {"locale": locale, "userAgent": "Mozilla/5.0 (demo)"}, "timestamp": ts(at)}));
        }
        let company = rng.gen_range(0..companies);
        let plan = ["free", "starter", "pro", "enterprise"][rng.gen_range(0..4)];
        let interests: Vec<&str> =
            ["shoes", "books", "music", "travel", "games"].choose_multiple(&mut rng, i % 3).copied().collect();
        batch.push(json!({"type": "identify", "userId": user, "anonymousId": anon, "messageId": format!("demo-{i}-identify"),
            "traits": {"email": format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), i), "firstName": first, "lastName": last,
                       "address": {"country": country}, "plan": plan, "newsletter": rng.gen_bool(0.6), "signup_date": signup.format("%Y-%m-%d").to_string(),
                       "interests": interests},
            "context": {"locale": locale, "timezone": tz}, "timestamp": ts(signup)}));
        batch.push(json!({"type": "track", "userId": user, "event": "Signed Up", "messageId": format!("demo-{i}-signup"),
            "properties": {"plan": plan, "source": (["ads", "organic", "referral"][rng.gen_range(0..3)])}, "timestamp": ts(signup)}));
        if i % 3 == 0 || company < 3 {
            batch.push(json!({"type": "group", "userId": user, "groupId": format!("company-{company:04}"), "messageId": format!("demo-{i}-group"),
                "traits": {"name": (format!("{} {}", LAST[company % LAST.len()], ["Labs", "Systems", "Retail", "Media"][company % 4])),
                           "domain": format!("company{company}.example.com"), "industry": INDUSTRIES[company % INDUSTRIES.len()], "employees": 10 + (company * 37) % 990},
                "timestamp": ts(signup)}));
        }
        let mut ltv = 0.0;
        let sessions = rng.gen_range(0..25);
        for s in 0..sessions {
            let at = signup + Duration::minutes(rng.gen_range(1..((now - signup).num_minutes().max(2))));
            if at > now {
                continue;
            }
            let (page, path) = PAGES.choose(&mut rng).copied().unwrap_or(PAGES[0]);
            // Every fourth visit comes through a tagged ad or newsletter
            // link (chosen without the generator, so the rest of the demo
            // stays as it was).
            let context = match (i + s) % 4 {
                0 => {
                    let (name, source, medium) = AD_CAMPAIGNS[(i * 7 + s) % AD_CAMPAIGNS.len()];
                    json!({"campaign": {"name": name, "source": source, "medium": medium}})
                }
                _ => json!({}),
            };
            batch.push(json!({"type": "page", "userId": user, "name": page, "messageId": format!("demo-{i}-{s}-page"),
                "properties": {"path": path, "url": format!("https://shop.example.com{path}")}, "context": context, "timestamp": ts(at)}));
            let (sku, product, price) = *PRODUCTS.choose(&mut rng).unwrap_or(&PRODUCTS[0]);
            batch.push(json!({"type": "track", "userId": user, "event": "Product Viewed", "messageId": format!("demo-{i}-{s}-view"),
                "properties": {"product_id": sku, "name": product, "price": price}, "timestamp": ts(at + Duration::seconds(20))}));
            if rng.gen_bool(0.35) {
                batch.push(json!({"type": "track", "userId": user, "event": "Product Added", "messageId": format!("demo-{i}-{s}-add"),
                    "properties": {"product_id": sku, "name": product, "price": price, "quantity": 1}, "timestamp": ts(at + Duration::seconds(60))}));
                if rng.gen_bool(0.5) {
                    let qty = rng.gen_range(1..4) as f64;
                    ltv += price * qty;
                    batch.push(json!({"type": "track", "userId": user, "event": "Order Completed", "messageId": format!("demo-{i}-{s}-order"),
                        "properties": {"order_id": format!("o-{i}-{s}"), "total": price * qty, "currency": "USD",
                                       "products": [{"product_id": sku, "name": product, "price": price, "quantity": qty}]},
                        "timestamp": ts(at + Duration::seconds(120))}));
                }
            }
        }
        // Sent in the order they happened, as a tracking SDK would: what is
        // derived in log order (score histories) then reads in time order.
        batch[first_of_contact..].sort_by_key(|m| {
            m["timestamp"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp_millis())
        });
        batch.push(json!({"type": "identify", "userId": user, "messageId": format!("demo-{i}-ltv"), "traits": {"lifetime_value": ltv}, "timestamp": ts(now - Duration::minutes(1))}));
        if batch.len() >= 400 || i + 1 == contacts {
            n_events += batch.len();
            let body = json!({ "batch": std::mem::take(&mut batch) }).to_string();
            let arrival = Arrival { received_at: Utc::now(), client_ip: Some("198.51.100.7".into()) };
            let req = parse_batch(body.as_bytes(), &arrival)?;
            engine.ingest(ws, req.messages).await?;
        }
        bar.set_position(i as u64 + 1);
    }
    bar.finish_and_clear();
    eprintln!("seeded {contacts} contacts, {companies} companies and {n_events} events");
    seed_segments(store, ws).await?;
    seed_email(engine, store, ws).await?;
    seed_journey(engine, ws).await?;
    seed_scores(engine, ws).await?;
    seed_model(engine, ws).await?;
    seed_costs(engine, ws).await?;
    Ok(())
}

/// The UTM campaigns (name, source, medium) that bring demo visitors.
const AD_CAMPAIGNS: [(&str, &str, &str); 3] = [
    ("black-friday", "google", "cpc"),
    ("retargeting", "facebook", "paid_social"),
    ("monthly-picks", "newsletter", "email"),
];

/// What the demo's ads cost, so the attribution report shows a return on
/// investment.
async fn seed_costs(engine: &Engine, ws: kairos_core::ids::WorkspaceId) -> Result<()> {
    for ((name, source, medium), amount) in AD_CAMPAIGNS.iter().zip([60_000.0, 40_000.0, 3_000.0]) {
        let cost = kairos_store::MarketingCost {
            source: format!("utm:{source}/{medium}/{name}"),
            amount,
            per_message: 0.0,
            currency: "USD".into(),
            note: Some("demo spend over the last 150 days".into()),
            period_start: Some((Utc::now() - Duration::days(150)).timestamp_millis()),
            period_end: Some(Utc::now().timestamp_millis()),
            updated_at: 0,
        };
        engine.put_marketing_cost(ws, cost).await?;
    }
    Ok(())
}

/// A conversion model of purchases, audited by country. The lifetime value
/// trait is set from every order the demo person ever places, so it would
/// leak the future into the past: it is left out.
async fn seed_model(engine: &Engine, ws: kairos_core::ids::WorkspaceId) -> Result<()> {
    let request: kairos_engine::ConversionRequest = serde_json::from_value(json!({
        "event": "Order Completed", "horizon_days": 30, "sensitive_attribute": "country",
        "exclude_fields": ["lifetime_value"]
    }))?;
    match engine.train_conversion(ws, &request).await {
        Ok(v) => eprintln!("trained a conversion model of orders: hold-out AUC {:.3}", v.holdout.auc),
        // Small demos (--contacts 50) have too few orders; the demo goes on.
        Err(e) => eprintln!("no conversion model for the demo: {e}"),
    }
    Ok(())
}

/// An engagement score with decay and thresholds; computed over the seeded
/// log in the background.
async fn seed_scores(engine: &Engine, ws: kairos_core::ids::WorkspaceId) -> Result<()> {
    let definition = json!({
        "name": "engagement", "description": "Shopping interest, fading with a 30-day half-life",
        "half_life_days": 30,
        "events": [
            {"event": "Product Viewed", "points": 2, "cap": {"points": 10, "per": "day"}},
            {"event": "Product Added", "points": 5},
            {"event": "Order Completed", "points": 20},
            {"event": "Email Clicked", "points": 3}
        ],
        "attributes": [{"when": {"field": "plan", "op": "equals", "value": "pro"}, "points": 10}],
        "thresholds": [{"name": "Warm", "value": 40}, {"name": "Hot", "value": 80}]
    });
    engine.save_score(ws, &definition, true).await.map_err(|e| anyhow::anyhow!("demo score: {e}"))?;
    for _ in 0..600 {
        if engine.scores(ws).await?.iter().all(|s| s.status == "ready") {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("the demo score took over a minute to compute")
}

const WELCOME_MJML: &str = r##"<mjml>
  <mj-body background-color="#f4f4f7">
    <mj-section background-color="#ffffff" padding="24px">
      <mj-column>
        <mj-text font-size="22px" font-weight="bold">Welcome, {{ contact.first_name | default: "friend" }}!</mj-text>
        <mj-text>Thanks for joining Kairos Demo Shop{% if contact.custom.plan %} on the {{ contact.custom.plan }} plan{% endif %}.
          Here are three things to try this week.</mj-text>
        <mj-button href="https://shop.kairos-demo.example/start" background-color="#4f46e5">Get started</mj-button>
        <mj-raw>{% if segments contains "Big spenders" %}</mj-raw>
        <mj-text>As one of our best customers, your next order ships free.</mj-text>
        <mj-raw>{% endif %}</mj-raw>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"##;

/// A sender identity, the postal address marketing email must carry, a
/// welcome template, and marketing consent for contacts who ticked the
/// newsletter box (so the demo's journey has someone it may email).
async fn seed_email(engine: &Engine, store: &Store, ws: kairos_core::ids::WorkspaceId) -> Result<()> {
    engine
        .create_email_sender(
            ws,
            kairos_engine::NewSender {
                name: Some("Kairos Demo Shop".into()),
                email: "hello@kairos-demo.example".into(),
                reply_to: Some("support@kairos-demo.example".into()),
                dkim_selector: "demo".into(),
                algorithm: kairos_email::dkim::Algorithm::Ed25519,
                is_default: true,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo sender: {e}"))?;
    let now = Utc::now();
    let mut tx = store.begin_write().await?;
    let mut policy = tx.workspace_policy(ws).await?;
    policy.postal_address = Some("Kairos Demo Shop, 1 Market Street, Springfield 12345, USA".into());
    policy.transparency = Some(kairos_core::gate::Transparency {
        organisation: "Kairos Demo Shop".into(),
        disclose_automation: true,
        public_page: true,
        privacy_contact: Some("privacy@demo.kairos.dev".into()),
        statement: Some("We use what you do in our shop to send you useful emails, and nothing else.".into()),
    });
    tx.set_workspace_policy(ws, &policy, now.timestamp_millis()).await?;
    tx.commit().await?;
    let source = kairos_email::template::TemplateSource {
        subject: "Welcome to Kairos Demo Shop, {{ contact.first_name | default: 'friend' }}".into(),
        body: WELCOME_MJML.into(),
        format: kairos_email::template::BodyFormat::Mjml,
        text: None,
        layout: None,
    };
    engine.check_email_template(ws, &source).await.map_err(|e| anyhow::anyhow!("demo template: {e:?}"))?;
    let mut tx = store.begin_write().await?;
    tx.insert_email_template(
        ws,
        &kairos_store::TemplateRecord {
            id: uuid::Uuid::now_v7().to_string(),
            name: "Welcome".into(),
            subject: source.subject,
            body: source.body,
            format: "mjml".into(),
            text_body: None,
            layout: None,
            created_at: now.timestamp_millis(),
            updated_at: now.timestamp_millis(),
        },
    )
    .await?;
    // Consent for newsletter subscribers, recorded as an import would.
    let mut filter = kairos_store::ContactFilter::default();
    loop {
        let page = tx.search_contacts(ws, &filter, 500).await?;
        for c in &page.contacts {
            if c.custom.get("newsletter") == Some(&json!(true)) {
                let change = kairos_core::consent::ConsentChange {
                    channel: kairos_core::consent::Channel::Email,
                    purpose: kairos_core::consent::Purpose::Marketing,
                    state: kairos_core::consent::ConsentState::Granted,
                    source: "import:demo".into(),
                    lawful_basis: kairos_core::consent::LawfulBasis::Consent,
                    wording: Some("Send me news and offers by email".into()),
                    wording_version: Some("demo-1".into()),
                    proof: kairos_core::consent::Proof::default(),
                    at: now,
                };
                tx.record_consent(ws, c.id, &change).await?;
            }
        }
        match page.next {
            Some(n) => filter.after = Some(n),
            None => break,
        }
    }
    tx.commit().await?;
    Ok(())
}

/// A welcome journey, published: new sign-ups get points, a day to look
/// around, then are tagged by whether they bought within a week.
async fn seed_journey(engine: &Engine, ws: kairos_core::ids::WorkspaceId) -> Result<()> {
    let definition = serde_json::json!({
        "trigger": {"type": "event", "event": "Signed Up"},
        "entry": {"mode": "once"},
        "goals": [],
        "start": "points",
        "nodes": {
            "points": {"type": "change_score", "score": "engagement", "by": 5, "next": "welcome"},
            "welcome": {"type": "send", "channel": "email", "template": "Welcome", "next": "settle_in"},
            "settle_in": {"type": "delay", "duration": {"days": 1}, "next": "bought?"},
            "bought?": {"type": "wait_event", "event": "Order Completed", "timeout": {"days": 7},
                        "next": "customer", "timeout_next": "nudge"},
            "customer": {"type": "update_contact", "set": {"stage": "customer"}, "next": "done"},
            "nudge": {"type": "update_contact", "set": {"stage": "needs-nudge"}, "next": "done"},
            "done": {"type": "exit"}
        }
    });
    let j = engine.create_journey(ws, "Welcome series", definition).await?;
    engine.publish_journey(ws, j.id).await?;
    Ok(())
}

/// A few segments a marketer would start with; the server builds them when
/// it starts.
async fn seed_segments(store: &Store, ws: kairos_core::ids::WorkspaceId) -> Result<()> {
    let now = Utc::now().timestamp_millis();
    let segments = [
        (
            "Recent buyers",
            "Completed an order in the last 30 days",
            json!({"event": "Order Completed", "window": {"last_days": 30}}),
        ),
        (
            "Big spenders",
            "Lifetime value over 500 or two orders above 100 in 90 days",
            json!({"or": [{"field": "lifetime_value", "op": "gt", "value": 500},
                       {"event": "Order Completed", "where": [{"property": "total", "op": "gt", "value": 100}],
                        "count": {"op": "at_least", "value": 2}, "window": {"last_days": 90}}]}),
        ),
        (
            "Lapsed visitors",
            "Signed up, but no page view in the last 45 days",
            json!({"and": [{"event": "Signed Up"},
                        {"event": "Page Viewed", "count": {"op": "at_most", "value": 0}, "window": {"last_days": 45}}]}),
        ),
        (
            "German pro accounts",
            "Pro plan, in Germany",
            json!({"and": [{"field": "country", "op": "equals", "value": "DE"},
                        {"field": "plan", "op": "equals", "value": "pro"}]}),
        ),
    ];
    let mut tx = store.begin_write().await?;
    for (name, description, rule) in segments {
        let record = kairos_store::SegmentRecord {
            id: kairos_core::ids::SegmentId::new(),
            name: name.into(),
            description: Some(description.into()),
            rule,
            version: 1,
            status: "building".into(),
            error: None,
            created_at: now,
            updated_at: now,
        };
        tx.insert_segment(ws, &record).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub fn banner(url: &str, keys: &DemoKeys) {
    println!("Kairos demo is running at {url}");
    println!("  web UI:     {url}/   sign in as {} with password {}", keys.owner_email, keys.owner_password);
    println!("  workspace:  {WORKSPACE}");
    println!("  admin key:  {}   (REST API: Authorization: Bearer <key>)", keys.admin);
    println!("  write key:  {}   (tracking: /v1/track, /v1/batch, ...)", keys.write);
    println!("  API docs:   {url}/api/v1/openapi.json");
    println!("  privacy:    {url}/transparency/{}   (the public transparency page)", keys.workspace_id);
    println!("  try:        curl -H 'Authorization: Bearer {}' '{url}/api/v1/contacts?limit=3'", keys.admin);
    println!("              curl -H 'Authorization: Bearer {}' '{url}/api/v1/segments'", keys.admin);
}
