//! Outgoing webhooks per the Standard Webhooks specification
//! (standardwebhooks.com): secrets are `whsec_` plus base64 key bytes; each
//! delivery carries `webhook-id`, `webhook-timestamp` (Unix seconds) and
//! `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body`),
//! so receivers can verify origin and drop replays and duplicates. Also the
//! address check that keeps webhooks from reaching private networks.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::IpAddr;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WebhookError {
    #[error("a webhook secret is \"whsec_\" followed by base64 of 24 to 64 bytes")]
    BadSecret,
}

/// A new random secret.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("whsec_{}", STANDARD.encode(bytes))
}

fn key_bytes(secret: &str) -> Result<Vec<u8>, WebhookError> {
    let b64 = secret.strip_prefix("whsec_").ok_or(WebhookError::BadSecret)?;
    let bytes = STANDARD.decode(b64).map_err(|_| WebhookError::BadSecret)?;
    if !(24..=64).contains(&bytes.len()) {
        return Err(WebhookError::BadSecret);
    }
    Ok(bytes)
}

/// Check a secret's form.
pub fn check_secret(secret: &str) -> Result<(), WebhookError> {
    key_bytes(secret).map(|_| ())
}

/// The `webhook-signature` header value for one delivery.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, WebhookError> {
    let key = key_bytes(secret)?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).map_err(|_| WebhookError::BadSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// Whether an address is outside the public internet: loopback, private
/// ranges, link-local (cloud metadata lives there), carrier-grade NAT,
/// unique-local IPv6, unspecified, multicast, documentation and the
/// IPv4-mapped forms of all of these.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || s[0] == 0x2001 && s[1] == 0x0db8
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_specifications_example() {
        // The example in the Standard Webhooks specification.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn private_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_private(a.parse().unwrap()), "{a}");
        }
        for a in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(!is_private(a.parse().unwrap()), "{a}");
        }
        assert!(check_secret("whsec_short").is_err());
        assert!(check_secret(&new_secret()).is_ok());
    }
}
