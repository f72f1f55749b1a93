//! The Segment HTTP Tracking API wire format, parsed and validated.
//!
//! This is the contract with every analytics SDK pointed at Kairos, so it
//! follows Segment's spec (and RudderStack's variant of it): `track`,
//! `identify`, `page`, `screen`, `group`, `alias` and `batch`; `userId` or
//! `anonymousId`; `messageId` for de-duplication; clock-skew correction
//! (`timestamp = receivedAt + (timestamp − sentAt)`); `context`, `traits`,
//! `properties`; the write key in the body as `writeKey`. Every error names
//! the JSON path of the offending value, e.g. `batch[3].userId`.

use crate::event::EventKind;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use thiserror::Error;

/// Largest accepted message, in bytes of JSON.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
/// Largest accepted batch request, in bytes of JSON (after decompression).
pub const MAX_BATCH_BYTES: usize = 500 * 1024;
/// Longest accepted id or event name.
pub const MAX_ID_LEN: usize = 255;
/// How far after its arrival an event's (corrected) timestamp may lie.
pub fn max_future() -> Duration {
    Duration::hours(1)
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TrackingError {
    #[error("the body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("{path}: must be a JSON object")]
    NotAnObject { path: String },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error("{path}: the message is {size} bytes; at most {limit} bytes are accepted")]
    TooLarge { path: String, size: usize, limit: usize },
    #[error("the batch is empty")]
    EmptyBatch,
}

impl TrackingError {
    fn invalid(path: &str, reason: impl Into<String>) -> Self {
        TrackingError::Invalid { path: path.to_string(), reason: reason.into() }
    }
}

/// One validated tracking message.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackingMessage {
    pub kind: EventKind,
    /// The sender's `messageId`, or a generated one if it sent none.
    pub message_id: String,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// `event` for track, `name` for page/screen.
    pub name: Option<String>,
    pub previous_id: Option<String>,
    pub group_id: Option<String>,
    /// `properties` (track/page/screen) or `traits` (identify/group).
    pub properties: Map<String, Value>,
    pub context: Map<String, Value>,
    /// Clock-skew corrected time of the event.
    pub timestamp: DateTime<Utc>,
}

impl TrackingMessage {
    /// Identify/group traits, or for other kinds `context.traits` (which
    /// Segment SDKs use to carry the current user's traits).
    pub fn traits(&self) -> Option<&Map<String, Value>> {
        match self.kind {
            EventKind::Identify | EventKind::Group => Some(&self.properties),
            _ => self.context.get("traits").and_then(Value::as_object),
        }
    }
}

/// A parsed request: messages plus the write key found in the body, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackingRequest {
    pub write_key: Option<String>,
    pub messages: Vec<TrackingMessage>,
}

/// Request-level facts the parser needs.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub received_at: DateTime<Utc>,
    /// The client address, used for `context.ip` when the sender gave none.
    pub client_ip: Option<String>,
}

fn parse_time(path: &str, v: &Value) -> Result<DateTime<Utc>, TrackingError> {
    let bad =
        || TrackingError::invalid(path, format!("{v} is not an ISO 8601 timestamp like \"2024-05-01T12:00:00Z\""));
    let Value::String(s) = v else { return Err(bad()) };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(t.and_utc());
        }
    }
    Err(bad())
}

fn opt_time(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<DateTime<Utc>>, TrackingError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => parse_time(&format!("{path}.{key}"), v).map(Some),
    }
}

/// An id field: strings as they are, numbers as their decimal text; empty
/// means absent.
fn opt_id(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, TrackingError> {
    let s = match obj.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(TrackingError::invalid(&format!("{path}.{key}"), "must be a string")),
    };
    if s.len() > MAX_ID_LEN {
        return Err(TrackingError::invalid(
            &format!("{path}.{key}"),
            format!("is {} characters long; at most {MAX_ID_LEN} are accepted", s.len()),
        ));
    }
    Ok((!s.is_empty()).then_some(s))
}

fn opt_object(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Map<String, Value>, TrackingError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(TrackingError::NotAnObject { path: format!("{path}.{key}") }),
    }
}

/// Batch-level defaults that apply to each message.
#[derive(Default)]
struct Defaults {
    sent_at: Option<DateTime<Utc>>,
    context: Map<String, Value>,
}

fn parse_message(
    kind: EventKind,
    obj: &Map<String, Value>,
    path: &str,
    defaults: &Defaults,
    arrival: &Arrival,
) -> Result<TrackingMessage, TrackingError> {
    let user_id = opt_id(obj, "userId", path)?;
    let anonymous_id = opt_id(obj, "anonymousId", path)?;
    let previous_id = opt_id(obj, "previousId", path)?;
    let group_id = opt_id(obj, "groupId", path)?;
    let message_id = match opt_id(obj, "messageId", path)? {
        Some(id) => id,
        None => uuid::Uuid::now_v7().to_string(),
    };
    match kind {
        EventKind::Alias => {
            if user_id.is_none() {
                return Err(TrackingError::invalid(&format!("{path}.userId"), "alias needs the userId to alias to"));
            }
            if previous_id.is_none() {
                return Err(TrackingError::invalid(
                    &format!("{path}.previousId"),
                    "alias needs the previousId being aliased",
                ));
            }
        }
        _ => {
            if user_id.is_none() && anonymous_id.is_none() {
                return Err(TrackingError::invalid(path, "needs a userId or an anonymousId"));
            }
        }
    }
    if kind == EventKind::Group && group_id.is_none() {
        return Err(TrackingError::invalid(&format!("{path}.groupId"), "group needs a groupId"));
    }
    let name = match kind {
        EventKind::Track => {
            let n = match obj.get("event") {
                Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
                Some(Value::String(_)) | None | Some(Value::Null) => {
                    return Err(TrackingError::invalid(&format!("{path}.event"), "track needs the event name"))
                }
                Some(_) => return Err(TrackingError::invalid(&format!("{path}.event"), "must be a string")),
            };
            if n.len() > MAX_ID_LEN {
                return Err(TrackingError::invalid(
                    &format!("{path}.event"),
                    format!("is longer than {MAX_ID_LEN} characters"),
                ));
            }
            Some(n)
        }
        EventKind::Page | EventKind::Screen => match obj.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().chars().take(MAX_ID_LEN).collect()),
            None | Some(Value::Null) | Some(Value::String(_)) => None,
            Some(_) => return Err(TrackingError::invalid(&format!("{path}.name"), "must be a string")),
        },
        _ => None,
    };
    let mut properties = match kind {
        EventKind::Identify | EventKind::Group => opt_object(obj, "traits", path)?,
        _ => opt_object(obj, "properties", path)?,
    };
    if matches!(kind, EventKind::Page | EventKind::Screen) {
        if let Some(Value::String(c)) = obj.get("category") {
            properties.entry("category").or_insert_with(|| Value::String(c.clone()));
        }
    }
    let mut context = defaults.context.clone();
    for (k, v) in opt_object(obj, "context", path)? {
        context.insert(k, v);
    }
    // RudderStack SDKs send identify traits only in `context.traits`;
    // top-level traits win where both name a trait.
    if kind == EventKind::Identify {
        if let Some(Value::Object(ctx_traits)) = context.get("traits") {
            for (k, v) in ctx_traits {
                properties.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    if let Some(ip) = &arrival.client_ip {
        context.entry("ip").or_insert_with(|| Value::String(ip.clone()));
    }
    let sent_at = opt_time(obj, "sentAt", path)?.or(defaults.sent_at);
    let original = match opt_time(obj, "timestamp", path)? {
        Some(t) => Some(t),
        None => opt_time(obj, "originalTimestamp", path)?,
    };
    let timestamp = match (original, sent_at) {
        (Some(t), Some(sent)) => arrival.received_at + (t - sent),
        (Some(t), None) => t,
        (None, _) => arrival.received_at,
    };
    if timestamp > arrival.received_at + max_future() {
        let ahead = timestamp - arrival.received_at;
        return Err(TrackingError::invalid(
            &format!("{path}.timestamp"),
            format!(
                "lies {} minutes in the future (after clock-skew correction); at most {} minutes ahead is accepted",
                ahead.num_minutes(),
                max_future().num_minutes()
            ),
        ));
    }
    Ok(TrackingMessage {
        kind,
        message_id,
        user_id,
        anonymous_id,
        name,
        previous_id,
        group_id,
        properties,
        context,
        timestamp,
    })
}

fn write_key(obj: &Map<String, Value>, path: &str) -> Result<Option<String>, TrackingError> {
    opt_id(obj, "writeKey", path)
}

/// Parse the body of `/v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`,
/// `/v1/group` or `/v1/alias`.
pub fn parse_single(kind: EventKind, body: &[u8], arrival: &Arrival) -> Result<TrackingRequest, TrackingError> {
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(TrackingError::TooLarge { path: "$".into(), size: body.len(), limit: MAX_MESSAGE_BYTES });
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| TrackingError::InvalidJson(e.to_string()))?;
    let Value::Object(obj) = v else {
        return Err(TrackingError::NotAnObject { path: "$".into() });
    };
    let msg = parse_message(kind, &obj, "$", &Defaults::default(), arrival)?;
    Ok(TrackingRequest { write_key: write_key(&obj, "$")?, messages: vec![msg] })
}

#[derive(Deserialize)]
struct BatchEnvelope<'a> {
    #[serde(borrow)]
    batch: Option<Vec<&'a RawValue>>,
    #[serde(rename = "sentAt")]
    sent_at: Option<Value>,
    context: Option<Value>,
    #[serde(rename = "writeKey")]
    write_key: Option<Value>,
}

/// Parse the body of `/v1/batch` (also used by `/v1/import`).
pub fn parse_batch(body: &[u8], arrival: &Arrival) -> Result<TrackingRequest, TrackingError> {
    if body.len() > MAX_BATCH_BYTES {
        return Err(TrackingError::TooLarge { path: "$".into(), size: body.len(), limit: MAX_BATCH_BYTES });
    }
    let env: BatchEnvelope = serde_json::from_slice(body).map_err(|e| TrackingError::InvalidJson(e.to_string()))?;
    let Some(batch) = env.batch else {
        return Err(TrackingError::invalid("$.batch", "is missing: send {\"batch\": [ ...messages ]}"));
    };
    if batch.is_empty() {
        return Err(TrackingError::EmptyBatch);
    }
    let mut top = Map::new();
    if let Some(v) = &env.sent_at {
        top.insert("sentAt".into(), v.clone());
    }
    if let Some(v) = &env.context {
        top.insert("context".into(), v.clone());
    }
    if let Some(v) = &env.write_key {
        top.insert("writeKey".into(), v.clone());
    }
    let defaults = Defaults { sent_at: opt_time(&top, "sentAt", "$")?, context: opt_object(&top, "context", "$")? };
    let mut messages = Vec::with_capacity(batch.len());
    for (i, raw) in batch.iter().enumerate() {
        let path = format!("batch[{i}]");
        let text = raw.get();
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(TrackingError::TooLarge { path, size: text.len(), limit: MAX_MESSAGE_BYTES });
        }
        let v: Value = serde_json::from_str(text).map_err(|e| TrackingError::InvalidJson(e.to_string()))?;
        let Value::Object(obj) = v else {
            return Err(TrackingError::NotAnObject { path });
        };
        let kind = match obj.get("type") {
            Some(Value::String(t)) => EventKind::parse(t).ok_or_else(|| {
                TrackingError::invalid(
                    &format!("{path}.type"),
                    format!("{t:?} is not one of track, identify, page, screen, group, alias"),
                )
            })?,
            _ => {
                return Err(TrackingError::invalid(
                    &format!("{path}.type"),
                    "is missing: each batch message needs a type (track, identify, page, screen, group, alias)",
                ))
            }
        };
        messages.push(parse_message(kind, &obj, &path, &defaults, arrival)?);
    }
    Ok(TrackingRequest { write_key: write_key(&top, "$")?, messages })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn arrival() -> Arrival {
        Arrival {
            received_at: DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z").unwrap().with_timezone(&Utc),
            client_ip: Some("203.0.113.9".into()),
        }
    }

    #[test]
    fn track_with_clock_skew_correction() {
        let body = json!({
            "userId": "u1", "event": "Order Completed", "properties": {"total": 42},
            "timestamp": "2024-05-01T13:00:00Z", "sentAt": "2024-05-01T13:00:05Z",
            "messageId": "m1", "writeKey": "kw_x"
        });
        let r = parse_single(EventKind::Track, body.to_string().as_bytes(), &arrival()).unwrap();
        let m = &r.messages[0];
        assert_eq!(r.write_key.as_deref(), Some("kw_x"));
        assert_eq!(m.name.as_deref(), Some("Order Completed"));
        assert_eq!(m.timestamp.to_rfc3339(), "2024-05-01T11:59:55+00:00");
        assert_eq!(m.properties["total"], json!(42));
        assert_eq!(m.context["ip"], json!("203.0.113.9"));
    }

    #[test]
    fn batch_applies_top_level_context_and_names_paths() {
        let body = json!({
            "batch": [
                {"type": "identify", "userId": 7, "traits": {"email": "a@example.com"}},
                {"type": "page", "anonymousId": "a1", "name": "Home", "category": "Docs"}
            ],
            "context": {"library": {"name": "x"}}
        });
        let r = parse_batch(body.to_string().as_bytes(), &arrival()).unwrap();
        assert_eq!(r.messages.len(), 2);
        assert_eq!(r.messages[0].user_id.as_deref(), Some("7"));
        assert_eq!(r.messages[1].context["library"]["name"], json!("x"));
        assert_eq!(r.messages[1].properties["category"], json!("Docs"));

        let bad = json!({"batch": [{"type": "track", "userId": "u", "event": "A"}, {"type": "track", "event": "B"}]});
        let e = parse_batch(bad.to_string().as_bytes(), &arrival()).unwrap_err();
        assert_eq!(e.to_string(), "batch[1]: needs a userId or an anonymousId");
        let bad = json!({"batch": [{"type": "explode", "userId": "u"}]});
        assert!(parse_batch(bad.to_string().as_bytes(), &arrival()).unwrap_err().to_string().contains("batch[0].type"));
    }

    #[test]
    fn identify_traits_may_come_in_context() {
        let body = json!({"userId": "u", "traits": {"plan": "pro"}, "context": {"traits": {"email": "a@example.com", "plan": "free"}}});
        let r = parse_single(EventKind::Identify, body.to_string().as_bytes(), &arrival()).unwrap();
        assert_eq!(
            r.messages[0].properties,
            json!({"plan": "pro", "email": "a@example.com"}).as_object().unwrap().clone()
        );
    }

    #[test]
    fn refusals_are_specific() {
        let a = arrival();
        let cases = [
            (json!({"userId": "u"}), "$.event: track needs the event name"),
            (json!({"userId": {"a": 1}, "event": "x"}), "$.userId: must be a string"),
            (json!({"userId": "u", "event": "x", "properties": [1]}), "$.properties: must be a JSON object"),
            (
                json!({"userId": "u", "event": "x", "timestamp": "yesterday"}),
                "$.timestamp: \"yesterday\" is not an ISO 8601 timestamp",
            ),
            (json!({"userId": "u", "event": "x", "timestamp": "2031-01-01T00:00:00Z"}), "$.timestamp: lies"),
        ];
        for (body, want) in cases {
            let e = parse_single(EventKind::Track, body.to_string().as_bytes(), &a).unwrap_err();
            assert!(e.to_string().starts_with(want), "{e} !~ {want}");
        }
        let e = parse_single(EventKind::Alias, br#"{"userId":"u"}"#, &a).unwrap_err();
        assert!(e.to_string().contains("previousId"));
        assert!(matches!(parse_single(EventKind::Track, b"{nope", &a), Err(TrackingError::InvalidJson(_))));
        assert_eq!(parse_batch(br#"{"batch":[]}"#, &a), Err(TrackingError::EmptyBatch));
        let big = json!({"userId": "u", "event": "x", "properties": {"p": "x".repeat(40_000)}});
        assert!(matches!(
            parse_single(EventKind::Track, big.to_string().as_bytes(), &a),
            Err(TrackingError::TooLarge { .. })
        ));
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-zA-Z0-9 :T\\-\\.]{0,30}".prop_map(Value::String),
            prop_oneof![Just("2024-05-01T12:00:00Z"), Just("track"), Just("identify"), Just("alias")]
                .prop_map(|s| Value::String(s.into())),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("type".to_string()),
                        Just("userId".to_string()),
                        Just("anonymousId".to_string()),
                        Just("event".to_string()),
                        Just("timestamp".to_string()),
                        Just("sentAt".to_string()),
                        Just("properties".to_string()),
                        Just("context".to_string()),
                        Just("batch".to_string()),
                        Just("previousId".to_string()),
                        Just("groupId".to_string()),
                        "[a-z]{1,6}",
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        // The parser is total: any bytes give a value or an error, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_batch(&bytes, &arrival());
            let _ = parse_single(EventKind::Track, &bytes, &arrival());
        }

        // Structured near-valid payloads: accepted messages always satisfy the
        // invariants; rejected ones always say where.
        #[test]
        fn structured_payloads_keep_invariants(v in arb_json(), kind_i in 0usize..6) {
            let kinds = [EventKind::Track, EventKind::Identify, EventKind::Page, EventKind::Screen, EventKind::Group, EventKind::Alias];
            let body = v.to_string();
            for result in [parse_batch(body.as_bytes(), &arrival()), parse_single(kinds[kind_i], body.as_bytes(), &arrival())] {
                match result {
                    Ok(req) => {
                        prop_assert!(!req.messages.is_empty());
                        for m in &req.messages {
                            prop_assert!(m.user_id.is_some() || m.anonymous_id.is_some());
                            prop_assert!(!m.message_id.is_empty());
                            prop_assert!(m.timestamp <= arrival().received_at + max_future());
                            if m.kind == EventKind::Track { prop_assert!(m.name.as_deref().is_some_and(|n| !n.is_empty())); }
                            if m.kind == EventKind::Alias { prop_assert!(m.previous_id.is_some() && m.user_id.is_some()); }
                        }
                    }
                    Err(e) => prop_assert!(!e.to_string().is_empty()),
                }
            }
        }
    }
}
