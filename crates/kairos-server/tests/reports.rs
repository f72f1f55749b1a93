//! Attribution and ROI reports end to end on each store backend. A broadcast
//! reaches four people; Ann and Ben open it. A day later Ann comes back
//! through a paid-search ad (a page view carrying a UTM campaign). Then Ann
//! orders for 100, Ben for "50", Cat (who never opened) for 30, Dan for 999
//! EUR, and Ben again for 20 ten days after his open. Costs are entered for
//! the broadcast and the ad. Each model must credit exactly what its rule
//! says, the totals must add up, ROI must follow from the costs, the CSV must
//! carry the same lines, and bad parameters must be refused by name. The
//! workspace's email activity per day (the dashboard's chart) counts the
//! broadcast's sends and opens on their day.

mod common;
use chrono::{Duration, TimeZone, Utc};
use common::Server;
use kairos_core::clock::ManualClock;
use kairos_store::testing;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

fn source<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["source"] == name)
        .unwrap_or_else(|| panic!("no source {name} in {report}"))
}

fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-6)
}

#[tokio::test]
async fn attribution_and_roi() {
    for ts in testing::all().await {
        let b = format!("{:?}", ts.backend());
        let t0 = Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::new(t0));
        let s = Server::start_capturing_news(ts.store.clone(), clock.clone()).await;
        let mut ids = Vec::new();
        for user in ["ann", "ben", "cat", "dan"] {
            ids.push(s.consenting_person(user, json!({})).await);
        }
        let (_, list) = s.api(Method::POST, "/api/v1/lists", Some(json!({"name": "All"}))).await;
        let list = list["id"].as_str().unwrap().to_string();
        s.api(Method::POST, &format!("/api/v1/lists/{list}/members"), Some(json!({"contact_ids": ids}))).await;
        let (st, c) = s
            .api(
                Method::POST,
                "/api/v1/email/campaigns",
                Some(json!({"name": "Spring sale", "definition": {"audience": {"list": list}, "template": "News"}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{b}: {c}");
        let campaign = format!("campaign:{}", c["id"].as_str().unwrap());
        let (st, c) =
            s.api(Method::POST, &format!("/api/v1/email/campaigns/{}/launch", c["id"].as_str().unwrap()), None).await;
        assert_eq!(st, StatusCode::OK, "{b}: {c}");
        let sent = s
            .until("/api/v1/email/messages?limit=100", "four captured messages", |v| {
                v["data"].as_array().is_some_and(|a| a.iter().filter(|m| m["status"] == "captured").count() == 4)
            })
            .await;
        for m in sent["data"].as_array().unwrap() {
            if m["contact_id"] == ids[0].as_str() || m["contact_id"] == ids[1].as_str() {
                s.open_message(m["id"].as_str().unwrap()).await;
            }
        }

        let at = |days: i64| (t0 + Duration::days(days)).to_rfc3339();
        clock.set(t0 + Duration::days(12));
        // The dashboard's email activity: the broadcast's day, quiet days as zeros.
        let a = s.get("/api/v1/workspace/email-activity?days=14").await;
        assert_eq!(
            (a["sent"].as_i64(), a["opened"].as_i64(), a["clicked"].as_i64()),
            (Some(4), Some(2), Some(0)),
            "{b}: {a}"
        );
        let days = a["per_day"].as_array().unwrap();
        assert_eq!(days.len(), 14, "{b}: {a}");
        let day = days.iter().find(|d| d["day"] == "2026-11-02").unwrap();
        assert_eq!((day["sent"].as_i64(), day["opened"].as_i64()), (Some(4), Some(2)), "{b}: {a}");
        assert_eq!(days.iter().map(|d| d["sent"].as_i64().unwrap()).sum::<i64>(), 4, "{b}: {a}");
        // The campaign's own report: every day from its first to today, the
        // quiet ones as zeros (a chart's days evenly spaced).
        let report =
            s.get(&format!("/api/v1/email/campaigns/{}/report", campaign.trim_start_matches("campaign:"))).await;
        let series: Vec<(String, i64)> = report["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["day"].as_str().unwrap().to_string(), d["sent"].as_i64().unwrap()))
            .collect();
        let today = (t0 + Duration::days(12)).format("%Y-%m-%d").to_string();
        assert_eq!(series.first(), Some(&("2026-11-02".to_string(), 4)), "{b}: {report}");
        assert_eq!(series.last().map(|d| d.0.clone()), Some(today), "{b}: {report}");
        assert_eq!(series.len(), 13, "{b}: every day from the first to today: {report}");
        assert_eq!(series.iter().map(|d| d.1).sum::<i64>(), 4, "{b}: {report}");
        let (st, v) = s.api(Method::GET, "/api/v1/workspace/email-activity?days=0", None).await;
        assert_eq!((st, v["errors"][0]["path"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("days")), "{b}: {v}");
        s.track(
            json!({"type": "page", "userId": "ann", "name": "Landing", "messageId": "visit-ann", "timestamp": at(1),
            "context": {"campaign": {"name": "black-friday", "source": "google", "medium": "cpc"}}}),
        )
        .await;
        let orders = [
            ("ann", 2, json!({"revenue": 100, "currency": "usd"})),
            ("ben", 2, json!({"total": "50"})),
            ("cat", 2, json!({"revenue": 30})),
            ("dan", 2, json!({"revenue": 999, "currency": "EUR"})),
            ("ben", 10, json!({"revenue": 20})),
        ];
        for (i, (user, day, props)) in orders.iter().enumerate() {
            s.track(json!({"type": "track", "userId": user, "event": "Order Completed", "timestamp": at(*day),
                "messageId": format!("order-{i}"), "properties": props}))
                .await;
        }
        let utm = "utm:google/cpc/black-friday";
        for (src, amount) in [(campaign.as_str(), 20.0), (utm, 10.0)] {
            let (st, v) = s
                .api(
                    Method::PUT,
                    "/api/v1/reports/costs",
                    Some(json!({"source": src, "amount": amount, "currency": "USD"})),
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{b}: {v}");
        }
        let period = "since=2026-11-01&until=2026-11-13&currency=USD";
        let report = |model: &str, touch: &str| {
            format!("/api/v1/reports/attribution?{period}&model={model}&email_touch={touch}&event=Order%20Completed")
        };
        let r = s
            .until(&report("last_touch", "opened"), "the five orders in the log", |v| {
                v["totals"]["conversions"].as_u64().unwrap_or(0) + v["totals"]["other_currency"].as_u64().unwrap_or(0)
                    == 5
            })
            .await;
        let totals = &r["totals"];
        assert_eq!((totals["conversions"].as_u64(), totals["contacts"].as_u64()), (Some(4), Some(3)), "{b}: {r}");
        assert_eq!(totals["other_currency"], 1, "{b}: Dan's order is in EUR: {r}");
        assert!(close(&totals["value"], 200.0) && close(&totals["attributed_value"], 150.0), "{b}: {r}");
        assert!(
            close(&totals["unattributed_value"], 50.0) && close(&totals["unattributed_conversions"], 2.0),
            "{b}: {r}"
        );
        // Last touch: Ann's order goes to the ad she came through, Ben's to the email.
        assert!(close(&source(&r, utm)["value"], 100.0), "{b}: {r}");
        let email = source(&r, &campaign);
        assert!(close(&email["value"], 50.0) && close(&email["conversions"], 1.0), "{b}: {r}");
        assert_eq!((email["name"].as_str(), email["channel"].as_str()), (Some("Spring sale"), Some("email")), "{b}");
        assert_eq!(email["messages_sent"], 4, "{b}: {r}");
        assert!(close(&email["cost"], 20.0) && close(&email["roi"], 1.5), "{b}: {r}");
        assert!(close(&source(&r, utm)["roi"], 9.0), "{b}: {r}");
        assert!(close(&totals["cost"], 30.0) && close(&totals["roi"], 4.0), "{b}: {r}");
        assert_eq!(source(&r, utm)["name"], "black-friday (google / cpc)", "{b}");
        let day = r["series"].as_array().unwrap().iter().find(|d| d["day"] == "2026-11-04").unwrap();
        assert_eq!(day["conversions"], 3, "{b}: {day}");
        assert!(close(&day["value"], 180.0) && close(&day["attributed_value"], 150.0), "{b}: {day}");
        assert_eq!(r["series"].as_array().unwrap().len(), 13, "{b}: every day of the period, both ends included");

        // First touch: Ann's order goes to the email she opened first.
        let r = s.get(&report("first_touch", "opened")).await;
        assert!(close(&source(&r, &campaign)["value"], 150.0) && close(&source(&r, utm)["value"], 0.0), "{b}: {r}");
        // Linear: Ann's order split between her two touches.
        let r = s.get(&report("linear", "opened")).await;
        assert!(close(&source(&r, &campaign)["value"], 100.0) && close(&source(&r, utm)["value"], 50.0), "{b}: {r}");
        assert!(close(&source(&r, &campaign)["conversions"], 1.5), "{b}: {r}");
        // Nobody clicked: counted by clicks, the email earns nothing.
        let r = s.get(&report("last_touch", "clicked")).await;
        assert!(
            close(&source(&r, &campaign)["value"], 0.0) && close(&r["totals"]["attributed_value"], 100.0),
            "{b}: {r}"
        );
        // A 10-day window reaches Ben's late order too.
        let r = s.get(&format!("{}&window_days=10", report("last_touch", "opened"))).await;
        assert!(close(&source(&r, &campaign)["value"], 70.0), "{b}: {r}");
        // In euros: orders without a currency are taken to be in the report's, Ann's dollars are left out.
        let r = s.get(&report("last_touch", "opened").replace("currency=USD", "currency=eur")).await;
        assert!(close(&r["totals"]["value"], 1099.0) && r["totals"]["other_currency"] == 1, "{b}: {r}");
        assert!(r["sources"].as_array().unwrap().iter().all(|l| l["cost"].is_null()), "{b}: USD costs in a EUR report");
        assert!(r["warnings"].as_array().unwrap().len() == 2, "{b}: {r}");

        // The comparison reads once and answers every model, in the order
        // asked, each exactly as its own report.
        let models = ["position_based", "first_touch", "time_decay", "linear", "last_touch"];
        let cmp = s
            .get(&format!(
                "/api/v1/reports/attribution/models?{period}&email_touch=opened&event=Order%20Completed&half_life_days=3&models={}",
                models.join(",")
            ))
            .await;
        let reports = cmp["reports"].as_array().unwrap();
        assert_eq!(reports.len(), 5, "{b}: {cmp}");
        for (m, r) in models.iter().zip(reports) {
            assert_eq!(r["model"]["name"], *m, "{b}: {cmp}");
            let alone = s.get(&format!("{}&half_life_days=3", report(m, "opened"))).await;
            assert_eq!(r, &alone, "{b}: the {m} report of the comparison and the report alone differ");
        }
        // Every model: linear and position-based split Ann's order, first touch gives the email all of it.
        let value_of = |i: usize| source(&reports[i], &campaign)["value"].as_f64().unwrap();
        assert!((value_of(1) - 150.0).abs() < 1e-6 && (value_of(4) - 50.0).abs() < 1e-6, "{b}: {cmp}");
        let all = s.get(&format!("/api/v1/reports/attribution/models?{period}")).await;
        let names: Vec<&str> =
            all["reports"].as_array().unwrap().iter().map(|r| r["model"]["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            ["first_touch", "last_touch", "linear", "time_decay", "position_based"],
            "{b}: all five by default"
        );

        // The CSV carries the same lines.
        let csv = s.text(&report("last_touch", "opened").replace("attribution?", "attribution.csv?")).await;
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "source,channel,name,conversions,value,messages_sent,cost,roi", "{b}");
        assert!(
            lines.contains(&format!("{utm},web,black-friday (google / cpc),1.0000,100.0000,0,10.0000,9.0000").as_str()),
            "{b}: {csv}"
        );
        assert_eq!(lines.last(), Some(&"(unattributed),,,2.0000,50.0000,,,"), "{b}: {csv}");

        // Bad parameters and costs are refused by name.
        for (query, param) in [
            ("model=markov", "model"),
            ("model=time_decay&half_life_days=0", "half_life_days"),
            ("since=2026-11-10&until=2026-11-01", "since"),
            ("since=yesterday", "since"),
            ("window_days=0", "window_days"),
            ("email_touch=read", "email_touch"),
            ("currency=EURO", "currency"),
            ("value=order..total", "value"),
            ("colour=blue", "colour"),
        ] {
            let (st, v) = s.api(Method::GET, &format!("/api/v1/reports/attribution?{query}"), None).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {query}: {v}");
            assert_eq!(v["errors"][0]["path"], param, "{b}: {query}: {v}");
        }
        // Every bad parameter is named in one answer.
        let (st, v) = s
            .api(
                Method::GET,
                "/api/v1/reports/attribution?model=markov&window_days=0&currency=EURO&since=soon&colour=blue",
                None,
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {v}");
        let mut paths: Vec<&str> =
            v["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
        paths.sort();
        assert_eq!(paths, ["colour", "currency", "model", "since", "window_days"], "{b}: {v}");
        for (query, param, says) in [
            ("models=linear,markov", "models", "markov"),
            ("models=linear,linear", "models", "twice"),
            ("models=", "models", "must name a model"),
            ("models=time_decay&half_life_days=400", "half_life_days", "at most 365"),
            ("model=linear", "model", "compares the models named in models"),
        ] {
            let (st, v) = s.api(Method::GET, &format!("/api/v1/reports/attribution/models?{query}"), None).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}: {query}: {v}");
            assert_eq!(v["errors"][0]["path"], param, "{b}: {query}: {v}");
            assert!(v["errors"][0]["message"].as_str().unwrap().contains(says), "{b}: {query}: {v}");
        }
        let (st, v) = s.api(Method::GET, "/api/v1/reports/attribution?models=linear", None).await;
        assert_eq!(
            (st, v["errors"][0]["path"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("models")),
            "{b}: {v}"
        );
        for (body, param) in [
            (json!({"source": utm, "amount": -1, "currency": "USD"}), Some("amount")),
            (json!({"source": utm, "amount": 1, "currency": "dollars"}), Some("currency")),
            (json!({"source": "segment:x", "amount": 1, "currency": "USD"}), Some("source")),
            (json!({"source": utm, "amount": 1, "currency": "USD", "extra": 1}), None),
        ] {
            let (st, v) = s.api(Method::PUT, "/api/v1/reports/costs", Some(body.clone())).await;
            assert!(st.is_client_error(), "{b}: {body}: {v}");
            if let Some(p) = param {
                assert_eq!(v["errors"][0]["path"], p, "{b}: {body}: {v}");
            }
        }
        let costs = s.get("/api/v1/reports/costs").await;
        assert_eq!(costs["data"].as_array().unwrap().len(), 2, "{b}: {costs}");
        // Each named as reports name it: the campaign's name, the UTM campaign in words.
        let names: Vec<(&str, &str)> = costs["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["source"].as_str().unwrap(), c["name"].as_str().unwrap()))
            .collect();
        assert!(names.contains(&(campaign.as_str(), "Spring sale")), "{b}: {costs}");
        assert!(names.contains(&(utm, "black-friday (google / cpc)")), "{b}: {costs}");
        let (st, _) = s.api(Method::DELETE, &format!("/api/v1/reports/costs?source={utm}"), None).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
        let (st, _) = s.api(Method::DELETE, &format!("/api/v1/reports/costs?source={utm}"), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
        let r = s.get(&report("last_touch", "opened")).await;
        assert!(source(&r, utm)["cost"].is_null() && close(&r["totals"]["cost"], 20.0), "{b}: {r}");
        // A cost spent over 20 October – 13 November (25 days): the 13 days
        // of the report are charged 13/25 of it.
        let body =
            json!({"source": utm, "amount": 250, "currency": "USD", "since": "2026-10-20", "until": "2026-11-13"});
        let (st, v) = s.api(Method::PUT, "/api/v1/reports/costs", Some(body)).await;
        assert_eq!(st, StatusCode::OK, "{b}: {v}");
        assert_eq!(v["since"], "2026-10-20T00:00:00+00:00", "{b}: {v}");
        let r = s.get(&report("last_touch", "opened")).await;
        assert!(close(&source(&r, utm)["cost"], 130.0), "{b}: {r}");
        let half = json!({"source": utm, "amount": 1, "currency": "USD", "since": "2026-10-20"});
        let (st, v) = s.api(Method::PUT, "/api/v1/reports/costs", Some(half)).await;
        assert_eq!(
            (st, v["errors"][0]["path"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("until")),
            "{b}: {v}"
        );
        // A report that cannot be right says why.
        let r = s.get("/api/v1/reports/attribution?event=Order%20Complete").await;
        assert!(r["warnings"][0].as_str().unwrap().contains("no tracked event named \"Order Complete\""), "{b}: {r}");
        let r = s.get(&format!("{}&value=shipping", report("last_touch", "opened"))).await;
        assert!(
            r["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w.as_str().unwrap().contains("no conversion has a numeric value in shipping")),
            "{b}: {r}"
        );
    }
}
