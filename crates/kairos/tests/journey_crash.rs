//! Journeys under `kill -9`: 100,000 contacts (`KAIROS_CRASH_CONTACTS`
//! changes the number) enter a five-node journey — a delay, a 50/50 split,
//! a webhook on each side, another delay, the exit — while the server is
//! killed without warning several times and restarted. Afterwards every
//! contact has exactly one run that passed each node exactly once, and the
//! independent webhook receiver (which verifies every signature with the
//! reference Standard Webhooks library) got exactly one webhook-id per
//! contact: none missing, none for a second, different effect. A
//! delivery interrupted by the kill may arrive again under the same
//! webhook-id — at-least-once delivery, which Standard Webhooks receivers
//! de-duplicate by that id; the test counts and prints those.

mod common;
use common::*;
use kairos_store::testing::WebhookReceiver;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const BATCH: usize = 500;

fn contacts() -> usize {
    std::env::var("KAIROS_CRASH_CONTACTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

/// How many times the server is killed (`KAIROS_CRASH_KILLS`, default 3).
fn kill_count() -> usize {
    std::env::var("KAIROS_CRASH_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(3)
}

fn api(method: reqwest::Method, url: &str, key: &str, body: Option<Value>) -> (u16, Value) {
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut r = http.request(method, url).bearer_auth(key);
    if let Some(b) = body {
        r = r.json(&b);
    }
    match r.send() {
        Ok(r) => {
            let st = r.status().as_u16();
            (st, r.json().unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

fn journey_survives_kill_9(db: &[String]) {
    let Some(receiver) = WebhookReceiver::start(SECRET) else { return };
    let n = contacts();
    let admin = key(db, "admin");
    let write = key(db, "write");
    let flags = ["--allow-private-webhooks"];
    let mut server = Server::start_with(db, &flags);
    let (st, e) = api(
        reqwest::Method::POST,
        &format!("{}/api/v1/webhook-endpoints", server.url),
        &admin,
        Some(json!({"id": "crm", "url": format!("{}/ok", receiver.url), "secret": SECRET})),
    );
    assert_eq!(st, 201, "{e}");
    let definition = json!({
        "trigger": {"type": "event", "event": "Signed Up"},
        "start": "settle",
        "nodes": {
            "settle": {"type": "delay", "duration": {"seconds": 2}, "next": "split"},
            "split": {"type": "split", "paths": [{"weight": 50, "next": "hook_a"}, {"weight": 50, "next": "hook_b"}]},
            "hook_a": {"type": "webhook", "endpoint": "crm", "payload": {"path": "a"}, "next": "cool"},
            "hook_b": {"type": "webhook", "endpoint": "crm", "payload": {"path": "b"}, "next": "cool"},
            "cool": {"type": "delay", "duration": {"seconds": 1}, "next": "done"},
            "done": {"type": "exit"}
        }
    });
    let (st, j) = api(
        reqwest::Method::POST,
        &format!("{}/api/v1/journeys", server.url),
        &admin,
        Some(json!({"name": "Crash course", "definition": definition})),
    );
    assert_eq!(st, 201, "{j}");
    let id = j["id"].as_str().unwrap().to_string();
    let (st, j) = api(reqwest::Method::POST, &format!("{}/api/v1/journeys/{id}/publish", server.url), &admin, None);
    assert_eq!(st, 200, "{j}");

    // Send every sign-up, retrying unacknowledged batches after each kill
    // (as SDKs do); the log de-duplicates by messageId.
    let batches = n.div_ceil(BATCH);
    let mut acked = vec![false; batches];
    let started = Instant::now();
    let mut kills = 0;
    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let stats_url = |s: &Server| format!("{}/api/v1/journeys/{id}/stats", s.url);
    let completed = |s: &Server| {
        api(reqwest::Method::GET, &stats_url(s), &admin, None).1["runs"]["completed"].as_u64().unwrap_or(0)
    };
    loop {
        let kill_at = Instant::now() + Duration::from_millis(2500 + 1500 * kills as u64);
        for (b, done) in acked.iter_mut().enumerate() {
            if *done || (kills < kill_count() && Instant::now() > kill_at) {
                continue;
            }
            let body = json!({"batch": (b * BATCH..((b + 1) * BATCH).min(n)).map(|i| json!({
                "type": "track", "userId": format!("user-{i}"), "event": "Signed Up", "messageId": format!("signup-{i}")
            })).collect::<Vec<_>>()});
            if let Ok(r) = http.post(format!("{}/v1/batch", server.url)).basic_auth(&write, Some("")).json(&body).send()
            {
                *done = r.status() == 200;
            }
        }
        if kills < kill_count() {
            while Instant::now() < kill_at {
                std::thread::sleep(Duration::from_millis(50));
            }
            let before = completed(&server);
            server.kill();
            kills += 1;
            eprintln!(
                "kill -9 #{kills} at {:?}: {before} runs completed, {} of {batches} batches acknowledged",
                started.elapsed(),
                acked.iter().filter(|a| **a).count()
            );
            server = Server::start_with(db, &flags);
            continue;
        }
        if acked.iter().all(|a| *a) {
            break;
        }
    }
    // Let every run finish.
    let deadline = Instant::now() + Duration::from_secs(1200);
    loop {
        let done = completed(&server);
        if done as usize >= n {
            break;
        }
        assert!(Instant::now() < deadline, "only {done} of {n} runs completed in time");
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("{n} runs completed {:?} after the first event, with {kills} kills", started.elapsed());

    // Each contact: one run, each node once.
    let (_, stats) = api(reqwest::Method::GET, &stats_url(&server), &admin, None);
    let nodes: HashMap<String, Value> = stats["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["node"].as_str().unwrap().to_string(), x["outcomes"].clone()))
        .collect();
    let count = |node: &str, outcome: &str| nodes.get(node).and_then(|o| o[outcome].as_u64()).unwrap_or(0) as usize;
    assert_eq!(stats["runs"]["completed"].as_u64(), Some(n as u64), "one run per contact: {stats}");
    assert_eq!(stats["runs"].as_object().unwrap().len(), 1, "no run in any other state: {stats}");
    for (node, outcome) in [
        ("settle", "entered"),
        ("settle", "arrived"),
        ("settle", "left"),
        ("split", "passed"),
        ("cool", "arrived"),
        ("cool", "left"),
        ("done", "exit"),
    ] {
        assert_eq!(count(node, outcome), n, "{node} {outcome}: {stats}");
    }
    let (a, b) = (count("hook_a", "left"), count("hook_b", "left"));
    assert_eq!(a + b, n, "{stats}");
    assert_eq!((count("hook_a", "arrived"), count("hook_b", "arrived")), (a, b));
    assert!(a > n * 2 / 5 && b > n * 2 / 5, "the split is about even: {a} / {b}");

    // The receiver: exactly one webhook-id per contact, all verified.
    let deliveries = receiver.deliveries();
    assert!(deliveries.iter().all(|d| d.verified && d.status == 200));
    let mut by_contact: HashMap<String, HashSet<String>> = HashMap::new();
    for d in &deliveries {
        let contact = d.body["data"]["contact"]["external_id"].as_str().unwrap().to_string();
        by_contact.entry(contact).or_default().insert(d.id.clone());
    }
    assert_eq!(by_contact.len(), n, "a webhook for every contact, none missing");
    assert!(by_contact.values().all(|ids| ids.len() == 1), "no contact got two different webhook-ids");
    let distinct: HashSet<_> = deliveries.iter().map(|d| &d.id).collect();
    let mut times: HashMap<&str, usize> = HashMap::new();
    for d in &deliveries {
        *times.entry(d.id.as_str()).or_default() += 1;
    }
    let mut histogram: std::collections::BTreeMap<usize, usize> = Default::default();
    for t in times.values() {
        *histogram.entry(*t).or_default() += 1;
    }
    eprintln!("deliveries per webhook-id: {histogram:?}");
    eprintln!(
        "{} deliveries of {} distinct webhook-ids ({} repeats of an interrupted delivery under the same id)",
        deliveries.len(),
        distinct.len(),
        deliveries.len() - distinct.len()
    );
}

#[test]
fn journeys_survive_kill_9_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    journey_survives_kill_9(&db_args(dir.path(), None));
}

#[test]
fn journeys_survive_kill_9_postgres() {
    let Some(url) = postgres_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    journey_survives_kill_9(&db_args(dir.path(), Some(&url)));
}
