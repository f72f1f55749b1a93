//! Subscription forms with double opt-in, end to end on each store backend,
//! with the confirmation email delivered to a real SMTP server (aiosmtpd,
//! DKIM verified by dkimpy): form definitions checked with the field named;
//! the hosted page (labels, fieldset, the wording verbatim); bad input
//! refused with nothing written; a urlencoded submission leaves consent
//! pending (the gate refuses marketing) and mails a signed link; GET of the
//! link changes nothing, a tampered link is a 400, POST grants consent with
//! the confirmation's proof and adds the contact to the list, a second POST
//! is harmless; the JSON path with `Sec-GPC: 1` records the sale/sharing
//! opt-out; one reminder after the delay and not two; an expired link is a
//! 400 and grants nothing; erasure leaves no confirmation behind; a hard
//! bounce stops further confirmations; single opt-in; a rate limit per address.

mod common;
use chrono::Utc;
use common::Server;
use kairos_core::clock::ManualClock;
use kairos_engine::{EmailOptions, EmailTransport, EngineOptions};
use kairos_store::testing::{self, SmtpReceiver};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const WORDING: &str = "Email me the Acme newsletter & occasional offers. I can unsubscribe at any time.";
const CONFIRM_SUBJECT: &str = "Please confirm your subscription";

fn options(smtp: &SmtpReceiver) -> EngineOptions {
    EngineOptions {
        email: EmailOptions { transport: EmailTransport::Smtp(smtp.url()), ..EmailOptions::default() },
        ..EngineOptions::default()
    }
}

/// Confirmation emails received for `to`.
fn confirmations(smtp: &SmtpReceiver, to: &str) -> Vec<Value> {
    smtp.messages().into_iter().filter(|m| m["rcpt_tos"][0] == to && m["subject"] == CONFIRM_SUBJECT).collect()
}

async fn wait_for_confirmations(smtp: &SmtpReceiver, to: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let got = confirmations(smtp, to);
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("expected {n} confirmation emails for {to}; received: {:?}", smtp.messages());
}

/// The confirmation token in a received message's HTML.
fn token_in(message: &Value, base: &str) -> String {
    let html = message["html"].as_str().expect("an HTML part");
    let start = html.find(&format!("{base}/confirm/")).unwrap_or_else(|| panic!("no confirmation link in {html}"));
    let rest = &html[start + base.len() + "/confirm/".len()..];
    rest.split(|c: char| c == '"' || c == '<' || c.is_whitespace()).next().unwrap().to_string()
}

async fn contact_by_email(s: &Server, email: &str) -> Option<String> {
    let v = s.get(&format!("/api/v1/contacts?email={email}")).await;
    v["data"][0]["id"].as_str().map(str::to_string)
}

async fn consent(s: &Server, contact: &str, purpose: &str) -> Value {
    let v = s.get(&format!("/api/v1/contacts/{contact}/consents")).await;
    v["current"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == "email" && c["purpose"] == purpose)
        .cloned()
        .unwrap_or(Value::Null)
}

async fn history_len(s: &Server, contact: &str) -> usize {
    s.get(&format!("/api/v1/contacts/{contact}/consents")).await["history"].as_array().unwrap().len()
}

async fn post_form(s: &Server, form: &str, body: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let mut req = s
        .http
        .post(format!("{}/f/{form}", s.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn post_json(s: &Server, form: &str, body: Value, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut req = s.http.post(format!("{}/f/{form}", s.url)).json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

async fn page(s: &Server, method: Method, path: &str, ua: &str) -> (StatusCode, String) {
    let r = s.http.request(method, format!("{}{path}", s.url)).header("user-agent", ua).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn double_opt_in_forms_end_to_end() {
    let Some(smtp) = SmtpReceiver::start() else { return };
    for ts in testing::all().await {
        let tag = format!("{:?}", ts.backend()).to_lowercase();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s = Server::start_with(ts.store.clone(), clock.clone(), None, options(&smtp)).await;
        let (st, v) =
            s.api(Method::PUT, "/api/v1/settings", Some(json!({"postal_address": "Acme Ltd, 1 Main St, 12345"}))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, sender) = s
            .api(
                Method::POST,
                "/api/v1/email/senders",
                Some(json!({"email": "news@acme.example", "name": "Acme", "dkim_selector": "forms",
                            "dkim_algorithm": "ed25519"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{sender}");
        smtp.publish(sender["dkim"]["dns_name"].as_str().unwrap(), sender["dkim"]["dns_value"].as_str().unwrap());
        let (st, list) = s.api(Method::POST, "/api/v1/lists", Some(json!({"name": "Newsletter"}))).await;
        assert_eq!(st, StatusCode::CREATED, "{list}");
        let list_id = list["id"].as_str().unwrap().to_string();
        let (st, t) = s
            .api(
                Method::POST,
                "/api/v1/email/templates",
                Some(json!({"name": "Weekly", "subject": "This week", "format": "html", "body": "<p>News</p>"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{t}");
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/email/templates",
                Some(json!({"name": "kairos:confirm-subscription", "subject": "x", "format": "html", "body": "<p>x</p>"})),
            )
            .await;
        assert_eq!((st, v["errors"][0]["path"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("name")), "{v}");

        // Definitions are checked, each problem naming its field.
        let base = json!({"name": "Acme newsletter", "purposes": ["marketing"], "wording": WORDING,
                          "wording_version": "2026-11", "list_id": list_id, "fields": ["first_name"],
                          "reminder_after_hours": 48, "max_reminders": 1, "token_lifetime_hours": 168});
        for (key, value, path) in [
            ("purposes", json!(["marketing", "spam"]), "purposes[1]"),
            ("list_id", json!(uuid::Uuid::now_v7().to_string()), "list_id"),
            ("confirmation_template", json!("Weekly"), "confirmation_template"),
            ("sender", json!("nope"), "sender"),
            ("token_lifetime_hours", json!(24), "reminder_after_hours"),
            ("colour", json!("red"), "colour"),
        ] {
            let mut body = base.clone();
            body[key] = value;
            let (st, v) = s.api(Method::POST, "/api/v1/forms", Some(body)).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{key}: {v}");
            assert_eq!(v["errors"][0]["path"], path, "{v}");
        }
        let (st, form) = s.api(Method::POST, "/api/v1/forms", Some(base.clone())).await;
        assert_eq!(st, StatusCode::CREATED, "{form}");
        let id = form["id"].as_str().unwrap().to_string();
        assert_eq!(form["definition"]["double_opt_in"], true, "double opt-in is the default: {form}");
        let (st, v) = s.api(Method::PATCH, &format!("/api/v1/forms/{id}"), Some(json!({"max_reminders": 7}))).await;
        assert_eq!((st, v["errors"][0]["path"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("max_reminders")));
        let (st, v) =
            s.api(Method::PATCH, &format!("/api/v1/forms/{id}"), Some(json!({"name": "The Acme newsletter"}))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["definition"]["wording"], WORDING, "a patch keeps the other keys");
        assert_eq!(s.get("/api/v1/forms").await["data"][0]["name"], "The Acme newsletter");
        let audit = s.get("/api/v1/audit").await;
        let actions: Vec<&str> =
            audit["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"form.created") && actions.contains(&"form.updated"), "{audit}");
        let (st, _) = s.api(Method::GET, &format!("/api/v1/forms/{}", uuid::Uuid::now_v7()), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // The public transparency page says what forms record and that
        // subscribing waits for confirmation.
        let ws = s.get("/api/v1/workspace").await["id"].as_str().unwrap().to_string();
        let settings = json!({"postal_address": "Acme Ltd, 1 Main St, 12345",
                              "transparency": {"organisation": "Acme Ltd", "public_page": true}});
        let (st, v) = s.api(Method::PUT, "/api/v1/settings", Some(settings)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, html) = page(&s, Method::GET, &format!("/transparency/{ws}"), "Browser/1").await;
        assert_eq!(st, StatusCode::OK, "{html}");
        assert!(html.contains("the exact wording you agreed to is kept"), "{html}");
        assert!(html.contains("only once you confirm with the link emailed to you"), "{html}");
        let openapi = s.get("/api/v1/openapi.json").await;
        assert!(openapi["paths"]["/api/v1/forms/{id}"]["patch"].is_object(), "forms are in the OpenAPI document");

        // The hosted page: no key, no JavaScript, labelled, wording verbatim.
        let (st, html) = page(&s, Method::GET, &format!("/f/{id}"), "Browser/1").await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("<fieldset><legend>Your consent</legend>"), "{html}");
        assert!(html.contains("<label for=\"email\">Email address (required)</label>"), "{html}");
        assert!(html.contains("<label for=\"first_name\">"), "{html}");
        assert!(html.contains(&WORDING.replace('&', "&amp;")), "the wording verbatim: {html}");
        assert!(!html.contains("<script"), "{html}");
        let (st, html) = page(&s, Method::GET, &format!("/f/{}", uuid::Uuid::now_v7()), "Browser/1").await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{html}");
        let (st, _) = page(&s, Method::GET, "/f/not-a-form", "Browser/1").await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // Bad input from the page: the form again with the problem marked,
        // and nothing written.
        let zed = format!("zed-{tag}@example.org");
        for (body, field) in [
            ("first_name=Zed&consent=yes".to_string(), "email"),
            ("email=zed-at-example&first_name=Zed&consent=yes".to_string(), "email"),
            (format!("email={}&first_name=Zed", enc(&zed)), "consent"),
        ] {
            let (st, html) = post_form(&s, &id, &body, &[]).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {html}");
            assert!(html.contains(&format!("id=\"{field}-error\"")), "{field} marked: {html}");
            assert!(html.contains("role=\"alert\""), "{html}");
            assert!(html.contains("value=\"Zed\""), "what was typed is kept: {html}");
            assert_eq!(html.contains("value=\"yes\" required checked"), body.contains("consent=yes"), "{html}");
        }
        assert_eq!(contact_by_email(&s, &zed).await, None, "a refused submission writes nothing");
        let (st, _) = post_form(&s, &uuid::Uuid::now_v7().to_string(), "email=a%40b.org&consent=yes", &[]).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // A urlencoded submission: consent pending, a confirmation mailed.
        let ada = format!("ada-{tag}@example.org");
        let (st, html) = post_form(
            &s,
            &id,
            &format!("email={}&first_name=Ada&consent=yes", enc(&ada)),
            &[("user-agent", "Submitter/1.0")],
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{html}");
        assert!(html.contains("check your inbox"), "{html}");
        let ada_id = contact_by_email(&s, &ada).await.expect("the contact is created");
        assert_eq!(s.get(&format!("/api/v1/contacts/{ada_id}")).await["first_name"], "Ada");
        let c = consent(&s, &ada_id, "marketing").await;
        assert_eq!(c["state"], "pending_double_opt_in", "{c}");
        assert_eq!(c["source"], format!("form:{id}"));
        assert_eq!(c["wording"], WORDING);
        assert_eq!(c["wording_version"], "2026-11");
        assert_eq!(c["proof"]["ip"], "127.0.0.1", "{c}");
        assert_eq!(c["proof"]["user_agent"], "Submitter/1.0", "{c}");
        assert_eq!(c["proof"]["form_payload"]["email"], ada.as_str(), "{c}");
        s.until(&format!("/api/v1/contacts/{ada_id}/events"), "Form Submitted", |v| {
            v["data"].as_array().is_some_and(|a| {
                a.iter().any(|e| e["name"] == "Form Submitted" && e["properties"]["form_id"] == id.as_str())
            })
        })
        .await;
        // Pending is not consent: the gate refuses marketing.
        let (st, v) =
            s.api(Method::POST, "/api/v1/email/send", Some(json!({"contact_id": ada_id, "template": "Weekly"}))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["outcome"], "refused", "{v}");
        assert!(v["reason"].as_str().unwrap().contains("pending_double_opt_in"), "{v}");
        let members = s.get(&format!("/api/v1/lists/{list_id}/members")).await;
        assert_eq!(members["data"].as_array().unwrap().len(), 0, "not on the list before confirming: {members}");

        let mail = wait_for_confirmations(&smtp, &ada, 1).await.remove(0);
        assert_eq!(mail["dkim"], true, "{mail}");
        assert_eq!(mail["list_unsubscribe"], "", "a transactional message: {mail}");
        assert!(mail["html"].as_str().unwrap().contains("Hello Ada"), "{mail}");
        let token = token_in(&mail, &s.url);

        // GET shows a button and changes nothing.
        let (st, html) = page(&s, Method::GET, &format!("/confirm/{token}"), "LinkScanner/1").await;
        assert_eq!(st, StatusCode::OK, "{html}");
        assert!(html.contains("<form method=\"post\"") && html.contains("<button"), "{html}");
        assert!(html.contains("a********@example.org") && !html.contains(&ada), "the address, masked: {html}");
        assert_eq!(consent(&s, &ada_id, "marketing").await["state"], "pending_double_opt_in");

        // Tampered or forged tokens: 400, no change.
        let (payload, sig) = token.split_once('.').unwrap();
        let mut chars: Vec<char> = sig.chars().collect();
        chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
        let flipped: String = chars.into_iter().collect();
        for bad in [format!("{payload}.{flipped}"), format!("{}x.{sig}", payload), "garbage".to_string()] {
            let (st, html) = page(&s, Method::POST, &format!("/confirm/{bad}"), "Forger/1").await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {html}");
            assert!(html.contains("Nothing was changed"), "{html}");
        }
        assert_eq!(consent(&s, &ada_id, "marketing").await["state"], "pending_double_opt_in");
        let before = history_len(&s, &ada_id).await;

        // POST confirms: consent granted with the confirmation's proof.
        let (st, html) = page(&s, Method::POST, &format!("/confirm/{token}"), "Confirmer/2.0").await;
        assert_eq!(st, StatusCode::OK, "{html}");
        assert!(html.contains("You are subscribed"), "{html}");
        let c = consent(&s, &ada_id, "marketing").await;
        assert_eq!(c["state"], "granted", "{c}");
        assert_eq!(c["source"], format!("form:{id}:double_opt_in"));
        assert_eq!(c["wording"], WORDING);
        assert_eq!(c["proof"]["user_agent"], "Confirmer/2.0", "{c}");
        assert_eq!(c["proof"]["ip"], "127.0.0.1", "{c}");
        assert_eq!(c["proof"]["form_payload"]["submission"]["user_agent"], "Submitter/1.0", "{c}");
        assert_eq!(history_len(&s, &ada_id).await, before + 1);
        let members = s.get(&format!("/api/v1/lists/{list_id}/members")).await;
        assert_eq!(members["data"][0]["id"], ada_id.as_str(), "on the list once confirmed: {members}");
        let (_, v) =
            s.api(Method::POST, "/api/v1/email/send", Some(json!({"contact_id": ada_id, "template": "Weekly"}))).await;
        assert_eq!(v["outcome"], "sent", "marketing passes the gate now: {v}");
        // A second confirmation is harmless.
        let (st, html) = page(&s, Method::POST, &format!("/confirm/{token}"), "Confirmer/2.0").await;
        assert_eq!(st, StatusCode::OK, "{html}");
        assert!(html.contains("already confirmed"), "{html}");
        assert_eq!(history_len(&s, &ada_id).await, before + 1, "nothing recorded twice");
        // Submitting again once confirmed does not take consent back.
        let (st, _) = post_form(&s, &id, &format!("email={}&consent=yes", enc(&ada)), &[]).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(consent(&s, &ada_id, "marketing").await["state"], "granted");

        // JSON from a site, with Global Privacy Control.
        let bo = format!("bo-{tag}@example.org");
        for (body, path) in [
            (json!({"email": "bo-at-example", "consent": true}), "email"),
            (json!({"email": bo, "consent": false}), "consent"),
            (json!({"email": bo, "consent": true, "colour": "red"}), "colour"),
            (json!({"email": bo, "consent": true, "first_name": 7}), "first_name"),
        ] {
            let (st, v) = post_json(&s, &id, body, &[]).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
            assert_eq!(v["errors"][0]["path"], path, "{v}");
        }
        assert_eq!(contact_by_email(&s, &bo).await, None, "a refused submission writes nothing");
        let (st, v) =
            post_json(&s, &uuid::Uuid::now_v7().to_string(), json!({"email": bo, "consent": true}), &[]).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
        assert_eq!(v["status"], 404, "a problem document: {v}");
        let (st, v) = post_json(
            &s,
            &id,
            json!({"email": bo, "consent": true, "first_name": "Bo"}),
            &[("sec-gpc", "1"), ("user-agent", "SiteBackend/3")],
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "pending_confirmation", "{v}");
        let bo_id = contact_by_email(&s, &bo).await.expect("created from JSON");
        assert_eq!(consent(&s, &bo_id, "marketing").await["state"], "pending_double_opt_in");
        let gpc = consent(&s, &bo_id, "third_party_sharing").await;
        assert_eq!(gpc["state"], "denied", "{gpc}");
        assert_eq!(gpc["source"], "gpc", "recorded as for tracking calls: {gpc}");
        assert_eq!(gpc["proof"]["form_payload"]["form_id"], id.as_str(), "{gpc}");
        assert_eq!(gpc["proof"]["form_payload"]["headers"]["Sec-GPC"], "1", "{gpc}");
        assert_eq!(gpc["proof"]["user_agent"], "SiteBackend/3", "{gpc}");
        let first = wait_for_confirmations(&smtp, &bo, 1).await.remove(0);
        let bo_token = token_in(&first, &s.url);

        // A confirmation held back by a passing failure (greylisting: 451
        // once) goes out minutes later, not with the first reminder.
        let grey = format!("greylist@{tag}.example.org");
        let (st, _) = post_json(&s, &id, json!({"email": grey, "consent": true}), &[]).await;
        assert_eq!(st, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert!(confirmations(&smtp, &grey).is_empty(), "refused with 451 the first time");
        clock.advance(chrono::Duration::minutes(6));
        let got = wait_for_confirmations(&smtp, &grey, 1).await;
        assert!(token_in(&got[0], &s.url).contains('.'));

        // One reminder after 48 hours, and not a second.
        clock.advance(chrono::Duration::hours(47));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(confirmations(&smtp, &bo).len(), 1, "no reminder before the delay");
        assert_eq!(confirmations(&smtp, &grey).len(), 1, "the retried first email counts as no reminder");
        clock.advance(chrono::Duration::hours(2));
        let got = wait_for_confirmations(&smtp, &bo, 2).await;
        assert_eq!(token_in(&got[1], &s.url), bo_token, "the reminder carries the same link");
        clock.advance(chrono::Duration::hours(50));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(confirmations(&smtp, &bo).len(), 2, "at most one reminder");
        assert_eq!(confirmations(&smtp, &ada).len(), 1, "the confirmed are not reminded");
        assert_eq!(confirmations(&smtp, &grey).len(), 2, "the greylisted address got its one reminder too");

        // After expiry the link is refused and consent stays pending.
        clock.advance(chrono::Duration::hours(72));
        for method in [Method::GET, Method::POST] {
            let (st, html) = page(&s, method, &format!("/confirm/{bo_token}"), "Late/1").await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{html}");
            assert!(html.contains("expired"), "{html}");
        }
        assert_eq!(consent(&s, &bo_id, "marketing").await["state"], "pending_double_opt_in");
        let members = s.get(&format!("/api/v1/lists/{list_id}/members")).await;
        assert_eq!(members["data"].as_array().unwrap().len(), 1, "only Ada: {members}");

        // Erasure leaves no confirmation (IP, user agent, payload) behind.
        let (st, v) = s.api(Method::POST, &format!("/api/v1/contacts/{bo_id}/erase"), None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let rows = testing::all_rows_as_text(&ts.url).await;
        assert!(!rows.iter().any(|(t, r)| t == "form_confirmations" && r.contains(&bo_id)), "confirmation erased");
        assert!(!rows.iter().any(|(_, r)| r.contains(&bo)), "no trace of the address");

        // The confirmation is transactional but not above suppression: a
        // hard bounce suppresses the address, and the next one is refused.
        let dead = format!("hardbounce@{tag}.example.org");
        let (st, _) = post_json(&s, &id, json!({"email": dead, "consent": true}), &[]).await;
        assert_eq!(st, StatusCode::OK);
        let dead_id = contact_by_email(&s, &dead).await.unwrap();
        let (st, _) = post_json(&s, &id, json!({"email": dead, "consent": true}), &[]).await;
        assert_eq!(st, StatusCode::OK);
        let msgs = s.get(&format!("/api/v1/email/messages?contact_id={dead_id}")).await;
        let mut statuses: Vec<&str> =
            msgs["data"].as_array().unwrap().iter().map(|m| m["status"].as_str().unwrap()).collect();
        statuses.sort();
        assert_eq!(statuses, ["bounced", "refused"], "{msgs}");
        assert!(msgs.to_string().contains("suppressed"), "{msgs}");

        // A single opt-in form grants at once and adds to the list.
        let mut single = base.clone();
        single["double_opt_in"] = json!(false);
        single["name"] = json!("Offers");
        let (st, form2) = s.api(Method::POST, "/api/v1/forms", Some(single)).await;
        assert_eq!(st, StatusCode::CREATED, "{form2}");
        let cy = format!("cy-{tag}@example.org");
        let (st, v) = post_json(&s, form2["id"].as_str().unwrap(), json!({"email": cy, "consent": true}), &[]).await;
        assert_eq!((st, v["status"].clone()), (StatusCode::OK, json!("subscribed")), "{v}");
        let cy_id = contact_by_email(&s, &cy).await.unwrap();
        assert_eq!(consent(&s, &cy_id, "marketing").await["state"], "granted");
        let members = s.get(&format!("/api/v1/lists/{list_id}/members")).await;
        assert_eq!(members["data"].as_array().unwrap().len(), 2, "{members}");
        assert!(confirmations(&smtp, &cy).is_empty(), "no confirmation for single opt-in");

        // Submissions are limited per address: a form cannot be used to
        // flood someone with confirmation emails.
        let mut limited = None;
        for _ in 0..25 {
            let r = s.http.post(format!("{}/f/{id}", s.url)).json(&json!({"email": "x"})).send().await.unwrap();
            if r.status() == StatusCode::TOO_MANY_REQUESTS {
                limited = Some((r.headers().get("retry-after").cloned(), r.json::<Value>().await.unwrap()));
                break;
            }
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        }
        let (retry, problem) = limited.expect("a 429 after 20 submissions a minute");
        assert!(retry.is_some(), "with Retry-After");
        assert_eq!(problem["status"], 429, "{problem}");

        let (st, _) = s.api(Method::DELETE, &format!("/api/v1/forms/{id}"), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = page(&s, Method::GET, &format!("/f/{id}"), "Browser/1").await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
}
