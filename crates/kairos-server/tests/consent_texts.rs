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

/// The current email marketing consent of the contact with `email`, once
/// the form's submission has been applied.
async fn marketing_consent(s: &Server, email: &str) -> serde_json::Value {
    let found =
        s.until(&format!("/api/v1/contacts?email={email}"), "the subscriber", |v| v["data"][0]["id"].is_string()).await;
    let id = found["data"][0]["id"].as_str().unwrap().to_string();
    let v = s.get(&format!("/api/v1/contacts/{id}/consents")).await;
    v["current"].as_array().unwrap().iter().find(|c| c["purpose"] == "marketing").cloned().unwrap_or_default()
}

#[tokio::test]
async fn forms_ask_with_library_texts_follow_new_versions_and_keep_them_from_retirement() {
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts.store.clone(), Arc::new(ManualClock::new(Utc::now())), None).await;
        let text = json!({"key": "newsletter", "channel": "email", "purpose": "marketing",
            "text": "Email me the monthly newsletter."});
        let (st, v) = s.api(Method::POST, "/api/v1/consent-texts", Some(text)).await;
        assert_eq!(st, StatusCode::CREATED, "{b:?}: {v}");

        // A form names the text: its words, version and purpose come from the library.
        let form = json!({"name": "Newsletter", "consent_text": "newsletter", "double_opt_in": false});
        let (st, v) = s.api(Method::POST, "/api/v1/forms", Some(form)).await;
        assert_eq!(st, StatusCode::CREATED, "{b:?}: {v}");
        let id = v["id"].as_str().unwrap().to_string();
        let def = &v["definition"];
        assert_eq!(def["wording"], "Email me the monthly newsletter.", "{b:?}: {v}");
        assert_eq!(
            (def["wording_version"].as_str(), def["purposes"][0].as_str()),
            (Some("newsletter@v1"), Some("marketing"))
        );
        let page = s.http.get(format!("{}/f/{id}", s.url)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Email me the monthly newsletter."), "{b:?}: the hosted form shows the text: {page}");

        // A new version of the text is the form's at once, and what a subscriber agrees to from then on.
        let (st, v) = s
            .api(
                Method::PUT,
                "/api/v1/consent-texts/newsletter",
                Some(json!({"text": "Email me the newsletter and invitations."})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b:?}: {v}");
        let f = s.get(&format!("/api/v1/forms/{id}")).await;
        assert_eq!(f["definition"]["wording"], "Email me the newsletter and invitations.", "{b:?}: {f}");
        assert_eq!(f["definition"]["wording_version"], "newsletter@v2", "{b:?}: {f}");
        let r = s
            .http
            .post(format!("{}/f/{id}", s.url))
            .json(&json!({"email": "ann@example.org", "consent": true}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{b:?}: {}", r.text().await.unwrap());
        let c = marketing_consent(&s, "ann@example.org").await;
        assert_eq!(
            (c["state"].as_str(), c["wording_version"].as_str()),
            (Some("granted"), Some("newsletter@v2")),
            "{b:?}: {c}"
        );
        assert_eq!(c["wording"], "Email me the newsletter and invitations.", "{b:?}: {c}");
        let audit = s.get("/api/v1/audit").await;
        assert!(
            audit["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "form.updated" && e["detail"]["because"] == "consent_text.revised"),
            "{b:?}: the form's new wording is in the audit trail: {audit}"
        );

        // The library says who uses a text; a text in use cannot be retired, and the refusal names the form.
        let one = s.get("/api/v1/consent-texts/newsletter").await;
        assert_eq!(one["used_by"], json!([{"id": id, "name": "Newsletter"}]), "{b:?}: {one}");
        assert!(one["retired_at"].is_null(), "{b:?}: {one}");
        let (st, v) = s.api(Method::POST, "/api/v1/consent-texts/newsletter/retire", None).await;
        assert_eq!(st, StatusCode::CONFLICT, "{b:?}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("the form \"Newsletter\""), "{b:?}: {v}");

        // A wording of the form's own next to the library's is refused, naming the text's version.
        let (st, v) = s.api(Method::PATCH, &format!("/api/v1/forms/{id}"), Some(json!({"wording": "Mine"}))).await;
        assert_eq!(
            (st, v["errors"][0]["path"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("wording")),
            "{b:?}: {v}"
        );
        assert!(v["errors"][0]["message"].as_str().unwrap().contains("newsletter@v2"), "{b:?}: {v}");
        // Unlinked, the form keeps the words it had as its own; the text is free to retire.
        let (st, v) = s.api(Method::PATCH, &format!("/api/v1/forms/{id}"), Some(json!({"consent_text": null}))).await;
        assert_eq!(st, StatusCode::OK, "{b:?}: {v}");
        assert_eq!(
            (v["definition"]["consent_text"].is_null(), v["definition"]["wording_version"].as_str()),
            (true, Some("newsletter@v2"))
        );
        // New words of the form's own need a new version: consents name their words by it.
        let (st, v) = s.api(Method::PATCH, &format!("/api/v1/forms/{id}"), Some(json!({"wording": "Mine"}))).await;
        assert_eq!(
            (st, v["errors"][0]["path"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("wording_version")),
            "{b:?}: {v}"
        );
        let own = json!({"wording": "Mine", "wording_version": "own-1"});
        let (st, v) = s.api(Method::PATCH, &format!("/api/v1/forms/{id}"), Some(own)).await;
        assert_eq!(st, StatusCode::OK, "{b:?}: {v}");
        let (st, v) = s.api(Method::POST, "/api/v1/consent-texts/newsletter/retire", None).await;
        assert_eq!(st, StatusCode::OK, "{b:?}: {v}");
        assert!(v["retired_at"].is_string() && v["used_by"] == json!([]), "{b:?}: {v}");
        assert_eq!(v["versions"].as_array().unwrap().len(), 2, "{b:?}: every version stays readable");
        // Retired: no new version, offered to no form.
        let (st, v) = s.api(Method::PUT, "/api/v1/consent-texts/newsletter", Some(json!({"text": "New"}))).await;
        assert_eq!(st, StatusCode::CONFLICT, "{b:?}: {v}");
        let (st, v) =
            s.api(Method::PATCH, &format!("/api/v1/forms/{id}"), Some(json!({"consent_text": "newsletter"}))).await;
        assert_eq!(
            (st, v["errors"][0]["path"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("consent_text")),
            "{b:?}: {v}"
        );
        assert!(v["errors"][0]["message"].as_str().unwrap().contains("retired"), "{b:?}: {v}");
        let (st, v) = s.api(Method::POST, "/api/v1/forms", Some(json!({"name": "X", "consent_text": "nope"}))).await;
        assert_eq!(
            (st, v["errors"][0]["path"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("consent_text")),
            "{b:?}: {v}"
        );
        // Reinstated, it can be linked again, and the form takes its current words.
        let (st, _) = s.api(Method::POST, "/api/v1/consent-texts/newsletter/reinstate", None).await;
        assert_eq!(st, StatusCode::OK, "{b:?}");
        let (st, v) =
            s.api(Method::PATCH, &format!("/api/v1/forms/{id}"), Some(json!({"consent_text": "newsletter"}))).await;
        assert_eq!(
            (st, v["definition"]["wording_version"].as_str()),
            (StatusCode::OK, Some("newsletter@v2")),
            "{b:?}: {v}"
        );
        let all = s.get("/api/v1/consent-texts").await;
        assert_eq!(all["data"][0]["used_by"][0]["name"], "Newsletter", "{b:?}: {all}");
        let (st, _) = s.api(Method::POST, "/api/v1/consent-texts/nope/retire", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b:?}");
    }
}
