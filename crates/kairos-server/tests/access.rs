//! Access control end to end, on each store backend behind a real server:
//! every REST route tried by every role (signed in with a session and with a
//! key of that role), sign-in with lockout, CSRF, sessions ending at sign-out
//! and on password change, role changes taking effect at once, the last
//! owner kept, key expiry and revocation, workspaces isolated, and the audit
//! trail recording it all.

use chrono::{Duration, Utc};
use kairos_core::access::{Permission, Role};
use kairos_core::apikey::Scope;
use kairos_core::clock::ManualClock;
use kairos_engine::Engine;
use kairos_server::access::ROUTES;
use kairos_server::{enrol, issue_key, serve, AppState};
use kairos_store::testing;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

const PASSWORD: &str = "a long enough passphrase";

struct Server {
    url: String,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
    acme: kairos_core::ids::WorkspaceId,
    _store: testing::TestStore,
}

/// A signed-in browser: its cookie and CSRF token.
#[derive(Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

enum Who<'a> {
    Session(&'a Session),
    Key(&'a str),
    Nobody,
}

impl Server {
    async fn start(ts: testing::TestStore) -> Server {
        let store = ts.store.clone();
        let now = Utc::now();
        let mut tx = store.begin_write().await.unwrap();
        let acme = tx.create_workspace("acme", now).await.unwrap().id;
        let globex = tx.create_workspace("globex", now).await.unwrap().id;
        tx.commit().await.unwrap();
        for role in Role::ALL {
            let email = format!("{}@acme.test", role.as_str());
            enrol(&store, acme, &email, Some(role.as_str()), role, Some(PASSWORD.into()), "test", now).await.unwrap();
        }
        // The marketer also belongs to globex, as its owner.
        enrol(&store, globex, "marketer@acme.test", None, Role::Owner, None, "test", now).await.unwrap();
        let clock = Arc::new(ManualClock::new(now));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let engine = Engine::start(store, clock.clone());
        tokio::spawn(serve(listener, AppState::new(engine), std::future::pending()));
        Server { url, http: reqwest::Client::new(), clock, acme, _store: ts }
    }

    async fn call(&self, method: Method, path: &str, who: &Who<'_>, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        match who {
            Who::Session(s) => {
                req = req.header("cookie", format!("kairos_session={}", s.cookie)).header("x-csrf-token", &s.csrf)
            }
            Who::Key(k) => req = req.bearer_auth(k),
            Who::Nobody => {}
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Sign in; returns the raw response for the caller to inspect.
    async fn login_raw(&self, email: &str, password: &str, workspace: Option<&str>) -> reqwest::Response {
        let mut body = json!({"email": email, "password": password});
        if let Some(w) = workspace {
            body["workspace"] = json!(w);
        }
        self.http.post(format!("{}/api/v1/auth/login", self.url)).json(&body).send().await.unwrap()
    }

    async fn login(&self, email: &str) -> Session {
        let r = self.login_raw(email, PASSWORD, None).await;
        assert_eq!(r.status(), StatusCode::OK, "sign-in of {email}");
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        let v: Value = r.json().await.unwrap();
        let secret = cookie.split(';').next().unwrap().strip_prefix("kairos_session=").unwrap().to_string();
        Session { cookie: secret, csrf: v["csrf_token"].as_str().unwrap().to_string() }
    }
}

/// A concrete path for a route pattern.
fn concrete(route: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    route
        .replace("{entity}", "contact")
        .replace("{name}", "nosuchthing")
        .replace("{id}", &id)
        .replace("{company_id}", &id)
        .replace("{run}", &id)
        .replace("{key}", "nosuchthing")
}

fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).unwrap()
}

#[tokio::test]
async fn every_route_refuses_exactly_the_roles_without_its_permission() {
    for ts in testing::all().await {
        let backend = ts.backend();
        let s = Server::start(ts).await;

        // The route table and the OpenAPI document list the same routes.
        let doc: Value =
            s.http.get(format!("{}/api/v1/openapi.json", s.url)).send().await.unwrap().json().await.unwrap();
        let mut documented = BTreeSet::new();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for m in ops.as_object().unwrap().keys() {
                // The table covers the REST API; public pages such as the
                // hosted forms' JSON submission (`/f/{id}`) need no caller.
                if path.starts_with("/api/v1/") && path != "/api/v1/auth/login" {
                    documented.insert((m.to_uppercase(), path.clone()));
                }
            }
        }
        let listed: BTreeSet<(String, String)> =
            ROUTES.iter().map(|(m, r, _)| (m.to_string(), r.to_string())).collect();
        assert_eq!(documented, listed, "routes in the OpenAPI document vs the access table");

        let mut sessions = Vec::new();
        for role in Role::ALL {
            sessions.push((role, s.login(&format!("{}@acme.test", role.as_str())).await));
        }
        let mut keys = Vec::new();
        for scope in [Scope::Admin, Scope::Marketer, Scope::Analyst, Scope::Compliance] {
            let (_, secret) = issue_key(&s._store.store, s.acme, "matrix", scope, Utc::now()).await.unwrap();
            keys.push((scope.role().unwrap(), secret));
        }

        let mut tried = 0;
        for (m, route, needed) in ROUTES {
            // Signing out would end the session the rest of the loop uses; it
            // is tried on its own below.
            if *route == "/api/v1/auth/logout" {
                continue;
            }
            let body = (*m != "GET" && *m != "DELETE").then(|| json!({}));
            for (role, session) in &sessions {
                let (st, v) = s.call(method(m), &concrete(route), &Who::Session(session), body.clone()).await;
                check(backend, role, m, route, *needed, st, &v);
                tried += 1;
            }
            for (role, key) in &keys {
                let (st, v) = s.call(method(m), &concrete(route), &Who::Key(key), body.clone()).await;
                check(backend, role, m, route, *needed, st, &v);
                tried += 1;
            }
            let (st, _) = s.call(method(m), &concrete(route), &Who::Nobody, body.clone()).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{backend:?} {m} {route} without credentials");
        }
        assert!(tried > 1000, "{tried}");

        // The policy for the sensitive routes, written out by hand (not read
        // from the route table), so a wrong entry in the table fails here.
        use Role::*;
        let expected: &[(&str, &str, &[Role])] = &[
            ("POST", "/api/v1/contacts/{id}/erase", &[Owner, Admin, Compliance]),
            ("GET", "/api/v1/contacts/{id}/export", &[Owner, Admin, Compliance]),
            ("PUT", "/api/v1/contacts/{id}/consents", &[Owner, Admin, Compliance]),
            ("POST", "/api/v1/forms", &[Owner, Admin, Compliance]),
            ("PATCH", "/api/v1/forms/{id}", &[Owner, Admin, Compliance]),
            ("GET", "/api/v1/forms", &[Owner, Admin, Marketer, Compliance]),
            ("GET", "/api/v1/contacts/{id}/consents", &[Owner, Admin, Marketer, Compliance]),
            ("DELETE", "/api/v1/suppressions", &[Owner, Admin, Compliance]),
            ("PUT", "/api/v1/retention", &[Owner, Admin, Compliance]),
            ("GET", "/api/v1/audit", &[Owner, Admin, Compliance]),
            ("GET", "/api/v1/audit.csv", &[Owner, Admin, Compliance]),
            ("POST", "/api/v1/keys", &[Owner, Admin]),
            ("GET", "/api/v1/keys", &[Owner, Admin]),
            ("POST", "/api/v1/users", &[Owner, Admin]),
            ("PUT", "/api/v1/settings", &[Owner, Admin]),
            ("PATCH", "/api/v1/settings", &[Owner, Admin]),
            ("POST", "/api/v1/email/senders", &[Owner, Admin]),
            ("POST", "/api/v1/webhook-endpoints", &[Owner, Admin]),
            ("GET", "/api/v1/contacts", &[Owner, Admin, Marketer, Compliance]),
            ("GET", "/api/v1/contacts/{id}/events", &[Owner, Admin, Marketer, Compliance]),
            ("GET", "/api/v1/segments/{id}/members.csv", &[Owner, Admin, Marketer, Compliance]),
            ("GET", "/api/v1/email/messages/{id}/raw", &[Owner, Admin, Marketer, Compliance]),
            ("PATCH", "/api/v1/contacts/{id}", &[Owner, Admin, Marketer]),
            ("POST", "/api/v1/journeys/{id}/publish", &[Owner, Admin, Marketer]),
            ("POST", "/api/v1/email/campaigns/{id}/launch", &[Owner, Admin, Marketer]),
            ("POST", "/api/v1/segments", &[Owner, Admin, Marketer]),
            ("GET", "/api/v1/segments/{id}/count", &[Owner, Admin, Marketer, Analyst, Compliance]),
            ("GET", "/api/v1/email/campaigns/{id}/report", &[Owner, Admin, Marketer, Analyst, Compliance]),
            ("GET", "/api/v1/workspace", &[Owner, Admin, Marketer, Analyst, Compliance]),
        ];
        for (m, route, allowed) in expected {
            for (role, session) in &sessions {
                let body = (*m != "GET" && *m != "DELETE").then(|| json!({}));
                let (st, v) = s.call(method(m), &concrete(route), &Who::Session(session), body).await;
                let what = format!("{backend:?} {} {m} {route}: {st} {v}", role.as_str());
                if allowed.contains(role) {
                    assert!(
                        st != StatusCode::FORBIDDEN && st != StatusCode::UNAUTHORIZED,
                        "allowed but refused: {what}"
                    );
                } else {
                    assert_eq!(st, StatusCode::FORBIDDEN, "refused expected: {what}");
                }
            }
        }

        // The policy as written by hand, spot-checked through the server.
        let analyst = &sessions.iter().find(|(r, _)| *r == Role::Analyst).unwrap().1;
        let (st, v) = s.call(Method::GET, "/api/v1/contacts", &Who::Session(analyst), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
        assert!(v["detail"].as_str().unwrap().contains("the analyst role may not"), "{v}");
        let (st, _) = s.call(Method::GET, "/api/v1/workspace", &Who::Session(analyst), None).await;
        assert_eq!(st, StatusCode::OK);
        let marketer = &sessions.iter().find(|(r, _)| *r == Role::Marketer).unwrap().1;
        let (st, _) = s.call(Method::GET, "/api/v1/audit", &Who::Session(marketer), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let compliance = &sessions.iter().find(|(r, _)| *r == Role::Compliance).unwrap().1;
        let (st, _) = s.call(Method::GET, "/api/v1/audit", &Who::Session(compliance), None).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) =
            s.call(Method::POST, "/api/v1/journeys", &Who::Session(compliance), Some(json!({"name": "x"}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
    }
}

fn check(
    backend: kairos_store::Backend,
    role: &Role,
    m: &str,
    route: &str,
    needed: Permission,
    st: StatusCode,
    v: &Value,
) {
    let what = format!("{backend:?} {} {m} {route} (needs {}): {st} {v}", role.as_str(), needed.as_str());
    if role.allows(needed) {
        assert!(st != StatusCode::FORBIDDEN && st != StatusCode::UNAUTHORIZED, "allowed but refused: {what}");
        assert!(st != StatusCode::INTERNAL_SERVER_ERROR, "server error: {what}");
    } else {
        assert_eq!(st, StatusCode::FORBIDDEN, "refused expected: {what}");
        assert!(v["detail"].as_str().unwrap_or_default().contains("may not"), "{what}");
    }
}

#[tokio::test]
async fn sessions_lockout_csrf_roles_keys_and_audit() {
    for ts in testing::all().await {
        let b = ts.backend();
        let s = Server::start(ts).await;

        // A sign-in sets an HttpOnly, SameSite=Strict cookie and says what the role may do.
        let r = s.login_raw("MARKETER@acme.test", PASSWORD, None).await;
        assert_eq!(r.status(), StatusCode::OK, "{b:?}: email case does not matter");
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"),
            "{cookie}"
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["role"], "marketer");
        assert_eq!(v["workspace"]["name"], "acme");
        assert!(v["permissions"].as_array().unwrap().contains(&json!("people:write")));
        assert!(!v["permissions"].as_array().unwrap().contains(&json!("consent:write")));
        assert_eq!(v["workspaces"].as_array().unwrap().len(), 2, "{v}");

        // Wrong password and unknown account look the same.
        let r = s.login_raw("marketer@acme.test", "not the password at all", None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let wrong: Value = r.json().await.unwrap();
        let r = s.login_raw("nobody@acme.test", "not the password at all", None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let unknown: Value = r.json().await.unwrap();
        assert_eq!(wrong["detail"], unknown["detail"]);

        // CSRF: a change without the token is refused; with it, it goes through.
        let m = s.login("marketer@acme.test").await;
        let no_token = Session { cookie: m.cookie.clone(), csrf: String::new() };
        let (st, v) =
            s.call(Method::POST, "/api/v1/lists", &Who::Session(&no_token), Some(json!({"name": "VIP"}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
        assert!(v["detail"].as_str().unwrap().contains("X-CSRF-Token"), "{v}");
        let (st, v) = s.call(Method::GET, "/api/v1/lists", &Who::Session(&no_token), None).await;
        assert_eq!(st, StatusCode::OK, "reads need no token: {v}");
        let (st, v) = s.call(Method::POST, "/api/v1/lists", &Who::Session(&m), Some(json!({"name": "VIP"}))).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");

        // Switching workspace: the marketer owns globex.
        let (st, v) =
            s.call(Method::POST, "/api/v1/auth/switch", &Who::Session(&m), Some(json!({"workspace": "globex"}))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!((v["workspace"]["name"].as_str(), v["role"].as_str()), (Some("globex"), Some("owner")));
        let (st, v) = s.call(Method::GET, "/api/v1/lists", &Who::Session(&m), None).await;
        assert_eq!((st, v["data"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "globex has no lists: {v}");
        let (st, _) =
            s.call(Method::POST, "/api/v1/auth/switch", &Who::Session(&m), Some(json!({"workspace": "initech"}))).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        // Signing in again takes them where they last worked.
        let again: Value = s.login_raw("marketer@acme.test", PASSWORD, None).await.json().await.unwrap();
        assert_eq!(again["workspace"]["name"], "globex", "{again}");
        s.call(Method::POST, "/api/v1/auth/switch", &Who::Session(&m), Some(json!({"workspace": "acme"}))).await;
        let again: Value = s.login_raw("marketer@acme.test", PASSWORD, None).await.json().await.unwrap();
        assert_eq!(again["workspace"]["name"], "acme", "{again}");

        // Role changes take effect at once; only owners make owners; the last owner stays.
        let owner = s.login("owner@acme.test").await;
        let admin = s.login("admin@acme.test").await;
        let (_, members) = s.call(Method::GET, "/api/v1/users", &Who::Session(&owner), None).await;
        let id_of = |email: &str| {
            members.as_array().unwrap().iter().find(|u| u["email"] == email).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let (marketer_id, owner_id) = (id_of("marketer@acme.test"), id_of("owner@acme.test"));
        let (st, _) = s
            .call(
                Method::PATCH,
                &format!("/api/v1/users/{marketer_id}"),
                &Who::Session(&admin),
                Some(json!({"role": "owner"})),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{b:?}: an admin cannot make an owner");
        let (st, v) = s
            .call(
                Method::PATCH,
                &format!("/api/v1/users/{owner_id}"),
                &Who::Session(&owner),
                Some(json!({"role": "admin"})),
            )
            .await;
        assert_eq!(st, StatusCode::CONFLICT, "the last owner: {v}");
        let (st, _) = s
            .call(
                Method::PATCH,
                &format!("/api/v1/users/{marketer_id}"),
                &Who::Session(&admin),
                Some(json!({"role": "analyst"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = s.call(Method::GET, "/api/v1/contacts", &Who::Session(&m), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "demoted to analyst: no more contacts");

        // Adding someone: a weak password is refused with the reason; a new member can sign in.
        let (st, v) = s
            .call(
                Method::POST,
                "/api/v1/users",
                &Who::Session(&admin),
                Some(json!({"email": "new@acme.test", "name": "New", "role": "compliance", "password": "short"})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["errors"][0]["path"], "password", "{v}");
        let (st, v) = s
            .call(
                Method::POST,
                "/api/v1/users",
                &Who::Session(&admin),
                Some(json!({"email": "New@Acme.test", "name": "New", "role": "compliance", "password": PASSWORD})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert_eq!(v["email"], "new@acme.test");
        let newcomer = s.login("new@acme.test").await;

        // Removing someone ends their session here at once.
        let new_id = v["id"].as_str().unwrap().to_string();
        let (st, _) = s.call(Method::DELETE, &format!("/api/v1/users/{new_id}"), &Who::Session(&admin), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = s.call(Method::GET, "/api/v1/auth/session", &Who::Session(&newcomer), None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);

        // Lockout: five wrong passwords lock the account, even against the right one.
        for i in 0..5 {
            let r = s.login_raw("analyst@acme.test", "guess guess guess", None).await;
            let want = if i < 4 { StatusCode::UNAUTHORIZED } else { StatusCode::TOO_MANY_REQUESTS };
            assert_eq!(r.status(), want, "{b:?}: attempt {}", i + 1);
        }
        let r = s.login_raw("analyst@acme.test", PASSWORD, None).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: i64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((14 * 60..=15 * 60).contains(&wait), "Retry-After {wait}");
        let v: Value = r.json().await.unwrap();
        assert!(v["detail"].as_str().unwrap().contains("locked"), "{v}");
        // The lock ends by itself after 15 minutes, or when an admin lifts it.
        s.clock.advance(Duration::minutes(16));
        let r = s.login_raw("analyst@acme.test", PASSWORD, None).await;
        assert_eq!(r.status(), StatusCode::OK, "{b:?}: lock expired");
        for _ in 0..5 {
            s.login_raw("analyst@acme.test", "guess guess guess", None).await;
        }
        let analyst_id = id_of("analyst@acme.test");
        let (st, _) =
            s.call(Method::POST, &format!("/api/v1/users/{analyst_id}/unlock"), &Who::Session(&admin), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let analyst = s.login("analyst@acme.test").await;

        // A wrong current password is refused on its field.
        let (st, v) = s
            .call(
                Method::POST,
                "/api/v1/auth/password",
                &Who::Session(&analyst),
                Some(json!({"current_password": "not it at all", "new_password": "an even longer passphrase"})),
            )
            .await;
        assert_eq!((st, v["errors"][0]["path"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("current_password")));
        // A password change ends the user's other sessions but not this one.
        let (st, v) = s
            .call(
                Method::POST,
                "/api/v1/auth/password",
                &Who::Session(&analyst),
                Some(json!({"current_password": PASSWORD, "new_password": "an even longer passphrase"})),
            )
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
        let (st, _) = s.call(Method::GET, "/api/v1/auth/session", &Who::Session(&analyst), None).await;
        assert_eq!(st, StatusCode::OK);
        let r = s.login_raw("analyst@acme.test", PASSWORD, None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "old password");

        // Sign-out ends the session and clears the cookie.
        let r = s
            .http
            .post(format!("{}/api/v1/auth/logout", s.url))
            .header("cookie", format!("kairos_session={}", analyst.cookie))
            .header("x-csrf-token", &analyst.csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert!(r.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
        let (st, _) = s.call(Method::GET, "/api/v1/auth/session", &Who::Session(&analyst), None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);

        // Keys: scoped to a role, expiring, revocable; an admin cannot mint what it may not assign.
        let (st, v) = s
            .call(Method::POST, "/api/v1/keys", &Who::Session(&admin),
                Some(json!({"name": "bi tool", "scope": "analyst", "expires_at": (Utc::now() + Duration::days(1)).to_rfc3339()})))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert_eq!(v["created_by"], "user:admin@acme.test");
        let bi = v["secret"].as_str().unwrap().to_string();
        let bi_id = v["id"].as_str().unwrap().to_string();
        let (st, _) = s.call(Method::GET, "/api/v1/segments", &Who::Key(&bi), None).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = s.call(Method::GET, "/api/v1/contacts", &Who::Key(&bi), None).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, v) = s
            .call(
                Method::POST,
                "/api/v1/keys",
                &Who::Session(&admin),
                Some(json!({"name": "past", "scope": "admin", "expires_at": "2020-01-01T00:00:00Z"})),
            )
            .await;
        assert_eq!((st, v["errors"][0]["path"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("expires_at")));
        let (st, v) = s
            .call(Method::POST, "/api/v1/keys", &Who::Session(&admin), Some(json!({"name": "x", "scope": "root"})))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        s.clock.advance(Duration::days(2));
        // Sessions last 12 hours: sign in again after two days.
        let admin = s.login("admin@acme.test").await;
        let owner = s.login("owner@acme.test").await;
        let (st, v) = s.call(Method::GET, "/api/v1/segments", &Who::Key(&bi), None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert!(v["detail"].as_str().unwrap().contains("expired"), "{v}");
        let (_, v) = s
            .call(
                Method::POST,
                "/api/v1/keys",
                &Who::Session(&admin),
                Some(json!({"name": "ops", "scope": "compliance"})),
            )
            .await;
        let ops = v["secret"].as_str().unwrap().to_string();
        let (st, _) = s.call(Method::GET, "/api/v1/audit", &Who::Key(&ops), None).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = s
            .call(Method::DELETE, &format!("/api/v1/keys/{}", v["id"].as_str().unwrap()), &Who::Session(&admin), None)
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, v) = s.call(Method::GET, "/api/v1/audit", &Who::Key(&ops), None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "revoked at once: {v}");

        // Another workspace's things are not found, even for its own owner's session.
        let (st, v) = s.call(Method::GET, "/api/v1/lists", &Who::Session(&owner), None).await;
        let vip = v["data"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(st, StatusCode::OK);
        let globex_owner = s.login("marketer@acme.test").await;
        s.call(Method::POST, "/api/v1/auth/switch", &Who::Session(&globex_owner), Some(json!({"workspace": "globex"})))
            .await;
        let (st, _) = s.call(Method::GET, &format!("/api/v1/lists/{vip}"), &Who::Session(&globex_owner), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b:?}: cross-workspace read");
        let (st, _) =
            s.call(Method::DELETE, &format!("/api/v1/keys/{bi_id}"), &Who::Session(&globex_owner), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b:?}: cross-workspace revoke");

        // The audit trail saw it all, filterable and exportable.
        let (st, v) = s.call(Method::GET, "/api/v1/audit?action=user.&limit=1000", &Who::Session(&owner), None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let actions: Vec<&str> = v["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        for want in [
            "user.signed_in",
            "user.sign_in_failed",
            "user.locked",
            "user.unlocked",
            "user.password_changed",
            "user.signed_out",
        ] {
            assert!(actions.contains(&want), "{b:?}: {want} missing from {actions:?}");
        }
        assert!(actions.iter().all(|a| a.starts_with("user.")));
        let (_, v) = s.call(Method::GET, "/api/v1/audit?action=key.", &Who::Session(&owner), None).await;
        let actions: Vec<&str> = v["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"key.created") && actions.contains(&"key.revoked"), "{actions:?}");
        let (_, v) = s
            .call(Method::GET, "/api/v1/audit?action=member.&who=user:admin@acme.test", &Who::Session(&owner), None)
            .await;
        let actions: Vec<&str> = v["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["member.removed", "member.added", "member.role_changed"], "{v}");
        // Paging: two at a time reaches the same entries.
        let (_, first) = s.call(Method::GET, "/api/v1/audit?limit=2", &Who::Session(&owner), None).await;
        let cursor = first["next_cursor"].as_str().unwrap();
        let (_, second) =
            s.call(Method::GET, &format!("/api/v1/audit?limit=2&cursor={cursor}"), &Who::Session(&owner), None).await;
        let (_, four) = s.call(Method::GET, "/api/v1/audit?limit=4", &Who::Session(&owner), None).await;
        let ids = |v: &Value| v["data"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect::<Vec<_>>();
        assert_eq!([ids(&first), ids(&second)].concat(), ids(&four));
        let (st, v) = s.call(Method::GET, "/api/v1/audit?since=yesterday", &Who::Session(&owner), None).await;
        assert_eq!((st, v["errors"][0]["path"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("since")));
        let r = s
            .http
            .get(format!("{}/api/v1/audit.csv?action=member.", s.url))
            .header("cookie", format!("kairos_session={}", owner.cookie))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let csv = r.text().await.unwrap();
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("id,at,actor,action,subject,detail"));
        assert_eq!(lines.filter(|l| l.contains("member.")).count(), 8, "{csv}");
    }
}

#[tokio::test]
async fn guessing_across_accounts_is_limited_per_address() {
    let s = Server::start(testing::sqlite().await).await;
    for i in 0..kairos_server::api::auth::FAILURES_PER_ADDRESS {
        let r = s.login_raw(&format!("guess{i}@acme.test"), "whatever whatever", None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = s.login_raw("owner@acme.test", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "the address is refused, even with the right password");
}
