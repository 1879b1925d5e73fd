//! Search scopes: the restricted visibility of SPEC.md §5.
//!
//! A scope is a list of allowed addresses (`alice@example.com`) and domains
//! (`@client.example`). A domain entry matches that domain exactly, not its subdomains;
//! all matching ignores case (SPEC.md "Decisions").

use crate::validate::{self, Invalid};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One entry of a search scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScopeEntry {
    /// One address, stored lower-case.
    Email(String),
    /// Every address at this domain, stored lower-case without the `@`.
    Domain(String),
}

impl ScopeEntry {
    /// Parses `alice@example.com` or `@example.com`.
    pub fn parse(entry: &str) -> Result<Self, Invalid> {
        let entry = entry.trim();
        if let Some(domain) = entry.strip_prefix('@') {
            let domain = domain.to_ascii_lowercase();
            // A domain entry is valid exactly when some address at it would be.
            validate::email(&format!("x@{domain}")).map_err(|_| Invalid {
                field: "scope",
                reason: format!("'{entry}' is not a domain entry (write it as @example.com)"),
            })?;
            Ok(ScopeEntry::Domain(domain))
        } else {
            let email = validate::email(entry).map_err(|invalid| Invalid {
                field: "scope",
                reason: invalid.reason,
            })?;
            Ok(ScopeEntry::Email(email))
        }
    }

    /// Whether this entry lets its holder see `email`.
    pub fn matches(&self, email: &str) -> bool {
        match self {
            ScopeEntry::Email(allowed) => allowed.eq_ignore_ascii_case(email.trim()),
            ScopeEntry::Domain(domain) => email
                .trim()
                .rsplit_once('@')
                .is_some_and(|(_, at)| at.eq_ignore_ascii_case(domain)),
        }
    }
}

impl fmt::Display for ScopeEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopeEntry::Email(email) => f.write_str(email),
            ScopeEntry::Domain(domain) => write!(f, "@{domain}"),
        }
    }
}

impl Serialize for ScopeEntry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ScopeEntry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ScopeEntry::parse(&text).map_err(serde::de::Error::custom)
    }
}

// A scope is written as a list of strings (`ana@example.com`, `@example.com`): its entries'
// own (de)serialisation is a string, which the schema derive cannot see.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for SearchScope {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        let entry = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An email address, or `@domain` for a whole domain"));
        ArrayBuilder::new()
            .items(entry)
            .description(Some(
                "The users a scoped admin may see: addresses and `@domains` (SPEC.md §5)",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for SearchScope {}

/// The users a scoped actor may see. An empty scope sees no one but oneself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SearchScope {
    pub entries: Vec<ScopeEntry>,
}

impl SearchScope {
    /// Parses a list of entries; duplicates are dropped, the first error is returned.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, Invalid> {
        let mut parsed: Vec<ScopeEntry> = Vec::new();
        for entry in entries {
            if entry.trim().is_empty() {
                continue;
            }
            let entry = ScopeEntry::parse(entry)?;
            if !parsed.contains(&entry) {
                parsed.push(entry);
            }
        }
        Ok(SearchScope { entries: parsed })
    }

    /// Whether an actor holding this scope may see the user with this address.
    pub fn allows(&self, email: &str) -> bool {
        self.entries.iter().any(|entry| entry.matches(email))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(entries: &[&str]) -> SearchScope {
        SearchScope::parse(entries.iter().copied()).unwrap()
    }

    #[test]
    fn an_email_entry_matches_that_address_ignoring_case() {
        let scope = scope(&["Alice@Example.com"]);
        assert!(scope.allows("alice@example.com"));
        assert!(scope.allows("ALICE@EXAMPLE.COM"));
        assert!(!scope.allows("bob@example.com"));
    }

    #[test]
    fn a_domain_entry_matches_the_domain_exactly_not_subdomains() {
        let scope = scope(&["@client.example"]);
        assert!(scope.allows("anyone@client.example"));
        assert!(scope.allows("Anyone@CLIENT.example"));
        assert!(!scope.allows("anyone@eu.client.example"));
        assert!(!scope.allows("anyone@otherclient.example"));
        assert!(!scope.allows("client.example@evil.example"));
    }

    #[test]
    fn an_empty_scope_allows_no_one() {
        assert!(!SearchScope::default().allows("alice@example.com"));
    }

    #[test]
    fn bad_entries_are_rejected_with_the_entry_named() {
        let error = SearchScope::parse(["@", "x"]).unwrap_err();
        assert!(error.reason.contains("'@'"), "{}", error.reason);
        assert!(SearchScope::parse(["not an email"]).is_err());
    }

    #[test]
    fn scopes_serialise_as_a_list_of_strings() {
        let scope = scope(&["a@x.example", "@y.example"]);
        let json = serde_json::to_string(&scope).unwrap();
        assert_eq!(json, r#"["a@x.example","@y.example"]"#);
        let back: SearchScope = serde_json::from_str(&json).unwrap();
        assert_eq!(back, scope);
    }
}
