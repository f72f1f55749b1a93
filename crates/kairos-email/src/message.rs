//! Composing a message: RFC 5322 headers (From and Reply-To of the sender
//! identity, To, Subject, Date, Message-ID), a multipart/alternative body
//! (plain text first, then HTML; lettre picks quoted-printable or base64 per
//! part), and for marketing email the RFC 8058 one-click unsubscribe headers
//! and a visible footer with the unsubscribe and preference links and the
//! sender's postal address (CAN-SPAM). Anything that could inject a header
//! (a line break in a name or subject, a malformed address) is refused.

use crate::template::Rendered;
use chrono::{DateTime, Utc};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ComposeError {
    #[error("{field}: {why}")]
    Invalid { field: &'static str, why: String },
}

fn invalid(field: &'static str, why: impl Into<String>) -> ComposeError {
    ComposeError::Invalid { field, why: why.into() }
}

/// Who a message is from: a workspace's sender identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub name: Option<String>,
    pub email: String,
    pub reply_to: Option<String>,
}

/// Check a display name: no line breaks or control characters.
pub fn check_display_name(field: &'static str, name: &str) -> Result<(), ComposeError> {
    if name.chars().any(|c| c.is_control()) {
        return Err(invalid(field, "must not contain line breaks or control characters"));
    }
    if name.len() > 200 {
        return Err(invalid(field, "is longer than 200 characters"));
    }
    Ok(())
}

/// A mailbox from a name and an address, refusing anything that could
/// smuggle in another header.
pub fn mailbox(field: &'static str, name: Option<&str>, email: &str) -> Result<Mailbox, ComposeError> {
    if let Some(n) = name {
        check_display_name(field, n)?;
    }
    if email.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid(field, "the address must not contain spaces, line breaks or control characters"));
    }
    let address = email.parse().map_err(|e| invalid(field, format!("{email:?} is not an email address ({e})")))?;
    Ok(Mailbox::new(name.map(str::to_string), address))
}

impl Sender {
    pub fn check(&self) -> Result<(), ComposeError> {
        mailbox("from", self.name.as_deref(), &self.email)?;
        if let Some(r) = &self.reply_to {
            mailbox("reply_to", None, r)?;
        }
        Ok(())
    }

    /// The domain of the From address (the DKIM signing domain must align).
    pub fn domain(&self) -> &str {
        self.email.rsplit('@').next().unwrap_or_default()
    }
}

/// The unsubscribe links of a marketing message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// The HTTPS URL that one POST unsubscribes through (RFC 8058).
    pub one_click_url: String,
    /// `mailto:` alternative for clients without one-click support.
    pub mailto: Option<String>,
}

/// One message to compose.
pub struct Outgoing<'a> {
    /// Unique id; the Message-ID is `<id@sender-domain>`.
    pub id: uuid::Uuid,
    pub sender: &'a Sender,
    pub to_name: Option<&'a str>,
    pub to_email: &'a str,
    pub content: &'a Rendered,
    pub date: DateTime<Utc>,
    /// `None` for transactional messages, which carry no unsubscribe
    /// headers (the law exempts them from needing an opt-out).
    pub unsubscribe: Option<&'a Unsubscribe>,
    /// `Feedback-ID` for complaint loops at Gmail: campaign:kind:sender.
    pub feedback_id: Option<&'a str>,
}

/// The footer a marketing email must carry, added when the template does
/// not print the unsubscribe link and postal address itself.
pub fn footer_html(unsubscribe_url: &str, preferences_url: &str, postal_address: &str) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    format!(
        "<div style=\"font-family:Arial,sans-serif;font-size:12px;color:#666;text-align:center;padding:16px\">\
         <p style=\"margin:0 0 8px\">{}</p><p style=\"margin:0\"><a href=\"{}\" data-kairos-notrack>Unsubscribe</a> · \
         <a href=\"{}\" data-kairos-notrack>Email preferences</a></p></div>",
        esc(postal_address).replace('\n', "<br>"),
        esc(unsubscribe_url),
        esc(preferences_url)
    )
}

pub fn footer_text(unsubscribe_url: &str, preferences_url: &str, postal_address: &str) -> String {
    format!("\n\n--\n{postal_address}\nUnsubscribe: {unsubscribe_url}\nEmail preferences: {preferences_url}\n")
}

/// The workspace's line saying the message was sent automatically.
pub fn disclosure_html(line: &str) -> String {
    let esc = line.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<p style=\"font-family:Arial,sans-serif;font-size:11px;color:#888;text-align:center;margin:8px 0\">{esc}</p>"
    )
}

/// Put the footer in front of `</body>` (or at the end).
pub fn add_footer(html: &str, footer: &str) -> String {
    match html.rfind("</body>") {
        Some(i) => format!("{}{footer}{}", &html[..i], &html[i..]),
        None => format!("{html}{footer}"),
    }
}

/// The message as it goes on the wire (before DKIM signing).
pub fn compose(o: &Outgoing<'_>) -> Result<Vec<u8>, ComposeError> {
    o.sender.check()?;
    let from = mailbox("from", o.sender.name.as_deref(), &o.sender.email)?;
    let to = mailbox("to", o.to_name, o.to_email)?;
    if o.content.subject.chars().any(|c| c == '\r' || c == '\n') {
        return Err(invalid("subject", "must be one line"));
    }
    let mut b = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(o.content.subject.clone())
        .date(std::time::SystemTime::from(o.date))
        .message_id(Some(format!("<{}@{}>", o.id, o.sender.domain())));
    if let Some(r) = &o.sender.reply_to {
        b = b.reply_to(mailbox("reply_to", None, r)?);
    }
    if let Some(u) = o.unsubscribe {
        if !u.one_click_url.starts_with("https://") && !u.one_click_url.starts_with("http://") {
            return Err(invalid("unsubscribe", "the one-click URL must be an HTTP(S) URL"));
        }
        let mut value = format!("<{}>", u.one_click_url);
        if let Some(m) = &u.mailto {
            value.push_str(&format!(", <{m}>"));
        }
        if value.chars().any(|c| c.is_control()) {
            return Err(invalid("unsubscribe", "must not contain control characters"));
        }
        b = b
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), value))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ))
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Precedence"), "bulk".into()));
    }
    if let Some(f) = o.feedback_id {
        if f.chars().any(|c| c.is_control()) {
            return Err(invalid("feedback_id", "must not contain control characters"));
        }
        b = b.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Feedback-ID"), f.to_string()));
    }
    b = b.raw_header(HeaderValue::new(
        HeaderName::new_from_ascii_str("X-Kairos-Message"),
        format!("{}; {}", o.id, if o.unsubscribe.is_some() { "marketing" } else { "transactional" }),
    ));
    let msg = b
        .multipart(MultiPart::alternative_plain_html(o.content.text.clone(), o.content.html.clone()))
        .map_err(|e| invalid("message", e.to_string()))?;
    Ok(msg.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender() -> Sender {
        Sender {
            name: Some("Acme Team".into()),
            email: "news@acme.example".into(),
            reply_to: Some("help@acme.example".into()),
        }
    }

    #[test]
    fn composes_a_marketing_message() {
        let content = Rendered { subject: "Grüße, Ada".into(), html: "<p>Hi Ada</p>".into(), text: "Hi Ada".into() };
        let u = Unsubscribe {
            one_click_url: "https://k.example/u/tok".into(),
            mailto: Some("mailto:u@k.example?subject=tok".into()),
        };
        let id = uuid::Uuid::now_v7();
        let s = sender();
        let raw = compose(&Outgoing {
            id,
            sender: &s,
            to_name: Some("Ada Lovelace"),
            to_email: "ada@example.org",
            content: &content,
            date: Utc::now(),
            unsubscribe: Some(&u),
            feedback_id: Some("c1:ws:kairos"),
        })
        .unwrap();
        // Unfold folded header lines (RFC 5322 §2.2.3).
        let text = String::from_utf8(raw).unwrap().replace("\r\n ", " ").replace("\r\n\t", " ");
        assert!(
            text.contains("List-Unsubscribe: <https://k.example/u/tok>, <mailto:u@k.example?subject=tok>"),
            "{text}"
        );
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(text.contains(&format!("Message-ID: <{id}@acme.example>")));
        assert!(text.contains("multipart/alternative"));
        assert!(text.contains("Subject: =?utf-8?"), "non-ASCII subjects are encoded: {text}");
    }

    #[test]
    fn refuses_header_injection() {
        let content = Rendered { subject: "Hi\r\nBcc: x@evil.example".into(), html: "x".into(), text: "x".into() };
        let s = sender();
        let o = Outgoing {
            id: uuid::Uuid::now_v7(),
            sender: &s,
            to_name: None,
            to_email: "ada@example.org",
            content: &content,
            date: Utc::now(),
            unsubscribe: None,
            feedback_id: None,
        };
        assert!(compose(&o).is_err());
        let bad = Sender { name: Some("Acme\r\nBcc: x@evil.example".into()), ..sender() };
        assert!(bad.check().is_err());
        assert!(mailbox("to", None, "ada@example.org\r\nBcc: x@evil.example").is_err());
        assert!(mailbox("to", None, "not an address").is_err());
    }
}
