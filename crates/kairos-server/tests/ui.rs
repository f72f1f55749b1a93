//! What the web UI needs from the server: the built app served at `/` with
//! deep links answered by `index.html`, the APIs never shadowed by it, a
//! page saying how to build the UI when it is missing, and the workspace's
//! activity (events per day, most frequent events) for the dashboard, and the
//! event catalogue the builders pick names, properties and values from.

use chrono::{Duration, Utc};
use kairos_core::apikey::Scope;
use kairos_core::clock::SystemClock;
use kairos_engine::Engine;
use kairos_server::{issue_key, serve, AppState};
use kairos_store::testing;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

async fn start(ts: &testing::TestStore, ui_dir: Option<&std::path::Path>) -> (String, String, String) {
    let store = ts.store.clone();
    let mut tx = store.begin_write().await.unwrap();
    let ws = tx.create_workspace("acme", Utc::now()).await.unwrap().id;
    tx.commit().await.unwrap();
    let (_, admin) = issue_key(&store, ws, "admin", Scope::Admin, Utc::now()).await.unwrap();
    let (_, write) = issue_key(&store, ws, "write", Scope::Write, Utc::now()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut state = AppState::new(Engine::start(store, Arc::new(SystemClock)));
    if let Some(d) = ui_dir {
        state = state.with_ui_dir(d);
    }
    tokio::spawn(serve(listener, state, std::future::pending()));
    (url, admin, write)
}

#[tokio::test]
async fn the_built_ui_is_served_with_deep_links_and_never_shadows_the_apis() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("index.html"), "<div id=root>kairos app</div>").unwrap();
    std::fs::write(dir.path().join("assets/app-1234.js"), "console.log(1)").unwrap();
    let ts = testing::sqlite().await;
    let (url, admin, _) = start(&ts, Some(dir.path())).await;
    let http = reqwest::Client::new();
    for path in ["/", "/contacts", "/journeys/0192/edit", "/segments/new"] {
        let r = http.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert_eq!(r.text().await.unwrap(), "<div id=root>kairos app</div>", "{path}");
    }
    let r = http.get(format!("{url}/assets/app-1234.js")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    // A missing asset is a 404, not the app.
    let r = http.get(format!("{url}/assets/missing.js")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Nothing outside the directory can be read.
    let r = http.get(format!("{url}/%2e%2e/%2e%2e/etc/passwd")).send().await.unwrap();
    assert!(!r.text().await.unwrap().contains("root:"));
    // API paths stay problem documents and real endpoints still answer.
    for path in ["/api/v1/nothing-here", "/v1/nothing-here", "/api"] {
        let r = http.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{path}");
    }
    let r = http.get(format!("{url}/api/v1/workspace")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(http.get(format!("{url}/healthz")).send().await.unwrap().text().await.unwrap(), "ok");
}

#[tokio::test]
async fn without_a_built_ui_the_root_says_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    let ts = testing::sqlite().await;
    let (url, _, _) = start(&ts, Some(&dir.path().join("dist"))).await;
    let r = reqwest::get(format!("{url}/")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("The web UI is not built"), "{page}");
    assert!(page.contains("npm run build"));
    assert!(page.contains("/api/v1/openapi.json"));
}

#[tokio::test]
async fn activity_counts_events_per_day_and_names_the_frequent_ones() {
    for ts in testing::all().await {
        let b = ts.backend();
        let (url, admin, write) = start(&ts, None).await;
        let http = reqwest::Client::new();
        let now = Utc::now();
        let mut batch = vec![];
        for (i, (event, days_ago)) in
            [("Order Completed", 0), ("Order Completed", 0), ("Order Completed", 2), ("Signed Up", 2), ("Old", 40)]
                .into_iter()
                .enumerate()
        {
            batch.push(json!({"type": "track", "userId": "u1", "event": event, "messageId": format!("m{i}"),
                "timestamp": (now - Duration::days(days_ago)).to_rfc3339()}));
        }
        batch.push(
            json!({"type": "page", "userId": "u1", "name": "Home", "messageId": "p1", "timestamp": now.to_rfc3339()}),
        );
        let r = http.post(format!("{url}/v1/batch")).basic_auth(&write, Some("")).json(&json!({"batch": batch}));
        assert_eq!(r.send().await.unwrap().status(), StatusCode::OK);
        let r = http.get(format!("{url}/api/v1/workspace/activity?days=7")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b:?}");
        let v: Value = r.json().await.unwrap();
        let per_day = v["per_day"].as_array().unwrap();
        assert_eq!(per_day.len(), 7, "{b:?}: every day of the window");
        assert_eq!(per_day[6]["day"], json!(now.format("%Y-%m-%d").to_string()));
        assert_eq!(per_day[6]["events"], json!(3), "{b:?}: {v}");
        assert_eq!(per_day[4]["events"], json!(2), "{b:?}: {v}");
        let total: i64 = per_day.iter().map(|d| d["events"].as_i64().unwrap()).sum();
        assert_eq!(total, 5, "{b:?}: the 40-day-old event is outside the window");
        assert_eq!(v["top_events"][0], json!({"name": "Order Completed", "count": 3}), "{b:?}");
        let names: Vec<&str> =
            v["top_events"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"Page Viewed") && names.contains(&"Signed Up") && !names.contains(&"Old"), "{names:?}");
        let r = http.get(format!("{url}/api/v1/workspace/activity?days=0")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn the_event_catalogue_lists_names_properties_and_values_for_the_pickers() {
    for ts in testing::all().await {
        let b = ts.backend();
        let (url, admin, write) = start(&ts, None).await;
        let http = reqwest::Client::new();
        let now = Utc::now();
        let batch = vec![
            json!({"type": "track", "userId": "u1", "event": "Order Completed", "messageId": "o1",
                "properties": {"total": 40, "currency": "USD", "product": {"sku": "A1"}}, "timestamp": now.to_rfc3339()}),
            json!({"type": "track", "userId": "u2", "event": "Order Completed", "messageId": "o2",
                "properties": {"total": 60, "currency": "USD"}, "timestamp": now.to_rfc3339()}),
            json!({"type": "track", "userId": "u2", "event": "Order Completed", "messageId": "o3",
                "properties": {"total": 60, "currency": "EUR"}, "timestamp": now.to_rfc3339()}),
            json!({"type": "page", "userId": "u1", "name": "Pricing", "messageId": "p1",
                "properties": {"path": "/pricing"}, "timestamp": now.to_rfc3339()}),
        ];
        let r = http.post(format!("{url}/v1/batch")).basic_auth(&write, Some("")).json(&json!({"batch": batch}));
        assert_eq!(r.send().await.unwrap().status(), StatusCode::OK);
        let r = http.get(format!("{url}/api/v1/workspace/events?values=5")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["sampled"], json!(4), "{b:?}: {v}");
        let order = &v["events"][0];
        assert_eq!((order["name"].as_str(), order["count"].as_i64()), (Some("Order Completed"), Some(3)), "{v}");
        let prop = |p: &str| {
            order["properties"].as_array().unwrap().iter().find(|x| x["path"] == p).cloned().unwrap_or(Value::Null)
        };
        assert_eq!(prop("total")["types"], json!(["number"]), "{v}");
        assert_eq!(prop("total")["top_values"][0], json!({"value": 60, "count": 2}), "{v}");
        assert_eq!(prop("currency")["top_values"][0], json!({"value": "USD", "count": 2}), "{v}");
        assert_eq!(prop("product.sku")["types"], json!(["string"]), "{v}: nested paths as rules name them");
        let page = v["events"].as_array().unwrap().iter().find(|e| e["name"] == "Page Viewed").expect("page views");
        assert_eq!(page["properties"][0]["path"], json!("path"));

        // An analyst may build reports but not read people: no values.
        let store = ts.store.clone();
        let mut tx = store.begin().await.unwrap();
        let ws = tx.workspace_by_name("acme").await.unwrap().unwrap().id;
        drop(tx);
        let (_, analyst) = issue_key(&store, ws, "analyst", Scope::Analyst, Utc::now()).await.unwrap();
        let r = http.get(format!("{url}/api/v1/workspace/events")).bearer_auth(&analyst).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{b:?}");
        let v: Value = r.json().await.unwrap();
        let types_seen =
            v["events"][0]["properties"].as_array().unwrap().iter().all(|p| !p["types"].as_array().unwrap().is_empty());
        assert!(types_seen, "{v}");
        let values: usize = v["events"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["properties"].as_array().unwrap())
            .map(|p| p["top_values"].as_array().unwrap().len())
            .sum();
        assert_eq!(values, 0, "{v}");

        for bad in ["sample=5", "values=0", "days=abc"] {
            let r = http.get(format!("{url}/api/v1/workspace/events?{bad}")).bearer_auth(&admin).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            let p: Value = r.json().await.unwrap();
            assert!(p["detail"].as_str().unwrap().contains("must be a whole number"), "{bad}: {p}");
        }
    }
}
