//! The consent text library end to end, on each store backend: texts
//! created, revised into new versions with the old ones kept word for word,
//! bad input refused by field, conflicts and unknown keys answered, and the
//! audit trail recording each change.

mod common;
use chrono::Utc;
use common::Server;
use kairos_core::clock::ManualClock;
use kairos_store::testing;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn consent_texts_gain_versions_and_keep_the_old_wording() {
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts.store.clone(), Arc::new(ManualClock::new(Utc::now())), None).await;
        let body = json!({"key": "newsletter-email", "channel": "email", "purpose": "marketing",
            "text": "Email me the monthly newsletter."});
        let (st, v) = s.api(Method::POST, "/api/v1/consent-texts", Some(body.clone())).await;
        assert_eq!(st, StatusCode::CREATED, "{b:?}: {v}");
        assert_eq!((v["version"].as_i64(), v["language"].as_str()), (Some(1), Some("en")), "{v}");
        assert_eq!(v["wording_version"], "newsletter-email@v1");
        let (st, v) = s.api(Method::POST, "/api/v1/consent-texts", Some(body)).await;
        assert_eq!(st, StatusCode::CONFLICT, "{v}");
        assert!(v["detail"].as_str().unwrap().contains("PUT /api/v1/consent-texts/newsletter-email"), "{v}");

        let new = json!({"text": "Email me the monthly newsletter and event invitations."});
        let (st, v) = s.api(Method::PUT, "/api/v1/consent-texts/newsletter-email", Some(new.clone())).await;
        assert_eq!((st, v["version"].as_i64()), (StatusCode::OK, Some(2)), "{v}");
        assert_eq!(v["channel"], "email", "the ask stays the same: {v}");
        // The same words again add nothing.
        let (_, v) = s.api(Method::PUT, "/api/v1/consent-texts/newsletter-email", Some(new)).await;
        assert_eq!(v["version"], 2, "{v}");

        let one = s.get("/api/v1/consent-texts/newsletter-email").await;
        assert_eq!(one["version"], 2);
        let versions: Vec<(i64, &str)> = one["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["version"].as_i64().unwrap(), v["text"].as_str().unwrap()))
            .collect();
        assert_eq!(
            versions,
            [(2, "Email me the monthly newsletter and event invitations."), (1, "Email me the monthly newsletter.")],
            "{one}"
        );
        let (st, _) = s
            .api(
                Method::POST,
                "/api/v1/consent-texts",
                Some(json!({"key": "sms-offers", "channel": "sms",
                "purpose": "marketing", "language": "de", "text": "SMS-Angebote, bitte."})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let all = s.get("/api/v1/consent-texts").await;
        let keys: Vec<(&str, i64)> = all["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["key"].as_str().unwrap(), t["version"].as_i64().unwrap()))
            .collect();
        assert_eq!(keys, [("newsletter-email", 2), ("sms-offers", 1)], "{all}");

        // Bad input names its field; unknown keys are 404.
        for (body, field) in [
            (json!({"key": "Bad Key", "channel": "email", "purpose": "marketing", "text": "x"}), "key"),
            (json!({"key": "k", "channel": "fax", "purpose": "marketing", "text": "x"}), "channel"),
            (json!({"key": "k", "channel": "email", "purpose": "marketing", "text": ""}), "text"),
            (
                json!({"key": "k", "channel": "email", "purpose": "marketing", "language": "english", "text": "x"}),
                "language",
            ),
        ] {
            let (st, v) = s.api(Method::POST, "/api/v1/consent-texts", Some(body)).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
            assert_eq!(v["errors"][0]["path"], field, "{v}");
        }
        let (st, _) = s.api(Method::PUT, "/api/v1/consent-texts/nope", Some(json!({"text": "x"}))).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, v) = s
            .api(Method::PUT, "/api/v1/consent-texts/sms-offers", Some(json!({"text": "x", "purpose": "profiling"})))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

        let audit = s.get("/api/v1/audit").await;
        let actions: Vec<&str> =
            audit["data"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        assert_eq!(actions.iter().filter(|a| a.starts_with("consent_text.")).count(), 3, "{audit}");
        assert!(actions.contains(&"consent_text.revised"), "{audit}");
    }
}
