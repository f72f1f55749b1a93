//! Predictive conversion scoring end to end on each store backend, on data
//! sent through the tracking API from a documented generator with a planted
//! effect: each contact has an intent in [0, 1); pricing-page views come at a
//! rate proportional to it, blog views at a rate independent of it, and in
//! every 30-day window the contact books a demo with probability
//! 0.03 + 0.6·intent². Gender is drawn independently of everything. So a
//! model must find that recent pricing views predict a demo, and an audit by
//! gender should see no planted gap. Checked: bad requests refused with the
//! field named; too few conversions → not trained, with the reason; the
//! first model promoted with a hold-out AUC well above chance and a positive
//! pricing coefficient; gender left out of the features unless allowed, the
//! fairness audit by gender on the hold-out; retraining on the same data is
//! not promoted; a contact's score with its top features, higher for a
//! high-intent contact; the models list; every contact scored once a model
//! is promoted (the top decile by score has far higher intent than the
//! bottom), a burst of new behaviour re-scores a contact within seconds;
//! retraining on a schedule runs now and again after the interval.

mod common;
use chrono::{Duration, Utc};
use common::Server;
use kairos_core::clock::ManualClock;
use kairos_store::testing;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

const CONTACTS: usize = 900;
const DAYS: i64 = 180;

async fn batch(s: &Server, messages: Vec<Value>) {
    for chunk in messages.chunks(400) {
        let r = s
            .http
            .post(format!("{}/v1/batch", s.url))
            .basic_auth(&s.write, Some(""))
            .json(&json!({"batch": chunk}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    }
}

/// Send the generated history; returns each user's intent.
async fn generate(s: &Server, now: chrono::DateTime<Utc>) -> Vec<(String, f64)> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut out = Vec::new();
    let mut messages = Vec::new();
    let start = now - Duration::days(DAYS);
    let at = |rng: &mut StdRng, from: i64, to: i64| start + Duration::minutes(rng.gen_range(from * 1440..to * 1440));
    for i in 0..CONTACTS {
        let user = format!("u{i}");
        let intent: f64 = rng.gen();
        let gender = if rng.gen_bool(0.5) { "f" } else { "m" };
        messages.push(json!({"type": "identify", "userId": user, "traits": {"gender": gender},
            "timestamp": start.to_rfc3339(), "messageId": format!("{user}-id")}));
        for window in 0..DAYS / 30 {
            let (from, to) = (window * 30, window * 30 + 30);
            for k in 0..(intent * 6.0 + rng.gen::<f64>()) as i64 {
                messages.push(json!({"type": "track", "userId": user, "event": "Pricing Viewed",
                    "timestamp": at(&mut rng, from, to).to_rfc3339(), "messageId": format!("{user}-p{window}-{k}")}));
            }
            for k in 0..rng.gen_range(0..4) {
                messages.push(json!({"type": "track", "userId": user, "event": "Blog Viewed",
                    "timestamp": at(&mut rng, from, to).to_rfc3339(), "messageId": format!("{user}-b{window}-{k}")}));
            }
            if rng.gen_bool(0.03 + 0.6 * intent * intent) {
                messages.push(json!({"type": "track", "userId": user, "event": "Demo Booked",
                    "timestamp": at(&mut rng, from, to).to_rfc3339(), "messageId": format!("{user}-d{window}")}));
            }
        }
        out.push((user, intent));
    }
    batch(s, messages).await;
    out
}

#[tokio::test]
async fn conversion_models_end_to_end() {
    for ts in testing::all().await {
        let b = format!("{:?}", ts.backend());
        let now = Utc::now();
        let clock = Arc::new(ManualClock::new(now));
        let s = Server::start(ts.store.clone(), clock.clone(), None).await;
        let (st, v) = s.api(Method::POST, "/api/v1/fields", Some(json!({"name": "gender", "type": "string"}))).await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {v}");
        let users = generate(&s, now).await;

        // Bad requests name the field; too little data says why.
        let train = |body: Value| s.api(Method::POST, "/api/v1/models/conversion", Some(body));
        let (st, v) = train(json!({"event": "Demo Booked", "horizon_days": 0})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        assert_eq!(v["errors"][0]["path"], "horizon_days", "{b}: {v}");
        let (st, v) = train(json!({"event": "Demo Booked", "horizon_days": 30, "sensitive_attribute": "shoe"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        let (st, v) = s.api(Method::POST, "/api/v1/fields", Some(json!({"name": "age", "type": "number"}))).await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {v}");
        let (st, v) = train(json!({"event": "Demo Booked", "horizon_days": 30, "sensitive_attribute": "age"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("age band"), "{b}: {v}");
        let (st, v) = train(json!({"event": "Demo Booked", "horizon_days": 30, "exclude_fields": ["nope"]})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        assert_eq!(v["errors"][0]["path"], "exclude_fields", "{b}: {v}");
        let (st, v) = train(json!({"event": "Demo Booked", "horizon_days": 30, "extra": 1})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        let (st, v) = train(json!({"event": "Blog Viewed", "horizon_days": 1})).await;
        assert_eq!(st, StatusCode::CONFLICT, "{b}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("at least 50"), "{b}: {v}");
        let (st, v) =
            s.api(Method::GET, &format!("/api/v1/contacts/{}/conversion", s.contact_id("u1").await), None).await;
        assert_eq!(st, StatusCode::CONFLICT, "{b}: no model yet: {v}");

        // The first model: promoted, well above chance, pricing matters.
        let (st, first) =
            train(json!({"event": "Demo Booked", "horizon_days": 30, "sensitive_attribute": "gender"})).await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {first}");
        assert_eq!(first["promoted"], true, "{b}: {}", first["promotion"]);
        let auc = first["holdout"]["auc"].as_f64().unwrap();
        eprintln!("{b}: hold-out {}; fairness by gender {}", first["holdout"], first["fairness"]);
        assert!(auc > 0.7, "{b}: hold-out AUC {auc}");
        assert!(first["holdout"]["lift_top_decile"].as_f64().unwrap() > 1.5, "{b}: {}", first["holdout"]);
        assert_eq!(first["holdout"]["calibration"].as_array().unwrap().len(), 10, "{b}");
        let column = |v: &Value, name: &str| -> Option<f64> {
            v["model"]["columns"].as_array().unwrap().iter().find(|c| c["name"] == name)?["coefficient"].as_f64()
        };
        let pricing = column(&first, "Pricing Viewed in the last 30 days").expect("a pricing column");
        assert!(pricing > 0.0, "{b}: pricing coefficient {pricing}");
        let names: Vec<String> =
            first["model"]["features"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect();
        assert!(!names.iter().any(|n| n.starts_with("gender")), "{b}: gender was a feature: {names:?}");
        assert_eq!(first["sensitive_excluded"], true);
        let groups: Vec<&str> =
            first["fairness"]["groups"].as_array().unwrap().iter().map(|g| g["group"].as_str().unwrap()).collect();
        assert_eq!(groups, ["f", "m"], "{b}: {}", first["fairness"]);
        assert!(first["fairness"]["demographic_parity_difference"].as_f64().unwrap() < 0.2, "{b}");

        // Auditing the version again by the same attribute gives the same
        // report, stored with the version.
        let first_id = first["id"].as_str().unwrap();
        let path = format!("/api/v1/models/conversion/{first_id}/fairness");
        let (st, a) = s.api(Method::POST, &path, Some(json!({"sensitive_attribute": "gender"}))).await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {a}");
        assert_eq!(a["report"], first["fairness"], "{b}");
        let (st, v) = s.api(Method::POST, &path, Some(json!({"sensitive_attribute": "age"}))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        let (st, _) = s
            .api(
                Method::POST,
                "/api/v1/models/conversion/nope/fairness",
                Some(json!({"sensitive_attribute": "gender"})),
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
        let listed = s.get(&format!("/api/v1/fairness-audits?subject=conversion:{first_id}")).await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{b}");

        // The same data again is no better: kept, not promoted.
        let (st, second) =
            train(json!({"event": "Demo Booked", "horizon_days": 30, "sensitive_attribute": "gender"})).await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {second}");
        assert_eq!(second["promoted"], false, "{b}: {}", second["promotion"]);
        assert!(second["promotion"].as_str().unwrap().starts_with("not promoted"), "{b}");
        // The current model was re-scored on the same hold-out (same rows).
        assert_eq!(second["current_on_holdout"]["rows"], second["holdout"]["rows"], "{b}");
        let gap = second["current_on_holdout"]["auc"].as_f64().unwrap() - second["holdout"]["auc"].as_f64().unwrap();
        assert!(gap.abs() < 1e-9, "{b}: the same data gave another AUC ({gap})");
        // Allowed explicitly, the sensitive attribute becomes a feature.
        let (_, third) =
            train(json!({"event": "Demo Booked", "horizon_days": 30, "sensitive_attribute": "gender", "allow_sensitive": true}))
                .await;
        let names = third["model"]["features"].to_string();
        assert!(names.contains("gender = "), "{b}: {names}");
        // Left out on request.
        let (_, fourth) =
            train(json!({"event": "Demo Booked", "horizon_days": 30, "exclude_fields": ["gender"]})).await;
        assert!(!fourth["model"]["features"].to_string().contains("gender"), "{b}: {}", fourth["model"]["features"]);

        // Scores: the current model, with the features behind each.
        let listed = s.get("/api/v1/models/conversion").await;
        assert_eq!(listed["current"], first["id"], "{b}: {listed}");
        assert_eq!(listed["versions"].as_array().unwrap().len(), 4, "{b}");
        let by_intent = |lowest: bool| {
            let mut u = users.clone();
            u.sort_by(|a, b| a.1.total_cmp(&b.1));
            if lowest {
                u[0].0.clone()
            } else {
                u[u.len() - 1].0.clone()
            }
        };
        let mut scored = Vec::new();
        for user in [by_intent(true), by_intent(false)] {
            let id = s.contact_id(&user).await;
            scored.push(s.get(&format!("/api/v1/contacts/{id}/conversion?top=3")).await);
        }
        let (low, high) = (&scored[0], &scored[1]);
        assert!(
            high["probability"].as_f64().unwrap() > low["probability"].as_f64().unwrap(),
            "{b}: high intent {high} vs low intent {low}"
        );
        assert_eq!(high["explanation"]["contributions"].as_array().unwrap().len(), 3, "{b}: {high}");
        assert_eq!(high["model_id"], first["id"]);
        let all = s.get("/api/v1/models").await;
        assert_eq!(all["data"].as_array().unwrap().iter().filter(|m| m["kind"] == "conversion").count(), 4, "{b}");

        // Every contact is scored once the model is promoted, best first.
        let ranked = s
            .until("/api/v1/models/conversion/scores?limit=1000", "every contact scored", |v| {
                v["scored_contacts"].as_i64() == Some(CONTACTS as i64)
            })
            .await;
        let intent: std::collections::HashMap<String, f64> = {
            let mut m = std::collections::HashMap::new();
            for (user, i) in &users {
                m.insert(s.contact_id(user).await, *i);
            }
            m
        };
        let rows = ranked["data"].as_array().unwrap();
        let mean =
            |r: &[Value]| r.iter().map(|x| intent[x["contact_id"].as_str().unwrap()]).sum::<f64>() / r.len() as f64;
        let (top, bottom) = (mean(&rows[..90]), mean(&rows[rows.len() - 90..]));
        assert!(top > bottom + 0.3, "{b}: mean intent of the top decile {top}, of the bottom {bottom}");
        let page = s.get("/api/v1/models/conversion/scores?limit=2").await;
        let next = page["next_cursor"].as_str().unwrap();
        let page2 = s.get(&format!("/api/v1/models/conversion/scores?limit=2&cursor={next}")).await;
        assert_eq!(page2["data"][0], rows[2], "{b}");
        // New behaviour moves a stored score within seconds.
        let low = by_intent(true);
        let low_id = s.contact_id(&low).await;
        let stored = |v: &Value| {
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["contact_id"] == low_id.as_str())
                .map(|r| r["probability"].as_f64().unwrap())
        };
        let before = stored(&ranked).unwrap();
        let burst: Vec<Value> = (0..12)
            .map(|k| {
                json!({"type": "track", "userId": low, "event": "Pricing Viewed",
                            "timestamp": (now - Duration::days(2) + Duration::hours(k)).to_rfc3339(),
                            "messageId": format!("{low}-burst-{k}")})
            })
            .collect();
        batch(&s, burst).await;
        s.until("/api/v1/models/conversion/scores?limit=1000", "the low-intent contact re-scored", |v| {
            stored(v).is_some_and(|p| p > before)
        })
        .await;

        // Retraining on a schedule: now, then every 7 days.
        let (st, v) = s
            .api(
                Method::PUT,
                "/api/v1/models/conversion/schedules",
                Some(json!({"every_days": 0, "request": {"event": "Demo Booked", "horizon_days": 30}})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        let (st, v) = s
            .api(
                Method::PUT,
                "/api/v1/models/conversion/schedules",
                Some(json!({"every_days": 7, "request": {"event": "Demo Booked", "horizon_days": 400}})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        assert_eq!(v["errors"][0]["path"], "request.horizon_days", "{b}: {v}");
        let request = json!({"event": "Demo Booked", "horizon_days": 30, "sensitive_attribute": "gender"});
        let (st, v) = s
            .api(Method::PUT, "/api/v1/models/conversion/schedules", Some(json!({"every_days": 7, "request": request})))
            .await;
        assert_eq!(st, StatusCode::OK, "{b}: {v}");
        let ran = s
            .until("/api/v1/models/conversion/schedules", "the first scheduled run", |v| {
                v["data"][0]["last_result"].is_string()
            })
            .await;
        assert!(ran["data"][0]["last_result"].as_str().unwrap().starts_with("trained "), "{b}: {ran}");
        let first_run = ran["data"][0]["last_run_at"].as_i64().unwrap();
        clock.advance(Duration::days(7) + Duration::minutes(1));
        s.until("/api/v1/models/conversion/schedules", "the second scheduled run", |v| {
            v["data"][0]["last_run_at"].as_i64().is_some_and(|t| t > first_run)
        })
        .await;
        assert_eq!(s.get("/api/v1/models/conversion").await["versions"].as_array().unwrap().len(), 6, "{b}");
        let (st, _) = s.api(Method::DELETE, "/api/v1/models/conversion/schedules/Demo%20Booked", None).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    }
}
