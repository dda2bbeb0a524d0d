//! The role policy: the one place that decides whether a role may perform an action on a
//! resource, and whether only on records it owns (`owner_id` = the token's subject).
//!
//! - `admin`: everything, including sites, the audit log and GDPR erase.
//! - `sales_manager`: everything on CRM data except sites, the audit log and erase.
//! - `sales_rep`: reads and creates contacts, leads and deals; updates only records it owns
//!   and logs interactions only on contacts it owns; never deletes; forecast of its own deals; reads pipelines and behavior.
//! - `customer_success`: reads contacts, leads, deals and pipelines; updates contacts' health
//!   inputs; reads and logs interactions; reads behavior.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    SalesManager,
    SalesRep,
    CustomerSuccess,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::SalesManager,
        Role::SalesRep,
        Role::CustomerSuccess,
    ];

    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == raw)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::SalesManager => "sales_manager",
            Role::SalesRep => "sales_rep",
            Role::CustomerSuccess => "customer_success",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Contact,
    Lead,
    /// Interactions and notes logged on a contact (ownership is the contact's).
    Interaction,
    Deal,
    Pipeline,
    Forecast,
    Segment,
    Analytics,
    Site,
    Audit,
    Behavior,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Read,
    Create,
    Update,
    /// Only a contact's health inputs (health score and what feeds it).
    UpdateHealth,
    Delete,
    /// Bulk CSV import and export.
    Import,
    Export,
    /// Everything held about one person, as one document (GDPR access).
    PersonalDataExport,
    /// GDPR erasure.
    Erase,
}

impl Action {
    /// The action as a verb taking the resource's plural: "may not {verb} deals".
    pub fn verb(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::UpdateHealth => "update the health inputs of",
            Action::Delete => "delete",
            Action::Import => "import",
            Action::Export => "export",
            Action::PersonalDataExport => "export the personal data of",
            Action::Erase => "erase",
        }
    }
}

impl Resource {
    /// The resource as a plural noun (or a name for the ones there is one of).
    pub fn plural(self) -> &'static str {
        match self {
            Resource::Contact => "contacts",
            Resource::Lead => "leads",
            Resource::Interaction => "interactions",
            Resource::Deal => "deals",
            Resource::Pipeline => "pipelines",
            Resource::Forecast => "forecasts",
            Resource::Segment => "segments",
            Resource::Analytics => "analytics",
            Resource::Site => "sites",
            Resource::Audit => "the audit log",
            Resource::Behavior => "behavior data",
        }
    }
}

/// What a role may do: nothing, only on records it owns, or on every record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Denied,
    Own,
    All,
}

impl Access {
    /// Whether the access covers a record; `owned` is whether the caller owns it.
    pub fn permits(self, owned: bool) -> bool {
        match self {
            Access::Denied => false,
            Access::Own => owned,
            Access::All => true,
        }
    }
}

pub fn access(role: Role, action: Action, resource: Resource) -> Access {
    use Action::*;
    use Resource::*;
    match role {
        Role::Admin => Access::All,
        Role::SalesManager => match (action, resource) {
            (_, Site | Audit) | (Erase, _) => Access::Denied,
            _ => Access::All,
        },
        Role::SalesRep => match (action, resource) {
            (Read | Create, Contact | Lead | Deal) | (Read, Interaction) => Access::All,
            // Logging an interaction changes the contact's history: its owner's to write.
            (Create | Update | UpdateHealth, Interaction) => Access::Own,
            (Update | UpdateHealth, Contact | Lead | Deal) => Access::Own,
            (Read, Pipeline | Behavior) => Access::All,
            (Read, Forecast) => Access::Own,
            _ => Access::Denied,
        },
        Role::CustomerSuccess => match (action, resource) {
            (Read, Contact | Lead | Deal | Pipeline | Interaction | Behavior) => Access::All,
            (UpdateHealth, Contact) | (Create, Interaction) => Access::All,
            _ => Access::Denied,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_token_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn only_admins_erase_and_read_the_audit_log_and_sites() {
        for role in Role::ALL {
            let expected = if role == Role::Admin {
                Access::All
            } else {
                Access::Denied
            };
            assert_eq!(access(role, Action::Erase, Resource::Contact), expected);
            assert_eq!(access(role, Action::Read, Resource::Audit), expected);
            assert_eq!(access(role, Action::Update, Resource::Site), expected);
        }
    }

    #[test]
    fn a_sales_rep_updates_only_what_it_owns_and_never_deletes() {
        let update = access(Role::SalesRep, Action::Update, Resource::Contact);
        assert!(update.permits(true));
        assert!(!update.permits(false));
        assert_eq!(
            access(Role::SalesRep, Action::Delete, Resource::Contact),
            Access::Denied
        );
        assert_eq!(
            access(Role::SalesRep, Action::Create, Resource::Deal),
            Access::All
        );
    }

    #[test]
    fn customer_success_reads_and_updates_health_but_not_contacts() {
        let role = Role::CustomerSuccess;
        assert_eq!(access(role, Action::Read, Resource::Deal), Access::All);
        assert_eq!(
            access(role, Action::UpdateHealth, Resource::Contact),
            Access::All
        );
        assert_eq!(
            access(role, Action::Update, Resource::Contact),
            Access::Denied
        );
        assert_eq!(
            access(role, Action::Create, Resource::Interaction),
            Access::All
        );
    }
}
