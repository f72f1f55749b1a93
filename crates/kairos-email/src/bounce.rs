//! Reports that come back after sending: delivery status notifications
//! (RFC 3464 DSN, `multipart/report; report-type=delivery-status`) and
//! abuse feedback reports (RFC 5965 ARF, `report-type=feedback-report`).
//! Each is reduced to what Kairos acts on: which recipient, which of our
//! messages (from the returned headers' `X-Kairos-Message` or Message-ID),
//! and whether it is a hard bounce (suppress), a soft one (note it) or a
//! complaint (suppress and unsubscribe).

use mail_parser::{MessageParser, MimeHeaders};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Report {
    Bounce {
        recipient: String,
        /// Permanent failure (5.x.x): the address is suppressed.
        hard: bool,
        status: String,
        diagnostic: Option<String>,
        message: Option<uuid::Uuid>,
        original_message_id: Option<String>,
    },
    Complaint {
        recipient: Option<String>,
        feedback_type: String,
        message: Option<uuid::Uuid>,
        original_message_id: Option<String>,
    },
    /// A delivery report that says the message was delivered or delayed
    /// without failing (Action: delivered / relayed / expanded / delayed).
    NoFailure,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("not an email message")]
    NotAMessage,
    #[error("not a delivery status notification or feedback report (expected multipart/report with report-type delivery-status or feedback-report)")]
    NotAReport,
    #[error("the report has no recipient to apply it to")]
    NoRecipient,
}

/// `Name: value` fields of a header block, with folded lines joined;
/// blocks are separated by blank lines (per-message, then per-recipient).
fn field_blocks(text: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks = Vec::new();
    let mut cur: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !cur.is_empty() {
                blocks.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = cur.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    if !cur.is_empty() {
        blocks.push(cur);
    }
    blocks
}

fn get<'a>(block: &'a [(String, String)], name: &str) -> Option<&'a str> {
    block.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `rfc822; user@example.com` → `user@example.com`.
fn address_field(v: &str) -> String {
    let a = v.split_once(';').map(|(_, a)| a).unwrap_or(v);
    a.trim().trim_matches(['<', '>']).to_ascii_lowercase()
}

/// Our message id and the original Message-ID from returned headers.
fn original_ids(raw: &str) -> (Option<uuid::Uuid>, Option<String>) {
    let mut ours = None;
    let mut mid = None;
    for block in field_blocks(raw).into_iter().take(1) {
        if let Some(v) = get(&block, "x-kairos-message") {
            ours = v.split(';').next().and_then(|s| s.trim().parse().ok());
        }
        if let Some(v) = get(&block, "message-id") {
            mid = Some(v.trim().to_string());
            if ours.is_none() {
                // Our Message-IDs are `<uuid@domain>`.
                ours = v.trim().trim_start_matches('<').split('@').next().and_then(|s| s.parse().ok());
            }
        }
    }
    (ours, mid)
}

/// Read a DSN or ARF message.
pub fn parse(raw: &[u8]) -> Result<Report, ReportError> {
    let msg = MessageParser::default().parse(raw).ok_or(ReportError::NotAMessage)?;
    let top = msg.content_type().ok_or(ReportError::NotAReport)?;
    let report_type = top.attribute("report-type").map(str::to_ascii_lowercase);
    if !top.ctype().eq_ignore_ascii_case("multipart")
        || top.subtype().map(str::to_ascii_lowercase).as_deref() != Some("report")
    {
        return Err(ReportError::NotAReport);
    }
    let mut status_text = None;
    let mut original = None;
    for part in msg.parts.iter() {
        let Some(ct) = part.content_type() else { continue };
        let full = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")).to_ascii_lowercase();
        let text = || String::from_utf8_lossy(part.contents()).into_owned();
        match full.as_str() {
            "message/delivery-status" | "message/feedback-report" | "message/global-delivery-status" => {
                status_text = Some(text())
            }
            "message/rfc822" | "text/rfc822-headers" | "message/rfc822-headers" | "message/global" => {
                original = Some(text())
            }
            _ => {}
        }
    }
    let status_text = status_text.ok_or(ReportError::NotAReport)?;
    let (message, original_message_id) = original.as_deref().map(original_ids).unwrap_or((None, None));
    let blocks = field_blocks(&status_text);
    match report_type.as_deref() {
        Some("feedback-report") => {
            let b = blocks.first().cloned().unwrap_or_default();
            let recipient = get(&b, "original-rcpt-to").or_else(|| get(&b, "removal-recipient")).map(address_field);
            let feedback_type = get(&b, "feedback-type").unwrap_or("abuse").to_ascii_lowercase();
            Ok(Report::Complaint { recipient, feedback_type, message, original_message_id })
        }
        Some("delivery-status") => {
            // The first per-recipient block that failed.
            for b in blocks.iter().skip(1).chain(blocks.iter().take(1)) {
                let Some(action) = get(b, "action") else { continue };
                if !action.eq_ignore_ascii_case("failed") {
                    continue;
                }
                let recipient = get(b, "final-recipient")
                    .or_else(|| get(b, "original-recipient"))
                    .map(address_field)
                    .ok_or(ReportError::NoRecipient)?;
                let status = get(b, "status").unwrap_or("5.0.0").to_string();
                let hard = status.starts_with('5');
                let diagnostic = get(b, "diagnostic-code")
                    .map(|d| d.split_once(';').map(|(_, r)| r).unwrap_or(d).trim().to_string());
                return Ok(Report::Bounce { recipient, hard, status, diagnostic, message, original_message_id });
            }
            Ok(Report::NoFailure)
        }
        _ => Err(ReportError::NotAReport),
    }
}

/// Whether an SMTP reply code at send time is a permanent failure.
pub fn is_permanent(code: u16) -> bool {
    (500..600).contains(&code)
}
