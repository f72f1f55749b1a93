//! Durability under `kill -9`: while clients send batches as fast as they
//! can, the server is killed without warning, several times. After each
//! restart every event whose batch was acknowledged with a 200 is in the log
//! exactly once; resending every batch (as SDKs retry) leaves each event in
//! the log exactly once.

mod common;
use common::*;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CLIENTS: usize = 4;
const BATCH: usize = 100;

fn batch_body(client: usize, n: usize) -> serde_json::Value {
    json!({"batch": (0..BATCH).map(|i| json!({
        "type": "track", "userId": format!("user-{}", (n * 7 + i) % 500), "event": "Order Completed",
        "messageId": format!("c{client}-b{n}-{i}"), "properties": {"total": i, "sku": "sku-1"}
    })).collect::<Vec<_>>()})
}

fn logged_ids(db: &[String]) -> HashMap<String, usize> {
    let mut args = db.to_vec();
    args.extend(["export".into(), "events".into()]);
    let out = run(&args);
    let mut counts = HashMap::new();
    for line in out.lines() {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        *counts.entry(e["message_id"].as_str().unwrap().to_string()).or_insert(0) += 1;
    }
    counts
}

fn crash_cycles(db: &[String]) {
    let write = key(db, "write");
    let mut next_batch = 0usize;
    let mut sent: Vec<(usize, usize)> = Vec::new();
    for cycle in 0..3 {
        let server = Server::start(db);
        let url = server.url.clone();
        let acked = Arc::new(Mutex::new(Vec::new()));
        let attempted = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let start = next_batch;
        let threads: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (url, write, acked, attempted, stop) =
                    (url.clone(), write.clone(), acked.clone(), attempted.clone(), stop.clone());
                std::thread::spawn(move || {
                    let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
                    let mut n = start;
                    while !stop.load(Ordering::Relaxed) {
                        attempted.lock().unwrap().push((c, n));
                        match http
                            .post(format!("{url}/v1/batch"))
                            .basic_auth(&write, Some(""))
                            .json(&batch_body(c, n))
                            .send()
                        {
                            Ok(r) if r.status() == 200 => acked.lock().unwrap().push((c, n)),
                            Ok(r) => panic!("unexpected status {}", r.status()),
                            Err(_) => break, // the server is gone
                        }
                        n += 1;
                    }
                })
            })
            .collect();
        // Let ingest run, then kill -9 mid-stream.
        wait_for("some acknowledged batches", || acked.lock().unwrap().len() >= 20 + cycle * 5);
        std::thread::sleep(Duration::from_millis(300));
        let mut server = server;
        server.kill(); // SIGKILL
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().unwrap();
        }
        let acked = acked.lock().unwrap().clone();
        sent.extend(attempted.lock().unwrap().iter().copied());
        next_batch = sent.iter().map(|(_, n)| n + 1).max().unwrap_or(0);

        let logged = logged_ids(db);
        for (c, n) in &acked {
            for i in 0..BATCH {
                let id = format!("c{c}-b{n}-{i}");
                assert_eq!(
                    logged.get(&id),
                    Some(&1),
                    "cycle {cycle}: acknowledged event {id} must be in the log exactly once"
                );
            }
        }
        assert!(logged.values().all(|&n| n == 1), "no event is ever stored twice");
        eprintln!(
            "cycle {cycle}: {} batches acknowledged before kill -9, {} events in the log",
            acked.len(),
            logged.len()
        );
    }
    // Clients retry everything they ever sent: the log ends with each event once.
    let server = Server::start(db);
    let http = reqwest::blocking::Client::new();
    for (c, n) in &sent {
        let r = http
            .post(format!("{}/v1/batch", server.url))
            .basic_auth(&write, Some(""))
            .json(&batch_body(*c, *n))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    drop(server);
    let logged = logged_ids(db);
    assert_eq!(logged.len(), sent.len() * BATCH, "every sent event is in the log");
    assert!(logged.values().all(|&n| n == 1));
}

#[test]
fn acknowledged_events_survive_kill_9_exactly_once_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    crash_cycles(&db_args(dir.path(), None));
}

#[test]
fn acknowledged_events_survive_kill_9_exactly_once_postgres() {
    let Some(url) = postgres_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    crash_cycles(&db_args(dir.path(), Some(&url)));
}
