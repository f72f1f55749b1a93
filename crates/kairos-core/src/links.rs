//! Signed links for people who have no login: the preference centre and the
//! double opt-in confirmation of subscription forms. A token names the
//! workspace and a subject (the contact, or a pending confirmation) and
//! carries an expiry, signed with HMAC-SHA256 under a key derived from
//! the workspace's secret, so it cannot be forged, altered or enumerated.

use crate::ids::{ContactId, WorkspaceId};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum LinkError {
    #[error("the link is malformed or has been altered")]
    Invalid,
    #[error("the link has expired; ask for a new one")]
    Expired,
}

/// The signing key for one purpose of links, derived from a workspace secret.
pub fn link_key(secret: &str, purpose: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"kairos-link\0");
    h.update(purpose.as_bytes());
    h.update([0]);
    h.update(secret.as_bytes());
    h.finalize().into()
}

fn mac(key: &[u8; 32], payload: &[u8]) -> Vec<u8> {
    // A key of any length is accepted by HMAC.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    m.update(payload);
    m.finalize().into_bytes()[..16].to_vec()
}

/// A token for `contact` in `ws`, valid until `expires` (seconds since epoch).
pub fn sign(key: &[u8; 32], ws: WorkspaceId, contact: ContactId, expires: i64) -> String {
    sign_subject(key, ws, contact.0, expires)
}

/// A token for any id in `ws` (the key's purpose says what kind of id).
pub fn sign_subject(key: &[u8; 32], ws: WorkspaceId, subject: Uuid, expires: i64) -> String {
    let mut payload = Vec::with_capacity(40);
    payload.extend_from_slice(ws.0.as_bytes());
    payload.extend_from_slice(subject.as_bytes());
    payload.extend_from_slice(&expires.to_be_bytes());
    format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(mac(key, &payload)))
}

/// The workspace a token claims, before its signature is checked (to find
/// the key to check it with).
pub fn claimed_workspace(token: &str) -> Result<WorkspaceId, LinkError> {
    let (payload, _) = split(token)?;
    Ok(WorkspaceId(Uuid::from_slice(&payload[..16]).map_err(|_| LinkError::Invalid)?))
}

fn split(token: &str) -> Result<(Vec<u8>, Vec<u8>), LinkError> {
    let (p, s) = token.split_once('.').ok_or(LinkError::Invalid)?;
    let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| LinkError::Invalid)?;
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| LinkError::Invalid)?;
    if payload.len() != 40 || sig.len() != 16 {
        return Err(LinkError::Invalid);
    }
    Ok((payload, sig))
}

/// Check a token: the workspace and contact it was signed for.
pub fn verify(key: &[u8; 32], token: &str, now: i64) -> Result<(WorkspaceId, ContactId), LinkError> {
    verify_subject(key, token, now).map(|(ws, id)| (ws, ContactId(id)))
}

/// Check a token made by [`sign_subject`]: the workspace and id it names.
pub fn verify_subject(key: &[u8; 32], token: &str, now: i64) -> Result<(WorkspaceId, Uuid), LinkError> {
    let (payload, sig) = split(token)?;
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| LinkError::Invalid)?;
    m.update(&payload);
    m.verify_truncated_left(&sig).map_err(|_| LinkError::Invalid)?;
    let ws = Uuid::from_slice(&payload[..16]).map_err(|_| LinkError::Invalid)?;
    let contact = Uuid::from_slice(&payload[16..32]).map_err(|_| LinkError::Invalid)?;
    let expires = i64::from_be_bytes(payload[32..40].try_into().map_err(|_| LinkError::Invalid)?);
    if now > expires {
        return Err(LinkError::Expired);
    }
    Ok((WorkspaceId(ws), contact))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_resist_tampering() {
        let key = link_key("secret", "preferences");
        let (ws, c) = (WorkspaceId::new(), ContactId::new());
        let t = sign(&key, ws, c, 1_000);
        assert_eq!(verify(&key, &t, 999), Ok((ws, c)));
        assert_eq!(claimed_workspace(&t), Ok(ws));
        assert_eq!(verify(&key, &t, 1_001), Err(LinkError::Expired));
        // Another key (another workspace, or another purpose) does not accept it.
        assert_eq!(verify(&link_key("secret", "unsubscribe"), &t, 0), Err(LinkError::Invalid));
        assert_eq!(verify(&link_key("other", "preferences"), &t, 0), Err(LinkError::Invalid));
        // Changing any byte of the payload breaks the signature.
        let (p, s) = t.split_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(p).unwrap();
        bytes[20] ^= 1;
        let forged = format!("{}.{s}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(verify(&key, &forged, 0), Err(LinkError::Invalid));
        // Extending the expiry too.
        let mut bytes = URL_SAFE_NO_PAD.decode(p).unwrap();
        bytes[39] = 0xff;
        let forged = format!("{}.{s}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(verify(&key, &forged, 0), Err(LinkError::Invalid));
        assert_eq!(verify(&key, "garbage", 0), Err(LinkError::Invalid));
    }
}
