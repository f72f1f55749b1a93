//! The test server the API tests share: a real `kairos` HTTP server on a
//! loopback port over a given store and manual clock, with an admin and a
//! write key, and helpers to call it and to poll until the engine (which
//! works asynchronously after each acknowledgement) has caught up.
#![allow(dead_code)]

use chrono::Utc;
use kairos_core::apikey::Scope;
use kairos_core::clock::ManualClock;
use kairos_engine::{Engine, EngineOptions};
use kairos_server::{issue_key, serve, AppState};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

pub struct Server {
    pub url: String,
    pub admin: String,
    pub write: String,
    pub http: reqwest::Client,
}

impl Server {
    pub async fn start(store: kairos_store::Store, clock: Arc<ManualClock>, keys: Option<(String, String)>) -> Server {
        Server::start_with(store, clock, keys, EngineOptions::default()).await
    }

    pub async fn start_with(
        store: kairos_store::Store,
        clock: Arc<ManualClock>,
        keys: Option<(String, String)>,
        mut options: EngineOptions,
    ) -> Server {
        let (admin, write) = match keys {
            Some(k) => k,
            None => {
                let mut tx = store.begin_write().await.unwrap();
                let ws = tx.create_workspace("acme", Utc::now()).await.unwrap().id;
                tx.commit().await.unwrap();
                let (_, admin) = issue_key(&store, ws, "admin", Scope::Admin, Utc::now()).await.unwrap();
                let (_, write) = issue_key(&store, ws, "write", Scope::Write, Utc::now()).await.unwrap();
                (admin, write)
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        // Tracking and unsubscribe links point at this server.
        options.email.public_url = url.clone();
        let engine = Engine::start_with(store, clock, options);
        tokio::spawn(serve(listener, AppState::new(engine), std::future::pending()));
        Server { url, admin, write, http: reqwest::Client::new() }
    }

    /// A server whose email is captured rather than sent, ready to send
    /// marketing: a postal address, a sender and an HTML template "News".
    pub async fn start_capturing_news(store: kairos_store::Store, clock: Arc<ManualClock>) -> Server {
        let options = EngineOptions {
            email: kairos_engine::EmailOptions {
                transport: kairos_engine::EmailTransport::Capture,
                ..kairos_engine::EmailOptions::default()
            },
            ..EngineOptions::default()
        };
        let s = Server::start_with(store, clock, None, options).await;
        let (st, v) =
            s.api(Method::PUT, "/api/v1/settings", Some(json!({"postal_address": "Acme, 1 Main St, 12345"}))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, v) = s.api(Method::POST, "/api/v1/email/senders", Some(json!({"email": "news@acme.example"}))).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/email/templates",
                Some(json!({"name": "News", "subject": "News", "format": "html", "body": "<p>Hello</p>"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        s
    }

    pub async fn track(&self, body: Value) {
        let r = self
            .http
            .post(format!("{}/v1/batch", self.url))
            .basic_auth(&self.write, Some(""))
            .json(&json!({"batch": [body]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    }

    pub async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url)).bearer_auth(&self.admin);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> Value {
        let (st, v) = self.api(Method::GET, path, None).await;
        assert_eq!(st, StatusCode::OK, "GET {path}: {v}");
        v
    }

    pub async fn contact_id(&self, user: &str) -> String {
        let v = self.get(&format!("/api/v1/contacts?external_id={user}")).await;
        v["data"][0]["id"].as_str().unwrap_or_else(|| panic!("no contact {user}: {v}")).to_string()
    }

    /// Poll until `f` holds of the GET response (the engine works
    /// asynchronously after each acknowledgement).
    pub async fn until(&self, path: &str, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..200 {
            let (st, v) = self.api(Method::GET, path, None).await;
            if st == StatusCode::OK && f(&v) {
                return v;
            }
            last = v;
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what} at {path}; last response: {last}");
    }

    /// The body of a GET as text (raw messages, CSV).
    pub async fn text(&self, path: &str) -> String {
        let r = self.http.get(format!("{}{path}", self.url)).bearer_auth(&self.admin).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.text().await.unwrap()
    }

    /// A person who identified with `{user}@example.org` and `traits`, and
    /// granted email marketing consent; their contact id.
    pub async fn consenting_person(&self, user: &str, traits: Value) -> String {
        let mut all = json!({"email": format!("{user}@example.org")});
        if let (Some(a), Some(t)) = (all.as_object_mut(), traits.as_object()) {
            a.extend(t.clone());
        }
        self.track(json!({"type": "identify", "userId": user, "messageId": format!("id-{user}"), "traits": all})).await;
        let id = self.contact_id(user).await;
        let (st, v) = self
            .api(
                Method::PUT,
                &format!("/api/v1/contacts/{id}/consents"),
                Some(
                    json!({"channel": "email", "purpose": "marketing", "state": "granted", "wording": "Email me news"}),
                ),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        id
    }

    /// Open a captured message as a person would: fetch its tracking pixel
    /// with a desktop mail client's user agent.
    pub async fn open_message(&self, id: &str) {
        let raw = self.text(&format!("/api/v1/email/messages/{id}/raw")).await;
        let unfolded = raw.replace("=\r\n", "").replace("=3D", "=");
        let pixel = unfolded
            .split("src=\"")
            .filter_map(|p| p.split('"').next())
            .find(|u| u.contains("/t/o/"))
            .unwrap_or_else(|| panic!("no tracking pixel in message {id}"))
            .to_string();
        let r = self
            .http
            .get(pixel)
            .header("user-agent", "Mozilla/5.0 (Windows NT 10.0) Thunderbird/128.0")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "opening {id}: {}", r.status());
    }
}
