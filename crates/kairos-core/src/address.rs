//! Normalisation of contact addresses: email and phone. An address that is
//! stored is always in canonical form (email with a lower-case domain, phone
//! in E.164), so matching and de-duplication compare like with like; an
//! address that cannot be normalised is refused with the reason.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AddressError {
    #[error("{value:?} is not a valid email address: {reason}")]
    InvalidEmail { value: String, reason: String },
    #[error("{value:?} is not a valid phone number: {reason}")]
    InvalidPhone { value: String, reason: String },
}

/// Normalise an email address: trimmed, domain lower-cased (the local part is
/// case-sensitive by RFC 5321 and kept, except that it is compared
/// case-insensitively by every real mailbox provider, so we lower-case it too
/// to make de-duplication work the way marketers expect).
pub fn normalize_email(raw: &str) -> Result<String, AddressError> {
    let value = raw.trim();
    let err = |reason: &str| AddressError::InvalidEmail { value: raw.to_string(), reason: reason.to_string() };
    if value.is_empty() {
        return Err(err("it is empty"));
    }
    let (local, domain) = value.rsplit_once('@').ok_or_else(|| err("it has no '@'"))?;
    if local.is_empty() {
        return Err(err("the part before '@' is empty"));
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(err("the domain must be a fully qualified name like example.com"));
    }
    let parsed: email_address::EmailAddress = value.parse().map_err(|e: email_address::Error| err(&e.to_string()))?;
    let (local, domain) = (parsed.local_part(), parsed.domain());
    Ok(format!("{}@{}", local.to_lowercase(), domain.to_lowercase()))
}

/// Normalise a phone number to E.164. Numbers without a leading `+` are read
/// in the context of `default_region` (ISO 3166 alpha-2) when given.
pub fn normalize_phone(raw: &str, default_region: Option<&str>) -> Result<String, AddressError> {
    let value = raw.trim();
    let err = |reason: String| AddressError::InvalidPhone { value: raw.to_string(), reason };
    if value.is_empty() {
        return Err(err("it is empty".into()));
    }
    let region = match default_region {
        Some(r) if !value.starts_with('+') => Some(
            r.to_ascii_uppercase()
                .parse::<phonenumber::country::Id>()
                .map_err(|_| err(format!("{r:?} is not a known country code")))?,
        ),
        _ => None,
    };
    if region.is_none() && !value.starts_with('+') {
        return Err(err(
            "it has no country code; write it as +<country code><number> or give the contact's country".into()
        ));
    }
    let number = phonenumber::parse(region, value).map_err(|e| err(e.to_string()))?;
    if !phonenumber::is_valid(&number) {
        return Err(err("it is not a valid number for its country".into()));
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_canonicalised() {
        assert_eq!(normalize_email("  Ada@Example.COM ").unwrap(), "ada@example.com");
    }

    #[test]
    fn bad_emails_say_why() {
        for bad in ["", "ada", "@example.com", "ada@", "ada@localhost", "a b@example.com"] {
            let e = normalize_email(bad).unwrap_err();
            assert!(matches!(e, AddressError::InvalidEmail { .. }), "{bad}");
            assert!(e.to_string().contains("not a valid email"), "{e}");
        }
    }

    #[test]
    fn phone_is_e164() {
        assert_eq!(normalize_phone("+1 (415) 555-2671", None).unwrap(), "+14155552671");
        assert_eq!(normalize_phone("030 901820", Some("de")).unwrap(), "+4930901820");
    }

    #[test]
    fn bad_phones_say_why() {
        assert!(normalize_phone("12345", None).unwrap_err().to_string().contains("country code"));
        assert!(normalize_phone("+1 000", None).is_err());
        assert!(normalize_phone("hello", Some("US")).is_err());
        assert!(normalize_phone("555", Some("ZZ")).is_err());
    }
}
