//! IAB TCF v2.2 consent strings, as a site's consent-management platform
//! (CMP) produces them and tracking calls carry them in
//! `context.consent.tcString`. Decoding is lib_tcstring's; this module says
//! what a string means for Kairos's own purposes. TCF speaks of purposes of
//! web processing, not of channels, so what it implies applies on every
//! channel, like Global Privacy Control:
//!
//! - `profiling` is granted when purposes 1 (store and/or access information
//!   on a device) and 5 (create profiles to personalise content) are, and
//!   denied otherwise;
//! - `third_party_sharing` is granted when purposes 1, 3 (create profiles for
//!   personalised advertising) and 4 (use them to select ads) are, and denied
//!   otherwise.
//!
//! Kairos never acts as an advertising vendor, so vendor consents are kept
//! with the proof but not interpreted.

use crate::consent::{ConsentState, Purpose};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What Kairos keeps of a decoded TC string.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TcfConsent {
    pub cmp_id: u16,
    pub cmp_version: u16,
    pub vendor_list_version: u16,
    pub policy_version: u16,
    pub consent_language: String,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// TCF purposes (1–11) the person consented to.
    pub purposes: Vec<u8>,
    /// Purposes the CMP disclosed under legitimate interest.
    pub legitimate_interest: Vec<u8>,
    pub special_features: Vec<u8>,
    /// How many vendors received consent.
    pub vendors_with_consent: usize,
}

/// Why a string was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid IAB TCF v2 consent string: {0}")]
pub struct TcfError(String);

/// lib_tcstring gives the string's timestamps (deciseconds on the wire) in
/// milliseconds since the epoch.
fn instant(ms: u64) -> Option<DateTime<Utc>> {
    i64::try_from(ms).ok().and_then(DateTime::from_timestamp_millis)
}

/// Decode a TC string.
pub fn decode(tc_string: &str) -> Result<TcfConsent, TcfError> {
    let s = tc_string.trim();
    if s.is_empty() || s.len() > 10_000 {
        return Err(TcfError("empty or longer than 10,000 characters".into()));
    }
    let m = lib_tcstring::TcModelV2::try_from(s).map_err(|e| TcfError(format!("{e:?}")))?;
    Ok(TcfConsent {
        cmp_id: m.cmp_id,
        cmp_version: m.cmp_version,
        vendor_list_version: m.vendor_list_version,
        policy_version: m.tcf_policy_version,
        consent_language: m.consent_language,
        created_at: instant(m.created_at),
        updated_at: instant(m.updated_at),
        purposes: m.purposes_consent,
        legitimate_interest: m.purposes_li_transparency,
        special_features: m.special_feature_opt_ins,
        vendors_with_consent: m.vendors_consent.len(),
    })
}

impl TcfConsent {
    fn consented(&self, purposes: &[u8]) -> ConsentState {
        if purposes.iter().all(|p| self.purposes.contains(p)) {
            ConsentState::Granted
        } else {
            ConsentState::Denied
        }
    }

    /// What the string means for Kairos's purposes (see the module comment).
    pub fn implied(&self) -> [(Purpose, ConsentState); 2] {
        [(Purpose::Profiling, self.consented(&[1, 5])), (Purpose::ThirdPartySharing, self.consented(&[1, 3, 4]))]
    }

    /// The wording recorded with the consent: what the person answered, in
    /// whose dialogue.
    pub fn wording(&self) -> String {
        format!(
            "IAB TCF v2 consent from CMP {} (version {}), vendor list {}, policy {}: purposes consented {:?}",
            self.cmp_id, self.cmp_version, self.vendor_list_version, self.policy_version, self.purposes
        )
    }
}

/// A core-only TC string in which the person consented to `purposes` (and
/// to vendors 1..=`vendors`), as a CMP with id `cmp_id` would write it at
/// `at`. Written to the TCF v2 format independently of the decoder, so tests
/// and the demo can act as a CMP.
pub fn encode(cmp_id: u16, purposes: &[u8], vendors: u16, at: DateTime<Utc>) -> String {
    use base64::Engine as _;
    let mut bits: Vec<bool> = Vec::new();
    let put = |value: u64, width: u32, bits: &mut Vec<bool>| {
        for i in (0..width).rev() {
            bits.push(value >> i & 1 == 1);
        }
    };
    let deciseconds = (at.timestamp_millis().max(0) / 100) as u64;
    let letter = |c: u8| u64::from(c - b'A');
    put(2, 6, &mut bits); // Version
    put(deciseconds, 36, &mut bits); // Created
    put(deciseconds, 36, &mut bits); // LastUpdated
    put(u64::from(cmp_id), 12, &mut bits);
    put(1, 12, &mut bits); // CmpVersion
    put(1, 6, &mut bits); // ConsentScreen
    put(letter(b'E') << 6 | letter(b'N'), 12, &mut bits); // ConsentLanguage
    put(100, 12, &mut bits); // VendorListVersion
    put(4, 6, &mut bits); // TcfPolicyVersion (TCF v2.2)
    put(1, 1, &mut bits); // IsServiceSpecific
    put(0, 1, &mut bits); // UseNonStandardTexts
    put(0, 12, &mut bits); // SpecialFeatureOptIns
    for p in 1..=24u8 {
        put(u64::from(purposes.contains(&p)), 1, &mut bits); // PurposesConsent
    }
    put(0, 24, &mut bits); // PurposesLITransparency
    put(0, 1, &mut bits); // PurposeOneTreatment
    put(letter(b'D') << 6 | letter(b'E'), 12, &mut bits); // PublisherCC
    for consented in [true, false] {
        // Vendor consents, then vendor legitimate interests, as bit fields.
        put(u64::from(vendors), 16, &mut bits);
        put(0, 1, &mut bits);
        for _ in 0..vendors {
            put(u64::from(consented), 1, &mut bits);
        }
    }
    put(0, 12, &mut bits); // NumPubRestrictions
    let bytes: Vec<u8> =
        bits.chunks(8).map(|c| c.iter().enumerate().fold(0u8, |b, (i, &on)| b | (u8::from(on) << (7 - i)))).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the GDPR::IAB::TCFv2 parser's documentation, decoded
    /// there independently: CMP 21 version 7, screen 2, language EN, vendor
    /// list 23, created 2008-12-07, purposes 1, 3, 9 and 10 among those
    /// consented, vendor 284 consented.
    const PERL_EXAMPLE: &str =
        "CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA.argAC0gAAAAAAAAAAAA";

    #[test]
    fn decodes_a_known_string() {
        let c = decode(PERL_EXAMPLE).unwrap();
        assert_eq!((c.cmp_id, c.cmp_version, c.vendor_list_version), (21, 7, 23));
        assert_eq!(c.consent_language, "EN");
        assert_eq!(c.created_at.map(|t| t.timestamp()), Some(1_228_644_257));
        assert_eq!(c.updated_at.map(|t| t.timestamp()), Some(1_326_215_413));
        for p in [1, 3, 9, 10] {
            assert!(c.purposes.contains(&p), "purpose {p} in {:?}", c.purposes);
        }
        assert!(c.vendors_with_consent > 0);
    }

    #[test]
    fn maps_purposes_to_kairos_purposes() {
        let mut c = decode(PERL_EXAMPLE).unwrap();
        c.purposes = vec![1, 5];
        assert_eq!(
            c.implied(),
            [(Purpose::Profiling, ConsentState::Granted), (Purpose::ThirdPartySharing, ConsentState::Denied)]
        );
        c.purposes = vec![1, 3, 4, 5];
        assert_eq!(c.implied()[1], (Purpose::ThirdPartySharing, ConsentState::Granted));
        c.purposes = vec![3, 4, 5];
        assert_eq!(
            c.implied(),
            [(Purpose::Profiling, ConsentState::Denied), (Purpose::ThirdPartySharing, ConsentState::Denied)],
            "nothing without purpose 1 (device access)"
        );
        assert!(c.wording().contains("CMP 21"));
    }

    #[test]
    fn encodes_what_the_decoder_reads() {
        let at = DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z").unwrap().with_timezone(&Utc);
        let c = decode(&encode(300, &[1, 3, 4, 5, 10], 12, at)).unwrap();
        assert_eq!(c.cmp_id, 300);
        assert_eq!(c.purposes, vec![1, 3, 4, 5, 10]);
        assert_eq!(c.vendors_with_consent, 12);
        assert_eq!((c.created_at, c.policy_version, c.consent_language.as_str()), (Some(at), 4, "EN"));
        assert_eq!(
            c.implied(),
            [(Purpose::Profiling, ConsentState::Granted), (Purpose::ThirdPartySharing, ConsentState::Granted)]
        );
    }

    #[test]
    fn refuses_garbage() {
        for bad in ["", "hello", "!!!!", "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA"] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }
}
