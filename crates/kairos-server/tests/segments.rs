//! Segments and lists end to end, on each store backend: a real server, real
//! tracking calls, the engine keeping membership current as events arrive,
//! as profiles and lists change, and as time passes (a manual clock moved
//! 31 days: the contact leaves at the exact instant its window closed), the
//! entries and exits written to the log, and a restart that rebuilds the
//! same membership without writing anything twice.

use chrono::{Duration, Utc};
use kairos_core::clock::{Clock, ManualClock};
use kairos_store::testing;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;

mod common;
use common::Server;

impl Server {
    async fn count(&self, seg: &str, n: u64) {
        self.until(&format!("/api/v1/segments/{seg}/count"), &format!("count {n}"), |v| v["count"] == json!(n)).await;
    }

    /// Poll a contact's timeline until it holds an event named `name` for
    /// segment `seg` (membership is visible a moment before it is logged).
    async fn until_logged(&self, contact: &str, name: &str, seg: &str) -> Vec<(String, String, String)> {
        for _ in 0..200 {
            let t = self.timeline_names(contact).await;
            if t.iter().any(|(n, sid, _)| n == name && sid == seg) {
                return t;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{name} for segment {seg} never reached the log of contact {contact}");
    }

    async fn timeline_names(&self, contact: &str) -> Vec<(String, String, String)> {
        let v = self.get(&format!("/api/v1/contacts/{contact}/events?limit=100")).await;
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap_or_default().to_string(),
                    e["properties"]["segment_id"].as_str().unwrap_or_default().to_string(),
                    e["timestamp"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

#[tokio::test]
async fn segments_stay_current_through_events_profiles_lists_time_and_restarts() {
    for ts in testing::all().await {
        let backend = ts.backend();
        let start = Utc::now();
        let clock = Arc::new(ManualClock::new(start));
        let s = Server::start(ts.store.clone(), clock.clone(), None).await;
        let ago = |d: i64| (start - Duration::days(d)).to_rfc3339();
        for (u, country, plan) in [("u1", "DE", "pro"), ("u2", "FR", "free"), ("u3", "DE", "free")] {
            s.track(json!({"type": "identify", "userId": u, "messageId": format!("id-{u}"),
                "traits": {"email": format!("{u}@example.com"), "country": country, "plan": plan}}))
                .await;
        }
        s.track(json!({"type": "track", "userId": "u1", "event": "Order Completed", "messageId": "o1",
            "timestamp": ago(1), "properties": {"total": 80}}))
            .await;
        s.track(json!({"type": "track", "userId": "u2", "event": "Order Completed", "messageId": "o2",
            "timestamp": ago(2), "properties": {"total": 20}}))
            .await;
        let (u1, u2, u3) = (s.contact_id("u1").await, s.contact_id("u2").await, s.contact_id("u3").await);

        // A rule with a path-precise error is refused.
        let (st, err) = s
            .api(
                Method::POST,
                "/api/v1/segments",
                Some(json!({"name": "bad", "rule": {"and": [
                {"field": "country", "op": "equals", "value": "DE"},
                {"field": "plann", "op": "equals", "value": "pro"}]}})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?}: {err}");
        assert_eq!(err["errors"][0]["path"], "rule.and[1].field", "{err}");
        assert!(err["detail"].as_str().unwrap().contains("unknown contact field \"plann\""), "{err}");

        // Created over existing history: the backfill finds u1.
        let rule = json!({"and": [
            {"field": "country", "op": "equals", "value": "de"},
            {"event": "Order Completed", "where": [{"property": "total", "op": "gt", "value": 50}],
             "count": {"op": "at_least", "value": 1}, "window": {"last_days": 30}}]});
        let (st, seg) = s.api(Method::POST, "/api/v1/segments", Some(json!({"name": "DE buyers", "rule": rule}))).await;
        assert_eq!(st, StatusCode::CREATED, "{seg}");
        let seg = seg["id"].as_str().unwrap().to_string();
        s.until(&format!("/api/v1/segments/{seg}"), "active", |v| v["status"] == "active").await;
        s.count(&seg, 1).await;
        let members = s.get(&format!("/api/v1/segments/{seg}/members")).await;
        assert_eq!(members["data"][0]["id"], json!(u1), "{members}");

        // Live: u3 buys; u3 enters and the entry is in the log.
        s.track(json!({"type": "track", "userId": "u3", "event": "Order Completed", "messageId": "o3",
            "timestamp": start.to_rfc3339(), "properties": {"total": 99.5}}))
            .await;
        s.count(&seg, 2).await;
        s.until_logged(&u3, "Segment Entered", &seg).await;
        let mine = s.get(&format!("/api/v1/contacts/{u3}/segments")).await;
        assert_eq!(mine["segments"][0]["id"], json!(seg), "{mine}");

        // A profile change: u1 moves to France and leaves.
        s.track(json!({"type": "identify", "userId": "u1", "messageId": "move", "traits": {"country": "FR"}})).await;
        s.count(&seg, 1).await;
        s.track(json!({"type": "identify", "userId": "u1", "messageId": "back", "traits": {"country": "DE"}})).await;
        s.count(&seg, 2).await;

        // CSV export of members.
        let (st, csv) = s.api(Method::GET, &format!("/api/v1/segments/{seg}/members.csv"), None).await;
        assert_eq!(st, StatusCode::OK);
        let csv = csv.as_str().unwrap().to_string();
        assert!(csv.starts_with("id,external_id,email"), "{csv}");
        assert!(csv.contains("u1@example.com") && csv.contains("u3@example.com") && !csv.contains("u2@"), "{csv}");

        // Live counts of unsaved rules: one served by live state, one that
        // needs its own backfill (a filter no segment uses).
        let (st, p) = s
            .api(
                Method::POST,
                "/api/v1/segments/preview",
                Some(json!({"rule": {"field": "plan", "op": "equals", "value": "free"}})),
            )
            .await;
        assert_eq!((st, p["count"].clone()), (StatusCode::OK, json!(2)), "{p}");
        let (st, p) = s
            .api(Method::POST, "/api/v1/segments/preview",
                Some(json!({"rule": {"event": "Order Completed", "where": [{"property": "total", "op": "lt", "value": 30}]}})))
            .await;
        assert_eq!((st, p["count"].clone()), (StatusCode::OK, json!(1)), "{p}");
        assert_eq!(p["read_history"], true, "a condition no segment tallies reads the log: {p}");
        // The tallies that read made are kept: the builder's next edit with
        // the same condition is counted from memory.
        let (st, p) = s
            .api(
                Method::POST,
                "/api/v1/segments/preview",
                Some(json!({"rule": {"and": [{"field": "plan", "op": "equals", "value": "free"},
                    {"event": "Order Completed", "where": [{"property": "total", "op": "lt", "value": 30}]}]}})),
            )
            .await;
        assert_eq!(
            (st, p["count"].clone(), p["read_history"].clone()),
            (StatusCode::OK, json!(1), json!(false)),
            "{p}"
        );

        // Sample members before saving, on both paths: the live one (both
        // free-plan contacts, the sample bounded by what matches) and the
        // backfilled one.
        let (st, p) = s
            .api(
                Method::POST,
                "/api/v1/segments/preview",
                Some(json!({"rule": {"field": "plan", "op": "equals", "value": "free"}, "sample": 5})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{p}");
        let mut emails: Vec<&str> =
            p["sample"].as_array().unwrap().iter().map(|c| c["email"].as_str().unwrap()).collect();
        emails.sort();
        assert_eq!(emails, ["u2@example.com", "u3@example.com"], "{p}");
        let (st, p) = s
            .api(Method::POST, "/api/v1/segments/preview",
                Some(json!({"rule": {"event": "Order Completed", "where": [{"property": "total", "op": "lt", "value": 25}]},
                    "sample": 1})))
            .await;
        assert_eq!((st, p["count"].clone()), (StatusCode::OK, json!(1)), "{p}");
        assert_eq!(p["sample"][0]["id"], json!(u2), "{p}");
        let (st, p) = s
            .api(
                Method::POST,
                "/api/v1/segments/preview",
                Some(json!({"rule": {"field": "plan", "op": "equals", "value": "free"}, "sample": 51})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert!(p["detail"].as_str().unwrap().contains("from 0 to 50"), "{p}");

        // A static list, and a segment over it and over the first segment.
        let (st, list) = s.api(Method::POST, "/api/v1/lists", Some(json!({"name": "VIP"}))).await;
        assert_eq!(st, StatusCode::CREATED, "{list}");
        let list = list["id"].as_str().unwrap().to_string();
        let (st, vip) = s
            .api(
                Method::POST,
                "/api/v1/segments",
                Some(json!({"name": "VIP or buyers", "rule": {"or": [
                {"list": list}, {"segment": seg}]}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{vip}");
        let vip = vip["id"].as_str().unwrap().to_string();
        s.count(&vip, 2).await;
        let (st, r) = s
            .api(
                Method::POST,
                &format!("/api/v1/lists/{list}/members"),
                Some(json!({"emails": ["U2@example.com", "nobody@example.com"]})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{r}");
        assert_eq!(r["added"], 1);
        assert_eq!(r["not_found"][0]["row"], 2, "{r}");
        s.count(&vip, 3).await;
        let (st, r) =
            s.api(Method::DELETE, &format!("/api/v1/lists/{list}/members"), Some(json!({"contact_ids": [u2]}))).await;
        assert_eq!((st, r["removed"].clone()), (StatusCode::OK, json!(1)));
        s.count(&vip, 2).await;

        // Referenced things cannot be deleted from under a segment.
        let (st, e) = s.api(Method::DELETE, &format!("/api/v1/segments/{seg}"), None).await;
        assert_eq!(st, StatusCode::CONFLICT, "{e}");
        let (st, e) = s.api(Method::DELETE, &format!("/api/v1/lists/{list}"), None).await;
        assert_eq!(st, StatusCode::CONFLICT, "{e}");

        // Time passes: 31 days later both orders are out of the window and
        // both contacts leave, each at the instant its window closed.
        clock.advance(Duration::days(31));
        s.count(&seg, 0).await;
        s.count(&vip, 0).await;
        // u1 also left at `start` (the move to France): wait for the exit
        // that closes the window, which may reach the log a moment later.
        let expected = start - Duration::days(1) + Duration::days(30);
        let mut t1 = Vec::new();
        for _ in 0..200 {
            t1 = s.timeline_names(&u1).await;
            let late_exit = t1.iter().any(|(n, sid, at)| {
                n == "Segment Exited"
                    && *sid == seg
                    && chrono::DateTime::parse_from_rfc3339(at)
                        .is_ok_and(|t| t.timestamp_millis() > start.timestamp_millis())
            });
            if late_exit {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let exit = t1
            .iter()
            .filter(|(n, sid, _)| n == "Segment Exited" && *sid == seg)
            .max_by_key(|(_, _, at)| at.clone())
            .expect("u1 exit in the log");
        let closed = chrono::DateTime::parse_from_rfc3339(&exit.2).unwrap();
        assert_eq!(closed.timestamp_millis(), expected.timestamp_millis(), "{t1:?}");

        // A restart rebuilds the same state from the store and writes
        // nothing new.
        let entries_before: usize =
            s.timeline_names(&u3).await.iter().filter(|(n, ..)| n.starts_with("Segment ")).count();
        let s2 = Server::start(ts.store.clone(), clock.clone(), Some((s.admin.clone(), s.write.clone()))).await;
        s2.until(&format!("/api/v1/segments/{seg}"), "loaded", |v| v["count"] == json!(0)).await;
        s2.track(json!({"type": "track", "userId": "u2", "event": "Order Completed", "messageId": "o4",
            "timestamp": clock.now().to_rfc3339(), "properties": {"total": 70}}))
            .await;
        let (st, _) = s2
            .api(
                Method::PATCH,
                &format!("/api/v1/segments/{seg}"),
                Some(json!({"rule": {"event": "Order Completed",
                "where": [{"property": "total", "op": "gt", "value": 50}], "window": {"last_days": 30}}})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        // The edited rule (no country condition) takes u2 in after its rebuild.
        s2.count(&seg, 1).await;
        let after: usize = s2.timeline_names(&u3).await.iter().filter(|(n, ..)| n.starts_with("Segment ")).count();
        assert_eq!(after, entries_before, "{backend:?}: the restart wrote no duplicate entries or exits for u3");

        // Held preview tallies are let go once the builder has been idle
        // for a quarter of an hour: the same count then reads the log again.
        let cheap =
            json!({"rule": {"event": "Order Completed", "where": [{"property": "total", "op": "gt", "value": 75}]}});
        let history = |p: &serde_json::Value| p["read_history"].as_bool();
        let (_, p) = s2.api(Method::POST, "/api/v1/segments/preview", Some(cheap.clone())).await;
        let n = p["count"].as_u64();
        assert_eq!((n.is_some_and(|n| n > 0), history(&p)), (true, Some(true)), "{p}");
        let (_, p) = s2.api(Method::POST, "/api/v1/segments/preview", Some(cheap.clone())).await;
        assert_eq!((p["count"].as_u64(), history(&p)), (n, Some(false)), "{p}");
        clock.advance(Duration::minutes(16));
        // (The segment worker's timer ticks every 250 ms; a preview now
        // would count as use and keep them.)
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let (_, p) = s2.api(Method::POST, "/api/v1/segments/preview", Some(cheap.clone())).await;
        assert_eq!(
            (p["count"].as_u64(), history(&p)),
            (n, Some(true)),
            "{backend:?}: released after 15 idle minutes: {p}"
        );
        let _ = ts;
    }
}

#[tokio::test]
async fn company_changes_and_identity_merges_reach_segments() {
    for ts in testing::all().await {
        let backend = ts.backend();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s = Server::start(ts.store.clone(), clock.clone(), None).await;
        // A company (auto-defined `industry` field) and a contact in it.
        s.track(json!({"type": "identify", "userId": "u9", "messageId": "i9", "traits": {"email": "u9@example.com"}}))
            .await;
        s.track(json!({"type": "group", "userId": "u9", "groupId": "acme", "messageId": "g1",
            "traits": {"name": "Acme", "industry": "SaaS"}}))
            .await;
        let (st, seg) = s
            .api(
                Method::POST,
                "/api/v1/segments",
                Some(json!({"name": "SaaS people",
                "rule": {"company": {"field": "industry", "op": "equals", "value": "saas"}}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{backend:?}: {seg}");
        let saas = seg["id"].as_str().unwrap().to_string();
        s.count(&saas, 1).await;
        // The company changes industry: its contact leaves.
        s.track(json!({"type": "group", "userId": "u9", "groupId": "acme", "messageId": "g2",
            "traits": {"industry": "Retail"}}))
            .await;
        s.count(&saas, 0).await;

        // Three orders in all, two of them made before the visitor identified.
        let (st, seg) = s
            .api(
                Method::POST,
                "/api/v1/segments",
                Some(json!({"name": "Three orders",
                "rule": {"event": "Order Completed", "count": {"op": "at_least", "value": 3}}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{seg}");
        let three = seg["id"].as_str().unwrap().to_string();
        s.track(json!({"type": "track", "userId": "u9", "event": "Order Completed", "messageId": "k1"})).await;
        for i in 0..2 {
            s.track(json!({"type": "track", "anonymousId": "anon-1", "event": "Order Completed",
                "messageId": format!("a{i}")}))
                .await;
        }
        s.count(&three, 0).await;
        // The visitor identifies as u9: the anonymous profile and its history
        // merge into u9, who now has three orders.
        s.track(json!({"type": "identify", "userId": "u9", "anonymousId": "anon-1", "messageId": "i10"})).await;
        s.count(&three, 1).await;
        let members = s.get(&format!("/api/v1/segments/{three}/members")).await;
        assert_eq!(members["data"][0]["external_id"], "u9", "{members}");
    }
}

#[tokio::test]
async fn consent_is_recorded_with_proof_and_drives_segments() {
    for ts in testing::all().await {
        let backend = ts.backend();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s = Server::start(ts.store.clone(), clock.clone(), None).await;
        s.track(json!({"type": "identify", "userId": "c1", "messageId": "c1", "traits": {"email": "c1@example.com"}}))
            .await;
        let c1 = s.contact_id("c1").await;
        let (st, seg) = s
            .api(
                Method::POST,
                "/api/v1/segments",
                Some(json!({"name": "Email marketing opt-ins",
                "rule": {"consent": {"channel": "email", "purpose": "marketing"}}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{backend:?}: {seg}");
        let seg = seg["id"].as_str().unwrap().to_string();
        s.count(&seg, 0).await;

        let path = format!("/api/v1/contacts/{c1}/consents");
        // Granting on the basis of consent without the wording shown is refused.
        let (st, e) = s
            .api(Method::PUT, &path, Some(json!({"channel": "email", "purpose": "marketing", "state": "granted"})))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["errors"][0]["path"], "wording", "{e}");
        let r = s
            .http
            .put(format!("{}{path}", s.url))
            .bearer_auth(&s.admin)
            .header("user-agent", "signup-form/1.0")
            .json(&json!({"channel": "email", "purpose": "marketing", "state": "granted", "source": "form:newsletter",
                "wording": "Yes, send me the monthly newsletter", "wording_version": "2026-10",
                "proof": {"form_payload": {"email": "c1@example.com", "newsletter": "on"}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        s.count(&seg, 1).await;
        let (st, _) = s
            .api(
                Method::PUT,
                &path,
                Some(json!({"channel": "email", "purpose": "marketing", "state": "withdrawn",
                "source": "preference_centre"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        s.count(&seg, 0).await;

        let v = s.get(&path).await;
        assert_eq!(v["current"][0]["state"], "withdrawn", "{v}");
        let history = v["history"].as_array().unwrap();
        assert_eq!(history.len(), 2, "{v}");
        assert_eq!(history[0]["state"], "granted");
        assert_eq!(history[0]["source"], "form:newsletter");
        assert_eq!(history[0]["wording_version"], "2026-10");
        assert_eq!(history[0]["proof"]["ip"], "127.0.0.1", "{v}");
        assert_eq!(history[0]["proof"]["user_agent"], "signup-form/1.0", "{v}");
        assert_eq!(history[0]["proof"]["form_payload"]["newsletter"], "on", "{v}");

        // A restart rebuilds consent state for segments from the store.
        s.api(
            Method::PUT,
            &path,
            Some(json!({"channel": "email", "purpose": "marketing", "state": "granted",
            "wording": "Yes, send me the monthly newsletter"})),
        )
        .await;
        s.count(&seg, 1).await;
        let s2 = Server::start(ts.store.clone(), clock.clone(), Some((s.admin.clone(), s.write.clone()))).await;
        s2.count(&seg, 1).await;

        // Erasing the contact erases its consent records too.
        let (st, _) = s2.api(Method::DELETE, &format!("/api/v1/contacts/{c1}"), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let mut tx = ts.store.begin().await.unwrap();
        let ws = tx.workspace_by_name("acme").await.unwrap().unwrap().id;
        let id = c1.parse().unwrap();
        assert!(tx.consent_history_of(ws, id).await.unwrap().is_empty());
        assert!(tx.consents_of(ws, id).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn retention_deletes_old_events_purges_inactive_contacts_and_segments_follow() {
    for ts in testing::all().await {
        let backend = ts.backend();
        let start = Utc::now();
        let clock = Arc::new(ManualClock::new(start));
        let s = Server::start(ts.store.clone(), clock.clone(), None).await;
        for u in ["r1", "r2"] {
            s.track(json!({"type": "identify", "userId": u, "messageId": format!("id-{u}"), "traits": {"email": format!("{u}@example.com")}}))
                .await;
        }
        for (i, days) in [100, 0].iter().enumerate() {
            s.track(
                json!({"type": "track", "userId": "r1", "event": "Order Completed", "messageId": format!("ord-{i}"),
                "timestamp": (start - Duration::days(*days)).to_rfc3339()}),
            )
            .await;
        }
        let (st, seg) = s
            .api(
                Method::POST,
                "/api/v1/segments",
                Some(json!({"name": "Two orders",
                "rule": {"event": "Order Completed", "count": {"op": "at_least", "value": 2}}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{backend:?}: {seg}");
        let seg = seg["id"].as_str().unwrap().to_string();
        s.count(&seg, 1).await;

        // A year and a bit later r1 is still around, r2 never came back.
        clock.advance(Duration::days(400));
        s.track(json!({"type": "track", "userId": "r1", "event": "Login", "messageId": "login-late",
            "timestamp": clock.now().to_rfc3339()}))
            .await;
        let (st, e) = s.api(Method::POST, "/api/v1/retention/run", None).await;
        assert_eq!(st, StatusCode::CONFLICT, "no policy yet: {e}");
        let (st, e) = s.api(Method::PUT, "/api/v1/retention", Some(json!({"events_max_age_days": 0}))).await;
        assert_eq!(
            (st, e["errors"][0]["path"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("events_max_age_days"))
        );
        let (st, _) = s
            .api(
                Method::PUT,
                "/api/v1/retention",
                Some(json!({"events_max_age_days": 90, "events_action": "delete",
                "inactive_contacts_days": 365})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        let (st, report) = s.api(Method::POST, "/api/v1/retention/run", None).await;
        assert_eq!(st, StatusCode::OK, "{report}");
        assert_eq!(report["contacts_purged"], 1, "{report}");
        assert!(report["events_deleted"].as_u64().unwrap() >= 4, "{report}");
        // r1's orders are gone from the log, so r1 leaves the segment.
        s.count(&seg, 0).await;
        let v = s.get("/api/v1/contacts?external_id=r2").await;
        assert_eq!(v["data"].as_array().unwrap().len(), 0, "r2 was purged: {v}");
        let v = s.get("/api/v1/contacts?external_id=r1").await;
        assert_eq!(v["data"].as_array().unwrap().len(), 1);
        let runs = s.get("/api/v1/retention/runs").await;
        assert_eq!(runs["data"][0]["contacts_purged"], 1, "{runs}");
    }
}
