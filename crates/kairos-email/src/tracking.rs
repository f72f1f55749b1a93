//! Tracking and unsubscribe links carried by a message, and how they are
//! recognised when they come back. Every token is HMAC-SHA256 signed under a
//! per-workspace key, names the message (and for clicks, the exact target
//! URL), and so cannot be forged, altered into an open redirect, or
//! enumerated. Also here: appending UTM parameters, rewriting a rendered
//! body's links for click tracking, the open pixel, and telling machine
//! opens and clicks (Apple Mail Privacy Protection, link scanners) from a
//! person's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the link is malformed or has been altered")]
pub struct BadToken;

fn mac(key: &[u8; 32], kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    m.update(&[kind]);
    m.update(payload);
    m.finalize().into_bytes()[..16].to_vec()
}

fn seal(key: &[u8; 32], kind: u8, payload: &[u8]) -> String {
    format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(mac(key, kind, payload)))
}

fn open(key: &[u8; 32], kind: u8, token: &str) -> Result<Vec<u8>, BadToken> {
    let (p, s) = token.split_once('.').ok_or(BadToken)?;
    let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| BadToken)?;
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| BadToken)?;
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| BadToken)?;
    m.update(&[kind]);
    m.update(&payload);
    m.verify_truncated_left(&sig).map_err(|_| BadToken)?;
    Ok(payload)
}

const OPEN: u8 = 1;
const CLICK: u8 = 2;
const UNSUBSCRIBE: u8 = 3;

/// The workspace (first 16 bytes) a token claims, to find the key to check
/// it with.
pub fn claimed_workspace(token: &str) -> Result<Uuid, BadToken> {
    let p = token.split_once('.').ok_or(BadToken)?.0;
    let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| BadToken)?;
    Uuid::from_slice(payload.get(..16).ok_or(BadToken)?).map_err(|_| BadToken)
}

fn ids(payload: &[u8]) -> Result<(Uuid, Uuid), BadToken> {
    let ws = Uuid::from_slice(payload.get(..16).ok_or(BadToken)?).map_err(|_| BadToken)?;
    let msg = Uuid::from_slice(payload.get(16..32).ok_or(BadToken)?).map_err(|_| BadToken)?;
    Ok((ws, msg))
}

/// Token of the open pixel for a message.
pub fn open_token(key: &[u8; 32], ws: Uuid, message: Uuid) -> String {
    seal(key, OPEN, &[ws.as_bytes().as_slice(), message.as_bytes()].concat())
}

pub fn check_open(key: &[u8; 32], token: &str) -> Result<(Uuid, Uuid), BadToken> {
    let p = open(key, OPEN, token)?;
    if p.len() != 32 {
        return Err(BadToken);
    }
    ids(&p)
}

/// Token of a tracked link: the message and the exact target.
pub fn click_token(key: &[u8; 32], ws: Uuid, message: Uuid, url: &str) -> String {
    seal(key, CLICK, &[ws.as_bytes().as_slice(), message.as_bytes(), url.as_bytes()].concat())
}

/// The workspace, message and target of a tracked link.
pub fn check_click(key: &[u8; 32], token: &str) -> Result<(Uuid, Uuid, String), BadToken> {
    let p = open(key, CLICK, token)?;
    let (ws, msg) = ids(&p)?;
    let url = String::from_utf8(p[32..].to_vec()).map_err(|_| BadToken)?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(BadToken);
    }
    Ok((ws, msg, url))
}

/// Token of a message's unsubscribe link (one-click and visible).
pub fn unsubscribe_token(key: &[u8; 32], ws: Uuid, message: Uuid, contact: Uuid) -> String {
    seal(key, UNSUBSCRIBE, &[ws.as_bytes().as_slice(), message.as_bytes(), contact.as_bytes()].concat())
}

/// The workspace, message and contact an unsubscribe link was made for.
pub fn check_unsubscribe(key: &[u8; 32], token: &str) -> Result<(Uuid, Uuid, Uuid), BadToken> {
    let p = open(key, UNSUBSCRIBE, token)?;
    if p.len() != 48 {
        return Err(BadToken);
    }
    let (ws, msg) = ids(&p)?;
    let contact = Uuid::from_slice(&p[32..48]).map_err(|_| BadToken)?;
    Ok((ws, msg, contact))
}

/// UTM parameters a campaign appends to its links.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Utm {
    pub source: String,
    pub medium: String,
    pub campaign: String,
}

/// `url` with the UTM parameters added (existing `utm_*` ones are kept).
pub fn with_utm(url: &str, utm: &Utm) -> String {
    if utm.campaign.is_empty() {
        return url.to_string();
    }
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let mut out = base.to_string();
    let mut sep = if base.contains('?') { '&' } else { '?' };
    for (k, v) in [("utm_source", &utm.source), ("utm_medium", &utm.medium), ("utm_campaign", &utm.campaign)] {
        if v.is_empty() || base.contains(&format!("{k}=")) {
            continue;
        }
        out.push(sep);
        out.push_str(k);
        out.push('=');
        out.extend(form_urlencoded::byte_serialize(v.as_bytes()));
        sep = '&';
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn unescape_attr(s: &str) -> String {
    s.replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'")
}

/// Rewrite every `href="http…"` of a rendered HTML body through `wrap`
/// (which gets the target URL, with entities decoded, and returns the
/// tracked URL); `mailto:`, anchors and links marked `data-kairos-notrack`
/// are left alone.
pub fn rewrite_links(html: &str, mut wrap: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    while let Some(i) = find_href(rest) {
        let (before, after) = rest.split_at(i);
        out.push_str(before);
        let quote = after.as_bytes()[5] as char;
        let value_start = 6;
        let Some(len) = after[value_start..].find(quote) else {
            out.push_str(after);
            return out;
        };
        let value = &after[value_start..value_start + len];
        // The tag this attribute belongs to, for the opt-out marker.
        let tag_start = before.rfind('<').unwrap_or(0);
        let tag_end = after.find('>').unwrap_or(after.len());
        let opted_out =
            before[tag_start..].contains("data-kairos-notrack") || after[..tag_end].contains("data-kairos-notrack");
        // Only links a person follows: not stylesheets (`<link href>`).
        let tag = before[tag_start..].get(1..).unwrap_or_default().to_ascii_lowercase();
        let is_link = tag.starts_with("a ") || tag.starts_with("a\n") || tag.starts_with("area ");
        let target = unescape_attr(value);
        let replaced = if is_link && !opted_out && (target.starts_with("http://") || target.starts_with("https://")) {
            wrap(&target)
        } else {
            None
        };
        out.push_str("href=");
        out.push(quote);
        match replaced {
            Some(u) => out.push_str(&u.replace('&', "&amp;").replace('"', "&quot;")),
            None => out.push_str(value),
        }
        out.push(quote);
        rest = &after[value_start + len + 1..];
    }
    out.push_str(rest);
    out
}

fn find_href(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find("href=") {
        let at = from + i;
        let q = s.as_bytes().get(at + 5).copied();
        let boundary = at == 0 || s.as_bytes()[at - 1].is_ascii_whitespace();
        if boundary && matches!(q, Some(b'"') | Some(b'\'')) {
            return Some(at);
        }
        from = at + 5;
    }
    None
}

/// The open pixel's `<img>`, inserted before `</body>` (or at the end).
pub fn add_pixel(html: &str, pixel_url: &str) -> String {
    let img = format!(
        "<img src=\"{pixel_url}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;width:1px;height:1px;border:0\">"
    );
    match html.rfind("</body>") {
        Some(i) => format!("{}{img}{}", &html[..i], &html[i..]),
        None => format!("{html}{img}"),
    }
}

/// Why an open or click is not counted as a person's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Machine {
    /// Apple Mail Privacy Protection fetches every image on delivery.
    ApplePrivacyProtection,
    /// A proxy or scanner that prefetches (Google's image proxy opens are
    /// real, but link scanners and security gateways click everything).
    Scanner,
    /// Happened within seconds of delivery: no person reads that fast.
    TooSoon,
    /// A `HEAD` request or a client that is not a browser.
    NotABrowser,
}

impl Machine {
    pub fn as_str(self) -> &'static str {
        match self {
            Machine::ApplePrivacyProtection => "apple_privacy_protection",
            Machine::Scanner => "scanner",
            Machine::TooSoon => "too_soon",
            Machine::NotABrowser => "not_a_browser",
        }
    }
}

/// Classify an open or a click from what the request shows.
pub fn classify(
    user_agent: Option<&str>,
    method_is_head: bool,
    seconds_after_send: i64,
    is_click: bool,
) -> Option<Machine> {
    let ua = user_agent.unwrap_or("").to_ascii_lowercase();
    if method_is_head {
        return Some(Machine::NotABrowser);
    }
    // Apple's proxy presents a bare "Mozilla/5.0" user agent from Apple's
    // address space; a bare Mozilla/5.0 is the documented signature.
    if !is_click && ua.trim() == "mozilla/5.0" {
        return Some(Machine::ApplePrivacyProtection);
    }
    const SCANNERS: &[&str] = &[
        "barracuda",
        "proofpoint",
        "mimecast",
        "safelinks",
        "microsoft office",
        "bingpreview",
        "slackbot",
        "python-requests",
        "curl/",
        "wget",
        "go-http-client",
        "headlesschrome",
        "bot",
        "spider",
        "crawler",
        "urldefense",
        "symantec",
        "trendmicro",
        "forcepoint",
    ];
    if SCANNERS.iter().any(|s| ua.contains(s)) {
        return Some(Machine::Scanner);
    }
    if ua.is_empty() {
        return Some(Machine::NotABrowser);
    }
    if is_click && seconds_after_send < 3 {
        return Some(Machine::TooSoon);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn tokens_round_trip_and_resist_tampering() {
        let (ws, m, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let t = click_token(&KEY, ws, m, "https://shop.example/p?id=1");
        assert_eq!(check_click(&KEY, &t).unwrap(), (ws, m, "https://shop.example/p?id=1".into()));
        assert_eq!(claimed_workspace(&t).unwrap(), ws);
        // Swap the target for another site, keep the signature.
        let (_, sig) = t.split_once('.').unwrap();
        let evil = [ws.as_bytes().as_slice(), m.as_bytes(), b"https://evil.example/"].concat();
        let forged = format!("{}.{sig}", URL_SAFE_NO_PAD.encode(evil));
        assert_eq!(check_click(&KEY, &forged), Err(BadToken));
        assert_eq!(check_click(&[8; 32], &t), Err(BadToken));
        // A token of one kind is not accepted as another.
        let o = open_token(&KEY, ws, m);
        assert_eq!(check_open(&KEY, &o).unwrap(), (ws, m));
        assert!(check_unsubscribe(&KEY, &o).is_err());
        let u = unsubscribe_token(&KEY, ws, m, c);
        assert_eq!(check_unsubscribe(&KEY, &u).unwrap(), (ws, m, c));
        assert!(check_open(&KEY, &u).is_err());
    }

    #[test]
    fn utm_and_rewrite() {
        let utm = Utm { source: "kairos".into(), medium: "email".into(), campaign: "spring sale".into() };
        assert_eq!(
            with_utm("https://a.example/x#top", &utm),
            "https://a.example/x?utm_source=kairos&utm_medium=email&utm_campaign=spring+sale#top"
        );
        assert_eq!(
            with_utm("https://a.example/x?utm_source=me", &utm),
            "https://a.example/x?utm_source=me&utm_medium=email&utm_campaign=spring+sale"
        );
        let html = r#"<link href="https://fonts.example/css" rel="stylesheet"><a href="https://a.example/?a=1&amp;b=2">x</a> <a href="mailto:x@y">m</a> <a data-kairos-notrack href="https://keep.example/">k</a>"#;
        let mut seen = Vec::new();
        let out = rewrite_links(html, |u| {
            seen.push(u.to_string());
            Some(format!("https://t.example/c?u={}", u.len()))
        });
        assert_eq!(seen, vec!["https://a.example/?a=1&b=2".to_string()]);
        assert!(out.contains(r#"href="https://t.example/c?u=26""#), "{out}");
        assert!(out.contains(r#"href="mailto:x@y""#));
        assert!(out.contains(r#"href="https://keep.example/""#));
        assert!(out.contains(r#"<link href="https://fonts.example/css""#), "stylesheets are not links: {out}");
    }

    #[test]
    fn machine_opens_and_clicks() {
        assert_eq!(classify(Some("Mozilla/5.0"), false, 100, false), Some(Machine::ApplePrivacyProtection));
        assert_eq!(classify(Some("Mozilla/5.0 (Macintosh) AppleWebKit Safari"), false, 100, true), None);
        assert_eq!(
            classify(Some("Mozilla/5.0 (Macintosh) AppleWebKit Safari"), false, 1, true),
            Some(Machine::TooSoon)
        );
        assert_eq!(classify(Some("Barracuda Sentinel"), false, 100, true), Some(Machine::Scanner));
        assert_eq!(classify(None, true, 100, true), Some(Machine::NotABrowser));
    }
}
