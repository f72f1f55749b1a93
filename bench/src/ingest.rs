//! Ingest benchmark: HTTP `/v1/batch` throughput with the real server,
//! engine and store, against the store's raw bulk-insert rate for the same
//! events in the same run.
//!
//! Clients: `--clients` concurrent HTTP/1.1 connections on loopback, each
//! sending batches of `--batch` realistic events (page views with full
//! context, product views, orders with line items, some identifies) from a
//! pool of 100,000 users, for `--seconds`. Every batch is durable before its
//! 200. Prints events/s, p50/p99 request latency, the raw insert rate and the
//! ratio.
//!
//! cargo run --release -p kairos-bench --bin ingest -- [--seconds 60] [--postgres] [--scores] [--journey] [--welcome-journey]

use anyhow::Result;
use chrono::Utc;
use clap::Parser;
use kairos_core::apikey::Scope;
use kairos_core::clock::SystemClock;
use kairos_core::event::{Event, EventKind};
use kairos_core::ids::ContactId;
use kairos_engine::Engine;
use kairos_server::{issue_key, serve, AppState};
use kairos_store::{Durability, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// How long the HTTP phase runs.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    #[arg(long, default_value_t = 8)]
    clients: usize,
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Use a fresh PostgreSQL database (KAIROS_TEST_DATABASE_URL) instead of SQLite.
    #[arg(long)]
    postgres: bool,
    /// SQLite only: fsync at checkpoints instead of every commit.
    #[arg(long)]
    normal_sync: bool,
    /// Distinct users the events come from.
    #[arg(long, default_value_t = 100_000)]
    users: u64,
    /// Events for the raw-insert comparison (default: as many as the HTTP phase stored, 100k to 2M).
    #[arg(long)]
    raw_events: Option<usize>,
    /// Define a rule-based score first (points for product views with a
    /// daily cap and for orders, an attribute rule, decay, thresholds), so
    /// every commit scores what it appends.
    #[arg(long)]
    scores: bool,
    /// Publish an active journey first (triggered by an event the run never
    /// sends), so the journey runner reads every appended event as it does
    /// in a workspace with journeys.
    #[arg(long)]
    journey: bool,
    /// Publish a welcome journey first (started by a contact's creation,
    /// then a one-day delay): every contact the run creates starts a run in
    /// the writer's transaction, and every event is read for it.
    #[arg(long)]
    welcome_journey: bool,
}

static USERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(100_000);

/// One realistic message, as an SDK would send it.
fn message(rng: &mut StdRng, id: &str) -> Value {
    let user = format!("user-{}", rng.gen_range(0..USERS.load(Ordering::Relaxed)));
    let context = json!({
        "library": {"name": "analytics.js", "version": "5.2.0"},
        "ip": "203.0.113.7",
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "locale": "en-US",
        "page": {"path": "/products/sku-42", "url": "https://shop.example.com/products/sku-42", "referrer": "https://www.google.com/", "title": "Sku 42"},
        "campaign": {"source": "newsletter", "medium": "email", "name": "autumn-sale"}
    });
    let now = Utc::now().to_rfc3339();
    match rng.gen_range(0..100) {
        0..=39 => {
            json!({"type": "page", "userId": user, "name": "Product", "messageId": id, "timestamp": now, "context": context,
            "properties": {"path": "/products/sku-42", "url": "https://shop.example.com/products/sku-42", "title": "Sku 42"}})
        }
        40..=79 => {
            json!({"type": "track", "userId": user, "event": "Product Viewed", "messageId": id, "timestamp": now, "context": context,
            "properties": {"product_id": format!("sku-{}", rng.gen_range(0..500)), "price": 19.99, "currency": "USD", "category": "Shoes"}})
        }
        80..=94 => {
            json!({"type": "track", "userId": user, "event": "Order Completed", "messageId": id, "timestamp": now, "context": context,
            "properties": {"order_id": id, "total": 59.97, "currency": "USD", "products": [
                {"product_id": "sku-1", "price": 19.99, "quantity": 1}, {"product_id": "sku-2", "price": 39.98, "quantity": 2}]}})
        }
        _ => json!({"type": "identify", "userId": user, "messageId": id, "timestamp": now, "context": context,
            "traits": {"email": format!("{user}@example.com"), "firstName": "Bench", "plan": "pro", "logins": rng.gen_range(0..50)}}),
    }
}

fn batch(rng: &mut StdRng, prefix: &str, n: usize) -> String {
    let msgs: Vec<Value> = (0..n).map(|i| message(rng, &format!("{prefix}-{i}"))).collect();
    json!({"batch": msgs, "sentAt": Utc::now().to_rfc3339()}).to_string()
}

async fn open_store(args: &Args) -> Result<(Store, Option<tempfile::TempDir>)> {
    if args.postgres {
        let url =
            kairos_store::testing::postgres_url().await.ok_or_else(|| anyhow::anyhow!("PostgreSQL unreachable"))?;
        let store = Store::open(&url).await?;
        store.migrate().await?;
        Ok((store, None))
    } else {
        let dir = tempfile::tempdir()?;
        let d = if args.normal_sync { Durability::Normal } else { Durability::Full };
        let store = Store::open_sqlite(&dir.path().join("kairos.db"), d).await?;
        store.migrate().await?;
        Ok((store, Some(dir)))
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KAIROS_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    USERS.store(args.users, Ordering::Relaxed);
    let backend = if args.postgres {
        "PostgreSQL"
    } else if args.normal_sync {
        "SQLite (synchronous=NORMAL)"
    } else {
        "SQLite (synchronous=FULL)"
    };

    // Phase 1: HTTP ingest through the real server.
    let (store, _dir) = open_store(&args).await?;
    let mut tx = store.begin_write().await?;
    let ws = tx.create_workspace("bench", Utc::now()).await?.id;
    tx.commit().await?;
    let (_, write) = issue_key(&store, ws, "bench", Scope::Write, Utc::now()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/v1/batch", listener.local_addr()?);
    let engine = Engine::start(store.clone(), Arc::new(SystemClock));
    if args.scores {
        let definition = json!({
            "name": "engagement", "half_life_days": 30,
            "events": [
                {"event": "Product Viewed", "where": [{"property": "category", "op": "equals", "value": "Shoes"}],
                 "points": 1, "cap": {"points": 10, "per": "day"}},
                {"event": "Page Viewed", "points": 0.5},
                {"event": "Order Completed", "points": 20}
            ],
            "attributes": [{"when": {"field": "email", "op": "is_set"}, "points": 5}],
            "thresholds": [{"name": "Warm", "value": 40}, {"name": "Hot", "value": 80}]
        });
        engine.save_score(ws, &definition, true).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        while engine.scores(ws).await?.iter().any(|s| s.status != "ready") {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    if args.journey {
        let definition = json!({
            "trigger": {"type": "event", "event": "Trial Started"}, "start": "done",
            "nodes": {"done": {"type": "exit"}}
        });
        let j = engine.create_journey(ws, "bench", definition).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        engine.publish_journey(ws, j.id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if args.welcome_journey {
        let definition = json!({
            "trigger": {"type": "contact_created"}, "start": "wait",
            "nodes": {"wait": {"type": "delay", "duration": {"days": 1}, "next": "done"}, "done": {"type": "exit"}}
        });
        let j = engine.create_journey(ws, "welcome", definition).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        engine.publish_journey(ws, j.id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let metrics = engine.clone();
    tokio::spawn(serve(listener, AppState::new(engine), std::future::pending()));

    let events = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut handles = Vec::new();
    for c in 0..args.clients {
        let (url, write, events) = (url.clone(), write.clone(), events.clone());
        let n = args.batch;
        handles.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
            let mut rng = StdRng::seed_from_u64(c as u64);
            let mut latencies = Vec::new();
            let mut b = 0u64;
            // Realistic bodies are generated once; each request stamps a
            // fresh batch number into the message ids, so the client spends
            // little of the machine's two cores.
            let templates: Vec<String> = (0..32).map(|_| batch(&mut rng, &format!("c{c}-b@@B@@"), n)).collect();
            let mut body = templates[0].replace("@@B@@", "0");
            while Instant::now() < deadline {
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .basic_auth(&write, Some(""))
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                        events.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Ok(r) => panic!("status {}: {:?}", r.status(), r.text().await),
                    Err(e) => panic!("request failed: {e}"),
                }
                b += 1;
                body = templates[b as usize % templates.len()].replace("@@B@@", &b.to_string());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for h in handles {
        latencies.extend(h.await?);
    }
    let http_secs = started.elapsed().as_secs_f64();
    let http_events = events.load(Ordering::Relaxed);
    latencies.sort_by(|a, b| a.total_cmp(b));
    let http_rate = http_events as f64 / http_secs;

    // Phase 2: the same kind of events straight into a fresh store, in big
    // transactions: no HTTP, no parsing, no identity resolution.
    let (raw_store, _raw_dir) = open_store(&args).await?;
    let mut tx = raw_store.begin_write().await?;
    let raw_ws = tx.create_workspace("raw", Utc::now()).await?.id;
    tx.commit().await?;
    let mut rng = StdRng::seed_from_u64(99);
    let contacts: Vec<ContactId> = (0..1000).map(|_| ContactId::new()).collect();
    let raw_total = args.raw_events.unwrap_or(http_events.clamp(100_000, 2_000_000) as usize);
    let mut pending = Vec::with_capacity(10_000);
    let raw_started = Instant::now();
    let mut raw_gen = Duration::ZERO;
    for i in 0..raw_total {
        let g = Instant::now();
        let m = message(&mut rng, &format!("raw-{i}"));
        pending.push(Event {
            seq: 0,
            id: uuid::Uuid::now_v7(),
            workspace_id: raw_ws,
            contact_id: contacts[i % contacts.len()],
            kind: EventKind::parse(m["type"].as_str().unwrap_or("track")).unwrap_or(EventKind::Track),
            name: m.get("event").or(m.get("name")).and_then(Value::as_str).map(str::to_string),
            message_id: format!("raw-{i}"),
            user_id: m["userId"].as_str().map(str::to_string),
            anonymous_id: None,
            properties: m.get("properties").or(m.get("traits")).cloned().unwrap_or_default(),
            context: m["context"].clone(),
            timestamp: Utc::now(),
            received_at: Utc::now(),
        });
        raw_gen += g.elapsed();
        if pending.len() == 10_000 || i + 1 == raw_total {
            let mut tx = raw_store.begin_write().await?;
            tx.append_events(&pending).await?;
            tx.commit().await?;
            pending.clear();
        }
    }
    let raw_secs = (raw_started.elapsed() - raw_gen).as_secs_f64();
    let raw_rate = raw_total as f64 / raw_secs;

    println!("backend:            {backend}{}", if args.scores { ", with a rule-based score defined" } else { "" });
    println!("http ingest:        {http_events} events in {http_secs:.1}s = {http_rate:.0} events/s ({} clients, batches of {})", args.clients, args.batch);
    println!(
        "request latency:    p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} requests",
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        pct(&latencies, 1.0),
        latencies.len()
    );
    println!("raw bulk insert:    {raw_total} events in {raw_secs:.1}s = {raw_rate:.0} events/s (10,000-row transactions, no HTTP/parse/identity)");
    println!("ratio http / raw:   {:.2}", http_rate / raw_rate);
    if args.welcome_journey {
        let m = metrics.take_journey_metrics();
        println!("welcome journey:    {} runs started in their contact's first transaction", m.started_with_trigger);
    }
    Ok(())
}
