//! The official Segment and RudderStack Python SDKs, unchanged, pointed at a
//! real `kairos serve`: every call they make is accepted, stored once, and
//! applied to the profile.

mod common;
use common::*;
use serde_json::json;
use std::process::Command;

fn send(sdk: &str, url: &str, write_key: &str, prefix: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/send.py");
    let out = Command::new("python3").args([script, sdk, url, write_key, prefix]).output().unwrap();
    assert!(out.status.success(), "{sdk} SDK script failed: {}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"], json!([]), "{sdk} SDK reported errors");
}

fn check(url: &str, admin: &str, prefix: &str) {
    let page = get(&format!("{url}/api/v1/contacts?external_id={prefix}-user"), admin);
    let contacts = page["data"].as_array().unwrap();
    assert_eq!(contacts.len(), 1, "{prefix}: one contact for the SDK user: {page}");
    let c = &contacts[0];
    assert_eq!(c["email"], json!(format!("{prefix}@example.com")));
    assert_eq!(c["first_name"], json!("Sdk"));
    assert_eq!(c["custom"]["plan"], json!("pro"));
    assert_eq!(c["company_ids"].as_array().unwrap().len(), 1, "{prefix}: traits.company and group link one company");
    let id = c["id"].as_str().unwrap();
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = get(&format!("{url}/api/v1/contacts/{id}/events?limit=100{cursor}"), admin);
        ids.extend(page["data"].as_array().unwrap().iter().map(|e| e["message_id"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    ids.sort();
    let mut want: Vec<String> =
        (1..=6).map(|i| format!("{prefix}-{i}")).chain((0..200).map(|i| format!("{prefix}-bulk-{i}"))).collect();
    want.sort();
    assert_eq!(ids, want, "{prefix}: every SDK call stored exactly once, including the anonymous page view");
    let events = get(&format!("{url}/api/v1/contacts/{id}/events?limit=1000"), admin);
    let order =
        events["data"].as_array().unwrap().iter().find(|e| e["message_id"] == json!(format!("{prefix}-3"))).unwrap();
    assert_eq!(order["properties"]["total"], json!(12.5));
    assert!(order["context"]["library"]["name"].is_string(), "the SDK's context is kept");
}

#[test]
fn official_segment_and_rudderstack_sdks_work_unchanged() {
    if !require_python_module("segment.analytics") || !require_python_module("rudderstack.analytics") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = db_args(dir.path(), None);
    let write = key(&db, "write");
    let admin = key(&db, "admin");
    let server = Server::start(&db);
    send("segment", &server.url, &write, "seg");
    send("rudderstack", &server.url, &write, "rud");
    check(&server.url, &admin, "seg");
    check(&server.url, &admin, "rud");
}
