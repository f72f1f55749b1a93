//! Broadcast campaigns as rules, apart from any sending: the definition a
//! marketer gives (audience, template or A/B variants, schedule, local send
//! time, throttle, conversion goal) checked with the path of each problem;
//! when each recipient is due (at a local time in their own zone, if asked);
//! which variant a recipient gets (deterministic per contact: a sample split
//! evenly across the variants, the rest waiting for the winner); and the
//! winner once the sample has had time to respond.

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Audience {
    Segment(String),
    List(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Opens,
    Clicks,
}

/// How an A/B/n test spends its audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AbMode {
    /// A sample split evenly; after the wait, the rest get the winner.
    Sample,
    /// Every recipient's variant is drawn at send time by Thompson sampling
    /// over the results so far, so traffic shifts to the better variant as
    /// the (throttled) send goes on; once one is best at the stated
    /// probability, the rest get it.
    Adaptive,
}

/// An A/B/n test of message variants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbTest {
    /// Template ids or names, two or more.
    pub variants: Vec<String>,
    pub mode: AbMode,
    /// Share of the audience in the test, 1–90.
    pub sample_percent: u8,
    /// How long the sample has to respond before the winner is chosen.
    pub wait_minutes: u32,
    pub metric: Metric,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversion {
    pub event: String,
    pub days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignDefinition {
    pub audience: Audience,
    /// The template when there is no A/B test.
    pub template: Option<String>,
    pub ab: Option<AbTest>,
    pub sender: Option<String>,
    /// When to start (ms); `None`: as soon as it is launched.
    pub send_at: Option<i64>,
    /// Send at this local time (hour, minute) in each recipient's zone, on
    /// or after `send_at`.
    pub local_time: Option<(u8, u8)>,
    /// Send at each recipient's best local hour (learned from when they open
    /// and click, the population's pattern when their data is thin), within
    /// a day of `send_at`. Exclusive with `local_time`.
    pub optimise_send_time: bool,
    /// Messages per minute at most.
    pub per_minute: Option<u32>,
    pub conversion: Option<Conversion>,
}

/// A problem with a definition: where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefinitionError {
    pub path: String,
    pub message: String,
}

fn err(path: &str, message: impl Into<String>) -> DefinitionError {
    DefinitionError { path: path.into(), message: message.into() }
}

fn string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, DefinitionError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 200 => Ok(Some(s.trim().to_string())),
        Some(_) => Err(err(key, "must be a non-empty string of at most 200 characters")),
    }
}

fn uint(obj: &Map<String, Value>, key: &str, min: u64, max: u64) -> Result<Option<u64>, DefinitionError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(err(key, format!("must be a whole number from {min} to {max}"))),
        },
    }
}

impl CampaignDefinition {
    /// Parse and check a definition from its JSON form.
    pub fn parse(v: &Value) -> Result<CampaignDefinition, DefinitionError> {
        const KEYS: &[&str] =
            &["audience", "template", "ab", "sender", "send_at", "local_time", "send_time", "per_minute", "conversion"];
        let obj = v.as_object().ok_or_else(|| err("definition", "must be a JSON object"))?;
        if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(err(k, format!("unknown key; expected {}", KEYS.join(", "))));
        }
        let audience = match obj.get("audience") {
            Some(Value::Object(a)) => match (string(a, "segment"), string(a, "list")) {
                (Ok(Some(s)), Ok(None)) => Audience::Segment(s),
                (Ok(None), Ok(Some(l))) => Audience::List(l),
                _ => return Err(err("audience", "must be {\"segment\": ID} or {\"list\": ID}")),
            },
            _ => return Err(err("audience", "is required: {\"segment\": ID} or {\"list\": ID}")),
        };
        let template = string(obj, "template")?;
        let ab = match obj.get("ab") {
            None | Some(Value::Null) => None,
            Some(Value::Object(a)) => {
                let variants: Vec<String> = match a.get("variants") {
                    Some(Value::Array(vs)) => vs
                        .iter()
                        .map(|v| {
                            v.as_str()
                                .map(str::to_string)
                                .ok_or_else(|| err("ab.variants", "are template ids or names"))
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err(err("ab.variants", "is required: a list of two or more templates")),
                };
                if !(2..=5).contains(&variants.len()) {
                    return Err(err("ab.variants", "needs 2 to 5 templates"));
                }
                let metric = match a.get("metric").and_then(Value::as_str).unwrap_or("opens") {
                    "opens" => Metric::Opens,
                    "clicks" => Metric::Clicks,
                    other => return Err(err("ab.metric", format!("{other:?} is not \"opens\" or \"clicks\""))),
                };
                let mode = match a.get("mode").and_then(Value::as_str).unwrap_or("sample") {
                    "sample" => AbMode::Sample,
                    "adaptive" => AbMode::Adaptive,
                    other => return Err(err("ab.mode", format!("{other:?} is not \"sample\" or \"adaptive\""))),
                };
                if mode == AbMode::Adaptive {
                    if let Some(k) = ["sample_percent", "wait_minutes"].into_iter().find(|k| a.contains_key(*k)) {
                        return Err(err(
                            &format!("ab.{k}"),
                            "applies to the sample mode; an adaptive test uses everyone",
                        ));
                    }
                }
                Some(AbTest {
                    variants,
                    mode,
                    sample_percent: uint(a, "sample_percent", 1, 90)
                        .map_err(|e| err("ab.sample_percent", e.message))?
                        .unwrap_or(20) as u8,
                    wait_minutes: uint(a, "wait_minutes", 1, 10_080)
                        .map_err(|e| err("ab.wait_minutes", e.message))?
                        .unwrap_or(240) as u32,
                    metric,
                })
            }
            Some(_) => return Err(err("ab", "must be an object with variants, sample_percent, wait_minutes, metric")),
        };
        match (&template, &ab) {
            (None, None) => return Err(err("template", "is required (or an \"ab\" test with variants)")),
            (Some(_), Some(_)) => return Err(err("template", "give either a template or an \"ab\" test, not both")),
            _ => {}
        }
        let send_at = match obj.get("send_at") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(
                s.parse::<jiff::Timestamp>()
                    .map_err(|_| err("send_at", format!("{s:?} is not an RFC 3339 instant like 2026-12-01T09:00:00Z")))?
                    .as_millisecond(),
            ),
            Some(_) => return Err(err("send_at", "must be an RFC 3339 instant like 2026-12-01T09:00:00Z")),
        };
        let local_time = match obj.get("local_time") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let parsed = s
                    .split_once(':')
                    .and_then(|(h, m)| Some((h.parse::<u8>().ok()?, m.parse::<u8>().ok()?)))
                    .filter(|(h, m)| *h < 24 && *m < 60);
                Some(parsed.ok_or_else(|| err("local_time", format!("{s:?} is not a time like \"09:30\"")))?)
            }
            Some(_) => return Err(err("local_time", "must be a time like \"09:30\"")),
        };
        let optimise_send_time = match obj.get("send_time") {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) if s == "optimised" || s == "optimized" => true,
            Some(Value::String(s)) if s == "fixed" => false,
            Some(_) => return Err(err("send_time", "must be \"optimised\" (each recipient's best hour) or \"fixed\"")),
        };
        if optimise_send_time && local_time.is_some() {
            return Err(err("send_time", "an optimised send time picks each recipient's hour; leave out local_time"));
        }
        let per_minute = uint(obj, "per_minute", 1, 1_000_000)?.map(|n| n as u32);
        if ab.as_ref().is_some_and(|a| a.mode == AbMode::Adaptive) && per_minute.is_none() {
            return Err(err(
                "per_minute",
                "an adaptive test learns while it sends: set a throttle such as 100 per minute",
            ));
        }
        let conversion = match obj.get("conversion") {
            None | Some(Value::Null) => None,
            Some(Value::Object(c)) => Some(Conversion {
                event: string(c, "event")
                    .map_err(|e| err("conversion.event", e.message))?
                    .ok_or_else(|| err("conversion.event", "is required"))?,
                days: uint(c, "days", 1, 90).map_err(|e| err("conversion.days", e.message))?.unwrap_or(7) as u32,
            }),
            Some(_) => return Err(err("conversion", "must be {\"event\": NAME, \"days\": N}")),
        };
        Ok(CampaignDefinition {
            audience,
            template,
            ab,
            sender: string(obj, "sender")?,
            send_at,
            local_time,
            optimise_send_time,
            per_minute,
            conversion,
        })
    }

    /// Every template the campaign may send.
    pub fn templates(&self) -> Vec<&str> {
        match (&self.template, &self.ab) {
            (Some(t), _) => vec![t.as_str()],
            (None, Some(ab)) => ab.variants.iter().map(String::as_str).collect(),
            (None, None) => vec![],
        }
    }
}

/// Variant marker of recipients who wait for the A/B winner.
pub const AWAITING_WINNER: &str = "@winner";
/// The variant of a recipient of an adaptive test: drawn when they are sent.
pub const DRAWN_AT_SEND: &str = "@adaptive";

fn bucket(campaign: &str, contact: &str) -> u64 {
    let d =
        Sha256::new().chain_update(campaign.as_bytes()).chain_update([0]).chain_update(contact.as_bytes()).finalize();
    u64::from_be_bytes(d[..8].try_into().unwrap_or([0; 8]))
}

/// The template a recipient gets, or [`AWAITING_WINNER`].
pub fn variant_for(def: &CampaignDefinition, campaign: &str, contact: &str) -> String {
    match (&def.template, &def.ab) {
        (Some(t), _) => t.clone(),
        (None, Some(ab)) if ab.mode == AbMode::Adaptive => DRAWN_AT_SEND.to_string(),
        (None, Some(ab)) => {
            let b = bucket(campaign, contact);
            if b % 100 < ab.sample_percent as u64 {
                ab.variants[((b / 100) % ab.variants.len() as u64) as usize].clone()
            } else {
                AWAITING_WINNER.to_string()
            }
        }
        (None, None) => String::new(),
    }
}

/// When a recipient is due: the start, or the first moment at or after it
/// when the recipient's local clock shows `local_time`.
pub fn due_at(def: &CampaignDefinition, start: i64, tz: Option<&str>, default_tz: Option<&str>) -> i64 {
    match def.local_time {
        Some((h, m)) => next_local(start, tz, default_tz, h, m),
        None => start,
    }
}

/// The first moment at or after `start` when the local clock in `tz` (or
/// `default_tz`, or UTC) shows `h:m`.
pub fn next_local(start: i64, tz: Option<&str>, default_tz: Option<&str>, h: u8, m: u8) -> i64 {
    let zone = tz
        .and_then(|t| jiff::tz::TimeZone::get(t).ok())
        .or_else(|| default_tz.and_then(|t| jiff::tz::TimeZone::get(t).ok()))
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let Ok(ts) = jiff::Timestamp::from_millisecond(start) else { return start };
    let local = ts.to_zoned(zone.clone());
    let mut date = local.date();
    for _ in 0..3 {
        if let Ok(at) = date.at(h as i8, m as i8, 0, 0).to_zoned(zone.clone()) {
            let ms = at.timestamp().as_millisecond();
            if ms >= start {
                return ms;
            }
        }
        match date.tomorrow() {
            Ok(d) => date = d,
            Err(_) => break,
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn definitions_are_checked_with_paths() {
        let ok = CampaignDefinition::parse(&json!({"audience": {"segment": "s1"}, "template": "Welcome",
            "local_time": "09:30", "per_minute": 600, "conversion": {"event": "Order Completed", "days": 3}}))
        .unwrap();
        assert_eq!(ok.local_time, Some((9, 30)));
        for (bad, path) in [
            (json!({"template": "x"}), "audience"),
            (json!({"audience": {"segment": "s"}}), "template"),
            (json!({"audience": {"segment": "s"}, "template": "a", "ab": {"variants": ["a", "b"]}}), "template"),
            (json!({"audience": {"segment": "s"}, "ab": {"variants": ["a"]}}), "ab.variants"),
            (
                json!({"audience": {"segment": "s"}, "ab": {"variants": ["a", "b"], "sample_percent": 95}}),
                "ab.sample_percent",
            ),
            (json!({"audience": {"list": "l"}, "template": "a", "local_time": "25:00"}), "local_time"),
            (json!({"audience": {"list": "l"}, "template": "a", "send_time": "sometimes"}), "send_time"),
            (json!({"audience": {"list": "l"}, "ab": {"variants": ["a", "b"], "mode": "adaptive"}}), "per_minute"),
            (
                json!({"audience": {"list": "l"}, "per_minute": 60,
                    "ab": {"variants": ["a", "b"], "mode": "adaptive", "sample_percent": 10}}),
                "ab.sample_percent",
            ),
            (json!({"audience": {"list": "l"}, "ab": {"variants": ["a", "b"], "mode": "bandit"}}), "ab.mode"),
            (
                json!({"audience": {"list": "l"}, "template": "a", "send_time": "optimised", "local_time": "09:00"}),
                "send_time",
            ),
            (json!({"audience": {"list": "l"}, "template": "a", "send_at": "tomorrow"}), "send_at"),
            (json!({"audience": {"list": "l"}, "template": "a", "colour": "red"}), "colour"),
        ] {
            assert_eq!(CampaignDefinition::parse(&bad).unwrap_err().path, path, "{bad}");
        }
    }

    #[test]
    fn variants_are_deterministic_and_sampled() {
        let def = CampaignDefinition::parse(&json!({"audience": {"segment": "s"},
            "ab": {"variants": ["A", "B"], "sample_percent": 20}}))
        .unwrap();
        let mut counts = std::collections::HashMap::new();
        for i in 0..10_000 {
            let v = variant_for(&def, "c1", &format!("contact-{i}"));
            assert_eq!(v, variant_for(&def, "c1", &format!("contact-{i}")));
            *counts.entry(v).or_insert(0) += 1;
        }
        let (a, b, rest) = (counts["A"], counts["B"], counts[AWAITING_WINNER]);
        assert!((900..1100).contains(&a) && (900..1100).contains(&b), "{counts:?}");
        assert!((7700..8300).contains(&rest), "{counts:?}");
    }

    #[test]
    fn local_send_times() {
        let def =
            CampaignDefinition::parse(&json!({"audience": {"list": "l"}, "template": "t", "local_time": "09:00"}))
                .unwrap();
        // 2026-12-01 12:00 UTC: 09:00 in Berlin (UTC+1) has passed → tomorrow 08:00 UTC;
        // in New York (UTC-5) it is 07:00 → today 14:00 UTC.
        let start = "2026-12-01T12:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond();
        let berlin = due_at(&def, start, Some("Europe/Berlin"), None);
        let ny = due_at(&def, start, Some("America/New_York"), None);
        assert_eq!(jiff::Timestamp::from_millisecond(berlin).unwrap().to_string(), "2026-12-02T08:00:00Z");
        assert_eq!(jiff::Timestamp::from_millisecond(ny).unwrap().to_string(), "2026-12-01T14:00:00Z");
        let now = CampaignDefinition { local_time: None, ..def };
        assert_eq!(due_at(&now, start, Some("Europe/Berlin"), None), start);
    }
}
