//! An optimising journey split on each store backend: forty contacts go
//! through a two-path split that optimises for `Purchased` within a day;
//! everyone on path 0 buys, nobody on path 1 does. A day later the split
//! has declared path 0 the winner (its probability of being best is near
//! 1), and the next thirty contacts all take it. Bad `optimise` settings are
//! refused with the path.

mod common;
use chrono::{Duration, Utc};
use common::Server;
use kairos_core::clock::{Clock, ManualClock};
use kairos_store::testing;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

fn journey(optimise: Value) -> Value {
    json!({"name": "Offer test", "definition": {
        "trigger": {"type": "api"}, "start": "split",
        "nodes": {
            "split": {"type": "split", "optimise": optimise,
                      "paths": [{"weight": 50, "next": "a"}, {"weight": 50, "next": "b"}]},
            "a": {"type": "exit"}, "b": {"type": "exit"}}}})
}

async fn enter(s: &Server, jid: &str, users: std::ops::Range<usize>) {
    for i in users {
        s.track(json!({"type": "identify", "userId": format!("u{i}"), "messageId": format!("id-{i}")})).await;
        let id = s.contact_id(&format!("u{i}")).await;
        let (st, v) =
            s.api(Method::POST, &format!("/api/v1/journeys/{jid}/entries"), Some(json!({"contact_id": id}))).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
}

fn exits(stats: &Value, node: &str) -> i64 {
    stats["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == node)
        .map_or(0, |n| n["outcomes"].as_object().unwrap().values().filter_map(Value::as_i64).sum::<i64>())
}

#[tokio::test]
async fn optimising_splits_shift_traffic_to_the_path_that_converts() {
    for ts in testing::all().await {
        let b = format!("{:?}", ts.backend());
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s = Server::start(ts.store.clone(), clock.clone(), None).await;
        let (st, v) = s
            .api(Method::POST, "/api/v1/journeys", Some(journey(json!({"goal": "Purchased", "probability": 1.5}))))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        assert!(v.to_string().contains("optimise.probability"), "{b}: {v}");
        let (st, j) = s
            .api(Method::POST, "/api/v1/journeys", Some(journey(json!({"goal": "Purchased", "within_days": 1}))))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {j}");
        let jid = j["id"].as_str().unwrap().to_string();
        let (st, v) = s.api(Method::POST, &format!("/api/v1/journeys/{jid}/publish"), None).await;
        assert_eq!(st, StatusCode::OK, "{b}: {v}");

        enter(&s, &jid, 0..40).await;
        let stats = s
            .until(&format!("/api/v1/journeys/{jid}/stats"), "forty through the split", |v| {
                exits(v, "a") + exits(v, "b") == 40
            })
            .await;
        let (a, b0) = (exits(&stats, "a"), exits(&stats, "b"));
        assert!(a > 0 && b0 > 0, "{b}: with no evidence both paths are tried ({a}, {b0})");
        // Everyone who took path 0 buys.
        for i in 0..40 {
            let id = s.contact_id(&format!("u{i}")).await;
            let runs = s.get(&format!("/api/v1/contacts/{id}/journeys")).await;
            let took_a = runs["data"][0]["path"].as_array().unwrap().iter().any(|p| p["node"] == "a");
            if took_a {
                s.track(json!({"type": "track", "userId": format!("u{i}"), "event": "Purchased",
                    "timestamp": (clock.now() + Duration::hours(1)).to_rfc3339(), "messageId": format!("buy-{i}")}))
                    .await;
            }
        }
        clock.advance(Duration::days(1) + Duration::minutes(1));
        let stats = s.get(&format!("/api/v1/journeys/{jid}/stats")).await;
        let split = &stats["splits"][0];
        assert_eq!(split["winner"], 0, "{b}: {split}");
        assert_eq!(split["arms"][0]["successes"], split["arms"][0]["trials"], "{b}: {split}");
        assert_eq!(split["arms"][1]["successes"], 0, "{b}: {split}");
        assert!(split["probability_best"][0].as_f64().unwrap() > 0.99, "{b}: {split}");

        enter(&s, &jid, 40..70).await;
        let stats = s
            .until(&format!("/api/v1/journeys/{jid}/stats"), "seventy through the split", |v| {
                exits(v, "a") + exits(v, "b") == 70
            })
            .await;
        assert_eq!(exits(&stats, "a"), a + 30, "{b}: all new traffic goes to the winner");
        assert_eq!(exits(&stats, "b"), b0, "{b}");
    }
}
