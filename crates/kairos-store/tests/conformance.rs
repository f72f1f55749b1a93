//! The store conformance suite: every test runs the same assertions against
//! SQLite and PostgreSQL (see `kairos_store::testing`).

use chrono::{Duration, Utc};
use kairos_core::apikey::{generate_secret, secret_digest, secret_prefix, ApiKey, Scope};
use kairos_core::company::Company;
use kairos_core::contact::Contact;
use kairos_core::event::{Event, EventKind};
use kairos_core::fields::{FieldDefinition, FieldEntity, FieldType};
use kairos_core::ids::{ApiKeyId, ContactId, WorkspaceId};
use kairos_store::{testing, ContactFilter, EventCursor, StoreError, Tx};
use serde_json::json;

async fn workspace(tx: &mut Tx, name: &str) -> WorkspaceId {
    tx.create_workspace(name, Utc::now()).await.unwrap().id
}

fn event(ws: WorkspaceId, contact: &Contact, msg: &str, ts_offset_s: i64) -> Event {
    let now = Utc::now();
    Event {
        seq: 0,
        id: uuid::Uuid::now_v7(),
        workspace_id: ws,
        contact_id: contact.id,
        kind: EventKind::Track,
        name: Some("Order Completed".into()),
        message_id: msg.into(),
        user_id: contact.external_id.clone(),
        anonymous_id: None,
        properties: json!({"total": 42.5}),
        context: json!({"ip": "203.0.113.1"}),
        timestamp: now + Duration::seconds(ts_offset_s),
        received_at: now,
    }
}

#[tokio::test]
async fn workspaces_keys_and_fields() {
    for ts in testing::all().await {
        let b = ts.backend();
        let mut tx = ts.store.begin_write().await.unwrap();
        let ws = workspace(&mut tx, "acme").await;
        let other = workspace(&mut tx, "globex").await;
        assert!(matches!(tx.create_workspace("acme", Utc::now()).await, Err(StoreError::Conflict(_))), "{b:?}");
        tx.commit().await.unwrap();

        let mut tx = ts.store.begin_write().await.unwrap();
        assert_eq!(tx.workspace_by_name("acme").await.unwrap().unwrap().id, ws);
        let secret = generate_secret(Scope::Admin);
        let key = ApiKey {
            id: ApiKeyId::new(),
            workspace_id: ws,
            name: "ci".into(),
            scope: Scope::Admin,
            prefix: secret_prefix(&secret),
            created_at: Utc::now(),
            revoked_at: None,
            expires_at: Some(Utc::now() + chrono::Duration::days(30)),
            created_by: Some("user:ops@acme.test".into()),
        };
        tx.insert_api_key(&key, &secret_digest(&secret)).await.unwrap();
        let found = tx.api_key_by_digest(&secret_digest(&secret)).await.unwrap().unwrap();
        assert_eq!(found.id, key.id);
        assert_eq!(found.scope, Scope::Admin);
        assert_eq!(found.expires_at.map(|t| t.timestamp_millis()), key.expires_at.map(|t| t.timestamp_millis()));
        assert_eq!(found.created_by, key.created_by);
        assert!(tx.api_key_by_digest("nope").await.unwrap().is_none());
        assert_eq!(tx.list_api_keys(ws).await.unwrap().len(), 1);
        assert!(tx.list_api_keys(other).await.unwrap().is_empty());
        assert!(!tx.revoke_api_key(other, key.id, Utc::now()).await.unwrap(), "{b:?}: revoke across workspaces");
        assert!(tx.revoke_api_key(ws, key.id, Utc::now()).await.unwrap());
        assert!(tx.api_key_by_digest(&secret_digest(&secret)).await.unwrap().unwrap().revoked_at.is_some());

        let def = FieldDefinition {
            entity: FieldEntity::Contact,
            name: "plan".into(),
            field_type: FieldType::String,
            label: None,
        };
        tx.define_field(ws, &def, Utc::now()).await.unwrap();
        tx.define_field(ws, &FieldDefinition { label: Some("Plan".into()), ..def.clone() }, Utc::now()).await.unwrap();
        let retyped = FieldDefinition { field_type: FieldType::Number, ..def.clone() };
        assert!(matches!(tx.define_field(ws, &retyped, Utc::now()).await, Err(StoreError::Conflict(_))));
        let fields = tx.list_fields(ws).await.unwrap();
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].label.as_deref(), Some("Plan"));
        assert!(tx.list_fields(other).await.unwrap().is_empty());
        assert!(tx.delete_field(ws, FieldEntity::Contact, "plan").await.unwrap());
        assert!(!tx.delete_field(ws, FieldEntity::Contact, "plan").await.unwrap());
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn contacts_crud_search_and_isolation() {
    for ts in testing::all().await {
        let b = ts.backend();
        let mut tx = ts.store.begin_write().await.unwrap();
        let ws = workspace(&mut tx, "acme").await;
        let other = workspace(&mut tx, "globex").await;
        let mut ids = Vec::new();
        for i in 0..25 {
            let mut c = Contact::new(ws, Utc::now());
            c.email = Some(format!("person{i}@example.com"));
            c.external_id = Some(format!("u{i}"));
            c.first_name = Some(if i % 5 == 0 { "Ada_%".into() } else { format!("Name{i}") });
            c.country = Some(if i % 2 == 0 { "DE".into() } else { "FR".into() });
            c.custom.insert("plan".into(), json!(if i < 10 { "pro" } else { "free" }));
            c.custom.insert("seats".into(), json!(i as f64));
            c.custom.insert("vip".into(), json!(i % 4 == 0));
            c.custom.insert("tags".into(), json!(if i % 3 == 0 { vec!["a", "b"] } else { vec!["c"] }));
            tx.insert_contact(&c).await.unwrap();
            ids.push(c.id);
        }
        let mut dup = Contact::new(ws, Utc::now());
        dup.email = Some("person3@example.com".into());
        assert!(matches!(tx.insert_contact(&dup).await, Err(StoreError::Conflict(_))), "{b:?}: duplicate email");
        tx.commit().await.unwrap();

        let mut tx = ts.store.begin().await.unwrap();
        // The same email in another workspace is a different person.
        let mut elsewhere = Contact::new(other, Utc::now());
        elsewhere.email = Some("person3@example.com".into());
        tx.insert_contact(&elsewhere).await.unwrap();
        assert!(tx.contact(other, ids[3]).await.unwrap().is_none(), "{b:?}: cross-workspace read");
        let c = tx.contact_by_email(ws, "person3@example.com").await.unwrap().unwrap();
        assert_eq!(c.id, ids[3]);
        assert_eq!(tx.contact_by_external_id(ws, "u4").await.unwrap().unwrap().id, ids[4]);

        // Pagination visits every contact exactly once.
        let mut seen = Vec::new();
        let mut filter = ContactFilter::default();
        loop {
            let page = tx.search_contacts(ws, &filter, 7).await.unwrap();
            seen.extend(page.contacts.iter().map(|c| c.id));
            match page.next {
                Some(n) => filter.after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, ids, "{b:?}");
        let de = tx
            .search_contacts(ws, &ContactFilter { country: Some("de".into()), ..Default::default() }, 100)
            .await
            .unwrap();
        assert_eq!(de.contacts.len(), 13);
        let pro = ContactFilter {
            custom_equals: vec![("plan".into(), kairos_store::CustomMatch::Text("pro".into()))],
            ..Default::default()
        };
        assert_eq!(tx.search_contacts(ws, &pro, 100).await.unwrap().contacts.len(), 10, "{b:?}: custom filter");
        use kairos_store::CustomMatch;
        for (field, m, want) in [
            ("seats", CustomMatch::Number(7.0), 1),
            ("vip", CustomMatch::Bool(true), 7),
            ("vip", CustomMatch::Bool(false), 18),
            ("tags", CustomMatch::ListContains("b".into()), 9),
            ("tags", CustomMatch::ListContains("zzz".into()), 0),
        ] {
            let f = ContactFilter { custom_equals: vec![(field.into(), m.clone())], ..Default::default() };
            assert_eq!(tx.search_contacts(ws, &f, 100).await.unwrap().contacts.len(), want, "{b:?}: {field} {m:?}");
        }
        // LIKE wildcards in the query are literal; matching ignores case.
        let q = ContactFilter { q: Some("ada_%".into()), ..Default::default() };
        assert_eq!(tx.search_contacts(ws, &q, 100).await.unwrap().contacts.len(), 5, "{b:?}: q escaping");
        let q = ContactFilter { q: Some("PERSON1".into()), ..Default::default() };
        assert_eq!(tx.search_contacts(ws, &q, 100).await.unwrap().contacts.len(), 11, "{b:?}: q case");
        let injection =
            ContactFilter { q: Some("' OR 1=1 --".into()), email: Some("x' OR '1'='1".into()), ..Default::default() };
        assert!(tx.search_contacts(ws, &injection, 100).await.unwrap().contacts.is_empty());
        assert_eq!(tx.count_contacts(ws).await.unwrap(), 25);

        let mut c = c;
        c.first_name = Some("Grace".into());
        c.custom.insert("seats".into(), json!(12.0));
        assert!(tx.update_contact(&c).await.unwrap());
        let back = tx.contact(ws, c.id).await.unwrap().unwrap();
        assert_eq!(back.first_name.as_deref(), Some("Grace"));
        assert_eq!(back.custom["seats"], json!(12.0));
        assert!(tx.delete_contact(ws, c.id).await.unwrap());
        assert!(tx.contact(ws, c.id).await.unwrap().is_none());
        assert!(tx.contact_by_email(other, "person3@example.com").await.unwrap().is_some());
    }
}

#[tokio::test]
async fn event_log_dedupes_orders_and_pages() {
    for ts in testing::all().await {
        let b = ts.backend();
        let mut tx = ts.store.begin_write().await.unwrap();
        let ws = workspace(&mut tx, "acme").await;
        let mut c = Contact::new(ws, Utc::now());
        c.external_id = Some("u1".into());
        tx.insert_contact(&c).await.unwrap();
        let events: Vec<Event> = (0..1200).map(|i| event(ws, &c, &format!("m{i}"), -i)).collect();
        let inserted = tx.append_events(&events).await.unwrap();
        assert_eq!(inserted.len(), 1200, "{b:?}");
        // Re-sending overlapping messages stores only the new ones.
        let again: Vec<Event> = (1100..1300).map(|i| event(ws, &c, &format!("m{i}"), -i)).collect();
        let inserted = tx.append_events(&again).await.unwrap();
        assert_eq!(inserted.len(), 100);
        assert!(inserted.contains_key("m1250") && !inserted.contains_key("m1100"));
        let existing = tx.existing_message_ids(ws, &["m1", "m5000", "m1299"]).await.unwrap();
        assert_eq!(existing.len(), 2);
        assert_eq!(tx.count_events(ws).await.unwrap(), 1300);
        tx.commit().await.unwrap();

        let mut tx = ts.store.begin().await.unwrap();
        // The timeline is newest first and the cursor continues it exactly.
        let first = tx.contact_events(ws, c.id, None, 10).await.unwrap();
        assert_eq!(first[0].message_id, "m0");
        assert_eq!(first[9].message_id, "m9");
        let last = first.last().unwrap();
        let cursor = EventCursor { timestamp_ms: last.timestamp.timestamp_millis(), seq: last.seq };
        let next = tx.contact_events(ws, c.id, Some(cursor), 10).await.unwrap();
        assert_eq!(next[0].message_id, "m10");
        assert_eq!(first[0].properties, json!({"total": 42.5}));
        // The log reads back in append order.
        let log = tx.events_after(ws, 0, 5000).await.unwrap();
        assert_eq!(log.len(), 1300);
        assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
        let tail = tx.events_after(ws, log[1199].seq, 5000).await.unwrap();
        assert_eq!(tail.len(), 100);
        tx.commit().await.unwrap();

        // A day's count goes by when events happened: one sent in today with a
        // timestamp two days old counts on its own day, not today.
        let mut tx = ts.store.begin_write().await.unwrap();
        tx.append_events(&[event(ws, &c, "late", -2 * 86_400)]).await.unwrap();
        assert_eq!(tx.count_events(ws).await.unwrap(), 1301, "{b:?}");
        assert_eq!(tx.count_events_since(ws, Utc::now() - Duration::hours(24)).await.unwrap(), 1300, "{b:?}");
        tx.commit().await.unwrap();
    }
}

/// What the journey runner reads: only the kinds and names of interest,
/// page and screen calls by their rule names, within the seq bounds.
#[tokio::test]
async fn events_of_interest_filter_by_kind_and_name_within_bounds() {
    use kairos_core::journey::EventInterest;
    for ts in testing::all().await {
        let b = ts.backend();
        let mut tx = ts.store.begin_write().await.unwrap();
        let ws = workspace(&mut tx, "acme").await;
        let c = Contact::new(ws, Utc::now());
        tx.insert_contact(&c).await.unwrap();
        let kinds = [
            (EventKind::Track, Some("Order Completed")),
            (EventKind::Track, Some("Signed Up")),
            (EventKind::Page, Some("Pricing")),
            (EventKind::Screen, Some("Home")),
            (EventKind::Identify, None),
            (EventKind::Group, None),
            (EventKind::Track, Some("Page Viewed")),
        ];
        let events: Vec<Event> = kinds
            .iter()
            .enumerate()
            .map(|(i, (kind, name))| Event {
                kind: *kind,
                name: name.map(String::from),
                ..event(ws, &c, &format!("k{i}"), i as i64)
            })
            .collect();
        let seqs = tx.append_events(&events).await.unwrap();
        tx.commit().await.unwrap();
        let seq = |i: usize| seqs[&format!("k{i}")];
        let mut tx = ts.store.begin().await.unwrap();
        let end = tx.last_event_seq().await.unwrap();
        let read = |interest: EventInterest, after: i64, until: i64, limit: i64| {
            let store = ts.store.clone();
            async move {
                let mut tx = store.begin().await.unwrap();
                let got = tx.events_of_interest(after, until, &interest, limit).await.unwrap();
                got.iter().map(|e| e.message_id.clone()).collect::<Vec<_>>()
            }
        };
        let names =
            |n: &[&str]| EventInterest { names: n.iter().map(|s| s.to_string()).collect(), ..Default::default() };
        assert_eq!(read(EventInterest::default(), 0, end, 100).await, Vec::<String>::new(), "{b:?}");
        assert_eq!(read(names(&["Signed Up"]), 0, end, 100).await, ["k1"], "{b:?}");
        assert_eq!(read(names(&["Page Viewed"]), 0, end, 100).await, ["k2", "k6"], "{b:?}: page calls and the track");
        assert_eq!(read(names(&["Screen Viewed", "Order Completed"]), 0, end, 100).await, ["k0", "k3"], "{b:?}");
        let every = EventInterest { every_event: true, ..Default::default() };
        assert_eq!(read(every, 0, end, 100).await, ["k0", "k1", "k2", "k3", "k6"], "{b:?}");
        let identifies = EventInterest { identifies: true, ..names(&["Signed Up"]) };
        assert_eq!(read(identifies.clone(), 0, end, 100).await, ["k1", "k4"], "{b:?}");
        // Bounds and limit: after k1, up to k4, one at a time.
        assert_eq!(read(identifies.clone(), seq(1), seq(4), 1).await, ["k4"], "{b:?}");
        assert_eq!(read(identifies, seq(1), seq(3), 100).await, Vec::<String>::new(), "{b:?}");
        tx.commit().await.unwrap();
    }
}

/// A captured marketing message to `to`, made at `at`.
fn message_to(contact: Option<String>, to: &str, at: i64) -> kairos_store::MessageRecord {
    kairos_store::MessageRecord {
        id: uuid::Uuid::now_v7().to_string(),
        contact_id: contact,
        template_id: None,
        sender_id: None,
        source: "api".into(),
        intent_key: None,
        to_email: Some(to.into()),
        subject: None,
        kind: "marketing".into(),
        status: "captured".into(),
        detail: None,
        raw: None,
        opens: 0,
        machine_opens: 0,
        clicks: 0,
        first_opened_at: None,
        first_clicked_at: None,
        created_at: at,
        sent_at: None,
        unsubscribed_at: None,
    }
}

#[tokio::test]
async fn merges_move_everything_and_are_recorded() {
    for ts in testing::all().await {
        let b = ts.backend();
        let mut tx = ts.store.begin_write().await.unwrap();
        let ws = workspace(&mut tx, "acme").await;
        let mut target = Contact::new(ws, Utc::now());
        target.external_id = Some("u1".into());
        tx.insert_contact(&target).await.unwrap();
        let mut source = Contact::new(ws, Utc::now());
        source.email = Some("anon@example.com".into());
        tx.insert_contact(&source).await.unwrap();
        tx.link_anonymous_id(ws, "anon-1", source.id, Utc::now()).await.unwrap();
        let company = Company::new(ws, "Acme".into(), Utc::now());
        tx.insert_company(&company).await.unwrap();
        tx.link_company(ws, source.id, company.id, Utc::now()).await.unwrap();
        tx.link_company(ws, source.id, company.id, Utc::now()).await.unwrap();
        tx.append_events(&[event(ws, &source, "a", 0), event(ws, &target, "b", 0)]).await.unwrap();
        // A message sent to the source and points on both: they follow the person.
        let message = message_to(Some(source.id.to_string()), "anon@example.com", 1_000);
        tx.insert_email_message(ws, &message).await.unwrap();
        // Points on both, decaying with a 10-day half-life: the source's 40
        // are 10 days older than the target's 5, so they count 20 then.
        let day = 86_400_000;
        let state = |behaviour, as_of| kairos_core::score::ScoreState { behaviour, as_of, attributes: 0.0, level: 0 };
        tx.save_score_states(ws, "loyalty", &[(source.id, state(40.0, 0), None)], Some(10.0), 0).await.unwrap();
        tx.save_score_states(ws, "loyalty", &[(target.id, state(5.0, 10 * day), None)], Some(10.0), 0).await.unwrap();
        let change = |contact: ContactId, id: &str| kairos_store::ScoreChange {
            id: id.into(),
            contact_id: contact.to_string(),
            score: "loyalty".into(),
            version: 0,
            at: 0,
            delta: 1.0,
            value: 1.0,
            reason: "test".into(),
            source: "journey".into(),
            rule: None,
            period: None,
            event_id: None,
        };
        tx.append_score_changes(ws, &[change(source.id, "c1"), change(target.id, "c2")]).await.unwrap();
        let mut source = tx.contact(ws, source.id).await.unwrap().unwrap();
        assert_eq!(source.company_ids, vec![company.id]);
        source.field_times.insert("email".into(), 1);
        let merged = kairos_core::merge::merge_contacts(&target, &source);
        let record = tx.merge_contacts(ws, &merged, &source, "test", Utc::now()).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = ts.store.begin().await.unwrap();
        let survivor = tx.contact(ws, target.id).await.unwrap().unwrap();
        assert_eq!(survivor.email.as_deref(), Some("anon@example.com"), "{b:?}");
        assert_eq!(survivor.company_ids, vec![company.id]);
        assert!(tx.contact(ws, source.id).await.unwrap().is_none());
        assert_eq!(tx.contact_id_by_anonymous_id(ws, "anon-1").await.unwrap(), Some(target.id));
        assert_eq!(tx.contact_events(ws, target.id, None, 10).await.unwrap().len(), 2);
        let merges = tx.merges_of(ws, target.id).await.unwrap();
        assert_eq!(merges, vec![record]);
        assert_eq!(merges[0].source_snapshot["email"], json!("anon@example.com"));
        assert_eq!(tx.contacts_of_company(ws, company.id, 10).await.unwrap(), vec![target.id]);
        let theirs = tx.email_messages(ws, Some(&target.id.to_string()), None, 10).await.unwrap();
        assert_eq!(theirs.iter().map(|m| m.id.clone()).collect::<Vec<_>>(), vec![message.id.clone()], "{b:?}");
        let scores = tx.scores_of(ws, target.id).await.unwrap();
        assert_eq!(scores.len(), 1, "{b:?}");
        assert!((scores[0].state.value_at(Some(10.0), 10 * day) - 25.0).abs() < 1e-9, "{b:?}: {scores:?}");
        assert!(tx.scores_of(ws, source.id).await.unwrap().is_empty());
        let history = tx.score_changes_of(ws, target.id, None, None, 10).await.unwrap();
        assert_eq!(history.len(), 2, "the source's score history follows the person ({b:?})");
    }
}

#[tokio::test]
async fn companies_crud_and_links() {
    for ts in testing::all().await {
        let b = ts.backend();
        let mut tx = ts.store.begin_write().await.unwrap();
        let ws = workspace(&mut tx, "acme").await;
        let other = workspace(&mut tx, "globex").await;
        let mut co = Company::new(ws, "Initech".into(), Utc::now());
        co.external_id = Some("g1".into());
        co.domain = Some("initech.com".into());
        tx.insert_company(&co).await.unwrap();
        let mut dup = Company::new(ws, "Other".into(), Utc::now());
        dup.external_id = Some("g1".into());
        assert!(matches!(tx.insert_company(&dup).await, Err(StoreError::Conflict(_))), "{b:?}");
        let c = Contact::new(ws, Utc::now());
        tx.insert_contact(&c).await.unwrap();
        tx.link_company(ws, c.id, co.id, Utc::now()).await.unwrap();
        let by_company = ContactFilter { company_id: Some(co.id), ..Default::default() };
        let page = tx.search_contacts(ws, &by_company, 10).await.unwrap();
        assert_eq!(page.contacts.len(), 1);
        assert_eq!(page.contacts[0].company_ids, vec![co.id]);
        assert_eq!(tx.company_by_external_id(ws, "g1").await.unwrap().unwrap().id, co.id);
        assert!(tx.company(other, co.id).await.unwrap().is_none());
        co.name = "Initech LLC".into();
        co.custom.insert("employees".into(), json!(250.0));
        assert!(tx.update_company(&co).await.unwrap());
        let (list, next) = tx.list_companies(ws, None, None, 10).await.unwrap();
        assert_eq!((list.len(), next), (1, None));
        assert_eq!(list[0].custom["employees"], json!(250.0));
        // Searched by a part of the name, any case; LIKE wildcards are literal.
        for (q, found) in [("INITECH", 1), ("tech l", 1), ("globex", 0), ("%", 0), ("_", 0)] {
            let (list, _) = tx.list_companies(ws, Some(q), None, 10).await.unwrap();
            assert_eq!(list.len(), found, "{q:?}");
        }
        assert!(tx.unlink_company(ws, c.id, co.id).await.unwrap());
        assert!(tx.delete_company(ws, co.id).await.unwrap());
        assert!(tx.company(ws, co.id).await.unwrap().is_none());
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn email_messages_page_without_skipping_messages_made_in_the_same_millisecond() {
    for ts in testing::all().await {
        let b = ts.backend();
        let mut tx = ts.store.begin_write().await.unwrap();
        let ws = workspace(&mut tx, "acme").await;
        // Seven messages, five of them in one millisecond.
        for (i, at) in [1_000, 2_000, 2_000, 2_000, 2_000, 2_000, 3_000].into_iter().enumerate() {
            let m = message_to(None, &format!("m{i}@example.org"), at);
            assert!(tx.insert_email_message(ws, &m).await.unwrap());
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = tx.email_messages(ws, None, after.clone(), 2).await.unwrap();
            if page.is_empty() {
                break;
            }
            let last = page.last().unwrap();
            after = Some((last.created_at, last.id.clone()));
            seen.extend(page.into_iter().map(|m| m.to_email.unwrap()));
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(seen.len(), 7, "{b:?}: every message once: {seen:?}");
        assert_eq!(sorted.len(), 7, "{b:?}: no repeats: {seen:?}");
        assert_eq!(seen[0], "m6@example.org", "newest first");
        assert_eq!(seen[6], "m0@example.org");
    }
}

#[tokio::test]
async fn form_confirmations_confirm_once_and_remind_only_the_newest() {
    use kairos_store::{ConfirmationRecord, FormRecord};
    for ts in testing::all().await {
        let b = ts.backend();
        let mut tx = ts.store.begin_write().await.unwrap();
        let ws = workspace(&mut tx, "acme").await;
        let other = workspace(&mut tx, "globex").await;
        let form = FormRecord {
            id: uuid::Uuid::now_v7().to_string(),
            name: "News".into(),
            definition: "{}".into(),
            created_at: 1,
            updated_at: 1,
        };
        tx.insert_form(ws, &form).await.unwrap();
        assert_eq!(tx.form_anywhere(&form.id).await.unwrap().map(|(w, _)| w), Some(ws), "{b:?}");
        assert!(tx.form(other, &form.id).await.unwrap().is_none(), "{b:?}: forms are per workspace");
        assert!(tx.forms(other).await.unwrap().is_empty());
        let contact = uuid::Uuid::now_v7().to_string();
        let pending = |next: i64| ConfirmationRecord {
            id: uuid::Uuid::now_v7().to_string(),
            form_id: form.id.clone(),
            contact_id: contact.clone(),
            status: "pending".into(),
            definition: "{}".into(),
            proof: "{}".into(),
            created_at: 0,
            expires_at: 1_000,
            reminders_sent: 0,
            next_reminder_at: Some(next),
            confirmed_at: None,
        };
        let (older, newer) = (pending(100), pending(120));
        tx.insert_confirmation(ws, &older).await.unwrap();
        tx.insert_confirmation(ws, &newer).await.unwrap();
        assert_eq!(tx.confirmation(ws, &older.id).await.unwrap().unwrap().status, "superseded", "{b:?}");
        // Only the newest is reminded, and not before it is due or after expiry.
        assert!(tx.due_reminders(110, 10).await.unwrap().is_empty(), "{b:?}");
        let due = tx.due_reminders(150, 10).await.unwrap();
        assert_eq!(due.iter().map(|(_, r)| r.id.clone()).collect::<Vec<_>>(), vec![newer.id.clone()], "{b:?}");
        assert!(tx.due_reminders(1_000, 10).await.unwrap().is_empty(), "{b:?}: expired links are not reminded");
        tx.set_reminder(ws, &newer.id, 1, None).await.unwrap();
        assert!(tx.due_reminders(150, 10).await.unwrap().is_empty(), "{b:?}");
        // Confirming succeeds once; the older link is closed with it.
        assert!(tx.mark_confirmed(ws, &newer, 200).await.unwrap(), "{b:?}");
        assert!(!tx.mark_confirmed(ws, &newer, 201).await.unwrap(), "{b:?}: a second confirmation grants nothing");
        assert!(!tx.mark_confirmed(ws, &older, 202).await.unwrap(), "{b:?}: nor does the older link");
        let r = tx.confirmation(ws, &newer.id).await.unwrap().unwrap();
        assert_eq!((r.status.as_str(), r.confirmed_at, r.reminders_sent), ("confirmed", Some(200), 1), "{b:?}");
        // Expiry closes what is still pending, nothing else.
        let late = pending(500);
        let late = ConfirmationRecord { contact_id: uuid::Uuid::now_v7().to_string(), ..late };
        tx.insert_confirmation(ws, &late).await.unwrap();
        assert_eq!(tx.expire_confirmations(999).await.unwrap(), 0, "{b:?}");
        assert_eq!(tx.expire_confirmations(1_000).await.unwrap(), 1, "{b:?}");
        assert_eq!(tx.confirmation(ws, &late.id).await.unwrap().unwrap().status, "expired");
        assert!(!tx.mark_confirmed(ws, &late, 1_001).await.unwrap(), "{b:?}: an expired confirmation stays so");
        assert_eq!(tx.confirmations_of(ws, &contact).await.unwrap().len(), 2);
        assert!(tx.confirmations_of(other, &contact).await.unwrap().is_empty());
        assert!(tx.delete_form(ws, &form.id).await.unwrap());
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn consent_texts_keep_every_version_and_retire_per_workspace() {
    use kairos_core::consent::{Channel, Purpose};
    use kairos_core::consent_text::ConsentText;
    for ts in testing::all().await {
        let b = ts.backend();
        let mut tx = ts.store.begin_write().await.unwrap();
        let ws = workspace(&mut tx, "acme").await;
        let other = workspace(&mut tx, "globex").await;
        let v = |version: i64, text: &str| ConsentText {
            key: "newsletter".into(),
            version,
            channel: Channel::Email,
            purpose: Purpose::Marketing,
            language: "en".into(),
            text: text.into(),
            created_at: version * 10,
            created_by: "user:ann@acme.test".into(),
        };
        assert!(tx.insert_consent_text(ws, &v(1, "Email me news")).await.unwrap(), "{b:?}");
        assert!(tx.insert_consent_text(ws, &v(2, "Email me the news")).await.unwrap(), "{b:?}");
        assert!(!tx.insert_consent_text(ws, &v(2, "raced")).await.unwrap(), "{b:?}: a version is written once");
        let current = tx.consent_texts(ws).await.unwrap();
        assert_eq!(
            current.iter().map(|t| (t.version, t.text.as_str())).collect::<Vec<_>>(),
            [(2, "Email me the news")]
        );
        assert_eq!(tx.consent_text_versions(ws, "newsletter").await.unwrap().len(), 2, "{b:?}");
        assert!(tx.consent_texts(other).await.unwrap().is_empty(), "{b:?}");

        assert!(tx.retire_consent_text(ws, "newsletter", 100, "user:ann@acme.test").await.unwrap(), "{b:?}");
        assert!(!tx.retire_consent_text(ws, "newsletter", 101, "user:bob@acme.test").await.unwrap(), "{b:?}");
        let retired = tx.consent_text_retirements(ws).await.unwrap();
        assert_eq!(retired.len(), 1, "{b:?}");
        assert_eq!(
            (retired[0].key.as_str(), retired[0].at, retired[0].by.as_str()),
            ("newsletter", 100, "user:ann@acme.test")
        );
        assert!(tx.consent_text_retirements(other).await.unwrap().is_empty(), "{b:?}: retired in acme only");
        assert!(!tx.reinstate_consent_text(other, "newsletter").await.unwrap(), "{b:?}");
        assert_eq!(tx.consent_text_versions(ws, "newsletter").await.unwrap().len(), 2, "{b:?}: versions stay");
        assert!(tx.reinstate_consent_text(ws, "newsletter").await.unwrap(), "{b:?}");
        assert!(tx.consent_text_retirements(ws).await.unwrap().is_empty(), "{b:?}");
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn journey_counts_follow_every_path_line_written_and_outlive_erasure() {
    use kairos_core::ids::JourneyId;
    use kairos_store::PathRecord;
    for ts in testing::all().await {
        let b = ts.backend();
        let mut tx = ts.store.begin_write().await.unwrap();
        let ws = workspace(&mut tx, "acme").await;
        let (journey, other) = (JourneyId::new(), JourneyId::new());
        let line = |j: JourneyId, run: &str, version: i64, node: &str, outcome: &str, detail: &str| PathRecord {
            run_id: run.into(),
            journey_id: j,
            version,
            node: node.into(),
            outcome: outcome.into(),
            detail: detail.into(),
            at: 1,
        };
        // Two commits' worth of lines, the second adding to the first's counters.
        tx.append_path(
            ws,
            &[
                line(journey, "r1", 1, "start", "entered", ""),
                line(journey, "r1", 1, "start", "passed", "mail"),
                line(journey, "r2", 1, "start", "entered", ""),
                line(journey, "r2", 1, "start", "passed", "mail"),
                line(journey, "r2", 1, "mail", "failed", "SMTP 550 for r2"),
                line(other, "r9", 1, "start", "passed", "mail"),
            ],
        )
        .await
        .unwrap();
        tx.append_path(
            ws,
            &[
                line(journey, "r3", 2, "start", "passed", "wait"),
                line(journey, "r1", 1, "mail", "failed", "SMTP 550 for r1"),
                line(journey, "r1", 1, "mail", "left", "goal"),
            ],
        )
        .await
        .unwrap();
        let counts = tx.journey_node_counts(ws, journey).await.unwrap();
        let of = |node: &str, outcome: &str| {
            counts.iter().find(|c| c.node == node).and_then(|c| c.outcomes.get(outcome).copied()).unwrap_or(0)
        };
        assert_eq!((of("start", "entered"), of("start", "passed")), (2, 3), "{b:?}: {counts:?}");
        assert_eq!(
            (of("mail", "failed"), of("mail", "left")),
            (2, 1),
            "{b:?}: failures count together whatever their text"
        );
        let mut v1 = tx.journey_exit_lines(ws, journey, 1).await.unwrap();
        v1.sort();
        assert_eq!(
            v1,
            [("mail".into(), "left".into(), "goal".into(), 1), ("start".into(), "passed".into(), "mail".into(), 2)],
            "{b:?}: version 1's edges only, another journey's apart"
        );
        let v2 = tx.journey_exit_lines(ws, journey, 2).await.unwrap();
        assert_eq!(v2, [("start".to_string(), "passed".to_string(), "wait".to_string(), 1)], "{b:?}");
        // Erasing a person's run and lines leaves the journey's counts as they were.
        let person = ContactId::new();
        let run = kairos_store::RunRecord {
            workspace_id: ws,
            id: "r1".into(),
            journey_id: journey,
            version: 1,
            contact_id: person,
            node: "mail".into(),
            status: "completed".into(),
            visit: 1,
            due_at: None,
            error: None,
            entered_at: 1,
            updated_at: 1,
            trigger_seq: None,
        };
        tx.save_runs(&[run]).await.unwrap();
        let before: Vec<_> =
            tx.journey_node_counts(ws, journey).await.unwrap().into_iter().map(|c| c.outcomes).collect();
        assert!(tx.erase_journey_rows(ws, person).await.unwrap() >= 4, "{b:?}: the run and its three lines");
        assert!(tx.path_of_run(ws, "r1").await.unwrap().is_empty(), "{b:?}");
        let after: Vec<_> =
            tx.journey_node_counts(ws, journey).await.unwrap().into_iter().map(|c| c.outcomes).collect();
        assert_eq!(after, before, "{b:?}");
        tx.commit().await.unwrap();
    }
}
