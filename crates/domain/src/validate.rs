//! Validation of what people type: emails, phones, passwords, names.
//!
//! Each function returns the normalised value or an [`Invalid`] naming the field and a
//! reason a person can act on.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A value that is not valid for its field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    pub field: &'static str,
    pub reason: String,
}

impl Invalid {
    fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Invalid {
            field,
            reason: reason.into(),
        }
    }
}

impl From<Invalid> for crate::Denied {
    fn from(invalid: Invalid) -> Self {
        crate::Denied::with_message(crate::ErrorCode::InvalidInput, invalid.to_string())
    }
}

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 128;
pub const NAME_MAX_CHARS: usize = 100;
pub const PROFILE_FIELD_MAX_CHARS: usize = 200;
pub const ORG_NAME_MAX_CHARS: usize = 120;
pub const EMAIL_MAX_CHARS: usize = 254;

/// An email address as an account login: trimmed, parsed by RFC 5321/5322 rules, stored
/// lower-case (logins are case-insensitive).
pub fn email(input: &str) -> Result<String, Invalid> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(Invalid::new("email", "an email address is required"));
    }
    if trimmed.chars().count() > EMAIL_MAX_CHARS {
        return Err(Invalid::new(
            "email",
            format!("'{trimmed}' is longer than {EMAIL_MAX_CHARS} characters"),
        ));
    }
    // Display forms like "Alice <alice@x>" and IP-literal domains are valid RFC 5322 but
    // never a login here; a login also needs a dot in its domain to be deliverable.
    let parsed = email_address::EmailAddress::from_str(trimmed).map_err(|error| {
        Invalid::new(
            "email",
            format!("'{trimmed}' is not an email address ({error})"),
        )
    })?;
    let domain = parsed.domain();
    if trimmed.contains('<') || domain.starts_with('[') || !domain.contains('.') {
        return Err(Invalid::new(
            "email",
            format!("'{trimmed}' is not an email address"),
        ));
    }
    Ok(parsed.as_str().to_lowercase())
}

/// A phone number in E.164 form: `+`, a country code, at most 15 digits in all. Spaces,
/// dots, dashes and parentheses that people type between digit groups are dropped.
pub fn phone(field: &'static str, input: &str) -> Result<String, Invalid> {
    let trimmed = input.trim();
    let compact: String = trimmed
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').ok_or_else(|| {
        Invalid::new(
            field,
            format!("'{trimmed}' must start with + and the country code, e.g. +14155550123"),
        )
    })?;
    let well_formed = (2..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if well_formed {
        Ok(compact)
    } else {
        Err(Invalid::new(
            field,
            format!(
                "'{trimmed}' is not a phone number in international form (+ and 2 to 15 digits)"
            ),
        ))
    }
}

/// The password policy of SPEC.md §3: 12 to 128 characters.
pub fn password(input: &str) -> Result<(), Invalid> {
    let chars = input.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(Invalid::new(
            "password",
            format!("a password needs at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(Invalid::new(
            "password",
            format!("a password can have at most {PASSWORD_MAX_CHARS} characters"),
        ));
    }
    Ok(())
}

/// An optional person's name or profile field: trimmed, empty becomes `None`, at most
/// `max_chars` characters, no control characters.
pub fn text(field: &'static str, input: &str, max_chars: usize) -> Result<Option<String>, Invalid> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max_chars {
        return Err(Invalid::new(
            field,
            format!("at most {max_chars} characters are allowed"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Invalid::new(field, "control characters are not allowed"));
    }
    Ok(Some(trimmed.to_owned()))
}

/// A person's first, last or display name.
pub fn name(field: &'static str, input: &str) -> Result<Option<String>, Invalid> {
    text(field, input, NAME_MAX_CHARS)
}

/// An organization's or workspace's name: required, trimmed, at most 120 characters.
pub fn org_name(field: &'static str, input: &str) -> Result<String, Invalid> {
    text(field, input, ORG_NAME_MAX_CHARS)?.ok_or_else(|| Invalid::new(field, "a name is required"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            email("  Alice.Smith@Example.COM "),
            Ok("alice.smith@example.com".into())
        );
        assert_eq!(
            email("o'brien+tag@sub.example.co.uk"),
            Ok("o'brien+tag@sub.example.co.uk".into())
        );
    }

    #[test]
    fn malformed_emails_are_rejected_with_the_value_named() {
        for bad in [
            "bob@",
            "@example.com",
            "bob",
            "bob@@example.com",
            "bob@example",
            "Bob <bob@example.com>",
            "a b@example.com",
            "bob@[127.0.0.1]",
        ] {
            let error = email(bad).expect_err(bad);
            assert_eq!(error.field, "email");
            assert!(
                error.reason.contains("not an email"),
                "{bad}: {}",
                error.reason
            );
        }
        assert!(email("   ").unwrap_err().reason.contains("required"));
    }

    #[test]
    fn phones_must_be_e164() {
        assert_eq!(
            phone("phone", "+1 (415) 555-0123"),
            Ok("+14155550123".into())
        );
        assert_eq!(
            phone("phone", "+33.6.12.34.56.78"),
            Ok("+33612345678".into())
        );
        for bad in [
            "4155550123",
            "+0123456",
            "+1",
            "+1234567890123456",
            "+1415abc0123",
        ] {
            assert!(phone("phone", bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn passwords_need_12_to_128_characters() {
        assert!(password("short").is_err());
        assert!(password(&"x".repeat(11)).is_err());
        assert!(password(&"x".repeat(12)).is_ok());
        assert!(password(&"é".repeat(128)).is_ok(), "characters, not bytes");
        assert!(password(&"x".repeat(129)).is_err());
    }

    #[test]
    fn names_are_trimmed_and_limited() {
        assert_eq!(name("first_name", "  Zoë "), Ok(Some("Zoë".into())));
        assert_eq!(name("first_name", "   "), Ok(None));
        assert!(name("first_name", &"x".repeat(101)).is_err());
        assert!(name("first_name", "a\u{0007}b").is_err());
        assert!(org_name("name", " ").is_err());
        assert_eq!(org_name("name", " Acme "), Ok("Acme".into()));
    }
}
