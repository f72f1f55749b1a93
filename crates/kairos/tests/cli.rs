//! The `kairos` command line on both store backends: keys, CSV import with
//! per-row rejections and dry runs, and export round trips.

mod common;
use common::*;
use std::fmt::Write as _;

fn backends() -> Vec<(tempfile::TempDir, Vec<String>)> {
    let mut out = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let db = db_args(dir.path(), None);
    out.push((dir, db));
    if let Some(url) = postgres_url() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_args(dir.path(), Some(&url));
        out.push((dir, db));
    }
    out
}

fn with(db: &[String], args: &[&str]) -> Vec<String> {
    let mut v = db.to_vec();
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

#[test]
fn import_validates_rows_matches_contacts_and_exports_round_trip() {
    for (dir, db) in backends() {
        let csv_path = dir.path().join("contacts.csv");
        let mut csv = String::from("email,first_name,last_name,phone,country,plan,external_id\n");
        csv.push_str("ada@example.com,Ada,Lovelace,+44 20 7946 0958,GB,pro,u-1\n"); // line 2
        csv.push_str("not-an-email,Bad,Row,,,free,\n"); // line 3: rejected
        csv.push_str("grace@example.com,Grace,Hopper,12345,US,free,u-2\n"); // line 4: bad phone
        csv.push_str(",No,Identifier,,,,\n"); // line 5: rejected
        csv.push_str("ADA@example.com,Augusta,,,,enterprise,\n"); // line 6: updates line 2
        csv.push_str("linus@example.com,Linus,Torvalds,,XX,,u-3\n"); // line 7: bad country
        for i in 0..2000 {
            writeln!(csv, "p{i}@example.com,P{i},Person,,DE,free,").unwrap();
        }
        std::fs::write(&csv_path, &csv).unwrap();
        let file = csv_path.display().to_string();

        // Unknown columns are refused before anything is written.
        let out = kairos().args(with(&db, &["import", "contacts", &file])).output().unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("these columns are not contact fields: plan"));

        // A dry run reports and changes nothing.
        let summary = run(&with(&db, &["import", "contacts", &file, "--create-fields", "--dry-run"]));
        assert!(summary.contains("2006 rows read"), "{summary}");
        assert!(summary.contains("would create 2001, would update 1, rejected 4"), "{summary}");
        let export = run(&with(&db, &["export", "contacts"]));
        assert_eq!(export.lines().count(), 1, "dry run wrote contacts: {export}");

        let summary = run(&with(&db, &["import", "contacts", &file, "--create-fields"]));
        assert!(summary.contains("created 2001, updated 1, rejected 4"), "{summary}");
        let rejects = std::fs::read_to_string(format!("{file}.rejected.csv")).unwrap();
        let lines: Vec<&str> = rejects.lines().collect();
        assert_eq!(lines[0], "line,column,reason");
        assert!(lines[1].starts_with("3,email,") && lines[1].contains("not a valid email"), "{rejects}");
        assert!(lines[2].starts_with("4,phone,"), "{rejects}");
        assert!(
            lines[3].starts_with("5,email,") && lines[3].contains("neither an email nor an external_id"),
            "{rejects}"
        );
        assert!(lines[4].starts_with("7,country,"), "{rejects}");

        let export = run(&with(&db, &["export", "contacts"]));
        assert_eq!(export.lines().count(), 2002, "header + 2001 contacts");
        let ada = export.lines().find(|l| l.contains("ada@example.com")).unwrap();
        assert!(
            ada.contains("Augusta")
                && ada.contains("enterprise")
                && ada.contains("+442079460958")
                && ada.contains("u-1"),
            "{ada}"
        );

        // Re-importing the export into another workspace reproduces it.
        let exported = dir.path().join("export.csv");
        run(&with(&db, &["export", "contacts", "--output", &exported.display().to_string()]));
        let summary = run(&with(
            &db,
            &["import", "contacts", &exported.display().to_string(), "--workspace", "copy", "--create-fields"],
        ));
        assert!(summary.contains("created 2001, updated 0, rejected 0"), "{summary}");
        // And into the same workspace it only updates.
        let summary = run(&with(&db, &["import", "contacts", &exported.display().to_string()]));
        assert!(summary.contains("created 0, updated 2001, rejected 0"), "{summary}");

        let out = kairos().args(with(&db, &["export", "contacts", "--workspace", "nope"])).output().unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no workspace named \"nope\""));
    }
}

#[test]
fn keys_serve_track_and_export_events() {
    for (_dir, db) in backends() {
        let write = key(&db, "write");
        let admin = key(&db, "admin");
        assert!(write.starts_with("kw_") && admin.starts_with("ka_"));
        let mut server = Server::start(&db);
        let client = reqwest::blocking::Client::new();
        let body = serde_json::json!({"batch": (0..50).map(|i| serde_json::json!({"type": "track", "userId": format!("u{}", i % 5), "event": "Viewed", "messageId": format!("m{i}")})).collect::<Vec<_>>()});
        let r =
            client.post(format!("{}/v1/batch", server.url)).basic_auth(&write, Some("")).json(&body).send().unwrap();
        assert_eq!(r.status(), 200);
        server.kill();
        let events = run(&with(&db, &["export", "events"]));
        assert_eq!(events.lines().count(), 50);
        let first: serde_json::Value = serde_json::from_str(events.lines().next().unwrap()).unwrap();
        assert_eq!(first["message_id"], "m0");
        let csv = run(&with(&db, &["export", "events", "--format", "csv"]));
        assert_eq!(csv.lines().count(), 51);
        assert!(run(&with(&db, &["migrate"])).contains("migrations applied"));
    }
}

#[test]
fn the_email_transport_flag_uses_the_names_the_api_shows() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_args(dir.path(), None);
    let admin = key(&db, "admin");
    for (flags, kind) in [
        (&[][..], "disabled"),
        (&["--email-transport", "disabled"][..], "disabled"),
        (&["--email-transport", "none"][..], "disabled"),
        (&["--email-transport", "capture"][..], "capture"),
    ] {
        let server = Server::start_with(&db, flags);
        let view = get(&format!("{}/api/v1/settings/email-transport", server.url), &admin);
        assert_eq!(view["kind"], kind, "{flags:?}: {view}");
    }
}

#[test]
fn segment_commands_evaluate_create_list_and_delete() {
    for (dir, db) in backends() {
        let csv_path = dir.path().join("people.csv");
        let mut csv = String::from("email,country,plan\n");
        for i in 0..30 {
            let country = if i % 3 == 0 { "DE" } else { "FR" };
            writeln!(csv, "p{i}@example.com,{country},{}", if i % 2 == 0 { "pro" } else { "free" }).unwrap();
        }
        std::fs::write(&csv_path, &csv).unwrap();
        run(&with(&db, &["import", "contacts", &csv_path.display().to_string(), "--create-fields"]));

        let rule = dir.path().join("rule.json");
        std::fs::write(
            &rule,
            r#"{"and": [{"field": "country", "op": "equals", "value": "DE"},
                                         {"field": "plan", "op": "equals", "value": "pro"}]}"#,
        )
        .unwrap();
        let rule_path = rule.display().to_string();
        // i % 3 == 0 and i % 2 == 0: 0, 6, 12, 18, 24.
        assert_eq!(run(&with(&db, &["segment", "eval", &rule_path])).trim(), "5");
        let members = run(&with(&db, &["segment", "eval", &rule_path, "--members"]));
        let emails: Vec<&str> = members.lines().skip(1).filter_map(|l| l.split(',').nth(1)).collect();
        assert_eq!(emails.len(), 5, "{members}");
        assert!(emails.contains(&"p12@example.com"), "{members}");

        // A bad rule is refused with the path of the mistake.
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"{"or": [{"field": "plan", "op": "gt", "value": 3}]}"#).unwrap();
        let out = kairos().args(with(&db, &["segment", "eval", &bad.display().to_string()])).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("$.or[0].op") && err.contains("does not apply to a string field"), "{err}");

        let created = run(&with(&db, &["segment", "create", &rule_path, "--name", "German pros"]));
        assert!(created.contains("German pros") && created.contains("5 members"), "{created}");
        let id = created.split('\t').next().unwrap().trim().to_string();
        let list = run(&with(&db, &["segment", "list"]));
        assert!(list.contains(&format!("{id}\tGerman pros\tactive\t5")), "{list}");
        assert!(run(&with(&db, &["segment", "delete", &id])).contains("deleted"));
        assert!(!run(&with(&db, &["segment", "list"])).contains("German pros"));
    }
}

#[test]
fn an_erased_person_cannot_be_imported_again() {
    for (dir, db) in backends() {
        let csv_path = dir.path().join("people.csv");
        std::fs::write(
            &csv_path,
            "email,first_name,phone\nerin@example.com,Erin,+44 20 7946 0777\nfrank@example.com,Frank,\n",
        )
        .unwrap();
        let file = csv_path.display().to_string();
        run(&with(&db, &["import", "contacts", &file]));
        let export = run(&with(&db, &["export", "contacts"]));
        let erin = export
            .lines()
            .find(|l| l.contains("erin@example.com"))
            .and_then(|l| l.split(',').next())
            .unwrap_or_else(|| panic!("{export}"))
            .to_string();
        let exported = run(&with(&db, &["contact", "export", &erin]));
        let doc: serde_json::Value = serde_json::from_str(&exported).unwrap();
        assert_eq!(doc["contact"]["email"], "erin@example.com", "{exported}");
        let out = run(&with(&db, &["contact", "erase", &erin]));
        assert!(out.contains("suppressed as hashes: email, sms, phone"), "{out}");
        assert!(!run(&with(&db, &["export", "contacts"])).contains("erin@example.com"));
        // Re-importing the same file brings back neither her email nor her
        // phone (here on a row of its own).
        std::fs::write(&csv_path, "email,first_name,phone\nerin@example.com,Erin,\nnew@example.com,New,+442079460777\nfrank@example.com,Frank,\n")
            .unwrap();
        let summary = run(&with(&db, &["import", "contacts", &file]));
        assert!(summary.contains("rejected 2"), "{summary}");
        let rejects = std::fs::read_to_string(format!("{file}.rejected.csv")).unwrap();
        assert!(rejects.contains("2,email,belongs to a person who was erased"), "{rejects}");
        assert!(rejects.contains("3,phone,belongs to a person who was erased"), "{rejects}");
        assert!(!run(&with(&db, &["export", "contacts"])).contains("erin@example.com"));
    }
}

#[test]
fn journey_commands_talk_to_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_args(dir.path(), None);
    let admin = key(&db, "admin");
    let write = key(&db, "write");
    let server = Server::start(&db);
    let journey = |args: &[&str]| {
        let mut v = vec!["journey".to_string(), "--server".into(), server.url.clone(), "--key".into(), admin.clone()];
        v.extend(args.iter().map(|s| s.to_string()));
        kairos().args(&v).output().unwrap()
    };
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"trigger": {"type": "api"}, "start": "a", "nodes": {"a": {"type": "delay", "next": "b"}, "b": {"type": "exit"}}}"#)
        .unwrap();
    let out = journey(&["create", "Broken", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("422") && err.contains("$.nodes.a (node \"a\"): a delay takes exactly one of"), "{err}");

    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        r#"{"trigger": {"type": "api"}, "start": "a",
            "nodes": {"a": {"type": "delay", "duration": {"days": 2}, "next": "b"}, "b": {"type": "exit"}}}"#,
    )
    .unwrap();
    let out = journey(&["create", "Nurture", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(journey(&["publish", &id]).status.success());
    let list = String::from_utf8_lossy(&journey(&["list"]).stdout).to_string();
    assert!(list.contains(&id) && list.contains("active") && list.contains("Nurture"), "{list}");

    // A contact enters through the API trigger and waits on the delay.
    let client = reqwest::blocking::Client::new();
    let body = serde_json::json!({"type": "identify", "userId": "ada", "traits": {"email": "ada@example.com"}});
    assert_eq!(
        client
            .post(format!("{}/v1/identify", server.url))
            .basic_auth(&write, Some(""))
            .json(&body)
            .send()
            .unwrap()
            .status(),
        200
    );
    let contact = get(&format!("{}/api/v1/contacts?external_id=ada", server.url), &admin)["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = journey(&["enter", &id, &contact]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dry: serde_json::Value = serde_json::from_slice(&journey(&["dry-run", &id, &contact]).stdout).unwrap();
    assert_eq!(dry["path"].as_array().unwrap().last().unwrap()["node"], "b");
    wait_for("the run to be counted", || {
        let stats: serde_json::Value = serde_json::from_slice(&journey(&["stats", &id]).stdout).unwrap();
        stats["runs"]["delayed"] == 1
    });
    assert!(journey(&["pause", &id]).status.success());
    let again = journey(&["pause", &id]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("409"));
}

#[test]
fn dkim_keys_and_sender_identities_from_the_command_line() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    // A key pair to publish: the record's key decodes to a real Ed25519 key.
    let out =
        run(&["dkim", "generate", "--domain", "mail.example.com", "--selector", "s2026", "--algorithm", "ed25519"]
            .map(String::from));
    assert!(out.contains("name:  s2026._domainkey.mail.example.com"), "{out}");
    let value = out.lines().find_map(|l| l.trim().strip_prefix("value: ")).unwrap();
    let p = value.strip_prefix("v=DKIM1; k=ed25519; p=").unwrap();
    assert_eq!(b64.decode(p).unwrap().len(), 32);
    assert!(out.contains("-----BEGIN PRIVATE KEY-----"));
    let out = run(&["dkim", "generate", "--domain", "example.com"].map(String::from));
    let p = out.lines().find_map(|l| l.trim().strip_prefix("value: v=DKIM1; k=rsa; p=")).unwrap();
    assert!(b64.decode(p).unwrap().len() > 256, "an RSA-2048 SubjectPublicKeyInfo");
    // Bad input is refused with the reason.
    let bad = kairos().args(["dkim", "generate", "--domain", "not a domain"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a DNS name"));

    // A stored sender identity, visible through the API with the same record.
    for (_dir, db) in backends() {
        let out = run(&with(
            &db,
            &[
                "email",
                "sender-create",
                "--email",
                "news@example.com",
                "--name",
                "Example News",
                "--selector",
                "k1",
                "--algorithm",
                "ed25519",
            ],
        ));
        let value = out.lines().find_map(|l| l.trim().strip_prefix("value: ")).unwrap().to_string();
        let bad = kairos().args(with(&db, &["email", "sender-create", "--email", "not-an-address"])).output().unwrap();
        assert!(!bad.status.success());
        assert!(
            String::from_utf8_lossy(&bad.stderr).contains("not an email address"),
            "{}",
            String::from_utf8_lossy(&bad.stderr)
        );
        let admin = key(&db, "admin");
        let server = Server::start(&db);
        let senders = get(&format!("{}/api/v1/email/senders", server.url), &admin);
        assert_eq!(senders["data"][0]["dkim"]["dns_value"], value.as_str(), "{senders}");
        assert_eq!(senders["data"][0]["dkim"]["dns_name"], "k1._domainkey.example.com");
        assert_eq!(senders["data"][0]["default"], true);
    }
}

#[test]
fn score_and_model_commands_talk_to_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_args(dir.path(), None);
    let admin = key(&db, "admin");
    let write = key(&db, "write");
    let server = Server::start(&db);
    let cli = |group: &str, args: &[&str]| {
        let mut v = vec![group.to_string(), "--server".into(), server.url.clone(), "--key".into(), admin.clone()];
        v.extend(args.iter().map(|s| s.to_string()));
        kairos().args(&v).output().unwrap()
    };
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"name": "engagement", "events": [{"event": "Signed Up", "points": 0}]}"#).unwrap();
    let out = cli("score", &["create", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("422") && err.contains("events[0].points"), "{err}");
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        r#"{"name": "engagement", "description": "Signups", "events": [{"event": "Signed Up", "points": 10}],
            "thresholds": [{"name": "MQL", "value": 10}]}"#,
    )
    .unwrap();
    let out = cli("score", &["create", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_for("the score to be ready", || String::from_utf8_lossy(&cli("score", &["list"]).stdout).contains("ready"));

    let client = reqwest::blocking::Client::new();
    let body = serde_json::json!({"type": "track", "userId": "ada", "event": "Signed Up"});
    let sent = client.post(format!("{}/v1/track", server.url)).basic_auth(&write, Some("")).json(&body).send().unwrap();
    assert_eq!(sent.status(), 200);
    let contact = get(&format!("{}/api/v1/contacts?external_id=ada", server.url), &admin)["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let scores: serde_json::Value = serde_json::from_slice(&cli("score", &["contact", &contact]).stdout).unwrap();
    assert_eq!(scores["data"][0]["value"], 10.0, "{scores}");
    assert_eq!(scores["data"][0]["threshold"], "MQL", "{scores}");
    let history: serde_json::Value =
        serde_json::from_slice(&cli("score", &["contact", &contact, "--history"]).stdout).unwrap();
    assert_eq!(history["data"][0]["reason"], "+10 Signed Up", "{history}");

    // Too little data: the reason, and a failing exit.
    let out = cli("model", &["train", "--event", "Signed Up", "--horizon-days", "7"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("409") && err.contains("at least 50"), "{err}");
    assert!(cli("model", &["list"]).status.success());
    assert!(cli("score", &["delete", "engagement"]).status.success());
}

#[test]
fn report_commands_talk_to_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_args(dir.path(), None);
    let admin = key(&db, "admin");
    let write = key(&db, "write");
    let server = Server::start(&db);
    let cli = |args: &[&str]| {
        let mut v = vec!["report".to_string(), "--server".into(), server.url.clone(), "--key".into(), admin.clone()];
        v.extend(args.iter().map(|s| s.to_string()));
        kairos().args(&v).output().unwrap()
    };
    // A visit through an ad, then an order an hour later.
    let client = reqwest::blocking::Client::new();
    let now = chrono::Utc::now();
    let batch = serde_json::json!({"batch": [
        {"type": "page", "userId": "ada", "name": "Landing", "timestamp": (now - chrono::Duration::hours(2)).to_rfc3339(),
         "context": {"campaign": {"name": "spring", "source": "google", "medium": "cpc"}}},
        {"type": "track", "userId": "ada", "event": "Order Completed", "timestamp": (now - chrono::Duration::hours(1)).to_rfc3339(),
         "properties": {"revenue": 120, "currency": "EUR"}}]});
    let sent =
        client.post(format!("{}/v1/batch", server.url)).basic_auth(&write, Some("")).json(&batch).send().unwrap();
    assert_eq!(sent.status(), 200);
    let out = cli(&["cost", "utm:google/cpc/spring", "--amount", "40", "--currency", "eur"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let costs = String::from_utf8_lossy(&cli(&["costs"]).stdout).to_string();
    assert!(costs.contains("utm:google/cpc/spring") && costs.contains("40.00") && costs.contains("EUR"), "{costs}");
    let out = cli(&["attribution", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["currency"], "EUR", "{r}");
    assert_eq!(r["sources"][0]["source"], "utm:google/cpc/spring", "{r}");
    assert_eq!((r["sources"][0]["value"].as_f64(), r["sources"][0]["roi"].as_f64()), (Some(120.0), Some(2.0)), "{r}");
    let table = String::from_utf8_lossy(&cli(&["attribution", "--model", "linear"]).stdout).to_string();
    assert!(table.contains("spring (google / cpc)") && table.contains("120.00") && table.contains("linear"), "{table}");
    // Bad input names what was wrong, with a failing exit.
    let out = cli(&["attribution", "--model", "markov"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("422") && err.contains("model") && err.contains("markov"), "{err}");
    assert!(cli(&["remove-cost", "utm:google/cpc/spring"]).status.success());
    assert!(!cli(&["remove-cost", "utm:google/cpc/spring"]).status.success(), "a second removal finds nothing");
}
