//! Send-time optimisation end to end on each store backend: Ada (Berlin)
//! opens at 20:00 her time, Cal (UTC) at 07:00, Bo has never opened. Ada's
//! best hour is her own, Bo gets the workspace's (07:00, the most common);
//! a broadcast with `"send_time": "optimised"` holds each message until the
//! recipient's hour (Ada's goes out at 19:00 UTC, Bo's the next morning),
//! and a journey delay `{"best_hour": true}` waits for it too.

mod common;
use chrono::{DateTime, Duration, TimeZone, Utc};
use common::Server;
use kairos_core::clock::ManualClock;
use kairos_store::testing;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

async fn opens(s: &Server, user: &str, days: i64, at_utc_hour: u32, now: DateTime<Utc>) {
    for d in 1..=days {
        let t = (now - Duration::days(d)).date_naive().and_hms_opt(at_utc_hour, 5, 0).unwrap().and_utc();
        s.track(json!({"type": "track", "userId": user, "event": "Email Opened", "timestamp": t.to_rfc3339(),
            "messageId": format!("open-{user}-{d}"), "properties": {"machine": null}}))
            .await;
    }
}

async fn messages_to(s: &Server, contact: &str) -> usize {
    s.get(&format!("/api/v1/email/messages?contact_id={contact}")).await["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn optimised_send_times() {
    for ts in testing::all().await {
        let b = format!("{:?}", ts.backend());
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::new(now));
        let s = Server::start_capturing_news(ts.store.clone(), clock.clone()).await;
        let ada = s.consenting_person("ada", json!({"timezone": "Europe/Berlin"})).await;
        let bo = s.consenting_person("bo", json!({"timezone": "UTC"})).await;
        let _cal = s.consenting_person("cal", json!({"timezone": "UTC"})).await;
        opens(&s, "ada", 12, 19, now).await; // 20:05 in Berlin (CET)
        opens(&s, "cal", 30, 7, now).await;

        let best = |v: &Value| (v["hour"].as_u64().unwrap(), v["personal_weight"].as_f64().unwrap());
        let (hour, weight) = best(&s.get(&format!("/api/v1/contacts/{ada}/send-time")).await);
        assert_eq!(hour, 20, "{b}");
        assert!(weight > 0.5, "{b}: {weight}");
        let (hour, weight) = best(&s.get(&format!("/api/v1/contacts/{bo}/send-time")).await);
        assert_eq!((hour, weight), (7, 0.0), "{b}: no data: the workspace's best hour");

        // Bad definitions name the field.
        let (_, list) = s.api(Method::POST, "/api/v1/lists", Some(json!({"name": "All"}))).await;
        let list = list["id"].as_str().unwrap().to_string();
        s.api(Method::POST, &format!("/api/v1/lists/{list}/members"), Some(json!({"contact_ids": [ada, bo]}))).await;
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/email/campaigns",
                Some(json!({"name": "x", "definition": {
                "audience": {"list": list}, "template": "News", "send_time": "optimised", "local_time": "09:00"}})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        assert_eq!(v["errors"][0]["path"], "definition.send_time", "{b}: {v}");

        // The broadcast holds each message until the recipient's hour.
        let (st, c) = s
            .api(
                Method::POST,
                "/api/v1/email/campaigns",
                Some(json!({"name": "Weekly", "definition": {
                "audience": {"list": list}, "template": "News", "send_time": "optimised"}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {c}");
        let cid = c["id"].as_str().unwrap().to_string();
        let (st, c) = s.api(Method::POST, &format!("/api/v1/email/campaigns/{cid}/launch"), None).await;
        assert_eq!(st, StatusCode::OK, "{b}: {c}");
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!((messages_to(&s, &ada).await, messages_to(&s, &bo).await), (0, 0), "{b}: sent before the hour");
        clock.set(Utc.with_ymd_and_hms(2026, 11, 24, 19, 1, 0).unwrap());
        s.until(&format!("/api/v1/email/messages?contact_id={ada}"), "Ada's message at 20:00 Berlin", |v| {
            v["data"].as_array().is_some_and(|a| a.len() == 1)
        })
        .await;
        assert_eq!(messages_to(&s, &bo).await, 0, "{b}: Bo's hour is 07:00");
        clock.set(Utc.with_ymd_and_hms(2026, 11, 25, 7, 1, 0).unwrap());
        s.until(&format!("/api/v1/email/messages?contact_id={bo}"), "Bo's message at 07:00", |v| {
            v["data"].as_array().is_some_and(|a| a.len() == 1)
        })
        .await;

        // A journey delay until the contact's best hour.
        let (st, j) = s
            .api(
                Method::POST,
                "/api/v1/journeys",
                Some(json!({"name": "Best hour", "definition": {
                "trigger": {"type": "api"}, "start": "wait",
                "nodes": {"wait": {"type": "delay", "until": {"best_hour": true}, "next": "done"},
                          "done": {"type": "exit"}}}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {j}");
        let jid = j["id"].as_str().unwrap().to_string();
        let (st, v) = s.api(Method::POST, &format!("/api/v1/journeys/{jid}/publish"), None).await;
        assert_eq!(st, StatusCode::OK, "{b}: {v}");
        let (st, v) =
            s.api(Method::POST, &format!("/api/v1/journeys/{jid}/entries"), Some(json!({"contact_id": ada}))).await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {v}");
        let runs = s
            .until(&format!("/api/v1/contacts/{ada}/journeys"), "Ada waiting", |v| {
                v["data"][0]["run"]["due_at"].as_i64().is_some()
            })
            .await;
        let due = runs["data"][0]["run"]["due_at"].as_i64().unwrap();
        assert_eq!(due, Utc.with_ymd_and_hms(2026, 11, 25, 19, 0, 0).unwrap().timestamp_millis(), "{b}: {runs}");
    }
}
