//! Bounce and complaint parsing on real-format reports: a Postfix DSN
//! (hard bounce, and the same report saying "delayed") and the RFC 5965
//! example feedback report.

use kairos_email::bounce::{parse, Report, ReportError};

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/samples/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn postfix_hard_bounce() {
    match parse(&sample("dsn_hard_postfix.eml")).unwrap() {
        Report::Bounce { recipient, hard, status, diagnostic, message, original_message_id } => {
            assert_eq!(recipient, "gone@example.org");
            assert!(hard);
            assert_eq!(status, "5.1.1");
            assert!(diagnostic.unwrap().contains("User unknown"));
            assert_eq!(message.unwrap().to_string(), "0193a0b2-7c1e-7d4a-9f00-1234567890ab");
            assert_eq!(original_message_id.unwrap(), "<0193a0b2-7c1e-7d4a-9f00-1234567890ab@acme.example>");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn delayed_is_not_a_failure() {
    assert_eq!(parse(&sample("dsn_delayed.eml")).unwrap(), Report::NoFailure);
}

#[test]
fn rfc5965_complaint() {
    match parse(&sample("arf_abuse_rfc5965.eml")).unwrap() {
        Report::Complaint { recipient, feedback_type, message, .. } => {
            assert_eq!(recipient.as_deref(), Some("angry.reader@mailbox.example"));
            assert_eq!(feedback_type, "abuse");
            assert_eq!(message.unwrap().to_string(), "0193a0b2-7c1e-7d4a-9f00-aaaaaaaaaaaa");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ordinary_mail_is_not_a_report() {
    let plain = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n";
    assert_eq!(parse(plain), Err(ReportError::NotAReport));
}
