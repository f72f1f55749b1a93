//! Rule-based lead scores end to end on each store backend: a definition with
//! an event rule (property filter, daily cap), an attribute rule and a
//! threshold; bad definitions refused with the JSON path; history tracked
//! before the score existed is scored by the recompute (silently: no
//! threshold events for the past); live events and profile changes score in
//! the same commit and crossing the threshold logs `Score Threshold Crossed`;
//! decay takes the score back below it at the computed instant (a `down`
//! crossing); a contact who objects to profiling earns nothing; an edit
//! recomputes under a new version; erasure leaves no score row behind.

mod common;
use chrono::{Duration, Utc};
use common::Server;
use kairos_core::clock::{Clock, ManualClock};
use kairos_store::testing;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

fn page(user: &str, path: &str, at: chrono::DateTime<Utc>) -> Value {
    json!({"type": "page", "userId": user, "name": "Pricing", "properties": {"path": path},
           "timestamp": at.to_rfc3339(), "messageId": uuid::Uuid::now_v7().to_string()})
}

fn identify(user: &str, traits: Value, at: chrono::DateTime<Utc>) -> Value {
    json!({"type": "identify", "userId": user, "traits": traits, "timestamp": at.to_rfc3339(),
           "messageId": uuid::Uuid::now_v7().to_string()})
}

fn definition() -> Value {
    json!({
        "name": "engagement", "description": "Pricing interest and fit", "half_life_days": 10,
        "events": [{"event": "Page Viewed", "where": [{"property": "path", "op": "starts_with", "value": "/pricing"}],
                    "points": 5, "cap": {"points": 12, "per": "day"}}],
        "attributes": [{"when": {"field": "country", "op": "in", "value": ["DE", "FR"]}, "points": 10}],
        "thresholds": [{"name": "MQL", "value": 20}]
    })
}

async fn score_of(s: &Server, contact: &str) -> Value {
    let v = s.get(&format!("/api/v1/contacts/{contact}/scores")).await;
    v["data"].as_array().unwrap().iter().find(|x| x["score"] == "engagement").cloned().unwrap_or(Value::Null)
}

async fn crossings(s: &Server, contact: &str) -> Vec<Value> {
    let v = s.get(&format!("/api/v1/contacts/{contact}/events?limit=100")).await;
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "Score Threshold Crossed")
        .map(|e| e["properties"].clone())
        .collect()
}

async fn wait_ready(s: &Server, version: i64) -> Value {
    s.until("/api/v1/scores/engagement", "the recompute", |v| v["status"] == "ready" && v["live_version"] == version)
        .await
}

#[tokio::test]
async fn scores_end_to_end() {
    for ts in testing::all().await {
        let b = format!("{:?}", ts.backend());
        let start = Utc::now();
        let clock = Arc::new(ManualClock::new(start));
        let s = Server::start(ts.store.clone(), clock.clone(), None).await;

        // Bad definitions: the path of the mistake, nothing saved.
        let mut bad = definition();
        bad["events"][0]["points"] = json!("five");
        let (st, v) = s.api(Method::POST, "/api/v1/scores", Some(bad)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        assert_eq!(v["errors"][0]["path"], "events[0].points", "{b}: {v}");
        let mut bad = definition();
        bad["attributes"][0]["when"]["field"] = json!("shoe_size");
        let (st, v) = s.api(Method::POST, "/api/v1/scores", Some(bad)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("attributes[0].when.field"), "{b}: {v}");
        assert_eq!(s.get("/api/v1/scores").await["data"], json!([]), "{b}");

        // History from before the score existed: three pricing views in one
        // day (5 + 5 + 2 under the cap of 12), a blog view, a German address.
        let t0 = start - Duration::hours(1);
        for i in 0..3 {
            s.track(page("ada", "/pricing/teams", t0 + Duration::minutes(i))).await;
        }
        s.track(page("ada", "/blog/launch", t0)).await;
        s.track(identify("ada", json!({"country": "DE"}), t0)).await;
        let (st, v) = s.api(Method::POST, "/api/v1/scores", Some(definition())).await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {v}");
        assert_eq!(v["version"], 1);
        let (st, _) = s.api(Method::POST, "/api/v1/scores", Some(definition())).await;
        assert_eq!(st, StatusCode::CONFLICT, "{b}");
        let ready = wait_ready(&s, 1).await;
        assert!(ready["progress"]["events_total"].as_i64().unwrap() >= 5, "{b}: {ready}");
        let ada = s.contact_id("ada").await;
        let score = score_of(&s, &ada).await;
        // 12 points an hour old with a 10-day half-life, plus 10 for DE.
        let expected = 12.0 * 0.5f64.powf(1.0 / 240.0) + 10.0;
        assert!((score["value"].as_f64().unwrap() - expected).abs() < 0.01, "{b}: {score}");
        assert_eq!(score["threshold"], "MQL", "{b}: {score}");
        assert!(crossings(&s, &ada).await.is_empty(), "{b}: the recompute logs no crossings for the past");
        let history = s.get(&format!("/api/v1/contacts/{ada}/scores/history?score=engagement")).await;
        let reasons: Vec<&str> =
            history["data"].as_array().unwrap().iter().map(|h| h["reason"].as_str().unwrap()).collect();
        assert_eq!(reasons.len(), 4, "{b}: {history}");
        assert!(reasons.iter().any(|r| r.contains("capped from +5")), "{b}: {reasons:?}");
        assert!(reasons.iter().any(|r| r.starts_with("attributes: +10")), "{b}: {reasons:?}");
        // A segment on the score: Ada is in; a score that does not exist is
        // refused with the path.
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/segments",
                Some(json!({"name": "Nope", "rule": {"score": "fit", "op": "gte", "value": 1}})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("$.score"), "{b}: {v}");
        let (st, seg) = s
            .api(
                Method::POST,
                "/api/v1/segments",
                Some(json!({"name": "Engaged", "rule": {"score": "engagement", "op": "gte", "value": 20}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {seg}");
        let seg = seg["id"].as_str().unwrap().to_string();
        let count = |n: i64| {
            let path = format!("/api/v1/segments/{seg}/count");
            let s = &s;
            async move { s.until(&path, &format!("count {n}"), |v| v["count"] == json!(n)).await }
        };
        count(1).await;

        // Paging through the history with the cursor.
        let first = s.get(&format!("/api/v1/contacts/{ada}/scores/history?limit=3")).await;
        let next = first["next_cursor"].as_str().unwrap().to_string();
        let rest = s.get(&format!("/api/v1/contacts/{ada}/scores/history?limit=3&cursor={next}")).await;
        assert_eq!(rest["data"].as_array().unwrap().len(), 1, "{b}: {rest}");

        // Live: points and the attribute change score in their commit, and
        // crossing the threshold is an event in the log.
        let now = clock.now();
        for i in 0..3 {
            s.track(page("bob", "/pricing", now + Duration::seconds(i))).await;
        }
        let bob = s.contact_id("bob").await;
        let v =
            s.until(&format!("/api/v1/contacts/{bob}/scores"), "bob's points", |v| v["data"][0]["value"] == 12.0).await;
        assert_eq!(v["data"][0]["threshold"], Value::Null, "{b}: {v}");
        s.track(identify("bob", json!({"country": "FR"}), now)).await;
        let v =
            s.until(&format!("/api/v1/contacts/{bob}/scores"), "bob's fit", |v| v["data"][0]["value"] == 22.0).await;
        assert_eq!(v["data"][0]["threshold"], "MQL", "{b}: {v}");
        count(2).await;
        let up = crossings(&s, &bob).await;
        assert_eq!(up.len(), 1, "{b}: {up:?}");
        assert_eq!((up[0]["threshold"].as_str(), up[0]["direction"].as_str()), (Some("MQL"), Some("up")), "{b}");

        // Decay: ten days on, the 12 behaviour points are 6 and 6 + 10 < 20.
        clock.advance(Duration::days(10));
        let mut down = Vec::new();
        for _ in 0..300 {
            down = crossings(&s, &bob).await.into_iter().filter(|c| c["direction"] == "down").collect();
            if !down.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(down.len(), 1, "{b}: no down crossing after decay");
        // Decay alone took both below 20: the segment empties on time.
        count(0).await;
        let score = score_of(&s, &bob).await;
        assert!((score["value"].as_f64().unwrap() - 16.0).abs() < 0.01, "{b}: {score}");
        assert_eq!(score["threshold"], Value::Null, "{b}");

        // A contact who objects to profiling earns nothing.
        s.track(identify("cy", json!({"country": "DE"}), clock.now())).await;
        let cy = s.contact_id("cy").await;
        let (st, v) = s
            .api(
                Method::PUT,
                &format!("/api/v1/contacts/{cy}/consents"),
                Some(json!({"channel": "email", "purpose": "profiling", "state": "denied", "wording": "No profiling"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}: {v}");
        s.track(page("cy", "/pricing", clock.now())).await;
        s.track(page("bob", "/pricing/x", clock.now())).await;
        s.until(&format!("/api/v1/contacts/{bob}/scores"), "bob's next points", |v| {
            v["data"][0]["value"].as_f64().is_some_and(|x| (x - 21.0).abs() < 0.01)
        })
        .await;
        let cy_scores = s.get(&format!("/api/v1/contacts/{cy}/scores/history")).await;
        assert!(
            cy_scores["data"].as_array().unwrap().iter().all(|h| h["source"] != "event"),
            "{b}: an objecting contact earned points: {cy_scores}"
        );

        // An edit recomputes under version 2: pricing views are now worth 1.
        let mut edited = definition();
        edited["events"][0]["points"] = json!(1);
        edited.as_object_mut().unwrap().remove("name");
        let (st, v) = s.api(Method::PUT, "/api/v1/scores/engagement", Some(edited.clone())).await;
        assert_eq!(st, StatusCode::OK, "{b}: {v}");
        assert_eq!(v["version"], 2);
        wait_ready(&s, 2).await;
        let score = score_of(&s, &ada).await;
        let expected = 3.0 * 0.5f64.powf((1.0 + 240.0) / 240.0) + 10.0;
        assert!((score["value"].as_f64().unwrap() - expected).abs() < 0.01, "{b}: {score}");
        let history = s.get(&format!("/api/v1/contacts/{ada}/scores/history")).await;
        assert!(history["data"].as_array().unwrap().iter().all(|h| h["version"] == 2), "{b}: {history}");
        let (st, _) = s.api(Method::PUT, "/api/v1/scores/other", Some(edited.clone())).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b}: no score named other");
        edited["name"] = json!("engagement");
        let (st, _) = s.api(Method::PUT, "/api/v1/scores/other", Some(edited)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: renaming is refused");

        // A fairness audit of the score by country: Bob (FR, 12.5) is at or
        // above 12, Ada (DE, 11.5) and Cy (DE, no points) are not.
        let audit = |body: Value| s.api(Method::POST, "/api/v1/scores/engagement/fairness", Some(body));
        let (st, v) = audit(json!({"sensitive_attribute": "country"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: an outcome is needed: {v}");
        let (st, v) =
            audit(json!({"sensitive_attribute": "country", "outcome_event": "Page Viewed", "threshold": "SQL"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: no such threshold: {v}");
        let (st, a) =
            audit(json!({"sensitive_attribute": "country", "outcome_event": "Page Viewed", "threshold": 12})).await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {a}");
        let groups = a["report"]["groups"].as_array().unwrap();
        let rate = |g: &str| groups.iter().find(|x| x["group"] == g).unwrap()["selection_rate"].as_f64().unwrap();
        assert_eq!((rate("de"), rate("fr")), (0.0, 1.0), "{b}: {a}");
        assert_eq!(a["report"]["four_fifths_violated"], true, "{b}");
        assert_eq!((a["subject"].as_str(), a["version"].as_str()), (Some("score:engagement"), Some("2")), "{b}");
        let listed = s.get("/api/v1/fairness-audits?subject=score:engagement").await;
        assert_eq!(listed["data"][0]["id"], a["id"], "{b}");

        // Erasure leaves no score or history row of the person.
        let (st, v) = s.api(Method::POST, &format!("/api/v1/contacts/{bob}/erase"), None).await;
        assert_eq!(st, StatusCode::OK, "{b}: {v}");
        let rows = testing::all_rows_as_text(&ts.url).await;
        let left: Vec<_> = rows.iter().filter(|(t, r)| t.contains("score") && r.contains(&bob)).collect();
        assert!(left.is_empty(), "{b}: {left:?}");

        // Deleting the score removes every value.
        let (st, _) = s.api(Method::DELETE, "/api/v1/scores/engagement", None).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
        assert_eq!(s.get(&format!("/api/v1/contacts/{ada}/scores")).await["data"], json!([]), "{b}");
        let (st, _) = s.api(Method::GET, "/api/v1/scores/engagement", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
    }
}
