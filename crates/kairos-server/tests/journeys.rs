//! Journeys end to end, on each store backend: a real server, real tracking
//! calls, a manual clock moved through a one-day delay and a three-day wait,
//! webhooks delivered to an independent receiver that verifies each
//! signature with the reference Standard Webhooks library (and answers 503
//! twice first, so retries are exercised), a goal that converts, a dead
//! letter that parks a run, publish checks that name the bad node, a dry
//! run, and the refusal of private webhook addresses by default.

mod common;
use chrono::{Duration, Utc};
use common::Server;
use kairos_core::clock::ManualClock;
use kairos_engine::{EngineOptions, OutboxOptions};
use kairos_store::testing::{self, WebhookReceiver};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn options() -> EngineOptions {
    EngineOptions {
        outbox: OutboxOptions {
            allow_private_webhooks: true,
            retry_base: std::time::Duration::from_millis(20),
            max_attempts: 3,
            ..OutboxOptions::default()
        },
        journeys: true,
        ..EngineOptions::default()
    }
}

fn onboarding(list: &str) -> Value {
    json!({
        "trigger": {"type": "event", "event": "Trial Started", "where": [{"property": "plan", "op": "equals", "value": "pro"}]},
        "goals": [{"event": "Order Completed"}],
        "start": "tag",
        "nodes": {
            "tag": {"type": "update_contact", "set": {"stage": "onboarding"}, "next": "score"},
            "score": {"type": "change_score", "score": "engagement", "by": 10, "next": "wait"},
            "wait": {"type": "delay", "duration": {"days": 1}, "next": "activated?"},
            "activated?": {"type": "wait_event", "event": "Activated", "timeout": {"days": 3},
                           "next": "done", "timeout_next": "alert"},
            "alert": {"type": "webhook", "endpoint": "crm", "payload": {"reason": "not activated"}, "next": "vip"},
            "vip": {"type": "add_to_list", "list": list, "next": "done"},
            "done": {"type": "exit"}
        }
    })
}

impl Server {
    /// Like `until_run`, moving the manual clock a second per poll so the
    /// outbox's retry backoff (engine time) comes due.
    async fn until_run_ticking(
        &self,
        clock: &ManualClock,
        contact: &str,
        what: &str,
        f: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut last = Value::Null;
        for _ in 0..200 {
            let v = self.get(&format!("/api/v1/contacts/{contact}/journeys")).await;
            if f(&v["data"][0]) {
                return v["data"][0].clone();
            }
            last = v;
            clock.advance(Duration::seconds(1));
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}; last: {last}");
    }

    async fn until_run(&self, contact: &str, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        self.until(&format!("/api/v1/contacts/{contact}/journeys"), what, |v| f(&v["data"][0])).await["data"][0].clone()
    }
}

#[tokio::test]
async fn journeys_run_as_drawn_through_time_webhooks_goals_and_failures() {
    let Some(receiver) = WebhookReceiver::start(SECRET) else { return };
    for ts in testing::all().await {
        let backend = ts.backend();
        let start = Utc::now();
        let clock = Arc::new(ManualClock::new(start));
        let s = Server::start_with(ts.store.clone(), clock.clone(), None, options()).await;

        let (st, _) = s.api(Method::POST, "/api/v1/fields", Some(json!({"name": "stage", "type": "string"}))).await;
        assert_eq!(st, StatusCode::CREATED);
        let (_, list) = s.api(Method::POST, "/api/v1/lists", Some(json!({"name": "Needs a call"}))).await;
        let list = list["id"].as_str().unwrap().to_string();

        // Publishing checks the whole graph and names the node at fault.
        let (st, j) = s
            .api(
                Method::POST,
                "/api/v1/journeys",
                Some(json!({"name": "Trial onboarding", "definition": onboarding(&list)})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{j}");
        let id = j["id"].as_str().unwrap().to_string();
        assert_eq!(j["status"], "draft");
        let (st, p) = s.api(Method::POST, &format!("/api/v1/journeys/{id}/publish"), None).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(p["errors"][0]["path"], "$.nodes.alert.endpoint");
        assert!(
            p["errors"][0]["message"].as_str().unwrap().contains("node \"alert\": unknown webhook endpoint \"crm\""),
            "{p}"
        );
        let (st, p) = s
            .api(
                Method::POST,
                "/api/v1/journeys",
                Some(json!({"name": "x", "definition": {"trigger": {"type": "api"}, "start": "a",
                "nodes": {"a": {"type": "delay", "duration": {"weeks": 1}, "next": "a"}}}})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            p["detail"].as_str().unwrap().contains("$.nodes.a.duration (node \"a\"): unexpected key \"weeks\""),
            "{p}"
        );

        let (st, e) = s
            .api(
                Method::POST,
                "/api/v1/webhook-endpoints",
                Some(json!({"id": "crm", "url": format!("{}/flaky", receiver.url), "secret": SECRET})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{e}");
        let (st, e) = s
            .api(
                Method::POST,
                "/api/v1/webhook-endpoints",
                Some(json!({"id": "pager", "url": format!("{}/down", receiver.url), "secret": SECRET})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{e}");
        let (st, j) = s.api(Method::POST, &format!("/api/v1/journeys/{id}/publish"), None).await;
        assert_eq!((st, j["status"].clone(), j["version"].clone()), (StatusCode::OK, json!("active"), json!(1)), "{j}");

        // Trials start: u1 and u2 on pro enter; u3 on free does not match.
        for (u, plan) in [("u1", "pro"), ("u2", "pro"), ("u3", "free"), ("u4", "pro")] {
            s.track(json!({"type": "identify", "userId": u, "messageId": format!("{backend:?}-id-{u}"),
                "traits": {"email": format!("{u}@example.com")}}))
                .await;
            s.track(json!({"type": "track", "userId": u, "event": "Trial Started", "messageId": format!("{backend:?}-ts-{u}"),
                "properties": {"plan": plan}}))
                .await;
        }
        let (u1, u2, u3, u4) =
            (s.contact_id("u1").await, s.contact_id("u2").await, s.contact_id("u3").await, s.contact_id("u4").await);
        // The first step commits with its trigger: the acknowledgement of the
        // tracking call finds the run at its delay, with its field and score
        // changes stored, without waiting for anything.
        let r1 = s.get(&format!("/api/v1/contacts/{u1}/journeys")).await["data"][0].clone();
        assert_eq!(r1["run"]["status"], "delayed", "{r1}");
        assert_eq!(r1["run"]["node"], "wait");
        let steps: Vec<_> = r1["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| format!("{}:{}", p["node"].as_str().unwrap(), p["outcome"].as_str().unwrap()))
            .collect();
        assert_eq!(steps, ["tag:entered", "tag:passed", "score:passed", "wait:arrived"]);
        assert_eq!(s.get(&format!("/api/v1/contacts/{u1}")).await["custom"]["stage"], "onboarding");
        // The score node: +10 on a score with no definition (a plain counter),
        // with the journey and node as the reason; the outbox row has the value.
        let scores = s.get(&format!("/api/v1/contacts/{u1}/scores")).await;
        let engagement = scores["data"].as_array().unwrap().iter().find(|x| x["score"] == "engagement").cloned();
        assert_eq!(engagement.map(|e| e["value"].clone()), Some(json!(10.0)), "{scores}");
        let history = s.get(&format!("/api/v1/contacts/{u1}/scores/history?score=engagement")).await;
        assert_eq!(history["data"].as_array().unwrap().len(), 1, "{history}");
        assert_eq!(history["data"][0]["reason"], format!("+10 journey {id}, node score"), "{history}");
        s.until_run(&u2, "u2 delayed", |r| r["run"]["status"] == "delayed").await;
        assert_eq!(s.get(&format!("/api/v1/contacts/{u3}/journeys")).await["data"], json!([]));

        // A second trigger while the run is under way does not start another
        // (once at a time, the default).
        s.track(json!({"type": "track", "userId": "u1", "event": "Trial Started", "messageId": format!("{backend:?}-ts-u1-again"),
            "properties": {"plan": "pro"}}))
            .await;

        // u4 pays before the delay ends: the goal converts them.
        s.track(json!({"type": "track", "userId": "u4", "event": "Order Completed", "messageId": format!("{backend:?}-oc-u4")})).await;
        let r4 = s.until_run(&u4, "u4 converted", |r| r["run"]["status"] == "converted").await;
        assert_eq!(r4["run"]["node"], "wait");

        // One day later both wait for activation; u2 activates.
        clock.advance(Duration::days(1) + Duration::seconds(1));
        s.until_run(&u1, "u1 waiting", |r| r["run"]["status"] == "waiting").await;
        s.until_run(&u2, "u2 waiting", |r| r["run"]["status"] == "waiting").await;
        s.track(
            json!({"type": "track", "userId": "u2", "event": "Activated", "messageId": format!("{backend:?}-act-u2")}),
        )
        .await;
        s.until_run(&u2, "u2 completed", |r| r["run"]["status"] == "completed").await;

        // Three more days: u1 times out, the CRM webhook fails twice (503),
        // then is delivered, and u1 is added to the list and exits.
        clock.advance(Duration::days(3));
        let r1 = s.until_run_ticking(&clock, &u1, "u1 completed", |r| r["run"]["status"] == "completed").await;
        let run1 = r1["run"]["id"].as_str().unwrap().to_string();
        let deliveries: Vec<_> = receiver.deliveries().into_iter().filter(|d| d.id.starts_with(&run1)).collect();
        assert_eq!(deliveries.iter().map(|d| d.status).collect::<Vec<_>>(), [503, 503, 200], "{deliveries:?}");
        assert!(deliveries.iter().all(|d| d.verified && d.id == deliveries[0].id));
        let body = &deliveries[2].body;
        assert_eq!(body["type"], "journey.webhook");
        assert_eq!(body["data"]["contact"]["email"], "u1@example.com");
        assert_eq!(body["data"]["payload"]["reason"], "not activated");
        assert_eq!(body["data"]["journey"]["node"], "alert");
        let members = s.get(&format!("/api/v1/lists/{list}/members")).await;
        assert_eq!(members["data"].as_array().unwrap().len(), 1, "{members}");
        assert_eq!(s.get(&format!("/api/v1/contacts/{u1}/journeys")).await["data"].as_array().unwrap().len(), 1);

        let stats = s.get(&format!("/api/v1/journeys/{id}/stats")).await;
        let node = |n: &str| {
            stats["nodes"].as_array().unwrap().iter().find(|x| x["node"] == n).cloned().unwrap_or(Value::Null)
        };
        assert_eq!(node("tag")["outcomes"]["entered"], 3, "{stats}");
        assert_eq!(node("activated?")["outcomes"]["left"], 2, "{stats}");
        assert_eq!(node("wait")["current"]["converted"], 1, "{stats}");
        assert_eq!(node("done")["current"]["completed"], 2, "{stats}");
        assert_eq!(stats["runs"]["completed"], 2);
        // Every edge with how many took it: three entered, u4 converted while
        // waiting, u2 activated, u1 timed out through the webhook and list.
        let edges: Vec<(Value, String, String, i64)> = stats["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["from"].clone(),
                    e["to"].as_str().unwrap().into(),
                    e["label"].as_str().unwrap().into(),
                    e["count"].as_i64().unwrap(),
                )
            })
            .collect();
        let edge = |from: Value, to: &str, label: &str, n: i64| (from, to.to_string(), label.to_string(), n);
        let mut expected = vec![
            edge(Value::Null, "tag", "", 3),
            edge(json!("tag"), "score", "", 3),
            edge(json!("score"), "wait", "", 3),
            edge(json!("wait"), "activated?", "", 2),
            edge(json!("activated?"), "done", "event", 1),
            edge(json!("activated?"), "alert", "timeout", 1),
            edge(json!("alert"), "vip", "", 1),
            edge(json!("vip"), "done", "", 1),
        ];
        let mut got = edges.clone();
        let key = |e: &(Value, String, String, i64)| (e.0.to_string(), e.1.clone(), e.2.clone());
        got.sort_by_key(key);
        expected.sort_by_key(key);
        assert_eq!(got, expected, "{backend:?}: {stats}");

        // A dry run shows u3's path without writing anything.
        let (st, dry) =
            s.api(Method::POST, &format!("/api/v1/journeys/{id}/dry-run"), Some(json!({"contact_id": u3}))).await;
        assert_eq!(st, StatusCode::OK, "{dry}");
        let nodes: Vec<_> =
            dry["path"].as_array().unwrap().iter().map(|p| p["node"].as_str().unwrap().to_string()).collect();
        assert_eq!(nodes.first().map(String::as_str), Some("tag"));
        assert!(nodes.contains(&"alert".to_string()) && nodes.last().map(String::as_str) == Some("done"), "{dry}");
        let t_alert =
            dry["path"].as_array().unwrap().iter().find(|p| p["node"] == "alert").unwrap()["at"].as_i64().unwrap();
        assert_eq!(t_alert - dry["path"][0]["at"].as_i64().unwrap(), 4 * 86_400_000);
        assert_eq!(s.get(&format!("/api/v1/contacts/{u3}/journeys")).await["data"], json!([]));

        // An API-triggered journey whose webhook endpoint is down: retried,
        // then dead-lettered, and the run parked with the reason.
        let (_, j2) = s
            .api(Method::POST, "/api/v1/journeys", Some(json!({"name": "Page on-call", "definition": {
                "trigger": {"type": "api"}, "start": "page",
                "nodes": {"page": {"type": "notify", "endpoint": "pager", "message": "VIP signed up", "next": "x"}, "x": {"type": "exit"}}}})))
            .await;
        let id2 = j2["id"].as_str().unwrap().to_string();
        let (st, _) =
            s.api(Method::POST, &format!("/api/v1/journeys/{id2}/entries"), Some(json!({"contact_id": u3}))).await;
        assert_eq!(st, StatusCode::CONFLICT, "entering a journey that is not published is refused");
        s.api(Method::POST, &format!("/api/v1/journeys/{id2}/publish"), None).await;
        let (st, e) =
            s.api(Method::POST, &format!("/api/v1/journeys/{id2}/entries"), Some(json!({"contact_id": u3}))).await;
        assert_eq!(st, StatusCode::CREATED, "{e}");
        let (st, _) =
            s.api(Method::POST, &format!("/api/v1/journeys/{id}/entries"), Some(json!({"contact_id": u3}))).await;
        assert_eq!(st, StatusCode::CONFLICT, "an event-triggered journey takes no API entries");
        let r3 = s.until_run_ticking(&clock, &u3, "u3 parked", |r| r["run"]["status"] == "failed").await;
        assert!(r3["run"]["error"].as_str().unwrap().contains("gave up after 3 attempts"), "{r3}");
        let dead = s.get("/api/v1/outbox/dead-letters").await;
        assert_eq!(dead["data"][0]["kind"], "notify", "{dead}");
        assert!(dead["data"][0]["last_error"].as_str().unwrap().contains("503"), "{dead}");
        let (st, _) = s
            .api(Method::POST, &format!("/api/v1/journey-runs/{}/retry", r3["run"]["id"].as_str().unwrap()), None)
            .await;
        assert_eq!(st, StatusCode::OK);

        // A trigger and a goal in one batch (one commit): the run the writer
        // starts with the first is handed to the runner before it reads the
        // second, which converts it.
        let r = s
            .http
            .post(format!("{}/v1/batch", s.url))
            .basic_auth(&s.write, Some(""))
            .json(&json!({"batch": [
                {"type": "track", "userId": "u5", "event": "Trial Started", "messageId": format!("{backend:?}-ts-u5"),
                 "properties": {"plan": "pro"}},
                {"type": "track", "userId": "u5", "event": "Order Completed", "messageId": format!("{backend:?}-oc-u5")}
            ]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let u5 = s.contact_id("u5").await;
        let r5 = s.until_run(&u5, "u5 converted", |r| r["run"]["status"] == "converted").await;
        let steps: Vec<_> = r5["path"].as_array().unwrap().iter().map(|p| p["outcome"].as_str().unwrap()).collect();
        assert_eq!(steps.first(), Some(&"entered"), "{r5}");
        assert_eq!(steps.last(), Some(&"converted"), "{r5}");

        // Pause and archive.
        let (st, j) = s.api(Method::POST, &format!("/api/v1/journeys/{id}/pause"), None).await;
        assert_eq!((st, j["status"].clone()), (StatusCode::OK, json!("paused")));
        let (st, _) = s.api(Method::POST, &format!("/api/v1/journeys/{id}/pause"), None).await;
        assert_eq!(st, StatusCode::CONFLICT);
        let (st, j) = s.api(Method::POST, &format!("/api/v1/journeys/{id}/archive"), None).await;
        assert_eq!((st, j["status"].clone()), (StatusCode::OK, json!("archived")));
    }

    // Private addresses are refused unless the operator allows them.
    let ts = testing::sqlite().await;
    let s = Server::start(ts.store.clone(), Arc::new(ManualClock::new(Utc::now())), None).await;
    let (st, p) = s
        .api(
            Method::POST,
            "/api/v1/webhook-endpoints",
            Some(json!({"id": "crm", "url": format!("{}/ok", receiver.url)})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p["detail"].as_str().unwrap().contains("private or loopback address"), "{p}");
    let (st, p) = s
        .api(Method::POST, "/api/v1/webhook-endpoints", Some(json!({"id": "crm", "url": "ftp://example.com/x"})))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
}

#[tokio::test]
async fn date_field_triggers_fire_in_the_contacts_time_zone_and_follow_changes() {
    let ts = testing::sqlite().await;
    // Noon UTC on 1 March 2027.
    let start = chrono::DateTime::parse_from_rfc3339("2027-03-01T12:00:00Z").unwrap().with_timezone(&Utc);
    let clock = Arc::new(ManualClock::new(start));
    let s = Server::start_with(ts.store.clone(), clock.clone(), None, options()).await;
    for (name, t) in [("renewal_date", "date"), ("stage", "string")] {
        let (st, v) = s.api(Method::POST, "/api/v1/fields", Some(json!({"name": name, "type": t}))).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    // Renewal on 1 April → reminder 30 days before, at 09:00 in Berlin:
    // 2 March 09:00 CET = 08:00 UTC. Tokyo's renewal moves later below.
    for (user, tz, date) in [("berlin", "Europe/Berlin", "2027-04-01"), ("tokyo", "Asia/Tokyo", "2027-04-01")] {
        s.track(json!({"type": "identify", "userId": user, "messageId": format!("id-{user}"),
                       "traits": {"timezone": tz, "renewal_date": date}}))
            .await;
    }
    let (st, j) = s
        .api(
            Method::POST,
            "/api/v1/journeys",
            Some(json!({"name": "Renewal reminder", "definition": {
            "trigger": {"type": "date_field", "field": "renewal_date", "offset_days": -30, "at": "09:00"},
            "start": "tag",
            "nodes": {"tag": {"type": "update_contact", "set": {"stage": "renewal-reminded"}, "next": "done"},
                      "done": {"type": "exit"}}}})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{j}");
    let jid = j["id"].as_str().unwrap().to_string();
    let (st, v) = s.api(Method::POST, &format!("/api/v1/journeys/{jid}/publish"), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let berlin = s.contact_id("berlin").await;
    let tokyo = s.contact_id("tokyo").await;
    // Tokyo's renewal moves a week later: its reminder moves with it.
    s.track(json!({"type": "identify", "userId": "tokyo", "messageId": "id-tokyo-2", "traits": {"renewal_date": "2027-04-08"}}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let stage = |c: &str| {
        let c = c.to_string();
        let s = &s;
        async move { s.get(&format!("/api/v1/contacts/{c}")).await["custom"]["stage"].clone() }
    };
    // 07:59 UTC on 2 March: not yet.
    clock.set(chrono::DateTime::parse_from_rfc3339("2027-03-02T07:59:00Z").unwrap().with_timezone(&Utc));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(stage(&berlin).await, Value::Null);
    // 08:00 UTC = 09:00 in Berlin: Berlin's run starts; Tokyo's (still the
    // 2 March instant had the date not moved) does not.
    clock.set(chrono::DateTime::parse_from_rfc3339("2027-03-02T08:00:30Z").unwrap().with_timezone(&Utc));
    s.until(&format!("/api/v1/contacts/{berlin}"), "Berlin's reminder", |v| v["custom"]["stage"] == "renewal-reminded")
        .await;
    assert_eq!(stage(&tokyo).await, Value::Null);
    // 9 March 00:00 UTC = 09:00 in Tokyo (renewal 8 April − 30 days).
    clock.set(chrono::DateTime::parse_from_rfc3339("2027-03-09T00:00:30Z").unwrap().with_timezone(&Utc));
    s.until(&format!("/api/v1/contacts/{tokyo}"), "Tokyo's reminder", |v| v["custom"]["stage"] == "renewal-reminded")
        .await;
    let runs = s.get(&format!("/api/v1/contacts/{berlin}/journeys")).await;
    assert_eq!(runs["data"].as_array().unwrap().len(), 1, "one run, not one per tick: {runs}");
}

#[tokio::test]
async fn contact_created_triggers_for_tracked_and_api_contacts_once() {
    let ts = testing::sqlite().await;
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let s = Server::start_with(ts.store.clone(), clock.clone(), None, options()).await;
    let (st, _) = s.api(Method::POST, "/api/v1/fields", Some(json!({"name": "stage", "type": "string"}))).await;
    assert_eq!(st, StatusCode::CREATED);
    // Someone who existed before the journey.
    s.track(
        json!({"type": "identify", "userId": "old", "messageId": "id-old", "traits": {"email": "old@example.org"}}),
    )
    .await;
    let old = s.until("/api/v1/contacts?external_id=old", "the old contact", |v| v["data"][0]["id"].is_string()).await
        ["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    clock.advance(Duration::seconds(5));
    let (st, j) = s
        .api(Method::POST, "/api/v1/journeys", Some(json!({"name": "New contacts", "definition": {
            "trigger": {"type": "contact_created"}, "start": "tag",
            "nodes": {"tag": {"type": "update_contact", "set": {"stage": "new"}, "next": "done"}, "done": {"type": "exit"}}}})))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{j}");
    let (st, v) = s.api(Method::POST, &format!("/api/v1/journeys/{}/publish", j["id"].as_str().unwrap()), None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    clock.advance(Duration::seconds(5));
    // A contact created by a tracking call, one by the REST API.
    s.track(json!({"type": "track", "userId": "fresh", "event": "Page Viewed", "messageId": "pv-fresh"})).await;
    let (st, api) = s.api(Method::POST, "/api/v1/contacts", Some(json!({"email": "api@example.org"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{api}");
    let api = api["id"].as_str().unwrap().to_string();
    s.until(&format!("/api/v1/contacts/{api}"), "the API contact's run", |v| v["custom"]["stage"] == "new").await;
    let fresh = s.contact_id("fresh").await;
    s.until(&format!("/api/v1/contacts/{fresh}"), "the tracked contact's run", |v| v["custom"]["stage"] == "new").await;
    // The old contact's new event does not make it new; the fresh one's
    // second event does not enter it twice.
    s.track(json!({"type": "track", "userId": "old", "event": "Page Viewed", "messageId": "pv-old"})).await;
    s.track(json!({"type": "track", "userId": "fresh", "event": "Page Viewed", "messageId": "pv-fresh-2"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(s.get(&format!("/api/v1/contacts/{old}")).await["custom"].get("stage"), None);
    let runs = s.get(&format!("/api/v1/contacts/{fresh}/journeys")).await;
    assert_eq!(runs["data"].as_array().unwrap().len(), 1, "{runs}");
}

#[tokio::test]
async fn running_contacts_move_to_a_new_version_with_a_node_mapping() {
    let ts = testing::sqlite().await;
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let s = Server::start_with(ts.store.clone(), clock.clone(), None, options()).await;
    let (st, _) = s.api(Method::POST, "/api/v1/fields", Some(json!({"name": "stage", "type": "string"}))).await;
    assert_eq!(st, StatusCode::CREATED);
    let def = |delay: &str, days: i64, stage: &str| {
        json!({"trigger": {"type": "event", "event": "Trial Started"}, "start": delay,
               "nodes": {delay: {"type": "delay", "duration": {"days": days}, "next": "tag"},
                         "tag": {"type": "update_contact", "set": {"stage": stage}, "next": "done"},
                         "done": {"type": "exit"}}})
    };
    let (_, j) = s
        .api(Method::POST, "/api/v1/journeys", Some(json!({"name": "Trial", "definition": def("wait1", 1, "v1")})))
        .await;
    let jid = j["id"].as_str().unwrap().to_string();
    s.api(Method::POST, &format!("/api/v1/journeys/{jid}/publish"), None).await;
    for u in ["m1", "m2"] {
        s.track(json!({"type": "track", "userId": u, "event": "Trial Started", "messageId": format!("t-{u}")})).await;
    }
    let m1 = s.until("/api/v1/contacts?external_id=m1", "m1", |v| v["data"][0]["id"].is_string()).await["data"][0]
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.until_run(&m1, "m1 waiting on version 1", |r| r["run"]["status"] == "delayed").await;
    let m2 = s.contact_id("m2").await;
    s.until_run(&m2, "m2 waiting", |r| r["run"]["status"] == "delayed").await;
    // Version 2 renames the delay and changes what happens after it.
    let (st, v) = s
        .api(Method::PATCH, &format!("/api/v1/journeys/{jid}"), Some(json!({"definition": def("pause", 2, "v2")})))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    s.api(Method::POST, &format!("/api/v1/journeys/{jid}/publish"), None).await;
    // A mapping to a node the new version lacks is refused; one to a
    // different kind of node leaves the runs where they are, saying why.
    let (st, v) = s
        .api(Method::POST, &format!("/api/v1/journeys/{jid}/migrate"), Some(json!({"mapping": {"wait1": "nope"}})))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (st, v) = s
        .api(Method::POST, &format!("/api/v1/journeys/{jid}/migrate"), Some(json!({"mapping": {"wait1": "tag"}})))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["moved"], 0, "{v}");
    assert!(v["stayed"][0]["why"].as_str().unwrap().contains("different kinds"), "{v}");
    let (st, v) = s
        .api(Method::POST, &format!("/api/v1/journeys/{jid}/migrate"), Some(json!({"mapping": {"wait1": "pause"}})))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!((v["moved"].as_i64(), v["version"].as_i64()), (Some(2), Some(2)), "{v}");
    let r = s.until_run(&m1, "m1 on version 2", |r| r["run"]["version"] == 2).await;
    assert_eq!(r["run"]["node"], "pause");
    assert!(r["path"].to_string().contains("migrated"), "{r}");
    // Their timers are kept (one day from entry), and they finish on v2.
    clock.advance(Duration::hours(25));
    for c in [&m1, &m2] {
        s.until(&format!("/api/v1/contacts/{c}"), "the v2 step", |v| v["custom"]["stage"] == "v2").await;
    }
}

#[tokio::test]
async fn a_definition_is_checked_while_editing_without_being_saved() {
    for ts in testing::all().await {
        let backend = ts.backend();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s = Server::start_with(ts.store.clone(), clock, None, options()).await;
        let (st, _) = s.api(Method::POST, "/api/v1/fields", Some(json!({"name": "stage", "type": "string"}))).await;
        assert_eq!(st, StatusCode::CREATED);
        let (_, list) = s.api(Method::POST, "/api/v1/lists", Some(json!({"name": "L"}))).await;
        let list = list["id"].as_str().unwrap().to_string();
        // Whole-graph problems, every one of them, each naming its node.
        let mut bad = onboarding(&list);
        bad["nodes"]["orphan"] = json!({"type": "exit"});
        let (st, v) = s.api(Method::POST, "/api/v1/journeys/check", Some(json!({"definition": bad}))).await;
        assert_eq!(st, StatusCode::OK, "{backend:?}: {v}");
        let problems = v["problems"].as_array().unwrap();
        let at = |node: &str| {
            problems.iter().find(|p| p["node"] == node).map(|p| p["message"].as_str().unwrap().to_string())
        };
        assert!(at("alert").is_some_and(|m| m.contains("unknown webhook endpoint \"crm\"")), "{v}");
        assert!(at("orphan").is_some_and(|m| m.contains("unreachable")), "{v}");
        // A shape problem comes back the same way, with its path.
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/journeys/check",
                Some(json!({"definition": {"trigger": {"type": "api"}, "start": "a",
                "nodes": {"a": {"type": "delay", "duration": {"weeks": 1}, "next": "a"}}}})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["problems"][0]["path"], "$.nodes.a.duration", "{v}");
        // Once the endpoint exists and the orphan is gone, nothing is wrong;
        // and nothing was saved along the way.
        let (st, _) = s
            .api(
                Method::POST,
                "/api/v1/webhook-endpoints",
                Some(json!({"id": "crm", "url": "http://127.0.0.1:9/x", "secret": SECRET})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let (st, v) =
            s.api(Method::POST, "/api/v1/journeys/check", Some(json!({"definition": onboarding(&list)}))).await;
        assert_eq!((st, v["problems"].clone()), (StatusCode::OK, json!([])), "{v}");
        assert_eq!(s.get("/api/v1/journeys").await["data"], json!([]));
        let (st, v) = s.api(Method::POST, "/api/v1/journeys/check", Some(json!({}))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    }
}

#[tokio::test]
async fn edge_counts_follow_the_version_the_contacts_took_them_under() {
    for ts in testing::all().await {
        let backend = ts.backend();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s = Server::start_with(ts.store.clone(), clock.clone(), None, options()).await;
        let graph = |after_delay: &str| {
            let mut nodes = json!({"d": {"type": "delay", "duration": {"days": 1}, "next": after_delay}});
            nodes[after_delay] = json!({"type": "exit"});
            json!({"trigger": {"type": "api"}, "start": "d", "nodes": nodes})
        };
        let (st, j) =
            s.api(Method::POST, "/api/v1/journeys", Some(json!({"name": "v", "definition": graph("x")}))).await;
        assert_eq!(st, StatusCode::CREATED, "{j}");
        let id = j["id"].as_str().unwrap().to_string();
        let (st, v) = s.api(Method::POST, &format!("/api/v1/journeys/{id}/publish"), None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let enter = |user: &'static str| {
            let s = &s;
            let id = id.clone();
            async move {
                s.track(json!({"type": "identify", "userId": user, "messageId": format!("{backend:?}-{user}"),
                    "traits": {"email": format!("{user}@example.com")}}))
                    .await;
                let c = s.contact_id(user).await;
                let (st, v) = s
                    .api(Method::POST, &format!("/api/v1/journeys/{id}/entries"), Some(json!({"contact_id": c})))
                    .await;
                assert!(st.is_success(), "{v}");
                c
            }
        };
        let first = enter("first").await;
        clock.advance(Duration::days(1) + Duration::seconds(1));
        s.until_run(&first, "first done", |r| r["run"]["status"] == "completed").await;
        let edges = |stats: &Value| -> Vec<(Value, String, i64)> {
            stats["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["from"].clone(), e["to"].as_str().unwrap().to_string(), e["count"].as_i64().unwrap()))
                .collect()
        };
        let stats = s.get(&format!("/api/v1/journeys/{id}/stats")).await;
        assert!(edges(&stats).contains(&(json!("d"), "x".to_string(), 1)), "{backend:?}: {stats}");

        // Version 2 sends the delay's exit to y: the first contact's line
        // is not drawn on the new route; a contact under version 2 is.
        s.api(Method::PATCH, &format!("/api/v1/journeys/{id}"), Some(json!({"definition": graph("y")}))).await;
        let (st, v) = s.api(Method::POST, &format!("/api/v1/journeys/{id}/publish"), None).await;
        assert_eq!((st, v["version"].as_i64()), (StatusCode::OK, Some(2)), "{v}");
        let stats = s.get(&format!("/api/v1/journeys/{id}/stats")).await;
        assert!(!edges(&stats).iter().any(|e| e.0 == json!("d")), "{backend:?}: {stats}");
        let second = enter("second").await;
        clock.advance(Duration::days(1) + Duration::seconds(1));
        s.until_run(&second, "second done", |r| r["run"]["status"] == "completed").await;
        let stats = s.get(&format!("/api/v1/journeys/{id}/stats")).await;
        let from_d: Vec<_> = edges(&stats).into_iter().filter(|e| e.0 == json!("d")).collect();
        assert_eq!(from_d, [(json!("d"), "y".to_string(), 1)], "{backend:?}: {stats}");
        // A run's path says which version it was on.
        let runs = s.get(&format!("/api/v1/contacts/{second}/journeys")).await;
        assert_eq!(runs["data"][0]["run"]["version"], 2, "{runs}");
    }
}
