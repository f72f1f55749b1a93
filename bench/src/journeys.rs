//! Journey benchmark: how fast a journey reacts, and how many waiting runs
//! one process holds.
//!
//! Part 1, trigger latency: with background ingest at `--rate` events/s over
//! HTTP, trial sign-ups arrive at `--trigger-rate` per second. The writer
//! takes a run's first step in the transaction of its triggering event, so
//! the figure asked for (acknowledgement -> first intent committed) is zero
//! by construction; what is measured is that it holds (right after each
//! acknowledgement, the run's webhook intent is read from the store, created
//! no later than the acknowledgement) and what it costs (acknowledgement
//! latency of the batches carrying a trigger against the others). Runs the
//! runner starts itself (API and date triggers) are timed as before: from the
//! commit to the commit of their first step. The alternative measured in the same run is
//! what cron-driven campaign tools do (Mautic runs `mautic:campaigns:trigger`
//! from cron): poll the log for trigger events every `--poll-ms`; its
//! figure is the time from an event's commit to the poll that sees it.
//!
//! Part 2, scale: `--runs` contacts enter a journey whose first node is a
//! delay; the runs wait at once, then their timers fire. Reported: entry
//! throughput, resident memory with every run waiting, how late timers fire
//! (due instant to committed step), and node executions per second. Then
//! the journey's live counts are read as its stats endpoint reads them
//! (counters kept as path lines are written) against the alternative of
//! grouping every path line, as it did before 2026-12-07.

use anyhow::{Context, Result};
use chrono::Utc;
use clap::Parser;
use kairos_core::apikey::Scope;
use kairos_core::clock::SystemClock;
use kairos_core::tracking::{parse_batch, Arrival};
use kairos_engine::{Engine, EngineOptions};
use kairos_store::{Durability, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Background events per second during the latency run.
    #[arg(long, default_value_t = 10_000)]
    rate: usize,
    /// Triggering events per second during the latency run.
    #[arg(long, default_value_t = 50)]
    trigger_rate: usize,
    /// Seconds the latency run lasts.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// The cron-style alternative's polling interval.
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// Runs waiting at once in the scale run (0 skips it).
    #[arg(long, default_value_t = 1_000_000)]
    runs: usize,
    /// The scale run's delay before timers fire, in seconds.
    #[arg(long, default_value_t = 120)]
    delay: u64,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(mut v: Vec<Duration>) -> Vec<f64> {
    v.sort();
    v.into_iter().map(|d| d.as_secs_f64() * 1000.0).collect()
}

/// A memory figure of this process from /proc (VmRSS now, VmHWM peak), MiB.
fn mem_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(f64::NAN)
        / 1024.0
}

fn rss_mib() -> f64 {
    mem_mib("VmRSS:")
}

async fn open_store(dir: &std::path::Path) -> Result<Store> {
    let store = Store::open_sqlite(&dir.join("kairos.db"), Durability::Full).await?;
    store.migrate().await?;
    Ok(store)
}

/// A webhook receiver that answers 200 to everything.
async fn sink() -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = vec![0u8; 65536];
                let mut have = Vec::new();
                loop {
                    let Ok(n) = sock.read(&mut buf).await else { return };
                    if n == 0 {
                        return;
                    }
                    have.extend_from_slice(&buf[..n]);
                    // One response per complete request (headers + body).
                    while let Some(end) = have.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&have[..end]).to_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                            .unwrap_or(0);
                        if have.len() < end + 4 + len {
                            break;
                        }
                        have.drain(..end + 4 + len);
                        if sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    Ok(url)
}

async fn publish(engine: &Engine, ws: kairos_core::ids::WorkspaceId, definition: Value) -> Result<()> {
    let j = engine.create_journey(ws, "bench", definition).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    engine.publish_journey(ws, j.id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

async fn latency(args: &Args) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open_store(dir.path()).await?;
    let mut tx = store.begin_write().await?;
    let ws = tx.create_workspace("bench", Utc::now()).await?.id;
    tx.commit().await?;
    let (_, write) = kairos_server::issue_key(&store, ws, "bench", Scope::Write, Utc::now()).await?;
    let mut options = EngineOptions::default();
    options.outbox.allow_private_webhooks = true;
    let engine = Engine::start_with(store.clone(), Arc::new(SystemClock), options);
    let hook = sink().await?;
    engine.create_webhook_endpoint(ws, "crm", &hook, None, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    publish(
        &engine,
        ws,
        json!({
            "trigger": {"type": "event", "event": "Trial Started"},
            "start": "alert",
            "nodes": {
                "alert": {"type": "webhook", "endpoint": "crm", "next": "wait"},
                "wait": {"type": "delay", "duration": {"days": 1}, "next": "done"},
                "done": {"type": "exit"}
            }
        }),
    )
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/v1/batch", listener.local_addr()?);
    tokio::spawn(kairos_server::serve(listener, kairos_server::AppState::new(engine.clone()), std::future::pending()));

    // The cron-style alternative: poll the log for trigger events.
    let poll_store = store.clone();
    let poll_every = Duration::from_millis(args.poll_ms);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poll_stop = stop.clone();
    let poller = tokio::spawn(async move {
        let mut cursor = 0i64;
        let mut lat = Vec::new();
        let mut every = tokio::time::interval(poll_every);
        while !poll_stop.load(std::sync::atomic::Ordering::Relaxed) {
            every.tick().await;
            let Ok(mut tx) = poll_store.begin().await else { continue };
            loop {
                let Ok(events) = tx.events_after_all(cursor, 20_000).await else { break };
                let now = Utc::now();
                for e in &events {
                    cursor = cursor.max(e.seq);
                    if e.name.as_deref() == Some("Trial Started") {
                        lat.push((now - e.received_at).to_std().unwrap_or_default());
                    }
                }
                if events.len() < 20_000 {
                    break;
                }
            }
            let _ = tx.commit().await;
        }
        lat
    });

    let http = reqwest::Client::new();
    let mut rng = StdRng::seed_from_u64(11);
    // 100-event batches; one in `every` carries a trigger.
    let batches_per_sec = (args.rate / 100).max(1);
    let interval = Duration::from_secs_f64(1.0 / batches_per_sec as f64);
    let trigger_every = (batches_per_sec / args.trigger_rate.max(1)).max(1);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut next = Instant::now();
    let mut tasks = Vec::new();
    let (mut sent, mut triggers, mut b) = (0usize, 0usize, 0usize);
    engine.take_journey_metrics();
    while Instant::now() < deadline {
        let mut batch: Vec<Value> = (0..100)
            .map(|_| {
                json!({"type": "track", "userId": format!("user-{}", rng.gen_range(0..100_000)), "event": "Page Viewed",
                       "messageId": uuid::Uuid::now_v7().to_string(), "properties": {"path": "/pricing"}})
            })
            .collect();
        if b % trigger_every == 0 {
            batch[0] = json!({"type": "track", "userId": format!("trial-{triggers}"), "event": "Trial Started",
                              "messageId": uuid::Uuid::now_v7().to_string()});
            triggers += 1;
        }
        b += 1;
        sent += 100;
        let trial = (b - 1) % trigger_every == 0;
        let trial_user = format!("trial-{}", triggers.saturating_sub(1));
        let body = json!({"batch": batch}).to_string();
        let (http, url, write, store) = (http.clone(), url.clone(), write.clone(), store.clone());
        tasks.push(tokio::spawn(async move {
            let sent_at = Instant::now();
            let r = http
                .post(&url)
                .basic_auth(&write, Some(""))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await;
            let acked_at = Utc::now().timestamp_millis();
            let latency = sent_at.elapsed();
            let ok = matches!(&r, Ok(r) if r.status().is_success());
            // Is the run's first intent in the store already?
            let intent_at_ack =
                if ok && trial { intent_committed(&store, ws, &trial_user, acked_at).await } else { false };
            (ok, trial, latency, intent_at_ack)
        }));
        next += interval;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
    let (mut ok, mut at_ack) = (0, 0);
    let (mut trial_acks, mut other_acks) = (Vec::new(), Vec::new());
    for t in tasks {
        let Ok((acked, trial, latency, intent_at_ack)) = t.await else { continue };
        if !acked {
            continue;
        }
        ok += 1;
        at_ack += usize::from(intent_at_ack);
        if trial {
            trial_acks.push(latency);
        } else {
            other_acks.push(latency);
        }
    }
    engine.journeys_settled().await;
    tokio::time::sleep(poll_every * 2).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let polled = ms(poller.await?);
    let m = engine.take_journey_metrics();
    let lat = ms(m.trigger);
    println!(
        "sent {sent} events ({} per second asked, {triggers} triggers) in {ok} acknowledged batches over {} s",
        args.rate, args.seconds
    );
    let (trial_acks, other_acks) = (ms(trial_acks), ms(other_acks));
    println!(
        "Kairos: runs started in their trigger's transaction: {}; webhook intent committed when the trigger was acknowledged: {at_ack} of {triggers} (acknowledgement -> intent committed: 0 ms)",
        m.started_with_trigger
    );
    println!(
        "  acknowledgement latency (sent -> 200) of batches carrying a trigger: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {}; of the others: p50 {:.1} ms, p99 {:.1} ms over {}",
        pct(&trial_acks, 0.5),
        pct(&trial_acks, 0.99),
        pct(&trial_acks, 1.0),
        trial_acks.len(),
        pct(&other_acks, 0.5),
        pct(&other_acks, 0.99),
        other_acks.len()
    );
    if lat.is_empty() {
        println!("runner-started runs (API, date triggers): none in this run");
    } else {
        println!(
            "runner-started runs (API, date triggers): committed -> first step committed: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} runs",
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            pct(&lat, 1.0),
            lat.len()
        );
        for (i, part) in
            ["event committed -> read by the runner", "read -> write transaction begun", "begun -> committed"]
                .iter()
                .enumerate()
        {
            let d = ms(m.trigger_parts.iter().map(|p| p[i]).collect());
            println!("  of which {part}: p50 {:.1} ms, p99 {:.1} ms", pct(&d, 0.5), pct(&d, 0.99));
        }
    }
    println!(
        "cron-style poll every {} ms (alternative): trigger committed -> seen: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} triggers",
        args.poll_ms,
        pct(&polled, 0.5),
        pct(&polled, 0.99),
        pct(&polled, 1.0),
        polled.len()
    );
    Ok(())
}

async fn scale(args: &Args) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open_store(dir.path()).await?;
    let mut tx = store.begin_write().await?;
    let ws = tx.create_workspace("bench", Utc::now()).await?.id;
    tx.commit().await?;
    let engine = Engine::start(store.clone(), Arc::new(SystemClock));
    publish(
        &engine,
        ws,
        json!({
            "trigger": {"type": "event", "event": "Signed Up"},
            "start": "wait",
            "nodes": {
                "wait": {"type": "delay", "duration": {"seconds": args.delay}, "next": "split"},
                "split": {"type": "split", "paths": [{"weight": 1, "next": "a"}, {"weight": 1, "next": "b"}]},
                "a": {"type": "change_score", "score": "engaged", "by": 1, "next": "done"},
                "b": {"type": "change_score", "score": "engaged", "by": 2, "next": "done"},
                "done": {"type": "exit"}
            }
        }),
    )
    .await?;
    let rss0 = rss_mib();
    let t = Instant::now();
    let chunk = 5_000;
    for start in (0..args.runs).step_by(chunk) {
        let body = json!({"batch": (start..(start + chunk).min(args.runs))
            .map(|i| json!({"type": "track", "userId": format!("u{i}"), "event": "Signed Up", "messageId": format!("s{i}")}))
            .collect::<Vec<_>>()});
        let arrival = Arrival { received_at: Utc::now(), client_ip: None };
        let parsed = parse_batch(body.to_string().as_bytes(), &arrival).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        engine.ingest(ws, parsed.messages).await.context("ingest")?;
    }
    let ingested = t.elapsed();
    engine.journeys_settled().await;
    // The runner takes events in batches; settle until every run exists.
    let journey = {
        let mut tx = store.begin().await?;
        let id = tx.journeys(ws).await?[0].id;
        tx.commit().await?;
        id
    };
    loop {
        let mut tx = store.begin().await?;
        let counts = tx.journey_node_counts(ws, journey).await?;
        tx.commit().await?;
        let waiting: i64 = counts.iter().filter_map(|n| n.current.get("delayed")).sum();
        if waiting as usize >= args.runs {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let entered = t.elapsed();
    let rss_waiting = rss_mib();
    let m = engine.take_journey_metrics();
    println!(
        "{} contacts signed up: ingested in {:.1} s; every run entered and waiting after {:.1} s ({:.0} entries/s end to end)",
        args.runs,
        ingested.as_secs_f64(),
        entered.as_secs_f64(),
        args.runs as f64 / entered.as_secs_f64()
    );
    println!("resident memory: {rss0:.0} MiB before, {rss_waiting:.0} MiB with {} runs waiting on a delay", args.runs);
    // Timers fire as their delays end.
    let fire_start = Instant::now();
    let mut lateness = Vec::new();
    let mut steps = m.steps;
    let mut fired = 0usize;
    while fired < args.runs {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let m = engine.take_journey_metrics();
        fired += m.timer_lateness.len();
        steps += m.steps;
        lateness.extend(m.timer_lateness);
        if fire_start.elapsed() > Duration::from_secs(args.delay + 900) {
            println!("gave up waiting: {fired} timers fired");
            break;
        }
    }
    let late = ms(lateness);
    let total = t.elapsed();
    println!(
        "timers: {fired} fired; due -> step committed: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; {:.1}% within 1 s",
        pct(&late, 0.5),
        pct(&late, 0.99),
        pct(&late, 1.0),
        100.0 * late.iter().filter(|x| **x <= 1000.0).count() as f64 / late.len().max(1) as f64
    );
    println!(
        "node executions: {steps} path lines in {:.1} s of run time ({:.0}/s overall); peak resident memory {:.0} MiB",
        total.as_secs_f64(),
        steps as f64 / total.as_secs_f64(),
        mem_mib("VmHWM:")
    );
    stats_reads(&store, dir.path(), ws, journey).await
}

/// The live counts of a journey with every run's lines written: read from
/// the counters, and by grouping the lines themselves (the alternative).
async fn stats_reads(
    store: &Store,
    dir: &std::path::Path,
    ws: kairos_core::ids::WorkspaceId,
    journey: kairos_core::ids::JourneyId,
) -> Result<()> {
    let (w, j) = (ws.to_string(), journey.to_string());
    let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", dir.join("kairos.db").display())).await?;
    let (lines,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM journey_path").fetch_one(&raw).await?;
    let mut counters = Vec::new();
    let mut grouped = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut tx = store.begin().await?;
        let nodes = tx.journey_node_counts(ws, journey).await?;
        let edges = tx.journey_exit_lines(ws, journey, 1).await?;
        tx.commit().await?;
        counters.push(t.elapsed());
        let t = Instant::now();
        let by_node: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT node, outcome, COUNT(*) FROM journey_path WHERE workspace_id = ?1 AND journey_id = ?2 GROUP BY node, outcome",
        )
        .bind(&w)
        .bind(&j)
        .fetch_all(&raw)
        .await?;
        let by_edge: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT node, outcome, detail, COUNT(*) FROM journey_path WHERE workspace_id = ?1 AND journey_id = ?2
             AND outcome IN ('passed', 'left') AND version IN (0, 1) GROUP BY node, outcome, detail",
        )
        .bind(&w)
        .bind(&j)
        .fetch_all(&raw)
        .await?;
        grouped.push(t.elapsed());
        let counted: i64 = nodes.iter().flat_map(|n| n.outcomes.values()).sum();
        let summed: i64 = by_node.iter().map(|r| r.2).sum();
        anyhow::ensure!(counted == summed, "the counters say {counted} lines, the lines themselves {summed}");
        anyhow::ensure!(edges.len() == by_edge.len(), "{} edges counted, {} grouped", edges.len(), by_edge.len());
    }
    let (c, g) = (ms(counters), ms(grouped));
    println!(
        "journey stats over {lines} path lines: counters p50 {:.1} ms; grouping the lines (the alternative) p50 {:.0} ms; same figures",
        pct(&c, 0.5),
        pct(&g, 0.5)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    println!("== journeys: trigger latency ==");
    latency(&args).await?;
    if args.runs > 0 {
        println!("== journeys: {} runs waiting at once ==", args.runs);
        scale(&args).await?;
    }
    Ok(())
}

/// Whether the webhook intent of `user`'s trial run is stored, created no
/// later than `acked_at` (engine milliseconds).
async fn intent_committed(store: &Store, ws: kairos_core::ids::WorkspaceId, user: &str, acked_at: i64) -> bool {
    let Ok(mut tx) = store.begin().await else { return false };
    let Ok(Some(c)) = tx.contact_by_external_id(ws, user).await else { return false };
    let Ok(runs) = tx.runs_of_contact(ws, c.id).await else { return false };
    for r in runs {
        for visit in 0..4 {
            if let Ok(Some(i)) = tx.intent(ws, &format!("{}:alert:{visit}", r.id)).await {
                return i.created_at <= acked_at;
            }
        }
    }
    false
}
