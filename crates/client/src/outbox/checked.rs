//! What the desktop asks of the outbox beyond staging one change: which actions the rules
//! allow on a member (each refusal with its reason), staging the same change for many
//! members with every refused one named instead of refusing all, and taking back a change
//! before it is sent. The rules are `check`'s, the same the server runs.

use super::{Outbox, Projection, Seal, check, get, insert_staged};
use crate::error::{Error, Result};
use chrono::{DateTime, Days, NaiveDate, Utc};
use orgdesk_domain::wire::{MemberEdit, MutationId, MutationKind, OrgId, UserId};
use orgdesk_domain::{ErrorCode, Role};
use rusqlite::{Connection, params};
use serde::Serialize;

/// A change the rules refuse, with where it was in the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// Its position among the changes asked for.
    pub index: usize,
    pub user_id: Option<UserId>,
    /// The field of the change the refusal is about, when it is about one (a form shows
    /// it on that field's cell).
    pub field: Option<&'static str>,
    pub code: &'static str,
    pub reason: String,
}

/// The fields a form shows refusals on, as `validate::Invalid` names them.
const FIELDS: [&str; 8] = [
    "email",
    "password",
    "role",
    "workspaces",
    "guest_expires",
    "phone",
    "first_name",
    "last_name",
];

/// Which field a refusal is about: the rules' codes say it, and an invalid value names its
/// field first (`validate::Invalid` reads "field: reason").
fn field_of(code: &str, reason: &str) -> Option<&'static str> {
    match code {
        "email_taken" => Some("email"),
        "guest_expiry_required" | "guest_expiry_past" => Some("guest_expires"),
        "role_not_allowed" => Some("role"),
        "too_many_workspaces" => Some("workspaces"),
        "invalid_input" => {
            let named = reason.split_once(':')?.0.trim();
            FIELDS.into_iter().find(|field| *field == named)
        }
        _ => None,
    }
}

/// What staging (or checking) a set of changes came to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// How many the rules allow (staged, unless it was only a check).
    pub allowed: usize,
    pub refused: Vec<Refusal>,
    /// The staged changes' ids, in order; empty for a check.
    pub staged: Vec<MutationId>,
}

/// An action on a member and whether the signed-in user may do it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub action: &'static str,
    /// For `change_role`: the role it would change to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Errors that are the rules' answer about one change, not a failure of the whole request.
fn refusal(index: usize, change: &MutationKind, error: Error) -> Result<Refusal> {
    match error {
        Error::Denied(_) | Error::NotFound(_) | Error::Invalid(_) => {
            let reason = error.to_string();
            Ok(Refusal {
                index,
                user_id: change.target(),
                field: field_of(error.code(), &reason),
                code: error.code(),
                reason,
            })
        }
        other => Err(other),
    }
}

impl Outbox<'_> {
    /// Checks every change in order (each on the roster as the ones before leave it) and,
    /// unless `only_check`, stages those the rules allow in one transaction.
    pub fn stage_allowed(
        &self,
        org: OrgId,
        changes: &[MutationKind],
        only_check: bool,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Checked> {
        let mut conn = self.cache.lock();
        let tx = conn.transaction()?;
        let mut projection = Projection::load(&tx, org)?;
        let seal = Seal::of(&tx)?;
        let mut checked = Checked::default();
        for (index, change) in changes.iter().enumerate() {
            match check(&tx, org, change, today, &projection) {
                Ok(base) => {
                    if !only_check {
                        checked.staged.push(insert_staged(
                            &tx,
                            org,
                            change,
                            base.as_ref(),
                            now,
                            &seal,
                        )?);
                    }
                    projection.add(change);
                    checked.allowed += 1;
                }
                Err(error) => checked.refused.push(refusal(index, change, error)?),
            }
        }
        if !only_check {
            tx.commit()?;
        }
        Ok(checked)
    }

    /// Every action on `user` with the rules' verdict, as the roster stands with the changes
    /// already staged.
    pub fn allowed_actions(
        &self,
        org: OrgId,
        user: UserId,
        today: NaiveDate,
    ) -> Result<Vec<Verdict>> {
        let conn = self.cache.lock();
        let projection = Projection::load(&conn, org)?;
        let current = projection.member(&conn, org, user)?.ok_or_else(|| {
            Error::NotFound(format!("user {user} is not in organization {org}'s roster"))
        })?;
        // A guest's end date must be in the future: a month ahead stands for any.
        let guest_end = today.checked_add_days(Days::new(30));
        let mut probes: Vec<(&'static str, Option<Role>, MutationKind)> = vec![
            (
                "edit_profile",
                None,
                MutationKind::EditMember {
                    user_id: user,
                    edit: MemberEdit::default(),
                },
            ),
            (
                "assign_workspaces",
                None,
                MutationKind::AssignWorkspaces {
                    user_id: user,
                    workspaces: Vec::new(),
                },
            ),
            (
                "set_scope",
                None,
                MutationKind::SetScope {
                    user_id: user,
                    scope: None,
                },
            ),
            ("suspend", None, MutationKind::Suspend { user_id: user }),
            ("restore", None, MutationKind::Restore { user_id: user }),
            ("remove", None, MutationKind::Remove { user_id: user }),
            (
                "resend_invitation",
                None,
                MutationKind::ResendInvitation { user_id: user },
            ),
            (
                "cancel_invitation",
                None,
                MutationKind::CancelInvitation { user_id: user },
            ),
        ];
        if current.role == Role::Guest {
            probes.push((
                "set_guest_expiry",
                None,
                MutationKind::EditMember {
                    user_id: user,
                    edit: MemberEdit {
                        guest_expires: guest_end,
                        ..MemberEdit::default()
                    },
                },
            ));
        }
        for role in Role::ALL.into_iter().filter(|&r| r != current.role) {
            probes.push((
                "change_role",
                Some(role),
                MutationKind::ChangeRole {
                    user_id: user,
                    role,
                    guest_expires: (role == Role::Guest).then_some(guest_end).flatten(),
                },
            ));
        }
        probes
            .into_iter()
            .map(|(action, role, change)| {
                Ok(match check(&conn, org, &change, today, &projection) {
                    Ok(_) => Verdict {
                        action,
                        role,
                        allowed: true,
                        code: None,
                        reason: None,
                    },
                    Err(error) => {
                        let refused = refusal(0, &change, error)?;
                        Verdict {
                            action,
                            role,
                            allowed: false,
                            code: Some(refused.code),
                            reason: Some(refused.reason),
                        }
                    }
                })
            })
            .collect()
    }

    /// Takes back a change not yet sent, with the later pending changes to the same member
    /// (they were staged on the row it would have made). Returns the ids taken back. The
    /// caller makes sure no push is running.
    pub fn withdraw(&self, id: &str) -> Result<Vec<MutationId>> {
        let mut conn = self.cache.lock();
        let tx = conn.transaction()?;
        let staged =
            get(&tx, id)?.ok_or_else(|| Error::NotFound(format!("no staged change {id}")))?;
        if staged.state != super::OutboxState::Pending {
            return Err(Error::Api {
                status: 409,
                code: ErrorCode::InvalidState,
                message: format!(
                    "change {id} is {} already; only changes not yet sent can be taken back",
                    staged.state.as_str()
                ),
            });
        }
        let ids = withdrawn(&tx, staged.org_id, staged.user_id, staged.seq)?;
        for taken in &ids {
            tx.execute(
                "DELETE FROM import_mutations WHERE mutation_id = ?1",
                params![taken],
            )?;
            tx.execute("DELETE FROM outbox WHERE id = ?1", params![taken])?;
        }
        tx.commit()?;
        Ok(ids)
    }
}

/// A member's changes that still need the server or the user (pending, conflicts,
/// rejections), oldest first: the detail panel's "pending" list.
pub(crate) fn member_changes(
    conn: &Connection,
    org: OrgId,
    user: UserId,
) -> Result<Vec<super::StagedChange>> {
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {} FROM outbox WHERE org_id = ?1 AND user_id = ?2
               AND state IN ('pending', 'conflict', 'rejected') ORDER BY seq",
            super::COLUMNS
        ))?
        .query_map(params![org, user], super::staged_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// How many changes still to be sent each of `users` has.
pub(crate) fn pending_counts(
    conn: &Connection,
    org: OrgId,
    users: &[UserId],
) -> Result<std::collections::HashMap<UserId, u32>> {
    let mut counts = std::collections::HashMap::new();
    if users.is_empty() {
        return Ok(counts);
    }
    let marks = vec!["?"; users.len()].join(", ");
    // Through the partial index of pending changes by member (migration 0005).
    let sql = format!(
        "SELECT user_id, count(*) FROM outbox WHERE org_id = ? AND state = 'pending'
           AND user_id IS NOT NULL AND user_id IN ({marks}) GROUP BY user_id"
    );
    let mut values: Vec<i64> = vec![org];
    values.extend(users);
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values), |row| {
        Ok((row.get::<_, UserId>(0)?, row.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (user, n) = row?;
        counts.insert(user, u32::try_from(n).unwrap_or(u32::MAX));
    }
    Ok(counts)
}

/// The change at `seq` and, for a member, their pending changes staged after it.
fn withdrawn(
    conn: &Connection,
    org: OrgId,
    user: Option<UserId>,
    seq: i64,
) -> Result<Vec<MutationId>> {
    let ids = match user {
        None => conn
            .prepare("SELECT id FROM outbox WHERE seq = ?1")?
            .query_map(params![seq], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<MutationId>>>()?,
        Some(user) => conn
            .prepare(
                "SELECT id FROM outbox WHERE org_id = ?1 AND user_id = ?2 AND state = 'pending'
                 AND seq >= ?3 ORDER BY seq",
            )?
            .query_map(params![org, user, seq], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<MutationId>>>()?,
    };
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::cache::META_ACCOUNT_ID;
    use crate::cache::feed::tests::{access, member, page};
    use crate::cache::tests::temp_cache;
    use orgdesk_domain::wire::Change;

    fn today() -> NaiveDate {
        "2026-11-23".parse().unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-11-23T06:00:00Z".parse().unwrap()
    }

    /// Org 9: me (1) and another admin (2), members 3 and 4; I am signed in as `me`.
    fn roster(me: UserId) -> (tempfile::TempDir, Cache) {
        let (dir, cache) = temp_cache();
        cache.set_meta(META_ACCOUNT_ID, &me.to_string()).unwrap();
        cache
            .replace_org_list(&[access(9, Role::Admin, 1)], now())
            .unwrap();
        let changes = vec![
            member(1, "Me", "Admin", Role::Admin),
            member(2, "Other", "Admin", Role::Admin),
            member(3, "Some", "Member", Role::Member),
            member(4, "Else", "Member", Role::Member),
        ]
        .into_iter()
        .map(|m| Change::Member(Box::new(m)))
        .collect();
        cache
            .apply_page(9, &page(changes, "c1", false), now())
            .unwrap();
        (dir, cache)
    }

    fn role(user_id: UserId, role: Role) -> MutationKind {
        MutationKind::ChangeRole {
            user_id,
            role,
            guest_expires: None,
        }
    }

    #[test]
    fn a_bulk_change_stages_the_allowed_and_names_each_refused() {
        let (_dir, cache) = roster(1);
        let outbox = cache.outbox();
        let changes = [
            role(3, Role::UserAdmin),
            role(1, Role::Member),
            role(4, Role::UserAdmin),
        ];
        let preview = outbox
            .stage_allowed(9, &changes, true, today(), now())
            .unwrap();
        assert_eq!(preview.allowed, 2);
        assert!(preview.staged.is_empty(), "a check stages nothing");
        assert!(outbox.open_changes(None).unwrap().is_empty());
        let refused = &preview.refused[0];
        assert_eq!(
            (refused.index, refused.user_id, refused.code),
            (1, Some(1), "self_role")
        );

        let staged = outbox
            .stage_allowed(9, &changes, false, today(), now())
            .unwrap();
        assert_eq!(staged.staged.len(), 2);
        assert_eq!(staged.refused, preview.refused);
        assert_eq!(outbox.open_changes(None).unwrap().len(), 2);
    }

    #[test]
    fn each_change_is_checked_on_the_roster_the_ones_before_leave() {
        // A partner admin demoting both admins: the second would leave none.
        let (_dir, cache) = roster(77);
        let checked = cache
            .outbox()
            .stage_allowed(
                9,
                &[role(1, Role::Member), role(2, Role::Member)],
                false,
                today(),
                now(),
            )
            .unwrap();
        assert_eq!(checked.allowed, 1);
        assert_eq!(checked.refused[0].code, "last_admin");
        assert_eq!(checked.refused[0].user_id, Some(2));
    }

    #[test]
    fn the_verdicts_say_why_an_action_is_refused() {
        let (_dir, cache) = roster(1);
        let verdicts = cache.outbox().allowed_actions(9, 1, today()).unwrap();
        let find = |action: &str, role: Option<Role>| {
            verdicts
                .iter()
                .find(|v| v.action == action && v.role == role)
                .unwrap_or_else(|| panic!("{action} {role:?} in {verdicts:?}"))
                .clone()
        };
        let suspend_myself = find("suspend", None);
        assert!(!suspend_myself.allowed);
        assert_eq!(suspend_myself.code, Some("self_remove"));
        assert!(suspend_myself.reason.is_some());
        assert!(find("edit_profile", None).allowed);
        let others = cache.outbox().allowed_actions(9, 3, today()).unwrap();
        assert!(others.iter().any(|v| v.action == "suspend" && v.allowed));
        assert!(
            others
                .iter()
                .any(|v| v.action == "restore" && !v.allowed && v.code == Some("invalid_state")),
            "an active member cannot be restored: {others:?}"
        );
        assert!(
            others
                .iter()
                .any(|v| v.action == "change_role" && v.role == Some(Role::Guest) && v.allowed)
        );
    }

    #[test]
    fn the_detail_shows_the_row_as_every_pending_change_leaves_it() {
        let (_dir, cache) = roster(1);
        let outbox = cache.outbox();
        let title = MutationKind::EditMember {
            user_id: 3,
            edit: MemberEdit {
                profile: Some(orgdesk_domain::wire::ProfileEdit {
                    title: Some("Lead".into()),
                    ..Default::default()
                }),
                ..MemberEdit::default()
            },
        };
        outbox.stage(9, title, today(), now()).unwrap();
        outbox
            .stage(9, role(3, Role::UserAdmin), today(), now())
            .unwrap();
        let detail = cache.member_detail(9, 3).unwrap();
        assert_eq!(detail.member.pending_changes, 2);
        assert_eq!(detail.member.member.role, Role::Member, "the server's row");
        let pending = detail.pending_row.unwrap();
        assert_eq!(pending.member.profile.title.as_deref(), Some("Lead"));
        assert_eq!(pending.member.role, Role::UserAdmin);
        assert!(!detail.pending_removal);

        outbox
            .stage(9, MutationKind::Remove { user_id: 4 }, today(), now())
            .unwrap();
        let removed = cache.member_detail(9, 4).unwrap();
        assert!(removed.pending_row.is_none() && removed.pending_removal);
    }

    #[test]
    fn a_refused_add_names_the_field_to_fix() {
        let (_dir, cache) = roster(1);
        let add = |email: &str, role: Role| MutationKind::AddMember {
            member: orgdesk_domain::wire::NewMember {
                email: email.into(),
                role,
                profile: Default::default(),
                workspaces: Vec::new(),
                guest_expires: None,
                properties: Default::default(),
                onboarding: Default::default(),
                password: None,
            },
        };
        let checked = cache
            .outbox()
            .stage_allowed(
                9,
                &[
                    add("new@client.example", Role::Member),
                    add("not an email", Role::Member),
                    add("some.member@client.example", Role::Member),
                    add("guest@client.example", Role::Guest),
                ],
                true,
                today(),
                now(),
            )
            .unwrap();
        assert_eq!(checked.allowed, 1);
        let fields: Vec<(usize, Option<&str>)> =
            checked.refused.iter().map(|r| (r.index, r.field)).collect();
        assert_eq!(
            fields,
            [
                (1, Some("email")),
                (2, Some("email")),
                (3, Some("guest_expires"))
            ],
            "{:?}",
            checked.refused
        );
    }

    #[test]
    fn a_change_not_yet_sent_is_taken_back_with_the_later_ones_on_it() {
        let (_dir, cache) = roster(1);
        let outbox = cache.outbox();
        let first = outbox
            .stage(9, role(3, Role::UserAdmin), today(), now())
            .unwrap();
        let second = outbox
            .stage(9, MutationKind::Suspend { user_id: 3 }, today(), now())
            .unwrap();
        let other = outbox
            .stage(9, MutationKind::Suspend { user_id: 4 }, today(), now())
            .unwrap();
        let taken = outbox.withdraw(&first.id).unwrap();
        assert_eq!(taken, vec![first.id.clone(), second.id.clone()]);
        let left: Vec<String> = outbox
            .open_changes(None)
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(left, vec![other.id.clone()]);
        assert_eq!(outbox.withdraw(&first.id).unwrap_err().code(), "not_found");
    }
}
