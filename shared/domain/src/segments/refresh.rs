//! Refreshing a dynamic segment: which memberships change when its rules are evaluated over a
//! page of contacts (shared by the refresh route and the `segments` job), and what a single
//! contact write changes (the incremental path).

/// What evaluating a segment's rules over some contacts changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembershipChanges {
    /// Contacts that match the rules (members or not).
    pub matched: usize,
    /// Contacts that match and are not members yet, in the order examined.
    pub added: Vec<String>,
    /// Members that no longer match, in the order examined.
    pub removed: Vec<String>,
}

/// The membership changes for `examined` contacts, each given with whether it matches the
/// rules; `is_member` says whether a contact is a member now. Contacts not examined keep their
/// membership. Idempotent: applying the changes and evaluating again yields none.
pub fn membership_changes<'a>(
    examined: impl IntoIterator<Item = (&'a str, bool)>,
    is_member: impl Fn(&str) -> bool,
) -> MembershipChanges {
    let mut changes = MembershipChanges::default();
    for (contact, matches) in examined {
        if matches {
            changes.matched += 1;
        }
        match (matches, is_member(contact)) {
            (true, false) => changes.added.push(contact.to_owned()),
            (false, true) => changes.removed.push(contact.to_owned()),
            _ => {}
        }
    }
    changes
}

/// What a contact write does to one dynamic segment's membership, judged by its rules on the
/// contact before and after the write: `Some(true)` it joins, `Some(false)` it leaves, `None`
/// the write does not change whether it matches (a membership that drifted before is left to
/// the `segments` job). A new contact has no `before`.
pub fn membership_on_write(before: Option<bool>, after: bool) -> Option<bool> {
    match (before.unwrap_or(false), after) {
        (false, true) => Some(true),
        (true, false) => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn matching_non_members_are_added_and_members_that_no_longer_match_are_removed() {
        let members: HashSet<&str> = ["kept", "stale"].into();
        let examined = [
            ("kept", true),
            ("stale", false),
            ("new", true),
            ("out", false),
        ];

        let changes = membership_changes(examined, |id| members.contains(id));

        assert_eq!(changes.matched, 2);
        assert_eq!(changes.added, vec!["new".to_owned()]);
        assert_eq!(changes.removed, vec!["stale".to_owned()]);
    }

    #[test]
    fn applying_the_changes_and_evaluating_again_changes_nothing() {
        let mut members: HashSet<String> = ["a", "b"].map(str::to_owned).into();
        let examined = [("a", false), ("b", true), ("c", true)];
        let first = membership_changes(examined, |id| members.contains(id));
        for id in &first.added {
            members.insert(id.clone());
        }
        for id in &first.removed {
            members.remove(id);
        }

        let second = membership_changes(examined, |id| members.contains(id));

        assert_eq!(second.added.len() + second.removed.len(), 0, "{second:?}");
        assert_eq!(second.matched, first.matched);
    }

    #[test]
    fn a_write_changes_a_membership_only_when_it_changes_whether_the_rules_match() {
        assert_eq!(membership_on_write(None, true), Some(true), "a new match");
        assert_eq!(membership_on_write(None, false), None);
        assert_eq!(membership_on_write(Some(false), true), Some(true));
        assert_eq!(membership_on_write(Some(true), false), Some(false));
        assert_eq!(membership_on_write(Some(true), true), None);
        assert_eq!(membership_on_write(Some(false), false), None);
    }

    #[test]
    fn nothing_examined_changes_nothing() {
        assert_eq!(
            membership_changes([], |_| true),
            MembershipChanges::default()
        );
    }
}
