//! Email addresses: trimmed, checked for one `@` with a dotted domain, compared lowercased.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not an email address")]
pub struct InvalidEmail;

impl Email {
    pub fn parse(raw: &str) -> Result<Email, InvalidEmail> {
        let email = raw.trim();
        let (local, domain) = email.split_once('@').ok_or(InvalidEmail)?;
        let valid = !local.is_empty()
            && email.len() <= 254
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid {
            Ok(Email(email.to_owned()))
        } else {
            Err(InvalidEmail)
        }
    }

    /// An address no person has (`.invalid` is reserved), for checking a contact's other
    /// fields when the given address is missing or wrong.
    pub(crate) fn stand_in() -> Email {
        Email("stand-in@example.invalid".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is decided on: `Ann@X.io` and `ann@x.io` are one person.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidEmail;
    fn try_from(raw: String) -> Result<Email, InvalidEmail> {
        Email::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_compare_case_insensitively_and_garbage_is_refused() {
        let email = Email::parse(" Ann@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Ann@Example.COM");
        assert_eq!(email.normalized(), "ann@example.com");
        for bad in [
            "", "ann", "@x.io", "ann@x", "a b@x.io", "a@b@x.io", "ann@.io",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
