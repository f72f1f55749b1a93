//! Identity resolution and profile updates through the engine, on both
//! store backends.

use chrono::Utc;
use kairos_core::clock::SystemClock;
use kairos_core::contact::ContactPatch;
use kairos_core::ids::WorkspaceId;
use kairos_core::tracking::{parse_batch, Arrival, TrackingMessage};
use kairos_engine::Engine;
use kairos_store::{testing, ContactFilter};
use serde_json::{json, Value};
use std::sync::Arc;

fn msgs(batch: Value) -> Vec<TrackingMessage> {
    let arrival = Arrival { received_at: Utc::now(), client_ip: None };
    parse_batch(json!({ "batch": batch }).to_string().as_bytes(), &arrival).unwrap().messages
}

async fn setup(store: &kairos_store::Store) -> (Engine, WorkspaceId) {
    let mut tx = store.begin_write().await.unwrap();
    let ws = tx.create_workspace("acme", Utc::now()).await.unwrap().id;
    tx.commit().await.unwrap();
    (Engine::start(store.clone(), Arc::new(SystemClock)), ws)
}

async fn all_contacts(engine: &Engine, ws: WorkspaceId) -> Vec<kairos_core::contact::Contact> {
    let mut tx = engine.store().begin().await.unwrap();
    tx.search_contacts(ws, &ContactFilter::default(), 1000).await.unwrap().contacts
}

#[tokio::test]
async fn anonymous_visitor_becomes_known_and_history_follows() {
    for ts in testing::all().await {
        let b = ts.backend();
        let (engine, ws) = setup(&ts.store).await;
        let r = engine
            .ingest(
                ws,
                msgs(json!([
                    {"type": "page", "anonymousId": "anon-1", "name": "Pricing", "messageId": "p1"},
                    {"type": "track", "anonymousId": "anon-1", "event": "Signup Started", "messageId": "t1"},
                ])),
            )
            .await
            .unwrap();
        assert_eq!(r.accepted, 2);
        assert_eq!(all_contacts(&engine, ws).await.len(), 1, "{b:?}");
        // Identify ties the anonymous id to the user: same contact, now known.
        engine
            .ingest(ws, msgs(json!([{"type": "identify", "anonymousId": "anon-1", "userId": "u-42", "messageId": "i1",
                "traits": {"email": "Ada@Example.COM", "name": "Ada Lovelace", "plan": "pro", "seats": 12,
                           "address": {"country": "gb"}, "phone": "020 7946 0958", "company": {"id": "co-1", "name": "Analytical Engines"}},
                "context": {"locale": "en-GB", "timezone": "Europe/London"}}])))
            .await
            .unwrap();
        let contacts = all_contacts(&engine, ws).await;
        assert_eq!(contacts.len(), 1, "{b:?}: identify must not create a second contact");
        let c = &contacts[0];
        assert_eq!(c.external_id.as_deref(), Some("u-42"));
        assert_eq!(c.email.as_deref(), Some("ada@example.com"));
        assert_eq!((c.first_name.as_deref(), c.last_name.as_deref()), (Some("Ada"), Some("Lovelace")));
        assert_eq!(c.country.as_deref(), Some("GB"));
        assert_eq!(c.phone.as_deref(), Some("+442079460958"));
        assert_eq!(c.locale.as_deref(), Some("en-GB"));
        assert_eq!(c.timezone.as_deref(), Some("Europe/London"));
        assert_eq!(c.custom["plan"], json!("pro"));
        assert_eq!(c.custom["seats"], json!(12));
        assert_eq!(c.company_ids.len(), 1);
        let mut tx = engine.store().begin().await.unwrap();
        assert_eq!(tx.contact_events(ws, c.id, None, 10).await.unwrap().len(), 3);
        assert_eq!(tx.company(ws, c.company_ids[0]).await.unwrap().unwrap().name, "Analytical Engines");
        let fields = tx.list_fields(ws).await.unwrap();
        assert!(fields.iter().any(|f| f.name == "seats" && f.field_type == kairos_core::fields::FieldType::Number));
    }
}

#[tokio::test]
async fn known_user_on_a_second_device_merges_the_anonymous_profile() {
    for ts in testing::all().await {
        let b = ts.backend();
        let (engine, ws) = setup(&ts.store).await;
        engine.ingest(ws, msgs(json!([
            {"type": "identify", "userId": "u1", "traits": {"email": "u1@example.com", "firstName": "Old"}, "messageId": "a",
             "timestamp": "2024-01-01T00:00:00Z"},
            {"type": "track", "anonymousId": "phone-1", "event": "App Opened", "messageId": "b"},
            {"type": "identify", "anonymousId": "phone-1", "traits": {"lastName": "Hopper", "tags": ["x"]}, "messageId": "c"},
        ]))).await.unwrap();
        assert_eq!(all_contacts(&engine, ws).await.len(), 2, "{b:?}");
        // Same user logs in on the phone: the anonymous phone profile merges in.
        engine.ingest(ws, msgs(json!([{"type": "track", "userId": "u1", "anonymousId": "phone-1", "event": "Logged In", "messageId": "d"}]))).await.unwrap();
        let contacts = all_contacts(&engine, ws).await;
        assert_eq!(contacts.len(), 1, "{b:?}: merged");
        let c = &contacts[0];
        assert_eq!(c.external_id.as_deref(), Some("u1"));
        assert_eq!(c.last_name.as_deref(), Some("Hopper"), "{b:?}: fields of the anonymous profile survive");
        assert_eq!(c.first_name.as_deref(), Some("Old"));
        assert_eq!(c.custom["tags"], json!(["x"]));
        let mut tx = engine.store().begin().await.unwrap();
        assert_eq!(tx.contact_events(ws, c.id, None, 10).await.unwrap().len(), 4);
        let merges = tx.merges_of(ws, c.id).await.unwrap();
        assert_eq!(merges.len(), 1);
        assert!(merges[0].reason.contains("identified"));
        // Later anonymous events from the phone land on the known contact.
        drop(tx);
        engine
            .ingest(ws, msgs(json!([{"type": "track", "anonymousId": "phone-1", "event": "Viewed", "messageId": "e"}])))
            .await
            .unwrap();
        assert_eq!(all_contacts(&engine, ws).await.len(), 1);
    }
}

#[tokio::test]
async fn alias_merges_and_duplicates_are_ignored() {
    for ts in testing::all().await {
        let b = ts.backend();
        let (engine, ws) = setup(&ts.store).await;
        engine
            .ingest(
                ws,
                msgs(json!([
                    {"type": "track", "userId": "old-id", "event": "A", "messageId": "1"},
                    {"type": "track", "userId": "new-id", "event": "B", "messageId": "2"},
                ])),
            )
            .await
            .unwrap();
        assert_eq!(all_contacts(&engine, ws).await.len(), 2);
        let r = engine
            .ingest(
                ws,
                msgs(json!([
                    {"type": "alias", "previousId": "old-id", "userId": "new-id", "messageId": "3"},
                    {"type": "alias", "previousId": "old-id", "userId": "new-id", "messageId": "3"},
                ])),
            )
            .await
            .unwrap();
        assert_eq!((r.accepted, r.duplicates), (1, 1), "{b:?}");
        let contacts = all_contacts(&engine, ws).await;
        assert_eq!(contacts.len(), 1, "{b:?}");
        assert_eq!(contacts[0].external_id.as_deref(), Some("new-id"));
        // The old id still finds the same person.
        engine
            .ingest(ws, msgs(json!([{"type": "track", "userId": "old-id", "event": "C", "messageId": "4"}])))
            .await
            .unwrap();
        assert_eq!(all_contacts(&engine, ws).await.len(), 1);
        // A retried batch is idempotent.
        let r = engine
            .ingest(ws, msgs(json!([{"type": "track", "userId": "old-id", "event": "C", "messageId": "4"}])))
            .await
            .unwrap();
        assert_eq!((r.accepted, r.duplicates), (0, 1));
        let mut tx = engine.store().begin().await.unwrap();
        assert_eq!(tx.count_events(ws).await.unwrap(), 4);
    }
}

#[tokio::test]
async fn bad_traits_warn_but_keep_the_event_and_the_rest() {
    for ts in testing::all().await {
        let b = ts.backend();
        let (engine, ws) = setup(&ts.store).await;
        engine
            .ingest(ws, msgs(json!([{"type": "identify", "userId": "x", "traits": {"age": 30}, "messageId": "a"}])))
            .await
            .unwrap();
        let r = engine
            .ingest(
                ws,
                msgs(json!([{"type": "identify", "userId": "u", "messageId": "b",
                "traits": {"email": "not-an-email", "age": "thirty", "firstName": "Kept", "nested": {"a": 1}}}])),
            )
            .await
            .unwrap();
        assert_eq!(r.accepted, 1, "{b:?}");
        assert_eq!(r.warnings.len(), 3, "{b:?}: {:?}", r.warnings);
        assert!(r.warnings.iter().any(|w| w.contains("not-an-email")));
        assert!(r.warnings.iter().any(|w| w.contains("\"age\" is a number field")));
        let mut tx = engine.store().begin().await.unwrap();
        let c = tx.contact_by_external_id(ws, "u").await.unwrap().unwrap();
        assert_eq!(c.first_name.as_deref(), Some("Kept"));
        assert_eq!(c.email, None);
        // Email already owned by another known contact: warned, not stolen.
        drop(tx);
        engine.ingest(ws, msgs(json!([{"type": "identify", "userId": "x", "traits": {"email": "x@example.com"}, "messageId": "c"}]))).await.unwrap();
        let r = engine.ingest(ws, msgs(json!([{"type": "identify", "userId": "u", "traits": {"email": "x@example.com"}, "messageId": "d"}]))).await.unwrap();
        assert!(r.warnings[0].contains("already belongs"), "{:?}", r.warnings);
    }
}

#[tokio::test]
async fn api_contacts_and_tracking_share_one_identity() {
    for ts in testing::all().await {
        let b = ts.backend();
        let (engine, ws) = setup(&ts.store).await;
        let patch =
            ContactPatch::from_json(json!({"email": "lead@example.com", "first_name": "Lead"}).as_object().unwrap())
                .unwrap();
        let created = engine.create_contact(ws, &patch).await.unwrap();
        // The web visitor identifies with that email: the API-created lead is found by email.
        engine.ingest(ws, msgs(json!([{"type": "identify", "userId": "crm-7", "traits": {"email": "LEAD@example.com"}, "messageId": "a"}]))).await.unwrap();
        let contacts = all_contacts(&engine, ws).await;
        assert_eq!(contacts.len(), 1, "{b:?}");
        assert_eq!(contacts[0].id, created.id);
        assert_eq!(contacts[0].external_id.as_deref(), Some("crm-7"));
        // Deleting through the engine forgets cached identities.
        assert!(engine.delete_contact(ws, created.id).await.unwrap());
        engine
            .ingest(ws, msgs(json!([{"type": "track", "userId": "crm-7", "event": "Back", "messageId": "b"}])))
            .await
            .unwrap();
        let contacts = all_contacts(&engine, ws).await;
        assert_eq!(contacts.len(), 1);
        assert_ne!(contacts[0].id, created.id, "{b:?}: a fresh contact, not the deleted one");
    }
}
