//! Segment engine benchmark. Data from a documented, seeded generator:
//! `--contacts` contacts (default 1,000,000) with a country, plan, age, VIP
//! flag and signup date, and `--events` events (default 20,000,000) spread
//! uniformly over `--days` days (default 180): 50% `Page Viewed`, 25%
//! `Product Viewed`, 10% `Login`, 10% `Added to Cart`, 5% `Order Completed`
//! with a `total` from 5 to 500; contacts drawn with a skew (a few are very
//! active). 100 segments of mixed kinds are defined over it.
//!
//! Parts, each printed with its figures:
//! 1. In memory: build the runtime (1M contacts, 100 segments, every event
//!    fed through the tallies), resident memory per contact, and the time to
//!    re-evaluate one 3-condition segment over all contacts.
//! 2. The same 3-condition question as one SQL query on PostgreSQL (typed
//!    columns, an index for it, ANALYZEd): the ratio to part 1.
//! 3. Backfill of a new segment from the stored log, through the engine, on
//!    the embedded SQLite store holding all the events.
//! 4. Live path: a server on SQLite with `--live-contacts` contacts and the
//!    100 segments; `/v1/batch` at `--live-rate` events/s; the time from each
//!    acknowledged commit to the `Segment Entered/Exited` events it caused
//!    being committed to the log (p50/p99).
//!
//! cargo build --release -p kairos-bench && ./target/release/segments

use anyhow::{Context, Result};
use chrono::Utc;
use clap::Parser;
use kairos_core::apikey::Scope;
use kairos_core::clock::SystemClock;
use kairos_core::contact::Contact;
use kairos_core::fields::{FieldDefinition, FieldEntity, FieldType};
use kairos_core::ids::{ContactId, SegmentId, WorkspaceId};
use kairos_core::segment::rule::{parse, Schema, DAY_MS};
use kairos_core::segment::runtime::{EventInput, SegmentRuntime};
use kairos_core::segment::{Attr, Profile};
use kairos_engine::Engine;
use kairos_store::{SegmentRecord, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    contacts: usize,
    #[arg(long, default_value_t = 20_000_000)]
    events: usize,
    #[arg(long, default_value_t = 180)]
    days: i64,
    /// Skip part 2 (PostgreSQL).
    #[arg(long)]
    skip_postgres: bool,
    /// Skip part 3 (stored-log backfill; loading the events takes minutes).
    #[arg(long)]
    skip_backfill: bool,
    /// Skip part 4 (live path).
    #[arg(long)]
    skip_live: bool,
    #[arg(long, default_value_t = 100_000)]
    live_contacts: usize,
    #[arg(long, default_value_t = 20_000)]
    live_rate: usize,
    #[arg(long, default_value_t = 20)]
    live_seconds: u64,
}

const COUNTRIES: &[&str] = &["US", "DE", "GB", "FR", "ES", "IT", "NL", "SE", "PL", "BR", "IN", "JP", "CA", "AU", "MX"];
const PLANS: &[&str] = &["free", "starter", "pro", "enterprise"];
const EVENTS: &[&str] = &["Page Viewed", "Product Viewed", "Login", "Added to Cart", "Order Completed"];

struct GenContact {
    country: u8,
    plan: u8,
    age: u8,
    vip: bool,
    signup: i64,
}

struct GenEvent {
    contact: u32,
    name: u8,
    ts: i64,
    total: f32,
}

fn generate(args: &Args, now: i64) -> (Vec<GenContact>, Vec<GenEvent>) {
    let mut rng = StdRng::seed_from_u64(42);
    let contacts = (0..args.contacts)
        .map(|_| GenContact {
            country: rng.gen_range(0..COUNTRIES.len()) as u8,
            plan: rng.gen_range(0..PLANS.len()) as u8,
            age: rng.gen_range(18..80),
            vip: rng.gen_ratio(1, 20),
            signup: now - rng.gen_range(0..720) * DAY_MS,
        })
        .collect();
    let span = args.days * DAY_MS;
    let n = args.contacts as f64;
    let events = (0..args.events)
        .map(|_| {
            // Skewed activity: squaring a uniform draw favours low ids.
            let u: f64 = rng.gen();
            let contact = ((u * u) * n) as u32;
            let r = rng.gen_range(0..100);
            let name = match r {
                0..=49 => 0,
                50..=74 => 1,
                75..=84 => 2,
                85..=94 => 3,
                _ => 4,
            };
            GenEvent { contact, name, ts: now - rng.gen_range(0..span), total: rng.gen_range(5.0..500.0) }
        })
        .collect();
    (contacts, events)
}

fn profile(c: &GenContact) -> Profile {
    let mut p = Profile::default();
    p.0.insert("country".into(), Attr::Str(COUNTRIES[c.country as usize].to_lowercase()));
    p.0.insert("plan".into(), Attr::Str(PLANS[c.plan as usize].into()));
    p.0.insert("age".into(), Attr::Num(c.age as f64));
    p.0.insert("vip".into(), Attr::Bool(c.vip));
    p.0.insert("signup".into(), Attr::Date(c.signup));
    p
}

/// The 3-condition segment of the target: attribute AND (event count with a
/// property filter in 30 days OR numeric range).
fn three_condition() -> Value {
    json!({"and": [
        {"field": "country", "op": "equals", "value": "DE"},
        {"or": [
            {"event": "Order Completed", "where": [{"property": "total", "op": "gt", "value": 50}],
             "count": {"op": "at_least", "value": 1}, "window": {"last_days": 30}},
            {"field": "age", "op": "between", "value": [30, 40]}
        ]}
    ]})
}

/// 100 segments of mixed kinds (the first is the 3-condition one; the last
/// five refer to earlier segments, filled in by `resolve`).
fn hundred_segments() -> Vec<Value> {
    let mut out = vec![three_condition()];
    for i in 0..19 {
        out.push(match i % 4 {
            0 => json!({"field": "country", "op": "equals", "value": COUNTRIES[i % COUNTRIES.len()]}),
            1 => json!({"field": "plan", "op": "in", "value": [PLANS[i % 4], PLANS[(i + 1) % 4]]}),
            2 => json!({"field": "age", "op": "between", "value": [18 + i, 30 + i]}),
            _ => json!({"and": [{"field": "vip", "op": "equals", "value": true},
                                {"field": "signup", "op": "within_last_days", "value": 30 + i * 10}]}),
        });
    }
    for i in 0..30 {
        let ev = EVENTS[i % EVENTS.len()];
        let days = [7, 14, 30, 90][i % 4];
        let mut v = json!({"event": ev, "count": {"op": "at_least", "value": 1 + i % 3},
                           "window": {"last_days": days}});
        if ev == "Order Completed" {
            v["where"] = json!([{"property": "total", "op": "gt", "value": 20 * (i % 5)}]);
        }
        out.push(v);
    }
    for i in 0..20 {
        let ev = EVENTS[i % EVENTS.len()];
        out.push(match i % 2 {
            0 => json!({"event": ev, "last": {"op": "within_last_days", "value": 3 + i}}),
            _ => json!({"event": ev, "first": {"op": "more_than_days_ago", "value": 30 + i * 5}}),
        });
    }
    for i in 0..15 {
        out.push(json!({"and": [
            {"field": "country", "op": "equals", "value": COUNTRIES[i % COUNTRIES.len()]},
            {"or": [{"event": "Added to Cart", "window": {"last_days": 14}},
                    {"field": "plan", "op": "equals", "value": "pro"}]}]}));
    }
    for i in 0..10 {
        out.push(json!({"event": EVENTS[i % EVENTS.len()], "count": {"op": "at_most", "value": 0},
                        "window": {"last_days": 14 + i}}));
    }
    for i in 0..5 {
        out.push(
            json!({"and": [{"segment": format!("SEG{}", 50 + i)}, {"not": {"segment": format!("SEG{}", 20 + i)}}]}),
        );
    }
    out
}

fn resolve(rule: &Value, ids: &[SegmentId]) -> Value {
    let mut text = rule.to_string();
    for k in (0..ids.len()).rev() {
        text = text.replace(&format!("\"SEG{k}\""), &format!("\"{}\"", ids[k]));
    }
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn schema() -> Schema {
    Schema::with_custom(
        [
            ("plan".to_string(), FieldType::String),
            ("age".into(), FieldType::Number),
            ("vip".into(), FieldType::Boolean),
            ("signup".into(), FieldType::Date),
        ],
        [],
    )
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn median_ms(mut f: impl FnMut() -> u64, runs: usize) -> (f64, u64) {
    let mut times = Vec::new();
    let mut result = 0;
    for _ in 0..runs {
        let t = Instant::now();
        result = f();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    (times[times.len() / 2], result)
}

fn part1(args: &Args, contacts: &[GenContact], events: &[GenEvent], now: i64) -> Result<f64> {
    println!("== 1. in-memory runtime: {} contacts, {} events, 100 segments", contacts.len(), events.len());
    let rss0 = rss_bytes();
    let t = Instant::now();
    let mut rt = SegmentRuntime::new();
    let ids: Vec<ContactId> = (0..contacts.len()).map(|_| ContactId::new()).collect();
    for (c, id) in contacts.iter().zip(&ids) {
        rt.set_contact(*id, &profile(c), &[], now);
    }
    let load_contacts = t.elapsed();
    let mut schema = schema();
    let seg_ids: Vec<SegmentId> = (0..100).map(|_| SegmentId::new()).collect();
    let mut rules = Vec::new();
    for (k, rule) in hundred_segments().iter().enumerate() {
        let rule = parse(&resolve(rule, &seg_ids), &schema, Some(seg_ids[k])).context("bench rule")?;
        schema.segments.insert(seg_ids[k], rule.segment_refs());
        rules.push((seg_ids[k], rule));
    }
    rt.load_segments(&rules, i64::MAX).map_err(|e| anyhow::anyhow!("{e}"))?;
    let t = Instant::now();
    let empty = json!({});
    let mut order = json!({"total": 0.0});
    for (i, e) in events.iter().enumerate() {
        let props = if e.name == 4 {
            order["total"] = json!(e.total);
            &order
        } else {
            &empty
        };
        let input = EventInput { seq: i as i64 + 1, name: EVENTS[e.name as usize], timestamp: e.ts, properties: props };
        rt.backfill_event(ids[e.contact as usize], &input);
    }
    let feed = t.elapsed();
    let t = Instant::now();
    rt.activate_many(&seg_ids, now).map_err(|e| anyhow::anyhow!("{e}"))?;
    let activate = t.elapsed();
    let rss1 = rss_bytes();
    let per_contact = (rss1.saturating_sub(rss0)) as f64 / contacts.len() as f64;
    println!("load contacts:      {:.2} s", load_contacts.as_secs_f64());
    println!(
        "feed events:        {:.2} s = {:.0} events/s through the tallies of 100 segments",
        feed.as_secs_f64(),
        events.len() as f64 / feed.as_secs_f64()
    );
    println!("activate 100:       {:.2} s (evaluate every contact for every segment)", activate.as_secs_f64());
    println!(
        "resident memory:    {:.0} MB for the runtime = {:.0} bytes per contact (estimate of heap held: {:.0} bytes per contact)",
        (rss1 - rss0) as f64 / 1e6,
        per_contact,
        rt.heap_bytes() as f64 / contacts.len() as f64
    );
    let rule = parse(&three_condition(), &schema, None)?;
    let (ms, count) = median_ms(|| rt.preview(&rule, now).unwrap_or(u64::MAX), 5);
    println!("re-evaluate 3-condition segment over all contacts: {ms:.1} ms (median of 5), {count} members");
    println!("segment count via live bitset: {:?}", rt.count(seg_ids[0]));
    let _ = args;
    Ok(ms)
}

async fn part2(contacts: &[GenContact], events: &[GenEvent], now: i64, kairos_ms: f64) -> Result<()> {
    println!("== 2. the same question in SQL on PostgreSQL");
    let Some(url) = kairos_store::testing::postgres_url().await else {
        println!("PostgreSQL not reachable; skipped");
        return Ok(());
    };
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(&url).await?;
    let mut conn = pool.acquire().await?;
    for sql in [
        "CREATE TABLE bench_contacts (id INT PRIMARY KEY, country TEXT NOT NULL, plan TEXT NOT NULL, age INT NOT NULL)",
        "CREATE TABLE bench_events (contact_id INT NOT NULL, name TEXT NOT NULL, ts BIGINT NOT NULL, total DOUBLE PRECISION)",
    ] {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    let t = Instant::now();
    let mut copy = conn.copy_in_raw("COPY bench_contacts FROM STDIN").await?;
    let mut buf = String::new();
    for (i, c) in contacts.iter().enumerate() {
        buf += &format!("{i}\t{}\t{}\t{}\n", COUNTRIES[c.country as usize], PLANS[c.plan as usize], c.age);
        if buf.len() > 1 << 20 {
            copy.send(std::mem::take(&mut buf).into_bytes()).await?;
        }
    }
    copy.send(buf.into_bytes()).await?;
    copy.finish().await?;
    let mut copy = conn.copy_in_raw("COPY bench_events FROM STDIN").await?;
    let mut buf = String::new();
    for e in events {
        let total = if e.name == 4 { format!("{}", e.total) } else { "\\N".into() };
        buf += &format!("{}\t{}\t{}\t{total}\n", e.contact, EVENTS[e.name as usize], e.ts);
        if buf.len() > 1 << 20 {
            copy.send(std::mem::take(&mut buf).into_bytes()).await?;
        }
    }
    copy.send(buf.into_bytes()).await?;
    copy.finish().await?;
    for sql in [
        "CREATE INDEX ON bench_contacts (country)",
        "CREATE INDEX ON bench_events (name, ts) INCLUDE (contact_id, total)",
        "CREATE INDEX ON bench_events (contact_id, name, ts) INCLUDE (total)",
        "ANALYZE bench_contacts",
        "ANALYZE bench_events",
    ] {
        sqlx::query(sql).execute(&mut *conn).await?;
    }
    println!("loaded with COPY and indexed in {:.1} s", t.elapsed().as_secs_f64());
    let sql = "SELECT COUNT(*) FROM bench_contacts c WHERE c.country = 'DE' AND (c.age BETWEEN 30 AND 40 OR EXISTS (
        SELECT 1 FROM bench_events e WHERE e.contact_id = c.id AND e.name = 'Order Completed' AND e.total > 50 AND e.ts > $1))";
    let mut times = Vec::new();
    let mut count = 0i64;
    for _ in 0..5 {
        let t = Instant::now();
        count = sqlx::query_scalar(sql).bind(now - 30 * DAY_MS).fetch_one(&mut *conn).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let pg_ms = times[2];
    println!("PostgreSQL query:   {pg_ms:.1} ms (median of 5), {count} members");
    println!("ratio PostgreSQL / Kairos: {:.1}x", pg_ms / kairos_ms);
    Ok(())
}

async fn define_fields(store: &Store, ws: WorkspaceId) -> Result<()> {
    let mut tx = store.begin_write().await?;
    for (name, ty) in [
        ("plan", FieldType::String),
        ("age", FieldType::Number),
        ("vip", FieldType::Boolean),
        ("signup", FieldType::Date),
    ] {
        let def = FieldDefinition { entity: FieldEntity::Contact, name: name.into(), field_type: ty, label: None };
        tx.define_field(ws, &def, Utc::now()).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn stored_contact(ws: WorkspaceId, c: &GenContact, i: usize) -> Contact {
    let mut k = Contact::new(ws, Utc::now());
    k.external_id = Some(format!("user-{i}"));
    k.country = Some(COUNTRIES[c.country as usize].into());
    k.custom.insert("plan".into(), json!(PLANS[c.plan as usize]));
    k.custom.insert("age".into(), json!(c.age as f64));
    k.custom.insert("vip".into(), json!(c.vip));
    let d = chrono::DateTime::from_timestamp_millis(c.signup).unwrap_or_default();
    k.custom.insert("signup".into(), json!(d.format("%Y-%m-%d").to_string()));
    k
}

async fn part3(contacts: &[GenContact], events: &[GenEvent]) -> Result<()> {
    println!("== 3. backfill of a new segment from the stored log (embedded SQLite)");
    let dir = tempfile::tempdir()?;
    let store = Store::open_sqlite(&dir.path().join("kairos.db"), kairos_store::Durability::Normal).await?;
    store.migrate().await?;
    let mut tx = store.begin_write().await?;
    let ws = tx.create_workspace("bench", Utc::now()).await?.id;
    tx.commit().await?;
    define_fields(&store, ws).await?;
    let t = Instant::now();
    let mut ids = Vec::with_capacity(contacts.len());
    let mut tx = store.begin_write().await?;
    for (chunk_no, chunk) in contacts.chunks(10_000).enumerate() {
        let batch: Vec<Contact> =
            chunk.iter().enumerate().map(|(j, c)| stored_contact(ws, c, chunk_no * 10_000 + j)).collect();
        ids.extend(batch.iter().map(|c| c.id.to_string()));
        tx.insert_contacts(&batch).await?;
    }
    tx.commit().await?;
    // Bulk-load the log with its indexes dropped, then rebuild them.
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", dir.path().join("kairos.db").display()))
        .await?;
    sqlx::query("DROP INDEX events_message_id").execute(&pool).await?;
    sqlx::query("DROP INDEX events_contact_time").execute(&pool).await?;
    let w = ws.to_string();
    let mut conn = pool.acquire().await?;
    sqlx::query("BEGIN").execute(&mut *conn).await?;
    for (n, chunk) in events.chunks(500).enumerate() {
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO events (id, workspace_id, contact_id, kind, name, message_id, properties, context, timestamp, received_at) ",
        );
        qb.push_values(chunk.iter().enumerate(), |mut b, (j, e)| {
            let (kind, name) = if e.name == 0 { ("page", "Product") } else { ("track", EVENTS[e.name as usize]) };
            let props = if e.name == 4 { format!("{{\"total\":{}}}", e.total) } else { "{}".into() };
            b.push_bind(uuid::Uuid::now_v7().to_string())
                .push_bind(w.clone())
                .push_bind(ids[e.contact as usize].clone())
                .push_bind(kind)
                .push_bind(name)
                .push_bind(format!("m{}", n * 500 + j))
                .push_bind(props)
                .push_bind("{}")
                .push_bind(e.ts)
                .push_bind(e.ts);
        });
        qb.build().execute(&mut *conn).await?;
        if n % 2000 == 1999 {
            sqlx::query("COMMIT").execute(&mut *conn).await?;
            sqlx::query("BEGIN").execute(&mut *conn).await?;
        }
    }
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    sqlx::query("CREATE UNIQUE INDEX events_message_id ON events (workspace_id, message_id)")
        .execute(&mut *conn)
        .await?;
    sqlx::query("CREATE INDEX events_contact_time ON events (workspace_id, contact_id, timestamp)")
        .execute(&mut *conn)
        .await?;
    drop(conn);
    pool.close().await;
    println!(
        "loaded {} contacts and {} events into SQLite in {:.0} s",
        contacts.len(),
        events.len(),
        t.elapsed().as_secs_f64()
    );
    let engine = Engine::start(store.clone(), Arc::new(SystemClock));
    let t = Instant::now();
    let attr = parse(&json!({"field": "plan", "op": "equals", "value": "pro"}), &schema(), None)?;
    let n = engine.preview_segment(ws, attr, 0).await?.count;
    println!("load {} contacts into the engine: {:.1} s ({n} on plan pro)", contacts.len(), t.elapsed().as_secs_f64());
    let id = SegmentId::new();
    let now = Utc::now().timestamp_millis();
    let record = SegmentRecord {
        id,
        name: "3-condition".into(),
        description: None,
        rule: three_condition(),
        version: 1,
        status: "building".into(),
        error: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = store.begin_write().await?;
    tx.insert_segment(ws, &record).await?;
    tx.commit().await?;
    let t = Instant::now();
    engine.load_segment(ws, id).await?;
    println!(
        "backfill of the 3-condition segment over {} stored events: {:.2} s, {} members",
        events.len(),
        t.elapsed().as_secs_f64(),
        engine.segment_count(ws, id).unwrap_or(0)
    );
    // The segment builder's live count as a marketer edits a rule: each edit
    // previews the whole rule with a sample of five members. A condition the
    // engine already tallies (a saved segment's) is answered in memory; a
    // new behavioural condition needs a pass over the stored log first.
    println!(
        "-- segment builder: live count per edit over {} contacts ({} stored events)",
        contacts.len(),
        events.len()
    );
    let country = json!({"field": "country", "op": "equals", "value": "DE"});
    let age = json!({"field": "age", "op": "between", "value": [30, 40]});
    let orders = |days: i64| {
        json!({"event": "Order Completed", "where": [{"property": "total", "op": "gt", "value": 50}],
               "count": {"op": "at_least", "value": 1}, "window": {"last_days": days}})
    };
    let edits = [
        ("country = DE", country.clone()),
        ("AND age 30-40", json!({"and": [country, age]})),
        ("AND (orders > 50 in 30 days OR age): a saved segment's condition", three_condition()),
        ("orders window 30 -> 14 days: a new condition", json!({"and": [country, {"or": [orders(14), age]}]})),
        (
            "OR Added to Cart in the last 7 days: a new condition",
            json!({"and": [country, {"or": [orders(30), age, {"event": "Added to Cart", "window": {"last_days": 7}}]}]}),
        ),
        (
            "the same rule again",
            json!({"and": [country, {"or": [orders(30), age, {"event": "Added to Cart", "window": {"last_days": 7}}]}]}),
        ),
    ];
    for (what, rule) in edits {
        let rule = parse(&rule, &schema(), None)?;
        let t = Instant::now();
        let p = engine.preview_segment(ws, rule, 5).await?;
        println!("  {what}: {:.1} ms, {} contacts", t.elapsed().as_secs_f64() * 1000.0, p.count);
    }
    Ok(())
}

async fn part4(args: &Args, contacts: &[GenContact]) -> Result<()> {
    let n = args.live_contacts.min(contacts.len());
    println!(
        "== 4. live path: {n} contacts, 100 segments, {} events/s over HTTP for {} s (SQLite, synchronous=FULL)",
        args.live_rate, args.live_seconds
    );
    let dir = tempfile::tempdir()?;
    let store = Store::open_sqlite(&dir.path().join("kairos.db"), kairos_store::Durability::Full).await?;
    store.migrate().await?;
    let mut tx = store.begin_write().await?;
    let ws = tx.create_workspace("bench", Utc::now()).await?.id;
    tx.commit().await?;
    define_fields(&store, ws).await?;
    let mut tx = store.begin_write().await?;
    for (chunk_no, chunk) in contacts[..n].chunks(10_000).enumerate() {
        let batch: Vec<Contact> =
            chunk.iter().enumerate().map(|(j, c)| stored_contact(ws, c, chunk_no * 10_000 + j)).collect();
        tx.insert_contacts(&batch).await?;
    }
    let mut ids = Vec::new();
    for rule in hundred_segments() {
        let id = SegmentId::new();
        ids.push(id);
        let now = Utc::now().timestamp_millis();
        let record = SegmentRecord {
            id,
            name: format!("segment {}", ids.len()),
            description: None,
            rule: resolve(&rule, &ids),
            version: 1,
            status: "building".into(),
            error: None,
            created_at: now,
            updated_at: now,
        };
        tx.insert_segment(ws, &record).await?;
    }
    tx.commit().await?;
    let (_, write) = kairos_server::issue_key(&store, ws, "bench", Scope::Write, Utc::now()).await?;
    let engine = Engine::start(store.clone(), Arc::new(SystemClock));
    // Wait for the start-up load (and the initial entries it logs).
    let t = Instant::now();
    while engine.segment_count(ws, ids[99]).is_none() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let loaded = t.elapsed();
    engine.segments_settled().await;
    println!(
        "engine start with 100 segments: {:.1} s, then {:.1} s to log the initial entries",
        loaded.as_secs_f64(),
        (t.elapsed() - loaded).as_secs_f64()
    );
    engine.take_segment_latencies();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/v1/batch", listener.local_addr()?);
    tokio::spawn(kairos_server::serve(listener, kairos_server::AppState::new(engine.clone()), std::future::pending()));
    let http = reqwest::Client::new();
    let batch_body = |rng: &mut StdRng| {
        let now = Utc::now();
        let batch: Vec<Value> = (0..100)
            .map(|_| {
                let user = format!("user-{}", rng.gen_range(0..n));
                let name = EVENTS[rng.gen_range(1..EVENTS.len())];
                json!({"type": "track", "userId": user, "event": name, "messageId": uuid::Uuid::now_v7().to_string(),
                       "timestamp": now.to_rfc3339(), "properties": {"total": rng.gen_range(5.0..500.0)}})
            })
            .collect();
        json!({"batch": batch}).to_string()
    };
    let mut rng = StdRng::seed_from_u64(7);
    // Warm-up: give every contact a history first (a contact's first events
    // flip many segments at once; steady state is what is measured).
    let t = Instant::now();
    let warm_batches = n * 5 / 100;
    for chunk in (0..warm_batches).collect::<Vec<_>>().chunks(8) {
        let mut sends = Vec::new();
        for _ in chunk {
            let req = http.post(&url).basic_auth(&write, Some("")).header("content-type", "application/json");
            sends.push(req.body(batch_body(&mut rng)).send());
        }
        for s in sends {
            s.await?;
        }
    }
    engine.segments_settled().await;
    println!(
        "warm-up: {} events ({} per contact) sent and settled in {:.1} s",
        warm_batches * 100,
        5,
        t.elapsed().as_secs_f64()
    );
    engine.take_segment_latencies();
    let batches_per_sec = (args.live_rate / 100).max(1);
    let interval = Duration::from_secs_f64(1.0 / batches_per_sec as f64);
    let deadline = Instant::now() + Duration::from_secs(args.live_seconds);
    let mut tasks = Vec::new();
    let mut next = Instant::now();
    let mut sent = 0usize;
    while Instant::now() < deadline {
        let body = batch_body(&mut rng);
        sent += 100;
        let (http, url, write) = (http.clone(), url.clone(), write.clone());
        tasks.push(tokio::spawn(async move {
            http.post(&url)
                .basic_auth(&write, Some(""))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
        }));
        next += interval;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
    let mut ok = 0;
    for t in tasks {
        if matches!(t.await, Ok(Ok(r)) if r.status().is_success()) {
            ok += 1;
        }
    }
    engine.segments_settled().await;
    let mut lat: Vec<f64> = engine.take_segment_latencies().iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    lat.sort_by(|a, b| a.total_cmp(b));
    println!("sent {sent} events in {ok} acknowledged batches");
    println!(
        "ack -> Segment Entered/Exited committed to the log: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} commits that changed a membership",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        pct(&lat, 1.0),
        lat.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KAIROS_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let now = Utc::now().timestamp_millis();
    let t = Instant::now();
    let (contacts, events) = generate(&args, now);
    println!("generated {} contacts and {} events in {:.1} s", contacts.len(), events.len(), t.elapsed().as_secs_f64());
    let kairos_ms = part1(&args, &contacts, &events, now)?;
    if !args.skip_postgres {
        part2(&contacts, &events, now, kairos_ms).await?;
    }
    if !args.skip_backfill {
        part3(&contacts, &events).await?;
    }
    if !args.skip_live {
        part4(&args, &contacts).await?;
    }
    Ok(())
}
