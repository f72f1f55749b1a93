//! DKIM (RFC 6376, and RFC 8463 for Ed25519): key generation, the DNS TXT
//! record an operator publishes, and signing a finished message. Signing
//! covers the headers mailbox providers require to be signed for one-click
//! unsubscribe to be trusted (RFC 8058 §4): From, Subject, List-Unsubscribe
//! and List-Unsubscribe-Post, plus To, Date, Message-ID, Reply-To and the
//! MIME headers. Keys are kept as DER (PKCS#1 for RSA, PKCS#8 for Ed25519).

use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{DkimSigner, Done};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer};
use serde::Serialize;
use thiserror::Error;

/// The headers every signature covers (absent ones are signed as absent,
/// so they cannot be added later).
pub const SIGNED_HEADERS: &[&str] = &[
    "From",
    "Reply-To",
    "Subject",
    "Date",
    "To",
    "Message-ID",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    Rsa2048,
    Ed25519,
}

impl Algorithm {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "rsa" | "rsa2048" | "rsa-2048" | "rsa_2048" => Some(Algorithm::Rsa2048),
            "ed25519" => Some(Algorithm::Ed25519),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Rsa2048 => "rsa2048",
            Algorithm::Ed25519 => "ed25519",
        }
    }

    /// The `k=` tag of the key record.
    fn key_type(self) -> &'static str {
        match self {
            Algorithm::Rsa2048 => "rsa",
            Algorithm::Ed25519 => "ed25519",
        }
    }
}

#[derive(Debug, Error)]
pub enum DkimError {
    #[error("the DKIM key cannot be used: {0}")]
    Key(String),
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("invalid DKIM {what}: {why}")]
    Invalid { what: &'static str, why: String },
}

/// A generated key pair: the private key (DER) to store, and the public key
/// as published in DNS.
pub struct KeyPair {
    pub algorithm: Algorithm,
    pub private_der: Vec<u8>,
    /// Base64 of the `p=` tag.
    pub public_b64: String,
}

/// Generate a new key pair.
pub fn generate(algorithm: Algorithm) -> Result<KeyPair, DkimError> {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    match algorithm {
        Algorithm::Rsa2048 => {
            let pair = mail_auth::dkim::generate::DkimKeyPair::generate_rsa(2048)
                .map_err(|e| DkimError::Key(e.to_string()))?;
            // Verifiers expect SubjectPublicKeyInfo, which is what openssl
            // and every DNS guide publish; the library gives PKCS#1.
            use rsa::pkcs1::DecodeRsaPublicKey;
            use rsa::pkcs8::EncodePublicKey;
            let public = rsa::RsaPublicKey::from_pkcs1_der(pair.public_key())
                .map_err(|e| DkimError::Key(e.to_string()))?
                .to_public_key_der()
                .map_err(|e| DkimError::Key(e.to_string()))?;
            Ok(KeyPair { algorithm, private_der: pair.private_key().to_vec(), public_b64: b64(public.as_bytes()) })
        }
        Algorithm::Ed25519 => {
            let pair = mail_auth::dkim::generate::DkimKeyPair::generate_ed25519()
                .map_err(|e| DkimError::Key(e.to_string()))?;
            Ok(KeyPair { algorithm, private_der: pair.private_key().to_vec(), public_b64: b64(pair.public_key()) })
        }
    }
}

/// The TXT record for `selector._domainkey.domain`.
pub fn dns_record(algorithm: Algorithm, public_b64: &str) -> String {
    format!("v=DKIM1; k={}; p={public_b64}", algorithm.key_type())
}

/// The DNS name the record is published at.
pub fn dns_name(selector: &str, domain: &str) -> String {
    format!("{selector}._domainkey.{domain}")
}

/// Check a selector or a signing domain.
pub fn check_name(what: &'static str, s: &str) -> Result<(), DkimError> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(DkimError::Invalid { what, why: format!("{s:?} is not a DNS name (letters, digits, hyphens and dots)") })
    }
}

enum Key {
    Rsa(DkimSigner<RsaKey<Sha256>, Done>),
    Ed25519(DkimSigner<Ed25519Key, Done>),
}

/// Signs messages for one domain and selector.
pub struct Signer {
    key: Key,
}

impl Signer {
    pub fn new(algorithm: Algorithm, domain: &str, selector: &str, private_der: &[u8]) -> Result<Signer, DkimError> {
        check_name("domain", domain)?;
        check_name("selector", selector)?;
        let key = match algorithm {
            Algorithm::Rsa2048 => {
                let der = PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(private_der.to_vec()));
                let k = RsaKey::<Sha256>::from_key_der(der).map_err(|e| DkimError::Key(e.to_string()))?;
                Key::Rsa(
                    DkimSigner::from_key(k).domain(domain).selector(selector).headers(SIGNED_HEADERS.iter().copied()),
                )
            }
            Algorithm::Ed25519 => {
                let k = Ed25519Key::from_pkcs8_der(private_der).map_err(|e| DkimError::Key(e.to_string()))?;
                Key::Ed25519(
                    DkimSigner::from_key(k).domain(domain).selector(selector).headers(SIGNED_HEADERS.iter().copied()),
                )
            }
        };
        Ok(Signer { key })
    }

    /// The `DKIM-Signature` header (with its trailing CRLF) for a complete
    /// message, to be written in front of it.
    pub fn sign(&self, message: &[u8]) -> Result<String, DkimError> {
        let sig = match &self.key {
            Key::Rsa(s) => s.sign(message),
            Key::Ed25519(s) => s.sign(message),
        }
        .map_err(|e| DkimError::Sign(e.to_string()))?;
        Ok(sig.to_header())
    }

    /// Sign and return the signed message.
    pub fn sign_message(&self, message: &[u8]) -> Result<Vec<u8>, DkimError> {
        let header = self.sign(message)?;
        let mut out = Vec::with_capacity(header.len() + message.len());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(message);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_algorithms_sign() {
        let msg = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: Hi\r\n\r\nHello.\r\n";
        for alg in [Algorithm::Ed25519, Algorithm::Rsa2048] {
            let pair = generate(alg).unwrap();
            let s = Signer::new(alg, "example.com", "k1", &pair.private_der).unwrap();
            let h = s.sign(msg).unwrap();
            assert!(h.starts_with("DKIM-Signature:"), "{h}");
            assert!(h.contains("d=example.com") && h.contains("s=k1"), "{h}");
            let a = if alg == Algorithm::Rsa2048 { "a=rsa-sha256" } else { "a=ed25519-sha256" };
            assert!(h.contains(a), "{h}");
            assert!(dns_record(alg, &pair.public_b64).starts_with("v=DKIM1; k="));
        }
        assert!(Signer::new(Algorithm::Ed25519, "bad domain", "k1", &[]).is_err());
        assert!(Signer::new(Algorithm::Ed25519, "example.com", "k1", b"not a key").is_err());
    }
}
