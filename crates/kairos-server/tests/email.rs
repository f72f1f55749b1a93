//! Email end to end, on each store backend, through a real SMTP server
//! (aiosmtpd) that parses every message with Python's `email` package and
//! verifies its DKIM signature with dkimpy against the DNS record Kairos
//! printed: templates checked on save with line and column, previews, the
//! gate (no consent → refused; consent → sent), RFC 8058 headers and the
//! one-click POST, tracked clicks (a tampered link is a 400), opens with
//! Apple's proxy flagged, a hard bounce at RCPT time (suppressed), a
//! greylisting 451 retried by a journey, DSN and ARF reports applied, a
//! contact without a first name skipped rather than sent "Hi ,", and the
//! capture transport keeping messages instead of sending them.

mod common;
use chrono::Utc;
use common::Server;
use kairos_core::apikey::Scope;
use kairos_core::clock::ManualClock;
use kairos_engine::{EmailOptions, EmailTransport, EngineOptions, OutboxOptions};
use kairos_store::testing::{self, SmtpReceiver};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

const MJML: &str = r#"<mjml><mj-body><mj-section><mj-column>
<mj-text>Hi {{ contact.first_name }},</mj-text>
<mj-text>Your plan: {{ contact.custom.plan | default: "free" }}. Total {{ event.properties.total | money: "EUR" }}.</mj-text>
<mj-button href="https://shop.example/offer?id=7">See the offer</mj-button>
</mj-column></mj-section></mj-body></mjml>"#;

fn options(transport: EmailTransport) -> EngineOptions {
    EngineOptions {
        outbox: OutboxOptions {
            allow_private_webhooks: true,
            retry_base: std::time::Duration::from_millis(20),
            max_attempts: 4,
            ..OutboxOptions::default()
        },
        journeys: true,
        email: EmailOptions { transport, ..EmailOptions::default() },
        ..EngineOptions::default()
    }
}

async fn identify(s: &Server, user: &str, email: &str, first: Option<&str>) -> String {
    let mut traits = json!({"email": email, "plan": "pro"});
    if let Some(f) = first {
        traits["first_name"] = json!(f);
    }
    s.track(json!({"type": "identify", "userId": user, "traits": traits, "messageId": format!("id-{user}")})).await;
    s.until(&format!("/api/v1/contacts?external_id={user}"), "the contact", |v| v["data"][0]["id"].is_string()).await;
    s.contact_id(user).await
}

async fn grant(s: &Server, contact: &str) {
    let (st, v) = s
        .api(
            Method::PUT,
            &format!("/api/v1/contacts/{contact}/consents"),
            Some(json!({"channel": "email", "purpose": "marketing", "state": "granted",
                        "wording": "Email me news and offers", "source": "form:signup"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

async fn send(s: &Server, contact: &str, template: &str) -> Value {
    let (st, v) = s
        .api(
            Method::POST,
            "/api/v1/email/send",
            Some(json!({"contact_id": contact, "template": template,
                        "event": {"name": "Order Completed", "properties": {"total": 1234.5}}})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

/// The message received for `to`, waiting for it.
async fn received(smtp: &SmtpReceiver, to: &str) -> Value {
    for _ in 0..200 {
        if let Some(m) = smtp.messages().into_iter().find(|m| m["rcpt_tos"][0] == to) {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no message for {to}; received: {:?}", smtp.messages());
}

#[tokio::test]
async fn email_through_a_real_smtp_server_with_dkim_tracking_and_unsubscribe() {
    let Some(smtp) = SmtpReceiver::start() else { return };
    for ts in testing::all().await {
        let backend = ts.backend();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s =
            Server::start_with(ts.store.clone(), clock.clone(), None, options(EmailTransport::Smtp(smtp.url()))).await;
        let (st, _) = s.api(Method::POST, "/api/v1/fields", Some(json!({"name": "plan", "type": "string"}))).await;
        assert_eq!(st, StatusCode::CREATED);
        let (st, v) = s
            .api(
                Method::PUT,
                "/api/v1/settings",
                Some(json!({"postal_address": "Acme Ltd, 1 Main Street, Springfield 12345"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");

        // Bad templates are refused with where and why.
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/email/templates",
                Some(json!({"name": "bad", "subject": "Hi", "format": "html",
                            "body": "<p>Hello</p>\n<p>{{ contact.frist_name }}</p>"})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["path"], "body:2:4", "{v}");
        assert!(v["errors"][0]["message"].as_str().unwrap().contains("frist_name"), "{v}");
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/email/templates",
                Some(
                    json!({"name": "bad", "subject": "Hi", "format": "html", "body": "<p>{% if contact.email %}x</p>"}),
                ),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/email/templates",
                Some(json!({"name": "bad", "subject": "Hi\r\nBcc: victim@example.org", "format": "html", "body": "<p>x</p>"})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

        let (st, t) = s
            .api(
                Method::POST,
                "/api/v1/email/templates",
                Some(json!({"name": "Welcome", "subject": "Welcome, {{ contact.first_name | default: 'friend' }}", "body": MJML})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{t}");

        // A sender identity with an Ed25519 key, then one with RSA-2048 as
        // the default; both DNS records are published to the receiver.
        let (st, ed) = s
            .api(
                Method::POST,
                "/api/v1/email/senders",
                Some(json!({"email": "news@acme.example", "name": "Acme", "dkim_selector": "ed1",
                            "dkim_algorithm": "ed25519"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{ed}");
        assert!(ed["dkim"]["dns_value"].as_str().unwrap().starts_with("v=DKIM1; k=ed25519; p="));
        let (st, rsa) = s
            .api(
                Method::POST,
                "/api/v1/email/senders",
                Some(json!({"email": "news@acme.example", "name": "Acme News", "reply_to": "help@acme.example",
                            "dkim_selector": "rsa1", "dkim_algorithm": "rsa2048", "default": true})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{rsa}");
        for k in [&ed, &rsa] {
            smtp.publish(k["dkim"]["dns_name"].as_str().unwrap(), k["dkim"]["dns_value"].as_str().unwrap());
        }
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/email/senders",
                Some(json!({"email": "news@acme.example", "name": "Evil\r\nBcc: x@y.z"})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

        let tag = format!("{backend:?}").to_lowercase();
        let ada_email = format!("ada-{tag}@example.org");
        let ada = identify(&s, &format!("ada-{tag}"), &ada_email, Some("Ada")).await;

        // Preview for a chosen contact renders without sending.
        let (st, p) = s
            .api(
                Method::POST,
                &format!("/api/v1/email/templates/{}/preview", t["id"].as_str().unwrap()),
                Some(json!({"contact_id": ada, "event": {"name": "Order Completed", "properties": {"total": 5}}})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{p}");
        assert_eq!(p["subject"], "Welcome, Ada");
        assert!(p["html"].as_str().unwrap().contains("Your plan: pro. Total €5.00."), "{p}");

        // No consent yet: the gate refuses, nothing reaches the server.
        let v = send(&s, &ada, "Welcome").await;
        assert_eq!(v["outcome"], "refused", "{v}");
        assert!(v["reason"].as_str().unwrap().contains("no consent"), "{v}");
        assert!(smtp.messages().iter().all(|m| m["rcpt_tos"][0] != ada_email.as_str()));

        grant(&s, &ada).await;
        let v = send(&s, &ada, "Welcome").await;
        assert_eq!(v["outcome"], "sent", "{v}");
        let m = received(&smtp, &ada_email).await;
        assert_eq!(m["dkim"], true, "DKIM must verify with dkimpy: {m}");
        let dkim_header = m["dkim_header"].as_str().unwrap().to_ascii_lowercase();
        for h in ["from", "subject", "list-unsubscribe", "list-unsubscribe-post"] {
            assert!(dkim_header.contains(h), "the signature must cover {h}: {dkim_header}");
        }
        assert!(dkim_header.contains("a=rsa-sha256") && dkim_header.contains("s=rsa1"), "{dkim_header}");
        assert_eq!(m["content_type"], "multipart/alternative");
        assert_eq!(m["subject"], "Welcome, Ada");
        assert_eq!(m["from"], "Acme News <news@acme.example>");
        assert_eq!(m["reply_to"], "help@acme.example");
        assert_eq!(m["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
        assert!(m["defects"].as_array().unwrap().is_empty(), "{m}");
        let lu = m["list_unsubscribe"].as_str().unwrap();
        assert!(lu.contains("<mailto:unsubscribe@acme.example"), "{lu}");
        let one_click = lu.split(['<', '>']).find(|p| p.starts_with("http")).unwrap().to_string();
        let html = m["html"].as_str().unwrap();
        let text = m["text"].as_str().unwrap();
        assert!(html.contains("Hi Ada,") && text.contains("Hi Ada,"), "{text}");
        assert!(html.contains("Acme Ltd, 1 Main Street") && text.contains("Acme Ltd, 1 Main Street"), "footer: {text}");
        assert!(html.contains(&one_click), "a visible unsubscribe link");
        assert!(html.contains("/preferences/"), "a preference-centre link");

        // The tracked link redirects to the target with UTM parameters; a
        // tampered one is refused.
        let tracked = html.split("href=\"").filter_map(|p| p.split('"').next()).find(|u| u.contains("/t/c/")).unwrap();
        let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        clock.advance(chrono::Duration::seconds(30));
        let r = no_redirect
            .get(tracked.replace("&amp;", "&"))
            .header("user-agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.starts_with("https://shop.example/offer?id=7&utm_source=kairos&utm_medium=email"),
            "{location}"
        );
        let token = tracked.rsplit('/').next().unwrap();
        let (payload, sig) = token.split_once('.').unwrap();
        let mut bytes = payload.as_bytes().to_vec();
        let last = bytes.len() - 1;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{}/t/c/{}.{sig}", s.url, String::from_utf8(bytes).unwrap());
        assert_eq!(no_redirect.get(&tampered).send().await.unwrap().status(), StatusCode::BAD_REQUEST);

        // Opens: Apple's proxy (bare Mozilla/5.0) is flagged as a machine.
        let pixel = html.split("src=\"").filter_map(|p| p.split('"').next()).find(|u| u.contains("/t/o/")).unwrap();
        let r = no_redirect.get(pixel).header("user-agent", "Mozilla/5.0").send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "image/gif");
        no_redirect
            .get(pixel)
            .header("user-agent", "Mozilla/5.0 (Windows NT 10.0) Thunderbird/128.0")
            .send()
            .await
            .unwrap();
        let msg_id = v["message_id"].as_str().unwrap();
        let rec = s.get(&format!("/api/v1/email/messages/{msg_id}")).await;
        assert_eq!(
            (rec["opens"].as_i64(), rec["machine_opens"].as_i64(), rec["clicks"].as_i64()),
            (Some(1), Some(1), Some(1)),
            "{rec}"
        );
        let report = s.get(&format!("/api/v1/email/templates/{}/report", t["id"].as_str().unwrap())).await;
        assert_eq!(report["totals"]["unique_opens"], 1, "{report}");
        assert!(report["links"][0]["url"].as_str().unwrap().starts_with("https://shop.example/offer"), "{report}");

        // One-click unsubscribe (RFC 8058): a POST, no login, at once.
        let r = s.http.post(&one_click).body("List-Unsubscribe=One-Click").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let consents = s.get(&format!("/api/v1/contacts/{ada}/consents")).await;
        assert!(consents.to_string().contains("withdrawn") && consents.to_string().contains("one_click"), "{consents}");
        let check = s.get(&format!("/api/v1/suppressions/check?channel=email&address={ada_email}")).await;
        assert_eq!(check["reason"], "unsubscribed", "{check}");
        let v = send(&s, &ada, "Welcome").await;
        assert_eq!(v["outcome"], "refused", "{v}");
        // A forged unsubscribe token is refused.
        let r = s.http.post(format!("{}/u/AAAA.BBBB", s.url)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);

        // A contact without a first name is skipped with the reason, since
        // the body prints it without a default.
        let bob = identify(&s, &format!("bob-{tag}"), &format!("bob-{tag}@example.org"), None).await;
        grant(&s, &bob).await;
        let v = send(&s, &bob, "Welcome").await;
        assert_eq!(v["outcome"], "skipped", "{v}");
        assert!(v["reason"].as_str().unwrap().contains("contact.first_name"), "{v}");

        // A hard bounce at RCPT time suppresses the address.
        let gone = identify(&s, &format!("gone-{tag}"), "hardbounce@example.org", Some("Gone")).await;
        grant(&s, &gone).await;
        let v = send(&s, &gone, "Welcome").await;
        assert_eq!(v["outcome"], "bounced", "{v}");
        let check = s.get("/api/v1/suppressions/check?channel=email&address=hardbounce@example.org").await;
        assert_eq!(check["reason"], "hard_bounce", "{check}");

        // A journey's send node: greylisted (451) first, retried, delivered.
        let grey = identify(&s, &format!("grey-{tag}"), "greylist@example.org", Some("Grace")).await;
        grant(&s, &grey).await;
        let (st, j) = s
            .api(
                Method::POST,
                "/api/v1/journeys",
                Some(json!({"name": "Welcome series", "definition": {
                    "trigger": {"type": "event", "event": "Trial Started"},
                    "start": "mail",
                    "nodes": {"mail": {"type": "send", "channel": "email", "template": "Welcome", "next": "done"},
                              "done": {"type": "exit"}}}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{j}");
        let jid = j["id"].as_str().unwrap().to_string();
        let (st, v) = s.api(Method::POST, &format!("/api/v1/journeys/{jid}/publish"), None).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        s.track(json!({"type": "track", "userId": format!("grey-{tag}"), "event": "Trial Started",
                       "properties": {"total": 99}, "messageId": format!("trial-grey-{tag}")}))
            .await;
        for _ in 0..200 {
            if smtp.messages().iter().any(|m| m["rcpt_tos"][0] == "greylist@example.org") {
                break;
            }
            clock.advance(chrono::Duration::seconds(1));
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        if !smtp.messages().iter().any(|m| m["rcpt_tos"][0] == "greylist@example.org") {
            let runs = s.get(&format!("/api/v1/contacts/{grey}/journeys")).await;
            let dead = s.get("/api/v1/outbox/dead-letters").await;
            let msgs = s.get(&format!("/api/v1/email/messages?contact_id={grey}")).await;
            panic!("the journey's email did not arrive: runs {runs}; dead letters {dead}; messages {msgs}");
        }
        let m = received(&smtp, "greylist@example.org").await;
        assert_eq!(m["dkim"], true, "{m}");
        assert!(m["kairos"].as_str().unwrap().ends_with("marketing"));
        // Personalised with the triggering event's properties.
        assert!(m["text"].as_str().unwrap().contains("Total €99.00."), "{m}");

        // An asynchronous bounce (DSN) and a complaint (ARF) naming our
        // message are applied.
        let dsn = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../kairos-email/tests/samples/dsn_hard_postfix.eml"
        ))
        .unwrap()
        .replace("0193a0b2-7c1e-7d4a-9f00-1234567890ab", msg_id)
        .replace("gone@example.org", &ada_email);
        let r = s
            .http
            .post(format!("{}/api/v1/email/inbound", s.url))
            .bearer_auth(&s.admin)
            .body(dsn)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let applied: Value = r.json().await.unwrap();
        assert_eq!(applied["status"], "bounced", "{applied}");
        assert_eq!(s.get(&format!("/api/v1/email/messages/{msg_id}")).await["status"], "bounced");
        let r = s
            .http
            .post(format!("{}/api/v1/email/inbound", s.url))
            .bearer_auth(&s.admin)
            .body("not a report")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // Everything went to the log against the contact.
        let events = s
            .until(&format!("/api/v1/contacts/{ada}/events"), "email events", |v| {
                let t = v.to_string();
                ["Email Sent", "Email Opened", "Email Clicked", "Unsubscribed", "Email Bounced"]
                    .iter()
                    .all(|n| t.contains(n))
            })
            .await;
        assert!(events.to_string().contains("apple_privacy_protection"), "{events}");
    }
}

#[tokio::test]
async fn capture_transport_keeps_messages_instead_of_sending() {
    for ts in testing::all().await {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s = Server::start_with(ts.store.clone(), clock, None, options(EmailTransport::Capture)).await;
        let (st, _) = s.api(Method::POST, "/api/v1/fields", Some(json!({"name": "plan", "type": "string"}))).await;
        assert_eq!(st, StatusCode::CREATED);
        let (st, _) = s
            .api(
                Method::POST,
                "/api/v1/email/senders",
                Some(json!({"email": "hi@acme.example", "dkim_algorithm": "ed25519"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let (st, _) = s
            .api(Method::POST, "/api/v1/email/templates", Some(json!({"name": "Receipt", "subject": "Your receipt", "format": "html",
                "body": "<p>Thanks {{ contact.first_name | default: 'there' }}: {{ event.properties.total | money: 'USD' }}</p>"})))
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let ada = identify(&s, "ada", "ada@example.org", Some("Ada")).await;
        // Transactional: no marketing consent needed, no unsubscribe headers.
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/email/send",
                Some(json!({"contact_id": ada, "template": "Receipt", "transactional": true,
                "event": {"name": "Order Completed", "properties": {"total": 42}}})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "captured", "{v}");
        let id = v["message_id"].as_str().unwrap();
        let raw =
            s.http.get(format!("{}/api/v1/email/messages/{id}/raw", s.url)).bearer_auth(&s.admin).send().await.unwrap();
        assert_eq!(raw.headers()["content-type"], "message/rfc822");
        let raw = raw.text().await.unwrap();
        assert!(raw.starts_with("DKIM-Signature:"), "{raw}");
        assert!(raw.contains("Thanks Ada: $42.00"), "{raw}");
        assert!(!raw.contains("\r\nList-Unsubscribe:"), "transactional mail carries no unsubscribe headers");
        let list = s.get(&format!("/api/v1/email/messages?contact_id={ada}")).await;
        assert_eq!(list["data"][0]["status"], "captured");
        assert!(list["data"][0].get("raw").is_none(), "lists leave the message out");

        // Transparency: a disclosure line in every message once switched on, and
        // a public page generated from the workspace's configuration.
        let ws = s.get("/api/v1/workspace").await["id"].as_str().unwrap().to_string();
        let page = |ws: String| {
            let http = s.http.clone();
            let url = s.url.clone();
            async move {
                let r = http.get(format!("{url}/transparency/{ws}")).send().await.unwrap();
                let cache = r.headers()[reqwest::header::CACHE_CONTROL].to_str().unwrap().to_string();
                // "Not published" is never cached, so publishing shows at once.
                assert_eq!(cache, if r.status().is_success() { "public, max-age=60" } else { "no-store" });
                (r.status(), r.text().await.unwrap())
            }
        };
        assert_eq!(page(ws.clone()).await.0, StatusCode::NOT_FOUND, "not published yet");
        let settings = json!({"transparency": {"organisation": "Acme Ltd", "disclose_automation": true, "public_page": true,
            "privacy_contact": "privacy@acme.example", "statement": "We keep only what we need. <script>alert(1)</script>"}});
        let (st, v) = s.api(Method::PUT, "/api/v1/settings", Some(settings)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/email/send",
                Some(json!({"contact_id": ada, "template": "Receipt", "transactional": true,
                            "event": {"name": "Order Completed", "properties": {"total": 7}}})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let raw = s.text(&format!("/api/v1/email/messages/{}/raw", v["message_id"].as_str().unwrap())).await;
        // (Quoted-printable soft line breaks joined.)
        let joined = raw.replace("=\r\n", "").replace("=\n", "");
        assert_eq!(
            joined.matches("This message was sent automatically by Acme Ltd.").count(),
            2,
            "HTML and text: {raw}"
        );
        let (st, html) = page(ws.clone()).await;
        assert_eq!(st, StatusCode::OK, "{html}");
        for want in [
            "What Acme Ltd collects about you",
            "plan",
            "Email Sent",
            "mailto:privacy@acme.example",
            "until you ask for it to be deleted",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ] {
            assert!(html.contains(want), "{want:?} missing from the page: {html}");
        }
        assert!(!html.contains("<script>"), "escaped");
        let (st, _) = s
            .api(
                Method::PUT,
                "/api/v1/retention",
                Some(json!({"events_max_age_days": 365, "events_action": "anonymise"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        assert!(page(ws.clone()).await.1.contains("Activity older than 1 year is anonymised"));
        assert_eq!(page(uuid::Uuid::now_v7().to_string()).await.0, StatusCode::NOT_FOUND);
        assert_eq!(page("not-an-id".into()).await.0, StatusCode::NOT_FOUND);

        // Secrets at rest: the DKIM key and a webhook secret are sealed in the
        // store (the signature above was made with the unsealed key).
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let (st, _) = s
            .api(
                Method::POST,
                "/api/v1/webhook-endpoints",
                Some(json!({"id": "crm", "url": "http://127.0.0.1:9/hook", "secret": secret})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let rows = testing::all_rows_as_text(&ts.url).await;
        let senders: Vec<_> = rows.iter().filter(|(t, _)| t == "email_senders").collect();
        assert_eq!(senders.len(), 1);
        assert!(senders[0].1.contains("enc:v1:"), "{:?}", senders[0]);
        assert!(
            !rows.iter().any(|(_, r)| r.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
            "webhook secret stored in clear"
        );
        assert!(!s.get("/api/v1/email/senders").await.to_string().contains("enc:v1:"), "never returned by the API");
    }
}

/// Poll a campaign's report until `f` holds.
async fn report_until(s: &Server, id: &str, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    s.until(&format!("/api/v1/email/campaigns/{id}/report"), what, f).await
}

#[tokio::test]
async fn broadcast_with_an_ab_test_a_throttle_pause_and_a_report() {
    for ts in testing::all().await {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s = Server::start_with(ts.store.clone(), clock.clone(), None, options(EmailTransport::Capture)).await;
        let (st, _) = s
            .api(Method::PUT, "/api/v1/settings", Some(json!({"postal_address": "Acme, 1 Main St, Springfield 12345"})))
            .await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = s
            .api(
                Method::POST,
                "/api/v1/email/senders",
                Some(json!({"email": "news@acme.example", "dkim_algorithm": "ed25519"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        for (name, subject) in
            [("Spring A", "Spring sale"), ("Spring B", "{{ contact.first_name | default: 'Hi' }}, 20% off")]
        {
            let (st, v) = s
                .api(
                    Method::POST,
                    "/api/v1/email/templates",
                    Some(json!({"name": name, "subject": subject, "format": "html",
                    "body": "<p>Sale!</p><a href=\"https://shop.example/sale\">Shop</a>"})),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
        }
        let (_, list) = s.api(Method::POST, "/api/v1/lists", Some(json!({"name": "Newsletter"}))).await;
        let list = list["id"].as_str().unwrap().to_string();
        let mut ids = Vec::new();
        for i in 0..40 {
            let id = identify(&s, &format!("n{i}"), &format!("n{i}@example.org"), Some("Nora")).await;
            if i >= 2 {
                grant(&s, &id).await;
            }
            ids.push(id);
        }
        let (st, v) =
            s.api(Method::POST, &format!("/api/v1/lists/{list}/members"), Some(json!({"contact_ids": ids}))).await;
        assert_eq!(st, StatusCode::OK, "{v}");

        // Bad definitions are refused with the path of the problem.
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/email/campaigns",
                Some(json!({"name": "x", "definition": {"audience": {"list": list},
                "ab": {"variants": ["Spring A", "Nope"]}}})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["path"], "definition.ab.variants", "{v}");

        let (st, c) = s
            .api(
                Method::POST,
                "/api/v1/email/campaigns",
                Some(json!({"name": "Spring sale", "definition": {
                "audience": {"list": list}, "ab": {"variants": ["Spring A", "Spring B"], "sample_percent": 50,
                "wait_minutes": 60, "metric": "opens"}, "conversion": {"event": "Order Completed", "days": 7}}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{c}");
        let cid = c["id"].as_str().unwrap().to_string();
        let (st, c) = s.api(Method::POST, &format!("/api/v1/email/campaigns/{cid}/launch"), None).await;
        assert_eq!(st, StatusCode::OK, "{c}");
        assert_eq!(c["status"], "sending");
        // The sample goes out; the rest waits for the winner.
        let r = report_until(&s, &cid, "the A/B sample", |r| {
            r["recipients"]["pending"] == r["recipients"]["awaiting_winner"]
                && r["recipients"]["done"].as_i64() > Some(0)
        })
        .await;
        let sample = r["recipients"]["done"].as_i64().unwrap();
        assert!(sample > 5 && sample < 35, "{r}");
        // B's recipients open; A's do not.
        let b_template = s.get("/api/v1/email/templates/Spring%20B").await["id"].clone();
        let mut opened = std::collections::HashSet::new();
        open_captured(&s, &b_template, &mut opened).await;
        let b_opened = opened.len();
        assert!(b_opened > 0);
        // After the wait, B wins and the rest get it.
        clock.advance(chrono::Duration::minutes(61));
        let r = report_until(&s, &cid, "the campaign to finish", |r| r["status"] == "sent").await;
        assert_eq!(r["winner"], "Spring B", "{r}");
        assert!(r["detail"].as_str().unwrap().contains("P(best)"), "{r}");
        assert_eq!(r["recipients"]["done"], 40, "{r}");
        assert_eq!(r["totals"]["sent"], 38, "two recipients have no consent: {r}");
        assert_eq!(r["totals"]["refused"], 2, "{r}");
        assert_eq!((r["totals"]["delivered"].as_i64(), r["totals"]["bounced"].as_i64()), (Some(38), Some(0)), "{r}");
        assert!(
            r["variants"][1]["totals"]["sent"].as_i64().unwrap() > r["variants"][0]["totals"]["sent"].as_i64().unwrap(),
            "{r}"
        );
        // A conversion within the window counts.
        s.track(json!({"type": "track", "userId": "n5", "event": "Order Completed", "properties": {"total": 30},
                       "messageId": "conv-n5"}))
            .await;
        report_until(&s, &cid, "a conversion", |r| r["conversions"]["converted"] == 1).await;

        // A throttled campaign: paused, it stops; resumed, it finishes.
        let (_, c2) = s
            .api(
                Method::POST,
                "/api/v1/email/campaigns",
                Some(json!({"name": "Slow", "definition": {
                "audience": {"list": list}, "template": "Spring A", "per_minute": 120}})),
            )
            .await;
        let c2 = c2["id"].as_str().unwrap().to_string();
        s.api(Method::POST, &format!("/api/v1/email/campaigns/{c2}/launch"), None).await;
        let r =
            report_until(&s, &c2, "the first throttled sends", |r| r["recipients"]["done"].as_i64() > Some(0)).await;
        assert!(r["recipients"]["done"].as_i64().unwrap() < 40, "the throttle holds most back: {r}");
        let (st, p) = s.api(Method::POST, &format!("/api/v1/email/campaigns/{c2}/pause"), None).await;
        assert_eq!((st, p["status"].as_str()), (StatusCode::OK, Some("paused")));
        let paused_at =
            s.get(&format!("/api/v1/email/campaigns/{c2}/report")).await["recipients"]["done"].as_i64().unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        let still =
            s.get(&format!("/api/v1/email/campaigns/{c2}/report")).await["recipients"]["done"].as_i64().unwrap();
        assert!(still <= paused_at + 1, "a paused campaign sends nothing more ({paused_at} → {still})");
        let (st, v) = s.api(Method::POST, &format!("/api/v1/email/campaigns/{c2}/launch"), None).await;
        assert_eq!(st, StatusCode::CONFLICT, "{v}");
        s.api(Method::POST, &format!("/api/v1/email/campaigns/{c2}/resume"), None).await;
        let (st, v) = s.api(Method::POST, &format!("/api/v1/email/campaigns/{c2}/cancel"), None).await;
        assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("cancelled")), "{v}");
    }
}

#[tokio::test]
async fn starttls_and_auth_with_a_real_server_and_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem) = private_ca(dir.path());
    let (c, k) = (cert.clone(), key.clone());
    let Some(smtp) =
        SmtpReceiver::start_with(&[("SMTP_TLS_CERT", &c), ("SMTP_TLS_KEY", &k), ("SMTP_AUTH", "kairos:s3cret")])
    else {
        return;
    };
    let url = format!("smtp://kairos:s3cret@localhost:{}?tls=required", smtp.port);
    let m = deliver_one(&smtp, url.clone(), pem.clone(), "tls@example.org").await;
    assert_eq!(
        (m["tls"].as_bool(), m["authenticated"].as_bool(), m["dkim"].as_bool()),
        (Some(true), Some(true), Some(true)),
        "{m}"
    );

    // The settings show the relay (never the password) and check it: the
    // right login is accepted over TLS, a wrong one is named as the problem.
    for (url, works) in [(url, true), (format!("smtp://kairos:wrong@localhost:{}?tls=required", smtp.port), false)] {
        let ts = testing::sqlite().await;
        let mut opts = options(EmailTransport::Smtp(url));
        opts.email.smtp_ca_pem = Some(pem.clone());
        let s = Server::start_with(ts.store.clone(), Arc::new(ManualClock::new(Utc::now())), None, opts).await;
        let view = s.get("/api/v1/settings/email-transport").await;
        assert_eq!(view["kind"], "smtp", "{view}");
        assert_eq!(
            view["relay"],
            json!({"host": "localhost", "port": smtp.port, "security": "starttls", "user": "kairos"}),
            "{view}"
        );
        assert!(view["extra_ca"].as_bool().unwrap() && view["problem"].is_null(), "{view}");
        assert!(!view.to_string().contains("s3cret") && !view.to_string().contains("wrong"), "{view}");
        let before = smtp.messages().len();
        let (st, check) = s.api(Method::POST, "/api/v1/settings/email-transport/check", None).await;
        assert_eq!(st, StatusCode::OK, "{check}");
        if works {
            assert_eq!((check["ok"].as_bool(), check["encrypted"].as_bool()), (Some(true), Some(true)), "{check}");
            assert_eq!(check["authenticated"], true, "{check}");
        } else {
            assert_eq!(check["ok"], false, "{check}");
            assert!(check["error"].as_str().unwrap().contains("authentication failed"), "{check}");
        }
        assert_eq!(smtp.messages().len(), before, "a check sends nothing");
    }
}

#[tokio::test]
async fn the_settings_say_when_email_is_only_captured() {
    let ts = testing::sqlite().await;
    let s = Server::start_with(
        ts.store.clone(),
        Arc::new(ManualClock::new(Utc::now())),
        None,
        options(EmailTransport::Capture),
    )
    .await;
    let view = s.get("/api/v1/settings/email-transport").await;
    assert_eq!((view["kind"].as_str(), view["relay"].is_null()), (Some("capture"), true), "{view}");
    let (st, check) = s.api(Method::POST, "/api/v1/settings/email-transport/check", None).await;
    assert_eq!((st, check["ok"].as_bool()), (StatusCode::OK, Some(false)), "{check}");
    assert!(check["error"].as_str().unwrap().contains("--email-transport smtp"), "{check}");
}

/// A workspace sets its own SMTP relay (STARTTLS, a login, a private CA):
/// a relay is checked before it is saved (a wrong password is named and
/// nothing is stored), every wrong field is named, the password is stored
/// sealed and never shown, leaving it out keeps it, the workspace's email
/// then goes through the relay while another workspace on the same server
/// keeps the server's capture transport, every change is audited, and
/// removing the relay goes back to capture.
#[tokio::test]
async fn a_workspace_sends_through_its_own_smtp_relay() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem) = private_ca(dir.path());
    let Some(smtp) =
        SmtpReceiver::start_with(&[("SMTP_TLS_CERT", &cert), ("SMTP_TLS_KEY", &key), ("SMTP_AUTH", "kairos:s3cret")])
    else {
        return;
    };
    const RELAY: &str = "/api/v1/settings/email-transport/relay";
    const CHECK: &str = "/api/v1/settings/email-transport/check";
    for ts in testing::all().await {
        let backend = format!("{:?}", ts.backend()).to_lowercase();
        let mut opts = options(EmailTransport::Capture);
        opts.email.smtp_ca_pem = Some(pem.clone());
        let guarded_opts = opts.clone();
        opts.email.allow_private_relays = true;
        let s = Server::start_with(ts.store.clone(), Arc::new(ManualClock::new(Utc::now())), None, opts).await;
        let mut tx = ts.store.begin_write().await.unwrap();
        let globex = tx.create_workspace("globex", Utc::now()).await.unwrap().id;
        tx.commit().await.unwrap();
        let (_, admin) = kairos_server::issue_key(&ts.store, globex, "admin", Scope::Admin, Utc::now()).await.unwrap();
        let (_, write) = kairos_server::issue_key(&ts.store, globex, "write", Scope::Write, Utc::now()).await.unwrap();
        let other = Server { url: s.url.clone(), admin, write, http: reqwest::Client::new() };

        let view = s.get("/api/v1/settings/email-transport").await;
        assert_eq!(
            (view["kind"].as_str(), view["source"].as_str(), view["server_kind"].as_str()),
            (Some("capture"), Some("server"), Some("capture")),
            "{view}"
        );
        assert!(view["workspace_relay"].is_null(), "{view}");

        // Every wrong field at once: first the shape, then the values.
        let (st, v) = s
            .api(Method::PUT, RELAY, Some(json!({"host": "smtp://x", "port": 70000, "security": "ssl", "colour": 1})))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let paths: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
        assert_eq!(paths, ["colour", "security", "port", "host"], "{backend}: {v}");
        assert!(
            v["errors"][1]["message"].as_str().unwrap().contains("none, starttls, starttls_if_offered, tls"),
            "{v}"
        );
        let (st, v) = s
            .api(
                Method::PUT,
                RELAY,
                Some(json!({"host": "smtp://mail.example", "security": "starttls", "user": "kairos"})),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let paths: Vec<&str> = v["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
        assert_eq!(paths, ["host", "password"], "{backend}: {v}");

        // Checked before saving: the wrong password is named, nothing is stored.
        let relay = |password: Option<&str>| {
            let mut r = json!({"host": "localhost", "port": smtp.port, "security": "starttls", "user": "kairos"});
            if let Some(p) = password {
                r["password"] = json!(p);
            }
            r
        };
        let (st, check) = s.api(Method::POST, CHECK, Some(relay(Some("wrong")))).await;
        assert_eq!((st, check["ok"].as_bool()), (StatusCode::OK, Some(false)), "{check}");
        assert!(check["error"].as_str().unwrap().contains("authentication failed"), "{check}");
        let (st, check) = s.api(Method::POST, CHECK, Some(relay(Some("s3cret")))).await;
        assert_eq!(
            (st, check["encrypted"].as_bool(), check["authenticated"].as_bool()),
            (StatusCode::OK, Some(true), Some(true)),
            "{check}"
        );
        assert!(s.get("/api/v1/settings/email-transport").await["workspace_relay"].is_null());
        let (_, check) = s.api(Method::POST, CHECK, None).await;
        assert!(check["error"].as_str().unwrap().contains("captured"), "{check}");

        // Saved: shown without the password, sealed in the store.
        let (st, view) = s.api(Method::PUT, RELAY, Some(relay(Some("s3cret")))).await;
        assert_eq!(st, StatusCode::OK, "{view}");
        assert_eq!((view["kind"].as_str(), view["source"].as_str()), (Some("smtp"), Some("workspace")), "{view}");
        assert_eq!(
            view["relay"],
            json!({"host": "localhost", "port": smtp.port, "security": "starttls", "user": "kairos"}),
            "{view}"
        );
        assert_eq!(view["workspace_relay"]["password_set"], true, "{view}");
        assert!(view["workspace_relay"]["updated_by"].as_str().unwrap().starts_with("key:"), "{view}");
        assert!(!view.to_string().contains("s3cret"), "{view}");
        let ws: kairos_core::ids::WorkspaceId =
            s.get("/api/v1/auth/session").await["workspace"]["id"].as_str().unwrap().parse().unwrap();
        let mut tx = ts.store.begin().await.unwrap();
        let row = tx.workspace_relay(ws).await.unwrap().unwrap();
        drop(tx);
        let sealed = row.password.unwrap();
        assert!(sealed.starts_with("enc:v1:") && !sealed.contains("s3cret"), "{sealed}");

        // Saved again without the password: the stored one is kept.
        let (st, view) = s.api(Method::PUT, RELAY, Some(relay(None))).await;
        assert_eq!((st, view["workspace_relay"]["password_set"].as_bool()), (StatusCode::OK, Some(true)), "{view}");
        let (_, check) = s.api(Method::POST, CHECK, None).await;
        assert_eq!((check["ok"].as_bool(), check["authenticated"].as_bool()), (Some(true), Some(true)), "{check}");
        // …but never sent to another host, another user or over a weaker
        // connection: those need the password again.
        for (field, value) in [
            ("host", json!("127.0.0.1")),
            ("user", json!("other")),
            ("security", json!("none")),
            ("security", json!("starttls_if_offered")),
        ] {
            let mut changed = relay(None);
            changed[field] = value;
            for path in [CHECK, RELAY] {
                let method = if path == CHECK { Method::POST } else { Method::PUT };
                let (st, v) = s.api(method, path, Some(changed.clone())).await;
                assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{field} {path}: {v}");
                assert_eq!(v["errors"][0]["path"], "password", "{v}");
            }
        }
        let (st, v) = s
            .api(
                Method::POST,
                CHECK,
                Some(json!({"host": "localhost", "port": smtp.port, "security": "tls", "user": "kairos"})),
            )
            .await;
        assert_eq!(
            (st, v["ok"].as_bool()),
            (StatusCode::OK, Some(false)),
            "a stronger connection keeps the password: {v}"
        );

        // The workspace's email goes through its relay; the other's is captured.
        let setup = |srv: &Server| {
            let srv = Server {
                url: srv.url.clone(),
                admin: srv.admin.clone(),
                write: srv.write.clone(),
                http: srv.http.clone(),
            };
            async move {
                let (st, v) =
                    srv.api(Method::POST, "/api/v1/email/senders", Some(json!({"email": "news@acme.example"}))).await;
                assert_eq!(st, StatusCode::CREATED, "{v}");
                let body = json!({"name": "Receipt", "subject": "Receipt", "format": "html", "body": "<p>Thanks</p>"});
                let (st, v) = srv.api(Method::POST, "/api/v1/email/templates", Some(body)).await;
                assert_eq!(st, StatusCode::CREATED, "{v}");
                srv
            }
        };
        let (s, other) = (setup(&s).await, setup(&other).await);
        let receipt = |srv: &Server, user: &'static str, to: String| {
            let srv = Server {
                url: srv.url.clone(),
                admin: srv.admin.clone(),
                write: srv.write.clone(),
                http: srv.http.clone(),
            };
            async move {
                let c = identify(&srv, user, &to, Some("Rey")).await;
                let (st, v) = srv
                    .api(
                        Method::POST,
                        "/api/v1/email/send",
                        Some(json!({"contact_id": c, "template": "Receipt", "transactional": true})),
                    )
                    .await;
                assert_eq!((st, v["outcome"].as_str()), (StatusCode::OK, Some("sent")), "{v}");
                v["status"].as_str().unwrap().to_string()
            }
        };
        let to = format!("relay-{backend}@example.org");
        assert_eq!(receipt(&s, "r1", to.clone()).await, "sent");
        let m = received(&smtp, &to).await;
        assert_eq!((m["tls"].as_bool(), m["authenticated"].as_bool()), (Some(true), Some(true)), "{m}");
        let elsewhere = format!("globex-{backend}@example.org");
        assert_eq!(receipt(&other, "g1", elsewhere.clone()).await, "captured");
        assert_eq!(other.get("/api/v1/settings/email-transport").await["kind"], "capture");

        // Removed: back to the server's capture transport.
        let (st, view) = s.api(Method::DELETE, RELAY, None).await;
        assert_eq!(
            (st, view["kind"].as_str(), view["source"].as_str()),
            (StatusCode::OK, Some("capture"), Some("server")),
            "{view}"
        );
        assert_eq!(receipt(&s, "r2", format!("after-{backend}@example.org")).await, "captured");
        let (st, v) = s.api(Method::DELETE, RELAY, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
        assert!(
            smtp.messages().iter().all(|m| m["rcpt_tos"][0] != elsewhere.as_str()),
            "the other workspace sent nothing"
        );

        let audit = s.get("/api/v1/audit?action=email_relay.").await;
        let actions: Vec<(&str, Value)> = audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["action"].as_str().unwrap(), e["detail"]["password_changed"].clone()))
            .collect();
        assert_eq!(
            actions,
            [("email_relay.removed", Value::Null), ("email_relay.set", json!(false)), ("email_relay.set", json!(true))],
            "{audit}"
        );
        assert!(!audit.to_string().contains("s3cret"), "{audit}");

        // A server not told to allow private relays refuses this one: a
        // workspace's relay may not be on the server's own network.
        let keys = Some((s.admin.clone(), s.write.clone()));
        let guarded =
            Server::start_with(ts.store.clone(), Arc::new(ManualClock::new(Utc::now())), keys, guarded_opts.clone())
                .await;
        let (st, check) = guarded.api(Method::POST, CHECK, Some(relay(Some("s3cret")))).await;
        assert_eq!((st, check["ok"].as_bool()), (StatusCode::OK, Some(false)), "{check}");
        assert!(check["error"].as_str().unwrap().contains("--allow-private-relays"), "{check}");

        // A server whose operator forbids workspace relays (a capturing demo
        // server must not start sending real mail): saving or trying one is
        // refused, and a relay saved before is kept but not used.
        let (st, _) = s.api(Method::PUT, RELAY, Some(relay(Some("s3cret")))).await;
        assert_eq!(st, StatusCode::OK);
        let mut forbidding_opts = guarded_opts.clone();
        forbidding_opts.email.allow_private_relays = true;
        forbidding_opts.email.forbid_workspace_relays = true;
        let keys = Some((s.admin.clone(), s.write.clone()));
        let forbidding =
            Server::start_with(ts.store.clone(), Arc::new(ManualClock::new(Utc::now())), keys, forbidding_opts).await;
        let view = forbidding.get("/api/v1/settings/email-transport").await;
        assert_eq!(
            (view["kind"].as_str(), view["source"].as_str(), view["workspace_relays_allowed"].as_bool()),
            (Some("capture"), Some("server"), Some(false)),
            "{view}"
        );
        assert!(
            view["workspace_relay"]["problem"].as_str().unwrap().contains("--no-workspace-relays"),
            "the stored relay is shown as unused: {view}"
        );
        for (method, path) in [(Method::PUT, RELAY), (Method::POST, CHECK)] {
            let (st, v) = forbidding.api(method, path, Some(relay(Some("s3cret")))).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{path}: {v}");
            assert!(v["detail"].as_str().unwrap().contains("--no-workspace-relays"), "{v}");
        }
        let forbidden_to = format!("forbidden-{backend}@example.org");
        assert_eq!(receipt(&forbidding, "r3", forbidden_to.clone()).await, "captured");
        assert!(
            smtp.messages().iter().all(|m| m["rcpt_tos"][0] != forbidden_to.as_str()),
            "nothing went through the workspace's relay"
        );
        let (st, _) = forbidding.api(Method::DELETE, RELAY, None).await;
        assert_eq!(st, StatusCode::OK, "a stored relay can still be removed");
    }
}

/// Send one DKIM-signed transactional message to `to` through the SMTP
/// server at `url` (trusting the private CA `pem`); what the server received.
async fn deliver_one(smtp: &SmtpReceiver, url: String, pem: Vec<u8>, to: &str) -> Value {
    let ts = testing::sqlite().await;
    let mut opts = options(EmailTransport::Smtp(url));
    opts.email.smtp_ca_pem = Some(pem);
    let s = Server::start_with(ts.store.clone(), Arc::new(ManualClock::new(Utc::now())), None, opts).await;
    let (st, sender) = s
        .api(
            Method::POST,
            "/api/v1/email/senders",
            Some(json!({"email": "news@acme.example", "dkim_algorithm": "ed25519"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    smtp.publish(sender["dkim"]["dns_name"].as_str().unwrap(), sender["dkim"]["dns_value"].as_str().unwrap());
    let body = json!({"name": "Receipt", "subject": "Receipt", "format": "html", "body": "<p>Thanks</p>"});
    s.api(Method::POST, "/api/v1/email/templates", Some(body)).await;
    let c = identify(&s, "tls", to, Some("Tess")).await;
    let (st, v) = s
        .api(
            Method::POST,
            "/api/v1/email/send",
            Some(json!({"contact_id": c, "template": "Receipt", "transactional": true})),
        )
        .await;
    assert_eq!((st, v["outcome"].as_str()), (StatusCode::OK, Some("sent")), "{v}");
    received(smtp, to).await
}

/// A private CA and a certificate for localhost signed by it (made with
/// openssl in `dir`): the certificate and key files, and the CA's PEM that
/// Kairos trusts through `smtp_ca_pem` (the --smtp-ca-file option).
fn private_ca(dir: &std::path::Path) -> (String, String, Vec<u8>) {
    let p = |n: &str| dir.join(n).display().to_string();
    let (cert, key) = (p("cert.pem"), p("key.pem"));
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    for args in [
        vec![
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=Kairos Test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.pem"),
        ],
        vec!["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", &key, "-out", &p("leaf.csr")],
        vec![
            "x509",
            "-req",
            "-in",
            &p("leaf.csr"),
            "-CA",
            &p("ca.pem"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-days",
            "1",
            "-out",
            &cert,
            "-extfile",
            &p("ext.cnf"),
        ],
    ] {
        let made = std::process::Command::new("openssl").args(&args).output().expect("openssl");
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    }
    let pem = std::fs::read(p("ca.pem")).unwrap();
    (cert, key, pem)
}

#[tokio::test]
async fn implicit_tls_smtps_with_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem) = private_ca(dir.path());
    let Some(smtp) =
        SmtpReceiver::start_with(&[("SMTP_TLS_CERT", &cert), ("SMTP_TLS_KEY", &key), ("SMTP_IMPLICIT_TLS", "1")])
    else {
        return;
    };
    // The server speaks only TLS: that the message arrived at all means the
    // whole session was encrypted.
    let m = deliver_one(&smtp, format!("smtps://localhost:{}", smtp.port), pem, "smtps@example.org").await;
    assert_eq!(m["dkim"].as_bool(), Some(true), "{m}");
}

#[tokio::test]
async fn per_domain_concurrency_holds_sessions_to_one_domain_down() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    for limit in [2usize, 5] {
        let Some(smtp) = SmtpReceiver::start_with(&[("SMTP_DATA_DELAY_MS", "150")]) else { return };
        let ts = testing::sqlite().await;
        let mut opts = options(EmailTransport::Smtp(smtp.url()));
        opts.email.per_domain_concurrency = limit;
        let s = Server::start_with(ts.store.clone(), Arc::new(ManualClock::new(Utc::now())), None, opts).await;
        s.api(Method::POST, "/api/v1/email/senders", Some(json!({"email": "news@acme.example"}))).await;
        let body = json!({"name": "Receipt", "subject": "Receipt", "format": "html", "body": "<p>Thanks</p>"});
        s.api(Method::POST, "/api/v1/email/templates", Some(body)).await;
        let mut contacts = Vec::new();
        for i in 0..10 {
            contacts.push(identify(&s, &format!("u{i}"), &format!("u{i}@example.org"), Some("U")).await);
        }
        let mut sends = Vec::new();
        for c in contacts {
            let (http, url, admin) = (s.http.clone(), s.url.clone(), s.admin.clone());
            sends.push(tokio::spawn(async move {
                let r = http
                    .post(format!("{url}/api/v1/email/send"))
                    .bearer_auth(admin)
                    .json(&json!({"contact_id": c, "template": "Receipt", "transactional": true}))
                    .send()
                    .await
                    .unwrap();
                (r.status(), r.text().await.unwrap())
            }));
        }
        for t in sends {
            let (st, body) = t.await.unwrap();
            assert_eq!(st, StatusCode::OK, "{body}");
        }
        let mut got = Vec::new();
        for _ in 0..100 {
            got = smtp.messages();
            if got.len() >= 10 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(got.len(), 10, "all delivered");
        let most = got.iter().filter_map(|m| m["concurrent"].as_u64()).max().unwrap();
        if limit == 2 {
            assert_eq!(most, 2, "never more than the limit at once, and the limit reached: {got:?}");
        } else {
            assert!(most > 2, "a higher limit lets more through at once (so the receiver does measure it): {most}");
        }
    }
}

/// Messages to a contact, once `n` of them are recorded.
/// A contact's messages once there are `n` and none is still on its way
/// (`queued`: prepared, the transport not done yet).
async fn messages_of(s: &Server, contact: &str, n: usize) -> Vec<Value> {
    let v = s
        .until(&format!("/api/v1/email/messages?contact_id={contact}&limit=100"), "the messages", |v| {
            v["data"].as_array().is_some_and(|d| d.len() >= n && d.iter().all(|m| m["status"] != "queued"))
        })
        .await;
    v["data"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn every_send_path_goes_through_the_gate() {
    for ts in testing::all().await {
        let b = ts.backend();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s = Server::start_with(ts.store.clone(), clock, None, options(EmailTransport::Capture)).await;
        s.api(Method::PUT, "/api/v1/settings", Some(json!({"postal_address": "Acme, 1 Main St, Springfield 12345"})))
            .await;
        s.api(Method::POST, "/api/v1/email/senders", Some(json!({"email": "news@acme.example"}))).await;
        let body = json!({"name": "News", "subject": "News", "format": "html", "body": "<p>Hello</p>"});
        let (st, t) = s.api(Method::POST, "/api/v1/email/templates", Some(body)).await;
        assert_eq!(st, StatusCode::CREATED, "{t}");
        let template = t["id"].as_str().unwrap().to_string();
        // Sam consented and is suppressed (a manual suppression: the person
        // asked by phone); Nia never consented; Ola consented (the control).
        let sam = identify(&s, "sam", "sam@example.org", Some("Sam")).await;
        grant(&s, &sam).await;
        let (st, v) = s
            .api(
                Method::POST,
                "/api/v1/suppressions",
                Some(json!({"channel": "email", "address": "SAM@example.org", "reason": "manual"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let nia = identify(&s, "nia", "nia@example.org", Some("Nia")).await;
        let ola = identify(&s, "ola", "ola@example.org", Some("Ola")).await;
        grant(&s, &ola).await;

        // 1. The send API, marketing and transactional.
        for (who, transactional) in [(&sam, false), (&sam, true), (&nia, false), (&ola, false)] {
            let (st, v) = s
                .api(
                    Method::POST,
                    "/api/v1/email/send",
                    Some(json!({"contact_id": who, "template": "News", "transactional": transactional})),
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{v}");
        }
        // 2. A test send to the suppressed address.
        let (st, v) = s
            .api(
                Method::POST,
                &format!("/api/v1/email/templates/{template}/test-send"),
                Some(json!({"to": "sam@example.org", "contact_id": ola})),
            )
            .await;
        assert_eq!((st, v["outcome"].as_str()), (StatusCode::OK, Some("refused")), "{v}");
        // 3. A journey's send step.
        let (_, j) = s
            .api(
                Method::POST,
                "/api/v1/journeys",
                Some(json!({"name": "Mail", "definition": {
                "trigger": {"type": "api"}, "start": "mail",
                "nodes": {"mail": {"type": "send", "channel": "email", "template": "News", "next": "done"},
                          "done": {"type": "exit"}}}})),
            )
            .await;
        let jid = j["id"].as_str().unwrap().to_string();
        s.api(Method::POST, &format!("/api/v1/journeys/{jid}/publish"), None).await;
        for who in [&sam, &nia, &ola] {
            let (st, v) =
                s.api(Method::POST, &format!("/api/v1/journeys/{jid}/entries"), Some(json!({"contact_id": who}))).await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
        }
        // 4. A broadcast to a list of all three.
        let (_, list) = s.api(Method::POST, "/api/v1/lists", Some(json!({"name": "All"}))).await;
        let list = list["id"].as_str().unwrap().to_string();
        s.api(Method::POST, &format!("/api/v1/lists/{list}/members"), Some(json!({"contact_ids": [sam, nia, ola]})))
            .await;
        let (st, c) = s
            .api(
                Method::POST,
                "/api/v1/email/campaigns",
                Some(json!({"name": "Blast", "definition": {"audience": {"list": list}, "template": "News"}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{c}");
        let cid = c["id"].as_str().unwrap().to_string();
        let (st, v) = s.api(Method::POST, &format!("/api/v1/email/campaigns/{cid}/launch"), None).await;
        assert_eq!(st, StatusCode::OK, "{v}");

        // Sam: API ×2, journey, campaign — every one refused, as suppressed.
        let sams = messages_of(&s, &sam, 4).await;
        assert_eq!(sams.len(), 4, "{b:?}: {sams:?}");
        for m in &sams {
            assert_eq!(m["status"], "refused", "{b:?}: {m}");
            assert!(m["detail"].as_str().unwrap().contains("suppress"), "{m}");
        }
        let sources: std::collections::BTreeSet<String> =
            sams.iter().map(|m| m["source"].as_str().unwrap().split(':').next().unwrap().to_string()).collect();
        assert_eq!(sources, ["api", "campaign", "journey"].map(String::from).into(), "{sams:?}");
        // Nia: API, journey, campaign — refused for want of consent.
        let nias = messages_of(&s, &nia, 3).await;
        assert_eq!(nias.len(), 3, "{nias:?}");
        for m in &nias {
            assert_eq!(m["status"], "refused", "{b:?}: {m}");
            assert!(m["detail"].as_str().unwrap().contains("consent"), "{m}");
        }
        // Ola, who consented, got all three (and the test send was refused
        // for Sam's address, though personalised for Ola).
        let olas = messages_of(&s, &ola, 4).await;
        let statuses: Vec<&str> = olas.iter().map(|m| m["status"].as_str().unwrap()).collect();
        assert_eq!(statuses.iter().filter(|st| **st == "captured").count(), 3, "{olas:?}");
        assert_eq!(statuses.iter().filter(|st| **st == "refused").count(), 1, "the test send: {olas:?}");
    }
}

/// Open every captured message of `template` not opened yet, as a person
/// would (the tracking pixel, a desktop mail client).
async fn open_captured(s: &Server, template: &Value, opened: &mut std::collections::HashSet<String>) {
    let msgs = s.get("/api/v1/email/messages?limit=1000").await;
    for m in msgs["data"].as_array().unwrap() {
        let id = m["id"].as_str().unwrap().to_string();
        if m["template_id"] != *template || m["status"] != "captured" || opened.contains(&id) {
            continue;
        }
        s.open_message(&id).await;
        opened.insert(id);
    }
}

#[tokio::test]
async fn an_adaptive_ab_test_shifts_traffic_to_the_variant_people_open() {
    for ts in testing::all().await {
        let b = format!("{:?}", ts.backend());
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s = Server::start_with(ts.store.clone(), clock.clone(), None, options(EmailTransport::Capture)).await;
        let (st, _) =
            s.api(Method::PUT, "/api/v1/settings", Some(json!({"postal_address": "Acme, 1 Main St, 12345"}))).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = s.api(Method::POST, "/api/v1/email/senders", Some(json!({"email": "news@acme.example"}))).await;
        assert_eq!(st, StatusCode::CREATED);
        for name in ["Adapt A", "Adapt B"] {
            let (st, v) = s
                .api(
                    Method::POST,
                    "/api/v1/email/templates",
                    Some(json!({"name": name, "subject": name, "format": "html", "body": "<p>Offer</p>"})),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
        }
        let (_, list) = s.api(Method::POST, "/api/v1/lists", Some(json!({"name": "Everyone"}))).await;
        let list = list["id"].as_str().unwrap().to_string();
        let mut ids = Vec::new();
        for i in 0..80 {
            let id = identify(&s, &format!("ad{i}"), &format!("ad{i}@example.org"), None).await;
            grant(&s, &id).await;
            ids.push(id);
        }
        s.api(Method::POST, &format!("/api/v1/lists/{list}/members"), Some(json!({"contact_ids": ids}))).await;
        let def = |per_minute: Option<u32>| {
            let mut d =
                json!({"audience": {"list": list}, "ab": {"variants": ["Adapt A", "Adapt B"], "mode": "adaptive"}});
            if let Some(p) = per_minute {
                d["per_minute"] = json!(p);
            }
            json!({"name": "Adaptive", "definition": d})
        };
        let (st, v) = s.api(Method::POST, "/api/v1/email/campaigns", Some(def(None))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        assert_eq!(v["errors"][0]["path"], "definition.per_minute", "{b}: {v}");
        let (st, c) = s.api(Method::POST, "/api/v1/email/campaigns", Some(def(Some(600)))).await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {c}");
        let cid = c["id"].as_str().unwrap().to_string();
        let (st, _) = s.api(Method::POST, &format!("/api/v1/email/campaigns/{cid}/launch"), None).await;
        assert_eq!(st, StatusCode::OK);
        // People open B and never A, while the throttled send goes on.
        let b_template = s.get("/api/v1/email/templates/Adapt%20B").await["id"].clone();
        let mut opened = std::collections::HashSet::new();
        let mut report = Value::Null;
        for _ in 0..300 {
            open_captured(&s, &b_template, &mut opened).await;
            report = s.get(&format!("/api/v1/email/campaigns/{cid}/report")).await;
            if report["status"] == "sent" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(report["status"], "sent", "{b}: {report}");
        let sent = |v: usize| report["variants"][v]["totals"]["sent"].as_i64().unwrap();
        assert_eq!(sent(0) + sent(1), 80, "{b}: {report}");
        assert!(sent(1) > 3 * sent(0), "{b}: traffic did not shift to B: {report}");
        assert_eq!(report["winner"], "Adapt B", "{b}: {report}");
        assert!(report["detail"].as_str().unwrap().contains("P(best)"), "{b}: {report}");
    }
}

/// Snippets: checked on save, read one by one, included by templates (the
/// preview shows their text), and not deletable while something uses them.
#[tokio::test]
async fn snippets_are_checked_included_and_protected_while_used() {
    for ts in testing::all().await {
        let b = ts.backend();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s = Server::start_with(ts.store.clone(), clock, None, options(EmailTransport::Capture)).await;
        let (st, v) = s.api(Method::PUT, "/api/v1/email/snippets/footer", Some(json!({"body": "{% if %}"}))).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: {v}");
        let (st, v) = s.api(Method::PUT, "/api/v1/email/snippets/bad%20name", Some(json!({"body": "x"}))).await;
        assert_eq!(
            (st, v["errors"][0]["path"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("name")),
            "{b:?}: {v}"
        );
        let (st, v) = s
            .api(
                Method::PUT,
                "/api/v1/email/snippets/footer",
                Some(json!({"body": "<p>Sent by Acme to {{ contact.email }}</p>"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b:?}: {v}");
        assert!(v["updated_at"].as_i64().is_some(), "{b:?}: {v}");
        let one = s.get("/api/v1/email/snippets/footer").await;
        assert_eq!(one["body"], "<p>Sent by Acme to {{ contact.email }}</p>", "{b:?}: {one}");
        let (st, _) = s.api(Method::GET, "/api/v1/email/snippets/nope", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b:?}");

        let (st, t) = s
            .api(
                Method::POST,
                "/api/v1/email/templates",
                Some(json!({"name": "News", "subject": "News", "format": "html", "body": "<p>Hello</p>{% include 'footer' %}"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b:?}: {t}");
        let ada = identify(&s, "ada", "ada@example.org", Some("Ada")).await;
        let (st, p) = s
            .api(
                Method::POST,
                &format!("/api/v1/email/templates/{}/preview", t["id"].as_str().unwrap()),
                Some(json!({"contact_id": ada})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b:?}: {p}");
        assert!(p["html"].as_str().unwrap().contains("Sent by Acme to ada@example.org"), "{b:?}: {p}");
        // The live preview of unsaved text: checked, then rendered for Ada.
        let draft = json!({"subject": "Hi {{ contact.first_name }}", "format": "html",
            "body": "<p>Draft for {{ contact.first_name }}</p>{% include 'footer' %}", "contact_id": ada});
        let (st, v) = s.api(Method::POST, "/api/v1/email/templates/check", Some(draft)).await;
        assert_eq!(st, StatusCode::OK, "{b:?}: {v}");
        assert_eq!(v["preview"]["subject"], "Hi Ada", "{b:?}: {v}");
        assert!(v["preview"]["html"].as_str().unwrap().contains("Draft for Ada"), "{b:?}: {v}");
        let broken = json!({"subject": "x", "format": "html", "body": "{% if %}", "contact_id": ada});
        let (st, v) = s.api(Method::POST, "/api/v1/email/templates/check", Some(broken)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: errors, not a preview: {v}");
        let orphan = json!({"subject": "x", "format": "html", "body": "x", "event": {"name": "Order Completed"}});
        let (st, v) = s.api(Method::POST, "/api/v1/email/templates/check", Some(orphan)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b:?}: an event needs a contact: {v}");

        // In use: refused with the user named; free once the template goes.
        let (st, v) = s.api(Method::DELETE, "/api/v1/email/snippets/footer", None).await;
        assert_eq!(st, StatusCode::CONFLICT, "{b:?}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("template \"News\""), "{b:?}: {v}");
        assert_eq!(s.get("/api/v1/email/snippets").await["data"].as_array().unwrap().len(), 1, "{b:?}: still there");
        let (st, _) =
            s.api(Method::DELETE, &format!("/api/v1/email/templates/{}", t["id"].as_str().unwrap()), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{b:?}");
        let (st, _) = s.api(Method::DELETE, "/api/v1/email/snippets/footer", None).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{b:?}");
        let (st, _) = s.api(Method::GET, "/api/v1/email/snippets/footer", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b:?}");
    }
}
