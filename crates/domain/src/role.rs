//! Roles, membership statuses and kinds of organization (SPEC.md §1–§3).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A membership's role in one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    BillingAdmin,
    UserAdmin,
    ViewerAdmin,
    Member,
    Guest,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::BillingAdmin,
        Role::UserAdmin,
        Role::ViewerAdmin,
        Role::Member,
        Role::Guest,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::BillingAdmin => "billing_admin",
            Role::UserAdmin => "user_admin",
            Role::ViewerAdmin => "viewer_admin",
            Role::Member => "member",
            Role::Guest => "guest",
        }
    }

    /// The name the documents and the UI use.
    pub const fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::BillingAdmin => "Billing Admin",
            Role::UserAdmin => "User Admin",
            Role::ViewerAdmin => "View Only Admin",
            Role::Member => "Member",
            Role::Guest => "Guest",
        }
    }

    /// Members and guests: the users a user admin may manage.
    pub const fn is_member_or_guest(self) -> bool {
        matches!(self, Role::Member | Role::Guest)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a role (admin, billing_admin, user_admin, viewer_admin, member, guest)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    /// Accepts the key (`user_admin`) and the documents' names (`User Admin`), ignoring
    /// case, spaces, `-` and `_`, because people type both into spreadsheets.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let folded: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect();
        let role = match folded.as_str() {
            "admin" | "organizationadmin" | "orgadmin" => Role::Admin,
            "billingadmin" => Role::BillingAdmin,
            "useradmin" => Role::UserAdmin,
            "vieweradmin" | "viewonlyadmin" | "viewadmin" => Role::ViewerAdmin,
            "member" | "user" | "organizationuser" => Role::Member,
            "guest" => Role::Guest,
            _ => return Err(UnknownRole(s.trim().to_owned())),
        };
        Ok(role)
    }
}

/// Where a membership stands in its lifecycle (SPEC.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Active,
    Expired,
    Suspended,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::Active,
        Status::Expired,
        Status::Suspended,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Active => "active",
            Status::Expired => "expired",
            Status::Suspended => "suspended",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("'{s}' is not a status (pending, active, expired, suspended)"))
    }
}

/// The roster tabs of SPEC.md §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RosterTab {
    /// Invited, not yet accepted.
    Pending,
    /// Active and suspended members (suspended ones marked).
    Active,
    /// Guests of any status.
    Guest,
}

impl RosterTab {
    /// Whether a membership with this role and status is listed in this tab.
    pub fn shows(self, role: Role, status: Status) -> bool {
        match self {
            RosterTab::Pending => status == Status::Pending && role != Role::Guest,
            RosterTab::Active => {
                role != Role::Guest && matches!(status, Status::Active | Status::Suspended)
            }
            RosterTab::Guest => role == Role::Guest,
        }
    }
}

/// What kind of tenant an organization is (SPEC.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Standard,
    Partner,
    Client,
}

impl OrgKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            OrgKind::Standard => "standard",
            OrgKind::Partner => "partner",
            OrgKind::Client => "client",
        }
    }
}

impl FromStr for OrgKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "standard" => Ok(OrgKind::Standard),
            "partner" => Ok(OrgKind::Partner),
            "client" => Ok(OrgKind::Client),
            other => Err(format!("'{other}' is not an organization kind")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_keys_and_document_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(role.label().parse::<Role>(), Ok(role));
        }
        assert_eq!(" Organization User ".parse::<Role>(), Ok(Role::Member));
        assert_eq!("VIEW-ONLY ADMIN".parse::<Role>(), Ok(Role::ViewerAdmin));
        assert!("owner".parse::<Role>().is_err());
    }

    #[test]
    fn guests_of_any_status_are_in_the_guest_tab_only() {
        for status in Status::ALL {
            assert!(RosterTab::Guest.shows(Role::Guest, status));
            assert!(!RosterTab::Pending.shows(Role::Guest, status));
            assert!(!RosterTab::Active.shows(Role::Guest, status));
        }
        assert!(RosterTab::Active.shows(Role::Member, Status::Suspended));
        assert!(RosterTab::Pending.shows(Role::Admin, Status::Pending));
        assert!(!RosterTab::Active.shows(Role::Admin, Status::Pending));
    }
}
