//! Secrets at rest: DKIM private keys, webhook signing secrets and workspace
//! SMTP passwords are
//! stored sealed with AES-256-GCM under the server's master key (from
//! configuration or the environment, never from the database), so a copy of
//! the database alone signs no mail and forges no webhook. A sealed value is
//! `enc:v1:` + base64(nonce ‖ ciphertext ‖ tag); a value without the prefix
//! was stored before sealing existed and is read as it is.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::RngCore;
use thiserror::Error;

const PREFIX: &str = "enc:v1:";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SecretError {
    #[error("the master key must be 32 bytes in base64 (generate one with `kairos secrets generate-key`)")]
    BadMasterKey,
    #[error("a stored secret cannot be decrypted: the master key is not the one it was sealed with, or the value is damaged")]
    Undecryptable,
}

/// The key that seals every stored secret.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    pub fn generate() -> MasterKey {
        let mut k = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut k);
        MasterKey(k)
    }

    pub fn from_base64(s: &str) -> Result<MasterKey, SecretError> {
        let bytes = STANDARD.decode(s.trim()).map_err(|_| SecretError::BadMasterKey)?;
        Ok(MasterKey(bytes.try_into().map_err(|_| SecretError::BadMasterKey)?))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Seal a secret for storage.
    pub fn seal(&self, plaintext: &str) -> String {
        let cipher = Aes256Gcm::new((&self.0).into());
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        // Encryption with a valid key and nonce cannot fail.
        let ct = cipher.encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes()).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    /// Read a stored secret.
    pub fn open(&self, stored: &str) -> Result<String, SecretError> {
        let Some(b64) = stored.strip_prefix(PREFIX) else { return Ok(stored.to_string()) };
        let raw = STANDARD.decode(b64).map_err(|_| SecretError::Undecryptable)?;
        if raw.len() < 12 + 16 {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, ct) = raw.split_at(12);
        let cipher = Aes256Gcm::new((&self.0).into());
        let pt = cipher.decrypt(Nonce::from_slice(nonce), ct).map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(pt).map_err(|_| SecretError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open() {
        let k = MasterKey::generate();
        let sealed = k.seal("whsec_secret");
        assert!(sealed.starts_with("enc:v1:") && !sealed.contains("whsec"));
        assert_ne!(sealed, k.seal("whsec_secret"), "a fresh nonce each time");
        assert_eq!(k.open(&sealed).unwrap(), "whsec_secret");
        assert_eq!(MasterKey::generate().open(&sealed), Err(SecretError::Undecryptable));
        let mut damaged = sealed.clone();
        damaged.pop();
        damaged.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(k.open(&damaged).is_err());
        assert_eq!(k.open("legacy-plaintext").unwrap(), "legacy-plaintext");
        let k2 = MasterKey::from_base64(&k.to_base64()).unwrap();
        assert_eq!(k2.open(&sealed).unwrap(), "whsec_secret");
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
    }
}
