//! The HTTP API end to end: a real server on a loopback port, a real HTTP
//! client, and each store backend behind it.

use chrono::Utc;
use kairos_core::apikey::Scope;
use kairos_core::clock::SystemClock;
use kairos_engine::Engine;
use kairos_server::{issue_key, serve, AppState};
use kairos_store::testing;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

struct Server {
    url: String,
    admin: String,
    write: String,
    other_admin: String,
    http: reqwest::Client,
    _store: testing::TestStore,
}

impl Server {
    async fn start(ts: testing::TestStore) -> Server {
        let store = ts.store.clone();
        let mut tx = store.begin_write().await.unwrap();
        let ws = tx.create_workspace("acme", Utc::now()).await.unwrap().id;
        let other = tx.create_workspace("globex", Utc::now()).await.unwrap().id;
        tx.commit().await.unwrap();
        let (_, admin) = issue_key(&store, ws, "admin", Scope::Admin, Utc::now()).await.unwrap();
        let (_, write) = issue_key(&store, ws, "write", Scope::Write, Utc::now()).await.unwrap();
        let (_, other_admin) = issue_key(&store, other, "admin", Scope::Admin, Utc::now()).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let engine = Engine::start(store, Arc::new(SystemClock));
        tokio::spawn(serve(listener, AppState::new(engine), std::future::pending()));
        Server { url, admin, write, other_admin, http: reqwest::Client::new(), _store: ts }
    }

    async fn track(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .basic_auth(&self.write, Some(""))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn api(&self, method: reqwest::Method, path: &str, key: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url)).bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        if status != StatusCode::NO_CONTENT {
            let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            if !status.is_success() {
                assert_eq!(ct, "application/problem+json", "{path}: errors are problem documents");
            }
        }
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

use reqwest::Method;

#[tokio::test]
async fn tracking_api_accepts_segment_payloads_and_refuses_bad_input_clearly() {
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts).await;
        let (st, body) = s
            .track(
                "/v1/identify",
                json!({"userId": "u1", "traits": {"email": "u1@example.com", "plan": "pro"}, "messageId": "m1"}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b:?}: {body}");
        assert_eq!(body["success"], json!(true));
        let batch = json!({"batch": [
            {"type": "track", "userId": "u1", "event": "Order Completed", "properties": {"total": 99.5}, "messageId": "m2"},
            {"type": "page", "userId": "u1", "name": "Pricing", "messageId": "m3"},
            {"type": "screen", "anonymousId": "dev-1", "name": "Home", "messageId": "m4"},
            {"type": "group", "userId": "u1", "groupId": "acme-inc", "traits": {"name": "Acme Inc", "employees": 40}, "messageId": "m5"},
            {"type": "alias", "previousId": "dev-1", "userId": "u1", "messageId": "m6"}
        ], "sentAt": Utc::now().to_rfc3339()});
        let (st, body) = s.track("/v1/batch", batch.clone()).await;
        assert_eq!((st, body["accepted"].clone()), (StatusCode::OK, json!(5)), "{b:?}: {body}");
        // A retried batch is acknowledged and ignored.
        let (st, body) = s.track("/v1/batch", batch).await;
        assert_eq!((st, body["accepted"].clone(), body["duplicates"].clone()), (StatusCode::OK, json!(0), json!(5)));
        // writeKey in the body works too (analytics.js style, no auth header).
        let r = s
            .http
            .post(format!("{}/v1/t", s.url))
            .body(json!({"writeKey": s.write, "userId": "u1", "event": "Clicked"}).to_string())
            .header("content-type", "text/plain")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        // Gzip bodies.
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(json!({"batch": [{"type": "track", "userId": "u1", "event": "Zipped"}]}).to_string().as_bytes())
            .unwrap();
        let r = s
            .http
            .post(format!("{}/v1/batch", s.url))
            .basic_auth(&s.write, Some(""))
            .header("content-encoding", "gzip")
            .body(gz.finish().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);

        // Bad input: each refused with a clear status and detail.
        let bad: Vec<(&str, reqwest::RequestBuilder, StatusCode, &str)> = vec![
            ("malformed json", s.http.post(format!("{}/v1/track", s.url)).basic_auth(&s.write, Some("")).body("{\"userId\": "), StatusCode::BAD_REQUEST, "not valid JSON"),
            ("wrong type", s.http.post(format!("{}/v1/track", s.url)).basic_auth(&s.write, Some("")).body(r#"{"userId": "u", "event": 5}"#), StatusCode::BAD_REQUEST, "$.event: must be a string"),
            ("missing ids", s.http.post(format!("{}/v1/track", s.url)).basic_auth(&s.write, Some("")).body(r#"{"event": "x"}"#), StatusCode::BAD_REQUEST, "needs a userId or an anonymousId"),
            ("unknown key", s.http.post(format!("{}/v1/track", s.url)).basic_auth("kw_nope", Some("")).body(r#"{"userId": "u", "event": "x"}"#), StatusCode::UNAUTHORIZED, "unknown API key"),
            ("no key", s.http.post(format!("{}/v1/track", s.url)).body(r#"{"userId": "u", "event": "x"}"#), StatusCode::UNAUTHORIZED, "write key"),
            ("bad gzip", s.http.post(format!("{}/v1/batch", s.url)).basic_auth(&s.write, Some("")).header("content-encoding", "gzip").body("plain"), StatusCode::BAD_REQUEST, "not valid gzip"),
            ("oversized message", s.http.post(format!("{}/v1/track", s.url)).basic_auth(&s.write, Some("")).body(json!({"userId": "u", "event": "x", "properties": {"p": "x".repeat(33_000)}}).to_string()), StatusCode::PAYLOAD_TOO_LARGE, "32768 bytes"),
            ("oversized batch", s.http.post(format!("{}/v1/batch", s.url)).basic_auth(&s.write, Some("")).body(json!({"batch": (0..40).map(|_| json!({"type": "track", "userId": "u", "event": "x", "properties": {"p": "x".repeat(15_000)}})).collect::<Vec<_>>()}).to_string()), StatusCode::PAYLOAD_TOO_LARGE, "at most 512000 bytes"),
            ("far future", s.http.post(format!("{}/v1/track", s.url)).basic_auth(&s.write, Some("")).body(r#"{"userId": "u", "event": "x", "timestamp": "2099-01-01T00:00:00Z"}"#), StatusCode::BAD_REQUEST, "in the future"),
            ("bad batch item", s.http.post(format!("{}/v1/batch", s.url)).basic_auth(&s.write, Some("")).body(r#"{"batch": [{"type": "track", "userId": "u", "event": "ok"}, {"type": "nope", "userId": "u"}]}"#), StatusCode::BAD_REQUEST, "batch[1].type"),
        ];
        for (what, req, status, needle) in bad {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), status, "{b:?}: {what}");
            assert_eq!(r.headers()["content-type"], "application/problem+json");
            let body: Value = r.json().await.unwrap();
            assert!(body["detail"].as_str().unwrap().contains(needle), "{b:?}: {what}: {body}");
        }
        // Nothing accepted before was lost, and the server still serves.
        let (st, page) = s.api(Method::GET, "/api/v1/contacts?external_id=u1", &s.admin, None).await;
        assert_eq!(st, StatusCode::OK);
        let contact = &page["data"][0];
        assert_eq!(contact["email"], json!("u1@example.com"));
        assert_eq!(contact["custom"]["plan"], json!("pro"));
        assert_eq!(contact["company_ids"].as_array().unwrap().len(), 1);
        let id = contact["id"].as_str().unwrap();
        let (_, events) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/events?limit=100"), &s.admin, None).await;
        let names: Vec<&str> = events["data"].as_array().unwrap().iter().filter_map(|e| e["name"].as_str()).collect();
        assert!(
            names.contains(&"Order Completed") && names.contains(&"Zipped") && names.contains(&"Home"),
            "{b:?}: {names:?}"
        );
        assert_eq!(
            events["data"].as_array().unwrap().len(),
            8,
            "{b:?}: the aliased device's screen view belongs to u1"
        );
        assert_eq!(events["data"][0]["context"]["ip"], json!("127.0.0.1"));
    }
}

#[tokio::test]
async fn rest_api_contacts_companies_fields_keys() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts).await;
        let (st, f) = s
            .api(
                Method::POST,
                "/api/v1/fields",
                &s.admin,
                Some(json!({"name": "seats", "type": "number", "label": "Seats"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b:?}: {f}");
        let (st, _) =
            s.api(Method::POST, "/api/v1/fields", &s.admin, Some(json!({"name": "seats", "type": "string"}))).await;
        assert_eq!(st, StatusCode::CONFLICT);
        let (st, p) =
            s.api(Method::POST, "/api/v1/fields", &s.admin, Some(json!({"name": "email", "type": "string"}))).await;
        assert_eq!((st, p["errors"][0]["path"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("name")));

        let (st, c) = s
            .api(
                Method::POST,
                "/api/v1/contacts",
                &s.admin,
                Some(
                    json!({"email": "Grace@Navy.MIL", "phone": "+1 415 555 2671", "first_name": "Grace", "seats": "3"}),
                ),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b:?}: {c}");
        assert_eq!(
            (c["email"].clone(), c["phone"].clone(), c["custom"]["seats"].clone()),
            (json!("grace@navy.mil"), json!("+14155552671"), json!(3.0))
        );
        let id = c["id"].as_str().unwrap().to_string();
        let (st, p) = s.api(Method::POST, "/api/v1/contacts", &s.admin, Some(json!({"email": "grace@navy.mil"}))).await;
        assert_eq!(st, StatusCode::CONFLICT, "{b:?}: {p}");
        let (st, p) = s.api(Method::POST, "/api/v1/contacts", &s.admin, Some(json!({"email": "nope@"}))).await;
        assert_eq!((st, p["errors"][0]["path"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("email")), "{p}");
        let (st, p) = s
            .api(Method::POST, "/api/v1/contacts", &s.admin, Some(json!({"email": "a@example.com", "seats": "many"})))
            .await;
        assert_eq!((st, p["errors"][0]["path"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("seats")), "{p}");
        let (st, p) = s
            .api(
                Method::POST,
                "/api/v1/contacts",
                &s.admin,
                Some(json!({"email": "a@example.com", "undefined_thing": 1})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        let r =
            s.http.post(format!("{}/api/v1/contacts", s.url)).bearer_auth(&s.admin).body("{nope").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);

        let (st, c) = s
            .api(
                Method::PATCH,
                &format!("/api/v1/contacts/{id}"),
                &s.admin,
                Some(json!({"last_name": "Hopper", "phone": null})),
            )
            .await;
        assert_eq!((st, c["last_name"].clone(), c["phone"].clone()), (StatusCode::OK, json!("Hopper"), Value::Null));
        let (st, c) = s
            .api(
                Method::POST,
                "/api/v1/contacts/upsert",
                &s.admin,
                Some(json!({"email": "GRACE@navy.mil", "country": "us"})),
            )
            .await;
        assert_eq!(
            (st, c["id"].as_str(), c["country"].clone()),
            (StatusCode::OK, Some(id.as_str()), json!("US")),
            "{b:?}"
        );
        let (st, _) = s
            .api(
                Method::POST,
                "/api/v1/contacts/upsert?match=external_id",
                &s.admin,
                Some(json!({"external_id": "crm-9", "email": "new@example.com"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);

        // Another workspace's key sees nothing of this one.
        let (st, _) = s.api(Method::GET, &format!("/api/v1/contacts/{id}"), &s.other_admin, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b:?}: cross-workspace read");
        let (st, _) = s.api(Method::DELETE, &format!("/api/v1/contacts/{id}"), &s.other_admin, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b:?}: cross-workspace delete");
        let (_, page) = s.api(Method::GET, "/api/v1/contacts", &s.other_admin, None).await;
        assert_eq!(page["data"].as_array().unwrap().len(), 0);
        // Write keys cannot use the REST API.
        let (st, _) = s.api(Method::GET, "/api/v1/contacts", &s.write, None).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // Search with pagination and filters.
        for i in 0..7 {
            s.api(
                Method::POST,
                "/api/v1/contacts",
                &s.admin,
                Some(json!({"email": format!("p{i}@example.com"), "country": if i % 2 == 0 { "DE" } else { "FR" }})),
            )
            .await;
        }
        let (_, p1) = s.api(Method::GET, "/api/v1/contacts?limit=5", &s.admin, None).await;
        let cursor = p1["next_cursor"].as_str().unwrap();
        let (_, p2) = s.api(Method::GET, &format!("/api/v1/contacts?limit=5&cursor={cursor}"), &s.admin, None).await;
        assert_eq!(p1["data"].as_array().unwrap().len() + p2["data"].as_array().unwrap().len(), 9);
        assert!(p2.get("next_cursor").is_none());
        let (_, de) = s.api(Method::GET, "/api/v1/contacts?country=DE&q=EXAMPLE.com", &s.admin, None).await;
        assert_eq!(de["data"].as_array().unwrap().len(), 4);
        let (_, seats) = s.api(Method::GET, "/api/v1/contacts?field.seats=3", &s.admin, None).await;
        assert_eq!(seats["data"].as_array().unwrap().len(), 1, "{b:?}: {seats}");
        for bad in ["limit=0", "limit=abc", "cursor=zzz", "updated_since=yesterday", "colour=red", "email=nope"] {
            let (st, _) = s.api(Method::GET, &format!("/api/v1/contacts?{bad}"), &s.admin, None).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        }

        // Companies and links.
        let (st, co) = s
            .api(
                Method::POST,
                "/api/v1/companies",
                &s.admin,
                Some(json!({"name": "US Navy", "domain": "https://www.navy.mil/"})),
            )
            .await;
        assert_eq!((st, co["domain"].clone()), (StatusCode::CREATED, json!("navy.mil")));
        let co_id = co["id"].as_str().unwrap();
        let (st, _) = s.api(Method::POST, &format!("/api/v1/contacts/{id}/companies/{co_id}"), &s.admin, None).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (_, members) = s.api(Method::GET, &format!("/api/v1/companies/{co_id}/contacts"), &s.admin, None).await;
        assert_eq!(members, json!([id]));
        let (_, c) = s.api(Method::GET, &format!("/api/v1/contacts/{id}"), &s.admin, None).await;
        assert_eq!(c["company_ids"], json!([co_id]));
        let (st, _) = s.api(Method::POST, "/api/v1/companies", &s.admin, Some(json!({"domain": "x.com"}))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

        // Manual merge, visible afterwards.
        let (_, other) = s
            .api(Method::POST, "/api/v1/contacts", &s.admin, Some(json!({"external_id": "dup-1", "last_name": "Dup"})))
            .await;
        let (st, merged) = s
            .api(
                Method::POST,
                &format!("/api/v1/contacts/{id}/merge"),
                &s.admin,
                Some(json!({"source_id": other["id"]})),
            )
            .await;
        assert_eq!((st, merged["external_id"].clone()), (StatusCode::OK, json!("dup-1")), "{b:?}: {merged}");
        let (_, merges) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/merges"), &s.admin, None).await;
        assert_eq!(merges[0]["source_id"], other["id"]);
        let (st, gone) =
            s.api(Method::GET, &format!("/api/v1/contacts/{}", other["id"].as_str().unwrap()), &s.admin, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert!(gone["detail"].as_str().unwrap().contains("merged into"));

        // Keys: create, use, revoke — revocation is immediate.
        let (st, k) =
            s.api(Method::POST, "/api/v1/keys", &s.admin, Some(json!({"name": "ci", "scope": "admin"}))).await;
        assert_eq!(st, StatusCode::CREATED);
        let secret = k["secret"].as_str().unwrap().to_string();
        assert_eq!(s.api(Method::GET, "/api/v1/workspace", &secret, None).await.0, StatusCode::OK);
        let (_, keys) = s.api(Method::GET, "/api/v1/keys", &s.admin, None).await;
        assert!(keys.as_array().unwrap().iter().all(|k| k.get("secret").is_none()), "secrets are never listed");
        let (st, _) =
            s.api(Method::DELETE, &format!("/api/v1/keys/{}", k["id"].as_str().unwrap()), &s.admin, None).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, p) = s.api(Method::GET, "/api/v1/workspace", &secret, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{p}");

        let (st, _) = s.api(Method::DELETE, &format!("/api/v1/contacts/{id}"), &s.admin, None).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = s.api(Method::GET, &format!("/api/v1/contacts/{id}"), &s.admin, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = s.api(Method::GET, "/api/v1/contacts/not-a-uuid", &s.admin, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = s.api(Method::GET, "/api/v1/nothing-here", &s.admin, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn openapi_document_describes_the_api() {
    let s = Server::start(testing::sqlite().await).await;
    let doc: Value = s.http.get(format!("{}/api/v1/openapi.json", s.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], json!("3.1.0"));
    for path in [
        "/api/v1/contacts",
        "/api/v1/contacts/{id}",
        "/api/v1/contacts/{id}/events",
        "/api/v1/companies",
        "/api/v1/fields",
        "/api/v1/keys",
        "/api/v1/contacts/upsert",
        "/api/v1/email/templates/{id}/preview",
        "/api/v1/email/messages/{id}/raw",
        "/api/v1/email/senders",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing from the OpenAPI document");
    }
    assert!(doc["components"]["schemas"].get("Problem").is_some());
    assert!(doc["components"]["securitySchemes"].get("bearer").is_some());
    // A path parameter names a segment of its path; query parameters are
    // optional unless the route says otherwise (a client generated from the
    // document would send them wrongly otherwise).
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                if p["in"] == "path" {
                    assert!(path.contains(&format!("{{{name}}}")), "{method} {path}: {name} is not in the path");
                }
            }
        }
    }
    let search = &doc["paths"]["/api/v1/contacts"]["get"]["parameters"];
    let country = search.as_array().unwrap().iter().find(|p| p["name"] == "country").expect("country parameter");
    assert_eq!((&country["in"], &country["required"]), (&json!("query"), &json!(false)), "{country}");
    let landing = s.http.get(&s.url).send().await.unwrap().text().await.unwrap();
    assert!(landing.contains("/api/v1/openapi.json"));
}

#[tokio::test]
async fn suppressions_are_keyed_by_canonical_address_and_explain_themselves() {
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts).await;
        let (st, v) = s
            .api(Method::POST, "/api/v1/suppressions", &s.admin,
                Some(json!({"channel": "email", "address": "Bounce@Example.com", "reason": "hard_bounce", "note": "550 5.1.1"})))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b:?}: {v}");
        assert_eq!(v["address"], "bounce@example.com");
        assert_eq!(v["address_hash"].as_str().unwrap().len(), 64);
        // Any spelling of the same address finds it; another channel does not.
        let (st, v) = s
            .api(Method::GET, "/api/v1/suppressions/check?channel=email&address=BOUNCE@example.COM", &s.admin, None)
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!((v["suppressed"].clone(), v["reason"].clone()), (json!(true), json!("hard_bounce")), "{v}");
        let (_, v) =
            s.api(Method::GET, "/api/v1/suppressions/check?channel=sms&address=%2B442079460958", &s.admin, None).await;
        assert_eq!(v["suppressed"], false, "{v}");
        // Bad input says what was wrong.
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/suppressions",
                &s.admin,
                Some(json!({"channel": "email", "address": "nope", "reason": "manual"})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["errors"][0]["path"], "address", "{v}");
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/suppressions",
                &s.admin,
                Some(json!({"channel": "email", "address": "a@example.com", "reason": "erased"})),
            )
            .await;
        assert_eq!((st, v["errors"][0]["path"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("reason")));
        // Listing, then lifting it.
        let (_, v) = s.api(Method::GET, "/api/v1/suppressions?channel=email", &s.admin, None).await;
        assert_eq!(v["data"].as_array().unwrap().len(), 1, "{v}");
        let (st, _) = s
            .api(Method::DELETE, "/api/v1/suppressions?channel=email&address=bounce@example.com", &s.admin, None)
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = s
            .api(Method::DELETE, "/api/v1/suppressions?channel=email&address=bounce@example.com", &s.admin, None)
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // Another workspace's list is its own.
        let (_, v) = s.api(Method::GET, "/api/v1/suppressions", &s.other_admin, None).await;
        assert_eq!(v["data"].as_array().unwrap().len(), 0);
    }
}

#[tokio::test]
async fn erasure_leaves_no_trace_in_any_table_and_blocks_resurrection() {
    for ts in testing::all().await {
        let b = ts.backend();
        let url = ts.url.clone();
        let s = Server::start(ts).await;
        // A journey the order puts them in: a score, then a long wait.
        let (st, j) = s
            .api(
                Method::POST,
                "/api/v1/journeys",
                &s.admin,
                Some(json!({"name": "Loyalty", "definition": {
                "trigger": {"type": "event", "event": "Order Completed"}, "start": "points",
                "nodes": {"points": {"type": "change_score", "score": "loyalty", "by": 5, "next": "wait"},
                          "wait": {"type": "delay", "duration": {"days": 30}, "next": "done"},
                          "done": {"type": "exit"}}}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{j}");
        let (st, v) = s
            .api(Method::POST, &format!("/api/v1/journeys/{}/publish", j["id"].as_str().unwrap()), &s.admin, None)
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        // A person with history everywhere: anonymous browsing merged on
        // identify, traits, a company, consent, a list, a segment, a journey.
        for body in [
            json!({"type": "page", "anonymousId": "anon-zz", "name": "Pricing", "messageId": "p1", "properties": {"path": "/pricing"}}),
            json!({"type": "identify", "userId": "zoe-77", "anonymousId": "anon-zz", "messageId": "i1",
                   "traits": {"email": "Zoe.Quist@Example.org", "phone": "+44 20 7946 0123", "firstName": "Zoe", "lastName": "Quistgaard"}}),
            json!({"type": "group", "userId": "zoe-77", "groupId": "zq-co", "messageId": "g1", "traits": {"name": "Other Co"}}),
            json!({"type": "track", "userId": "zoe-77", "event": "Order Completed", "messageId": "o1", "properties": {"total": 12}}),
        ] {
            let (st, v) = s.track("/v1/batch", json!({"batch": [body]})).await;
            assert_eq!(st, StatusCode::OK, "{v}");
        }
        let (_, found) = s.api(Method::GET, "/api/v1/contacts?external_id=zoe-77", &s.admin, None).await;
        let id = found["data"][0]["id"].as_str().unwrap().to_string();
        let (st, _) = s
            .api(
                Method::PUT,
                &format!("/api/v1/contacts/{id}/consents"),
                &s.admin,
                Some(json!({"channel": "email", "purpose": "marketing", "state": "granted", "wording": "Yes please",
                            "proof": {"form_payload": {"email": "zoe.quist@example.org"}}})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        let (_, list) = s.api(Method::POST, "/api/v1/lists", &s.admin, Some(json!({"name": "VIP"}))).await;
        let list = list["id"].as_str().unwrap().to_string();
        s.api(Method::POST, &format!("/api/v1/lists/{list}/members"), &s.admin, Some(json!({"contact_ids": [id]})))
            .await;
        let (_, seg) = s
            .api(
                Method::POST,
                "/api/v1/segments",
                &s.admin,
                Some(json!({"name": "Buyers", "rule": {"event": "Order Completed"}})),
            )
            .await;
        let seg = seg["id"].as_str().unwrap().to_string();
        for _ in 0..100 {
            let (_, c) = s.api(Method::GET, &format!("/api/v1/segments/{seg}/count"), &s.admin, None).await;
            if c["count"] == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // The journey has them waiting, with their score and its outbox row.
        let mut waiting = Value::Null;
        for _ in 0..100 {
            let (_, runs) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/journeys"), &s.admin, None).await;
            if runs.to_string().contains("\"wait\"") {
                waiting = runs;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(!waiting.is_null(), "{b:?}: the run never reached the delay");
        // The export holds it all.
        let (st, export) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/export"), &s.admin, None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(export["contact"]["email"], "zoe.quist@example.org", "{export}");
        assert!(export["events"].as_array().unwrap().len() >= 4, "{export}");
        assert_eq!(export["consent"]["history"][0]["wording"], "Yes please");
        assert_eq!(export["anonymous_ids"][0], "anon-zz");
        // The same as one archive with JSON and CSV files.
        let r = s
            .http
            .get(format!("{}/api/v1/contacts/{id}/export?format=zip", s.url))
            .bearer_auth(&s.admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-type"], "application/zip");
        let bytes = r.bytes().await.unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let mut read = |name: &str| {
            let mut f = zip.by_name(name).unwrap_or_else(|_| panic!("{name} in the archive"));
            let mut text = String::new();
            std::io::Read::read_to_string(&mut f, &mut text).unwrap();
            text
        };
        assert!(read("person.json").contains("zoe.quist@example.org"));
        assert!(read("profile.csv").contains("zoe.quist@example.org,+442079460123,Zoe,Quistgaard"));
        let events = read("events.csv");
        assert!(events.starts_with("timestamp,kind,name,message_id") && events.lines().count() >= 5, "{events}");
        assert!(read("consent_history.csv").contains("granted,api,consent,Yes please"));
        let (st, _) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/export?format=pdf"), &s.admin, None).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

        let needles =
            ["zoe.quist@example.org", "Zoe.Quist", "+442079460123", "Quistgaard", "zoe-77", "anon-zz", id.as_str()];
        let before = testing::all_rows_as_text(&url).await;
        assert!(before.iter().any(|(_, r)| r.contains("Quistgaard")), "{b:?}: the dump sees the data before erasure");

        let (st, erased) = s.api(Method::POST, &format!("/api/v1/contacts/{id}/erase"), &s.admin, None).await;
        assert_eq!(st, StatusCode::OK, "{erased}");
        assert_eq!(erased["suppressed"], json!(["email", "sms", "phone"]));
        assert!(erased["journey_rows_removed"].as_u64().unwrap() >= 3, "run, path, outbox, score: {erased}");
        // Let segment maintenance settle, then look at every row of every table.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let after = testing::all_rows_as_text(&url).await;
        for (table, row) in &after {
            for n in needles {
                // The audit trail names the contact id it erased, nothing more.
                if table == "audit_log" && n == id.as_str() {
                    continue;
                }
                assert!(!row.contains(n), "{b:?}: {n:?} survived erasure in {table}: {row}");
            }
        }
        // Only the salted hashes remain, and they keep the address suppressed.
        let (_, v) = s
            .api(Method::GET, "/api/v1/suppressions/check?channel=email&address=ZOE.QUIST@example.org", &s.admin, None)
            .await;
        assert_eq!((v["suppressed"].clone(), v["reason"].clone()), (json!(true), json!("erased")), "{v}");
        let (st, _) = s
            .api(Method::DELETE, "/api/v1/suppressions?channel=email&address=zoe.quist@example.org", &s.admin, None)
            .await;
        assert_eq!(st, StatusCode::CONFLICT);
        // The audit trail records the erasure.
        let (_, audit) = s.api(Method::GET, "/api/v1/audit", &s.admin, None).await;
        assert_eq!(audit["data"][0]["action"], "contact.erased", "{audit}");
        assert_eq!(audit["data"][1]["action"], "contact.exported", "{audit}");
        assert_eq!(audit["data"][2]["action"], "contact.exported", "{audit}");
        let (st, _) = s.api(Method::POST, &format!("/api/v1/contacts/{id}/erase"), &s.admin, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_preference_centre_works_from_a_signed_link_without_a_login() {
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts).await;
        s.track(
            "/v1/identify",
            json!({"userId": "pc-1", "messageId": "pc1", "traits": {"email": "pat.case@example.com"}}),
        )
        .await;
        let (_, found) = s.api(Method::GET, "/api/v1/contacts?external_id=pc-1", &s.admin, None).await;
        let id = found["data"][0]["id"].as_str().unwrap().to_string();
        let (st, _) = s
            .api(
                Method::PUT,
                &format!("/api/v1/contacts/{id}/consents"),
                &s.admin,
                Some(json!({"channel": "email", "purpose": "marketing", "state": "granted", "wording": "Newsletter"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        let (st, link) = s.api(Method::POST, &format!("/api/v1/contacts/{id}/preference-link"), &s.admin, None).await;
        assert_eq!(st, StatusCode::OK, "{b:?}: {link}");
        let path = link["path"].as_str().unwrap().to_string();
        assert!(link["url"].as_str().unwrap().ends_with(&path));

        // The page: no login, masked address, the current choice ticked, labelled controls.
        let page = s.http.get(format!("{}{path}", s.url)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("p*******@example.com") && !html.contains("pat.case"), "{html}");
        assert!(html.contains(r#"<label for="c-email-marketing"><input type="checkbox" id="c-email-marketing" name="c:email:marketing" checked>"#), "{html}");
        assert!(html.contains(r#"<label for="c-sms-product_updates"><input type="checkbox" id="c-sms-product_updates" name="c:sms:product_updates">"#));
        assert!(html.contains("<legend>Email</legend>") && html.contains("Unsubscribe from everything"));

        // Untick email marketing, tick SMS product updates.
        let r = s
            .http
            .post(format!("{}{path}", s.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("user-agent", "browser/1")
            .body("c%3Asms%3Aproduct_updates=on&action=save")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(html.contains("Saved: 2 preferences changed."), "{html}");
        let (_, v) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/consents"), &s.admin, None).await;
        let state = |ch: &str, p: &str| {
            v["current"].as_array().unwrap().iter().find(|c| c["channel"] == ch && c["purpose"] == p).cloned()
        };
        assert_eq!(state("email", "marketing").unwrap()["state"], "withdrawn", "{v}");
        let sms = state("sms", "product_updates").unwrap();
        assert_eq!(sms["state"], "granted");
        assert_eq!(sms["source"], "preference_centre");
        assert_eq!(sms["wording"], "Text messages (SMS): Product updates and announcements");
        assert_eq!(sms["proof"]["user_agent"], "browser/1");
        assert_eq!(sms["proof"]["form_payload"]["c:sms:product_updates"], "on", "{v}");

        // Unsubscribe from everything.
        let r = s
            .http
            .post(format!("{}{path}", s.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("c%3Asms%3Aproduct_updates=on&action=unsubscribe_all")
            .send()
            .await
            .unwrap();
        assert!(r.text().await.unwrap().contains("You are unsubscribed from everything"));
        let (_, v) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/consents"), &s.admin, None).await;
        assert!(v["current"].as_array().unwrap().iter().all(|c| c["state"] == "withdrawn"), "{v}");

        // A tampered link is refused, and changes nothing.
        let mut forged = path.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        let r = s.http.get(format!("{}{forged}", s.url)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.text().await.unwrap().contains("malformed or has been altered"));
        let r = s
            .http
            .post(format!("{}{forged}", s.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("c%3Aemail%3Amarketing=on&action=save")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let (_, v2) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/consents"), &s.admin, None).await;
        assert_eq!(v["current"], v2["current"]);
    }
}

#[tokio::test]
async fn settings_are_validated_and_kept_per_workspace() {
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts).await;
        let (st, v) = s.api(Method::GET, "/api/v1/settings", &s.admin, None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v["postal_address"], Value::Null, "{b:?}: {v}");
        let (st, v) = s
            .api(
                Method::PUT,
                "/api/v1/settings",
                &s.admin,
                Some(json!({"postal_address": "nowhere", "default_timezone": "UTC"})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["errors"][0]["path"], "postal_address", "{v}");
        let (st, v) = s
            .api(
                Method::PUT,
                "/api/v1/settings",
                &s.admin,
                Some(json!({"quiet_hours": {"start_hour": 25, "end_hour": 8}, "caps": {"email": {"per_day": -1}}})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let paths: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
        assert_eq!(paths, ["caps.email.per_day", "quiet_hours.start_hour"], "every problem, each at its field: {v}");
        let (st, v) = s
            .api(
                Method::PUT,
                "/api/v1/settings",
                &s.admin,
                Some(json!({"postal_address": "Acme Inc.\n1 Main St\nSpringfield, IL 62701",
                "default_timezone": "America/Chicago", "quiet_hours": {"start_hour": 21, "end_hour": 8},
                "caps": {"email": {"per_day": 1, "per_week": 3}}})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (_, v) = s.api(Method::GET, "/api/v1/settings", &s.admin, None).await;
        assert_eq!(v["caps"]["email"]["per_week"], 3, "{v}");
        assert_eq!(v["default_timezone"], "America/Chicago");
        let (_, other) = s.api(Method::GET, "/api/v1/settings", &s.other_admin, None).await;
        assert_eq!(other["postal_address"], Value::Null);

        // PATCH changes the keys given and keeps the rest; null clears one.
        let (st, v) = s.api(Method::PATCH, "/api/v1/settings", &s.admin, Some(json!({"quiet_hours": null}))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!((v["quiet_hours"].is_null(), v["caps"]["email"]["per_week"].as_u64()), (true, Some(3)), "{v}");
        assert_eq!(v["default_timezone"], "America/Chicago", "{v}");
        // A refused change changes nothing, and names every problem.
        let (st, v) = s
            .api(
                Method::PATCH,
                "/api/v1/settings",
                &s.admin,
                Some(json!({"default_timezone": "Mars/Olympus", "caps": {"sms": {"per_day": "two"}}, "colour": 1})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let paths: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
        assert_eq!(paths, ["colour", "caps.sms.per_day", "default_timezone"], "{v}");
        assert_eq!(
            s.api(Method::GET, "/api/v1/settings", &s.admin, None).await.1["default_timezone"],
            "America/Chicago"
        );
        // Two people changing different settings at once keep both changes.
        let tz = s.api(Method::PATCH, "/api/v1/settings", &s.admin, Some(json!({"default_timezone": "Europe/Berlin"})));
        let caps = s.api(Method::PATCH, "/api/v1/settings", &s.admin, Some(json!({"caps": {"sms": {"per_week": 2}}})));
        let ((st1, _), (st2, _)) = tokio::join!(tz, caps);
        assert_eq!((st1, st2), (StatusCode::OK, StatusCode::OK));
        let (_, v) = s.api(Method::GET, "/api/v1/settings", &s.admin, None).await;
        assert_eq!(
            (v["default_timezone"].as_str(), v["caps"]["sms"]["per_week"].as_u64()),
            (Some("Europe/Berlin"), Some(2)),
            "{b:?}: {v}"
        );
        assert!(v["postal_address"].as_str().unwrap().contains("Springfield"), "{v}");
        // Objects merge (RFC 7396): the SMS caps did not lift the email caps; null lifts one.
        assert_eq!(v["caps"]["email"]["per_week"], 3, "{v}");
        let (st, v) = s.api(Method::PATCH, "/api/v1/settings", &s.admin, Some(json!({"caps": {"email": null}}))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!((v["caps"].get("email"), v["caps"]["sms"]["per_week"].as_u64()), (None, Some(2)), "{v}");
    }
}

#[tokio::test]
async fn global_privacy_control_opts_the_contact_out_of_sharing() {
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts).await;
        let send = |id: &'static str| {
            s.http
                .post(format!("{}/v1/track", s.url))
                .basic_auth(&s.write, Some(""))
                .header("sec-gpc", "1")
                .header("user-agent", "Firefox/140")
                .json(&json!({"userId": "gpc-1", "event": "Page Opened", "messageId": id}))
                .send()
        };
        assert_eq!(send("g1").await.unwrap().status(), StatusCode::OK);
        let (_, found) = s.api(Method::GET, "/api/v1/contacts?external_id=gpc-1", &s.admin, None).await;
        let id = found["data"][0]["id"].as_str().unwrap().to_string();
        let (_, v) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/consents"), &s.admin, None).await;
        let current = v["current"].as_array().unwrap();
        assert_eq!(current.len(), 5, "{b:?}: one per channel: {v}");
        for c in current {
            assert_eq!(
                (c["purpose"].as_str(), c["state"].as_str(), c["source"].as_str()),
                (Some("third_party_sharing"), Some("denied"), Some("gpc")),
                "{c}"
            );
            assert_eq!(c["proof"]["user_agent"], "Firefox/140");
        }
        // The signal again changes nothing; the event keeps it as context.
        assert_eq!(send("g2").await.unwrap().status(), StatusCode::OK);
        let (_, v) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/consents"), &s.admin, None).await;
        assert_eq!(v["history"].as_array().unwrap().len(), 5, "{v}");
        let (_, events) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/events"), &s.admin, None).await;
        assert_eq!(events["data"][0]["context"]["gpc"], true, "{events}");
    }
}

#[tokio::test]
async fn tcf_strings_on_tracking_calls_record_purpose_consents() {
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts).await;
        let send = |id: &'static str, tc: String, gpc: bool| {
            let mut r = s.http.post(format!("{}/v1/track", s.url)).basic_auth(&s.write, Some(""));
            if gpc {
                r = r.header("sec-gpc", "1");
            }
            r.json(&json!({"userId": "tcf-1", "event": "Page Opened", "messageId": id,
                           "context": {"consent": {"tcString": tc}}}))
                .send()
        };
        let current = |v: &Value, purpose: &str| -> Vec<(String, String)> {
            v["current"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["purpose"] == purpose)
                .map(|c| (c["state"].as_str().unwrap().to_string(), c["source"].as_str().unwrap().to_string()))
                .collect()
        };
        // The CMP's answer: device access and content profiles, no advertising.
        let content_only = kairos_core::tcf::encode(300, &[1, 5, 6], 3, Utc::now());
        let r = send("t1", content_only.clone(), false).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let (_, found) = s.api(Method::GET, "/api/v1/contacts?external_id=tcf-1", &s.admin, None).await;
        let id = found["data"][0]["id"].as_str().unwrap().to_string();
        let (_, v) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/consents"), &s.admin, None).await;
        assert_eq!(current(&v, "profiling"), vec![("granted".to_string(), "tcf".to_string()); 5], "{b:?}: {v}");
        assert_eq!(current(&v, "third_party_sharing"), vec![("denied".to_string(), "tcf".to_string()); 5], "{v}");
        let proof = &v["current"][0]["proof"]["form_payload"];
        assert_eq!(proof["tc_string"], content_only.as_str(), "the string is kept as proof: {proof}");
        assert_eq!(proof["decoded"]["cmp_id"], 300);
        // The same string on the next page view records nothing new.
        send("t2", content_only, false).await.unwrap();
        let (_, v) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/consents"), &s.admin, None).await;
        assert_eq!(v["history"].as_array().unwrap().len(), 10, "{v}");
        // A browser with GPC that then accepts advertising in the CMP: the
        // GPC opt-out stands, the TCF grant of sharing is not applied.
        let everything = kairos_core::tcf::encode(300, &[1, 3, 4, 5, 6], 3, Utc::now());
        send("t3", everything.clone(), true).await.unwrap();
        let (_, v) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/consents"), &s.admin, None).await;
        assert_eq!(current(&v, "third_party_sharing"), vec![("denied".to_string(), "gpc".to_string()); 5], "{v}");
        send("t4", everything, false).await.unwrap();
        let (_, v) = s.api(Method::GET, &format!("/api/v1/contacts/{id}/consents"), &s.admin, None).await;
        assert_eq!(current(&v, "third_party_sharing"), vec![("denied".to_string(), "gpc".to_string()); 5], "{v}");
        // A string that is not TCF: the event is kept, with a warning.
        let r = send("t5", "not-a-tc-string".into(), false).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["accepted"], 1);
        assert!(body["warnings"][0].as_str().unwrap().contains("context.consent.tcString"), "{body}");
    }
}

#[tokio::test]
async fn the_customer_lifetime_model_trains_on_purchases_and_scores_contacts() {
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts).await;
        let now = Utc::now();
        let order = |user: String, days_ago: i64, total: f64, n: usize| {
            json!({"type": "track", "userId": user, "event": "Order Completed", "messageId": format!("{n}"),
                   "timestamp": (now - chrono::Duration::days(days_ago)).to_rfc3339(), "properties": {"total": total}})
        };
        let mut batch = Vec::new();
        let mut n = 0;
        for i in 0..60i64 {
            let first = 300 - i * 4;
            for k in 0..=(i % 5) {
                let ago = first - k * 25;
                if ago > 0 {
                    n += 1;
                    batch.push(order(format!("c{i}"), ago, 20.0 + i as f64, n));
                }
            }
        }
        for (user, last) in [("active", 2), ("lapsed", 200)] {
            for k in 0..6 {
                n += 1;
                batch.push(order(user.to_string(), last + k * 10, 80.0, n));
            }
        }
        for chunk in batch.chunks(100) {
            let (st, v) = s.track("/v1/batch", json!({"batch": chunk})).await;
            assert_eq!(st, StatusCode::OK, "{v}");
        }
        let (st, _) = s.api(Method::GET, "/api/v1/models/clv", &s.admin, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, m) = s
            .api(
                Method::POST,
                "/api/v1/models/clv",
                &s.admin,
                Some(json!({"event": "Order Completed", "value_property": "total"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b:?}: {m}");
        assert_eq!(m["customers"], 62, "{m}");
        for p in ["r", "alpha", "a", "b"] {
            assert!(m["purchases"][p].as_f64().unwrap() > 0.0, "{m}");
        }
        assert!(m["spend"]["p"].as_f64().is_some(), "{m}");
        let id_of = |v: &Value| v["data"][0]["id"].as_str().unwrap().to_string();
        let (_, a) = s.api(Method::GET, "/api/v1/contacts?external_id=active", &s.admin, None).await;
        let (_, l) = s.api(Method::GET, "/api/v1/contacts?external_id=lapsed", &s.admin, None).await;
        let (st, active) =
            s.api(Method::GET, &format!("/api/v1/contacts/{}/clv?days=90", id_of(&a)), &s.admin, None).await;
        assert_eq!(st, StatusCode::OK, "{active}");
        let (_, lapsed) =
            s.api(Method::GET, &format!("/api/v1/contacts/{}/clv?days=90", id_of(&l)), &s.admin, None).await;
        let f = |v: &Value, k: &str| v[k].as_f64().unwrap();
        assert!(f(&active, "p_alive") > f(&lapsed, "p_alive"), "{active} {lapsed}");
        assert!(f(&active, "expected_purchases") > f(&lapsed, "expected_purchases"), "{active} {lapsed}");
        assert!(f(&active, "expected_revenue") > 0.0 && f(&active, "expected_value_per_purchase") > 20.0, "{active}");
        let (st, _) = s.api(Method::GET, &format!("/api/v1/contacts/{}/clv?days=-3", id_of(&a)), &s.admin, None).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        // Clusters of the same customers, saved as lists a segment can use.
        let (st, c) = s
            .api(
                Method::POST,
                "/api/v1/models/clusters",
                &s.admin,
                Some(json!({"value_property": "total", "save_as_lists": true})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{c}");
        let k = c["k"].as_u64().unwrap() as usize;
        assert!((2..=8).contains(&k) && c["silhouette"].as_f64().unwrap() > 0.0, "{c}");
        let sizes: u64 = c["clusters"].as_array().unwrap().iter().map(|x| x["size"].as_u64().unwrap()).sum();
        assert_eq!(sizes, 62);
        assert!(c["clusters"].as_array().unwrap().iter().all(|x| !x["description"].as_str().unwrap().is_empty()));
        let lists = c["lists"].as_array().unwrap();
        assert_eq!(lists.len(), k);
        let mut listed = 0;
        for l in lists {
            let (_, v) =
                s.api(Method::GET, &format!("/api/v1/lists/{}", l["list_id"].as_str().unwrap()), &s.admin, None).await;
            listed += v["count"].as_i64().unwrap();
        }
        assert_eq!(listed, 62);
        let (st, e) = s.api(Method::POST, "/api/v1/models/clusters", &s.admin, Some(json!({"k": 1}))).await;
        assert_eq!((st, e["errors"][0]["path"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("k")));
        // Another workspace has no purchases: training says why it cannot.
        let (st, e) = s.api(Method::POST, "/api/v1/models/clv", &s.other_admin, None).await;
        assert_eq!(st, StatusCode::CONFLICT, "{e}");
        assert!(e["detail"].as_str().unwrap().contains("needs at least 20"), "{e}");
    }
}

#[tokio::test]
async fn filter_parameters_treat_injection_as_data_and_fields_keep_markup_verbatim() {
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts).await;
        let first = "<img src=x onerror=\"window.__xss=1\">";
        let last = "Robert'); DROP TABLE contacts;--";
        for (user, traits) in [
            ("bobby", json!({"email": "bobby@example.org", "firstName": first, "lastName": last})),
            ("alice", json!({"email": "alice@example.org", "firstName": "Alice"})),
        ] {
            let (st, v) = s
                .track("/v1/identify", json!({"userId": user, "traits": traits, "messageId": format!("id-{user}")}))
                .await;
            assert_eq!(st, StatusCode::OK, "{v}");
        }
        let mut bobby = String::new();
        for _ in 0..100 {
            let (_, v) = s.api(Method::GET, "/api/v1/contacts?external_id=bobby", &s.admin, None).await;
            if let Some(id) = v["data"][0]["id"].as_str() {
                bobby = id.to_string();
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // Markup and quotes are data: stored and returned exactly as sent.
        let (_, c) = s.api(Method::GET, &format!("/api/v1/contacts/{bobby}"), &s.admin, None).await;
        assert_eq!((c["first_name"].as_str(), c["last_name"].as_str()), (Some(first), Some(last)), "{b:?}: {c}");

        // Every filter parameter of every GET route, with injection payloads:
        // never a server error, never more data than asked for.
        let payloads = [
            "' OR 1=1 --",
            "\"; DROP TABLE contacts; --",
            "%' OR '%'='",
            "{\"$gt\": \"\"}",
            "1); SELECT pg_sleep(5); --",
            "$.a') OR json_extract(custom, '$') IS NOT NULL --",
        ];
        let params = [
            "q",
            "email",
            "external_id",
            "contact_id",
            "company_id",
            "cursor",
            "limit",
            "action",
            "who",
            "since",
            "until",
            "channel",
            "address",
            "status",
            "format",
            "days",
            "field",
            "value",
            "name",
        ];
        let mut tried = 0;
        for (m, route, _) in kairos_server::access::ROUTES.iter().filter(|(m, _, _)| *m == "GET") {
            let _ = m;
            let path = route
                .replace("{id}", &bobby)
                .replace("{run}", &uuid::Uuid::now_v7().to_string())
                .replace("{name}", "x")
                .replace("{entity}", "contact");
            for p in payloads {
                let qs = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(params.iter().map(|k| (*k, p)))
                    .finish();
                if route.ends_with("/live") {
                    // A stream never ends: its answer is in the status line.
                    let r = s.http.get(format!("{}{path}?{qs}", s.url)).bearer_auth(&s.admin).send().await.unwrap();
                    assert!(!r.status().is_server_error(), "{b:?}: GET {path} with {p:?}: {}", r.status());
                } else {
                    let (st, v) = s.api(Method::GET, &format!("{path}?{qs}"), &s.admin, None).await;
                    assert!(!st.is_server_error(), "{b:?}: GET {path} with {p:?}: {st} {v}");
                }
                tried += 1;
            }
        }
        assert!(tried > 200, "{tried}");
        let (_, all) = s.api(Method::GET, "/api/v1/contacts?limit=100", &s.admin, None).await;
        assert_eq!(all["data"].as_array().unwrap().len(), 2, "{b:?}: nothing dropped or added");
        for (k, v) in [("q", "' OR 1=1 --"), ("email", "x' OR '1'='1"), ("external_id", "bobby' OR '1'='1")] {
            let qs = form_urlencoded::Serializer::new(String::new()).append_pair(k, v).finish();
            let (st, found) = s.api(Method::GET, &format!("/api/v1/contacts?{qs}"), &s.admin, None).await;
            assert!(st == StatusCode::OK || st == StatusCode::UNPROCESSABLE_ENTITY, "{st}");
            assert!(found["data"].as_array().is_none_or(Vec::is_empty), "{b:?}: {k}={v} matched: {found}");
        }
    }
}

#[tokio::test]
async fn contact_lists_sort_by_any_column_page_by_page_and_bad_requests_name_every_problem() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts).await;
        // Mixed case, shared values and missing values: what sorting has to get right.
        let people = [
            ("zoe@example.com", Some("Zoe"), Some("adams"), Some("DE")),
            ("Bob@example.com", Some("bob"), Some("Brown"), None),
            ("al@example.com", None, None, Some("FR")),
            ("carl@example.com", Some("Carl"), Some("brown"), Some("de")),
            ("dora@example.com", Some("Dora"), Some("Adams"), Some("US")),
            ("eve@example.com", Some("eve"), None, Some("FR")),
            ("fred@example.com", Some("Fred"), Some("Brown"), Some("GB")),
        ];
        let mut made: Vec<Value> = Vec::new();
        for (email, first, last, country) in people {
            let (st, c) = s
                .api(
                    Method::POST,
                    "/api/v1/contacts",
                    &s.admin,
                    Some(json!({"email": email, "first_name": first, "last_name": last, "country": country})),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{b:?}: {c}");
            made.push(c);
        }
        // Updated in another order than created.
        for i in [3, 0, 5] {
            let id = made[i]["id"].as_str().unwrap().to_string();
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            let (st, c) = s
                .api(Method::PATCH, &format!("/api/v1/contacts/{id}"), &s.admin, Some(json!({"locale": "en-GB"})))
                .await;
            assert_eq!(st, StatusCode::OK, "{c}");
            made[i] = c;
        }
        let id_of = |c: &Value| c["id"].as_str().unwrap().to_string();
        for sort in [
            "id",
            "-id",
            "email",
            "-email",
            "first_name",
            "-first_name",
            "last_name",
            "-last_name",
            "country",
            "-country",
            "created_at",
            "-created_at",
            "updated_at",
            "-updated_at",
        ] {
            let (desc, col) = match sort.strip_prefix('-') {
                Some(c) => (true, c),
                None => (false, sort),
            };
            // The expected order: case ignored, contacts without the value last either way, ties by id.
            let mut want = made.clone();
            want.sort_by(|x, y| {
                let key = |c: &Value| match &c[col] {
                    Value::String(t) if col.ends_with("_at") => (false, chrono_ms(t).to_string()),
                    Value::String(t) if col == "id" => (false, t.clone()),
                    Value::String(t) => (false, t.to_lowercase()),
                    _ => (true, String::new()),
                };
                let (kx, ky) = (key(x), key(y));
                let by_ms = |a: &str, b: &str| a.parse::<i64>().unwrap().cmp(&b.parse::<i64>().unwrap());
                let value_order = if col.ends_with("_at") { by_ms(&kx.1, &ky.1) } else { kx.1.cmp(&ky.1) }
                    .then(id_of(x).cmp(&id_of(y)));
                kx.0.cmp(&ky.0).then(if desc { value_order.reverse() } else { value_order })
            });
            let want: Vec<String> = want.iter().map(id_of).collect();
            let mut got = Vec::new();
            let mut cursor: Option<String> = None;
            for _ in 0..10 {
                let url = match &cursor {
                    Some(c) => format!("/api/v1/contacts?sort={sort}&limit=2&cursor={c}"),
                    None => format!("/api/v1/contacts?sort={sort}&limit=2"),
                };
                let (st, page) = s.api(Method::GET, &url, &s.admin, None).await;
                assert_eq!(st, StatusCode::OK, "{b:?} {sort}: {page}");
                got.extend(page["data"].as_array().unwrap().iter().map(id_of));
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_string()),
                    None => break,
                }
            }
            assert_eq!(got, want, "{b:?}: sort={sort}, two at a time");
        }
        // A cursor of one sort is refused by another, saying which.
        let (_, page) = s.api(Method::GET, "/api/v1/contacts?sort=-last_name&limit=2", &s.admin, None).await;
        let cursor = page["next_cursor"].as_str().unwrap().to_string();
        let (st, p) = s.api(Method::GET, &format!("/api/v1/contacts?sort=email&cursor={cursor}"), &s.admin, None).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            p["errors"][0]["message"],
            json!("is a cursor for sort=-last_name; this request asks for sort=email")
        );

        // Every bad parameter is named in one answer.
        let (st, p) = s
            .api(
                Method::GET,
                "/api/v1/contacts?sort=shoe_size&limit=0&updated_since=yesterday&colour=red",
                &s.admin,
                None,
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        let mut paths: Vec<&str> =
            p["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
        paths.sort();
        assert_eq!(paths, ["colour", "limit", "sort", "updated_since"], "{p}");
        assert!(p["detail"].as_str().unwrap().contains("sort: \"shoe_size\" is not a sort"), "{p}");
        // And every bad field of a contact.
        let (st, p) = s
            .api(
                Method::POST,
                "/api/v1/contacts",
                &s.admin,
                Some(json!({"email": "nope@", "country": "Atlantis", "timezone": "not a zone", "first_name": "Ok"})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        let mut paths: Vec<&str> =
            p["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
        paths.sort();
        assert_eq!(paths, ["country", "email", "timezone"], "{b:?}: {p}");
        let (_, all) = s.api(Method::GET, "/api/v1/contacts?q=Ok", &s.admin, None).await;
        assert_eq!(all["data"].as_array().unwrap().len(), 0, "nothing of a refused contact was kept");
    }
}

/// Milliseconds of an RFC 3339 instant.
fn chrono_ms(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp_millis()
}

/// A contact page's live timeline: the stream says `activity` when an event
/// of that contact is stored, stays quiet for other contacts' events, and an
/// unknown contact, or another workspace's, is a 404.
#[tokio::test]
async fn the_live_timeline_hears_of_a_contacts_new_events() {
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts).await;
        for u in ["ann", "bob"] {
            let body =
                json!({"userId": u, "messageId": format!("id-{u}"), "traits": {"email": format!("{u}@example.com")}});
            assert_eq!(s.track("/v1/identify", body).await.0, StatusCode::OK);
        }
        let mut ids = Vec::new();
        for u in ["ann", "bob"] {
            let mut id = None;
            for _ in 0..200 {
                let (_, page) = s.api(Method::GET, &format!("/api/v1/contacts?external_id={u}"), &s.admin, None).await;
                if let Some(x) = page["data"][0]["id"].as_str() {
                    id = Some(x.to_string());
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            ids.push(id.expect("the contact is stored"));
        }
        let (ann, bob) = (&ids[0], &ids[1]);
        let live = |id: &str, key: &str| {
            s.http.get(format!("{}/api/v1/contacts/{id}/events/live", s.url)).bearer_auth(key.to_string()).send()
        };
        assert_eq!(live(&uuid::Uuid::now_v7().to_string(), &s.admin).await.unwrap().status(), StatusCode::NOT_FOUND);
        assert_eq!(live(ann, &s.other_admin).await.unwrap().status(), StatusCode::NOT_FOUND, "{b:?}");
        let mut stream = live(ann, &s.admin).await.unwrap();
        assert_eq!(stream.status(), StatusCode::OK);
        assert_eq!(stream.headers()["content-type"], "text/event-stream");

        // Bob's event, stored: nothing for Ann.
        let ev = |u: &str, m: &str| json!({"userId": u, "event": "Page Opened", "messageId": m});
        assert_eq!(s.track("/v1/track", ev("bob", "b1")).await.0, StatusCode::OK);
        for _ in 0..200 {
            let (_, page) = s.api(Method::GET, &format!("/api/v1/contacts/{bob}/events"), &s.admin, None).await;
            if page["data"].as_array().unwrap().iter().any(|e| e["name"] == "Page Opened") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let quiet = tokio::time::timeout(std::time::Duration::from_millis(300), stream.chunk()).await;
        assert!(quiet.is_err(), "{b:?}: nothing is said for another contact's event: {quiet:?}");

        // Ann's event: the stream says so.
        assert_eq!(s.track("/v1/track", ev("ann", "a1")).await.0, StatusCode::OK);
        let heard = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            let mut text = String::new();
            while let Some(chunk) = stream.chunk().await.unwrap() {
                text.push_str(&String::from_utf8_lossy(&chunk));
                if text.contains("event: activity") {
                    return text;
                }
            }
            text
        })
        .await
        .expect("the stream speaks when Ann's event is stored");
        assert!(heard.contains("event: activity\ndata: {}"), "{b:?}: {heard:?}");
    }
}
