//! One batch: parse, group per visitor, fold every group, commit the folds together, roll up
//! the sites' pending counters when due, and report per-message failures.

use std::collections::HashMap;
use std::sync::Arc;

use crm_domain::message::{BeaconEnvelope, QueueMessage};
use crm_domain::scoring::SiteDelta;
use crm_domain::site::{SiteConfig, SiteId};
use crm_domain::time::Millis;
use crm_store::clock::Clock;
use crm_store::repo::behavior::RollUpPolicy;
use crm_store::repo::crm::identity::IdentityRepo;
use crm_store::repo::crm::scores::ContactScores;
use crm_store::repo::{BehaviorRepo, SiteRepo};
use crm_store::table::{Table, TableError};

use crate::commit::{GroupResult, commit_all};
use crate::identity::link_identities;
use crate::rescore::rescore_contacts;
use crate::visitor::PreparedFold;

/// Envelopes of one visitor folded together: with one session each at most, their writes
/// (profile, sessions, pending counters) stay within one transaction.
const MAX_ENVELOPES_PER_FOLD: usize = 48;

/// The ports the scorer needs, built once per process.
#[derive(Clone)]
pub struct ScorerDeps {
    pub table: Arc<dyn Table>,
    pub clock: Arc<dyn Clock>,
}

/// A message as the transport delivered it: its transport id and its body.
#[derive(Debug, Clone)]
pub struct IncomingMessage {
    pub transport_id: String,
    pub body: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Transport ids of messages to retry (the rest may be deleted).
    pub failed: Vec<String>,
    pub applied: usize,
    pub duplicates: usize,
    pub poison: usize,
    /// Beacons of a deleted site: acknowledged, not stored.
    pub of_deleted_sites: usize,
}

pub async fn process_batch(deps: &ScorerDeps, messages: &[IncomingMessage]) -> BatchReport {
    let behavior = BehaviorRepo::new(deps.table.clone());
    let now = deps.clock.now();
    let mut report = BatchReport::default();
    let groups = group_by_visitor(&behavior, messages, &mut report).await;
    let retained =
        retention_of_groups(&SiteRepo::new(deps.table.clone()), &groups, &mut report).await;
    let failed_groups = fold_and_commit(&behavior, &groups, &retained, now, &mut report).await;
    roll_up_sites(&behavior, &groups, now).await;
    let committed: Vec<(&str, &BeaconEnvelope)> = retained
        .iter()
        .filter(|(index, _)| !failed_groups.contains(index))
        .flat_map(|(index, _)| groups[*index].members.iter())
        .map(|(transport_id, envelope)| (transport_id.as_str(), envelope))
        .collect();
    let identity = IdentityRepo::new(deps.table.clone());
    let identified = link_identities(&identity, &committed, now, &mut report).await;
    let contacts = linked_contacts(&identity, &committed, identified).await;
    rescore_contacts(&ContactScores::new(deps.table.clone()), &contacts, now).await;
    tracing::info!(
        messages = messages.len(),
        applied = report.applied,
        duplicates = report.duplicates,
        poison = report.poison,
        of_deleted_sites = report.of_deleted_sites,
        failed = report.failed.len(),
        "batch processed"
    );
    report
}

/// The contacts linked to the committed visitors (through their claims), those the batch's
/// identifies linked first. A failed lookup only skips the rescore (see [`crate::rescore`]).
async fn linked_contacts(
    identity: &IdentityRepo,
    committed: &[(&str, &BeaconEnvelope)],
    mut contacts: Vec<String>,
) -> Vec<String> {
    let mut visitors: Vec<(&SiteId, &str)> = committed
        .iter()
        .map(|(_, envelope)| (&envelope.site, envelope.visitor.as_str()))
        .collect();
    visitors.sort_unstable();
    visitors.dedup();
    match identity.contacts_of_visitors(&visitors).await {
        Ok(linked) => {
            for contact in linked {
                if !contacts.contains(&contact) {
                    contacts.push(contact);
                }
            }
        }
        Err(error) => tracing::warn!(%error, "linked contacts not read; not rescored"),
    }
    contacts
}

/// Beacons grouped per (site, visitor) in arrival order; poison messages reported failed and
/// bot reports counted on the way.
async fn group_by_visitor(
    behavior: &BehaviorRepo,
    messages: &[IncomingMessage],
    report: &mut BatchReport,
) -> Vec<VisitorGroup> {
    let mut groups: Vec<VisitorGroup> = Vec::new();
    let mut group_of: HashMap<(SiteId, String), usize> = HashMap::new();
    for message in messages {
        match QueueMessage::from_json(&message.body) {
            Err(error) => {
                tracing::error!(message_id = %message.transport_id, %error, "poison message");
                report.poison += 1;
                report.failed.push(message.transport_id.clone());
            }
            Ok(QueueMessage::Dropped(dropped)) => {
                let delta = SiteDelta::from_dropped(&dropped);
                if let Err(error) = behavior
                    .commit_site_delta_once(&dropped.site, &dropped.id, &delta, dropped.received_at)
                    .await
                {
                    tracing::warn!(message_id = %message.transport_id, %error, "bot report not counted");
                    report.failed.push(message.transport_id.clone());
                } else {
                    report.applied += 1;
                }
            }
            Ok(QueueMessage::Beacon(envelope)) => {
                let group_key = (envelope.site.clone(), envelope.visitor.clone());
                let index = *group_of.entry(group_key).or_insert_with(|| {
                    groups.push(VisitorGroup::default());
                    groups.len() - 1
                });
                groups[index]
                    .members
                    .push((message.transport_id.clone(), envelope));
            }
        }
    }
    groups
}

/// Each group's site retention, as (group position, days); a group whose site cannot be read
/// is reported failed and left out, and one whose site was deleted is dropped.
async fn retention_of_groups(
    sites: &SiteRepo,
    groups: &[VisitorGroup],
    report: &mut BatchReport,
) -> Vec<(usize, u32)> {
    // Per site: its retention in days, or `None` once deleted.
    let mut days_of_site: HashMap<&SiteId, Option<u32>> = HashMap::new();
    let mut retained = Vec::with_capacity(groups.len());
    for (index, group) in groups.iter().enumerate() {
        let Some(site) = group.site() else {
            continue;
        };
        let days = match days_of_site.get(site) {
            Some(days) => *days,
            None => match configured_site(sites, site).await {
                Ok(config) => {
                    let days = config.map(|config| config.retention_days);
                    days_of_site.insert(site, days);
                    days
                }
                Err(error) => {
                    tracing::warn!(%site, %error, "site lookup failed");
                    report.failed.extend(group.transport_ids());
                    continue;
                }
            },
        };
        match days {
            Some(days) => retained.push((index, days)),
            None => {
                // The edge may still send them until its own list of sites is changed too.
                tracing::warn!(%site, beacons = group.members.len(), "beacons of a deleted site dropped");
                report.of_deleted_sites += group.members.len();
            }
        }
    }
    retained
}

/// The site's configuration, `None` if an admin deleted the site. A site the CRM has no record
/// of (one configured at the edge only) is given the defaults, and stored, so that the retention
/// job, which walks the CRM's sites, sweeps its data too.
async fn configured_site(
    sites: &SiteRepo,
    site: &SiteId,
) -> Result<Option<SiteConfig>, TableError> {
    if let Some(stored) = sites.get_stored(site).await? {
        return Ok((!stored.is_deleted()).then_some(stored.config));
    }
    let config = SiteConfig::with_defaults(site.clone());
    if sites.create_if_missing(&config).await? {
        tracing::warn!(%site, retention_days = config.retention_days,
            "site not configured in the CRM: created with the default retention");
        Ok(Some(config))
    } else {
        // Created (or deleted) meanwhile, by an admin or another scorer: that record holds.
        Ok(sites.get(site).await?)
    }
}

/// Folds every group and commits the folds together. A visitor's envelopes fold together, at
/// most MAX_ENVELOPES_PER_FOLD at a time so one fold always fits a transaction; a visitor with
/// more gets further rounds, each folding from what the previous round committed. Returns the
/// positions of the groups not (entirely) committed, whose messages are reported failed.
async fn fold_and_commit(
    behavior: &BehaviorRepo,
    groups: &[VisitorGroup],
    retained: &[(usize, u32)],
    now: Millis,
    report: &mut BatchReport,
) -> Vec<usize> {
    let rounds = groups
        .iter()
        .map(|group| group.members.len().div_ceil(MAX_ENVELOPES_PER_FOLD))
        .max()
        .unwrap_or(0);
    let mut failed_groups: Vec<usize> = Vec::new();
    for round in 0..rounds {
        let mut folds = Vec::new();
        for (index, retention_days) in retained {
            if failed_groups.contains(index) {
                continue;
            }
            let Some(part) = groups[*index]
                .members
                .chunks(MAX_ENVELOPES_PER_FOLD)
                .nth(round)
            else {
                continue;
            };
            let envelopes: Vec<&BeaconEnvelope> =
                part.iter().map(|(_, envelope)| envelope).collect();
            match PreparedFold::prepare(behavior, *index, envelopes, *retention_days, now).await {
                Ok(prepared) => folds.push(prepared),
                Err(error) => {
                    tracing::warn!(%error, "visitor state not read");
                    failed_groups.push(*index);
                }
            }
        }
        for (index, result) in commit_all(behavior, folds, now).await {
            match result {
                GroupResult::Committed {
                    applied,
                    duplicates,
                } => {
                    report.applied += applied;
                    report.duplicates += duplicates;
                }
                GroupResult::Duplicates(duplicates) => report.duplicates += duplicates,
                GroupResult::Failed(why) => {
                    tracing::warn!(why, "visitor group not applied");
                    failed_groups.push(index);
                }
            }
        }
    }
    for index in &failed_groups {
        report.failed.extend(groups[*index].transport_ids());
    }
    failed_groups
}

/// Rolls up the pending counters of every site the batch touched, when due. Counters already
/// committed as pending stay exact for readers; a failed roll-up only leaves them pending a
/// little longer.
async fn roll_up_sites(behavior: &BehaviorRepo, groups: &[VisitorGroup], now: Millis) {
    let mut sites: Vec<&SiteId> = groups.iter().filter_map(VisitorGroup::site).collect();
    sites.sort();
    sites.dedup();
    for site in sites {
        if let Err(error) = behavior
            .roll_up_if_due(site, now, RollUpPolicy::default())
            .await
        {
            tracing::warn!(%site, %error, "pending counters not rolled up");
        }
    }
}

#[derive(Default)]
struct VisitorGroup {
    members: Vec<(String, BeaconEnvelope)>,
}

impl VisitorGroup {
    fn site(&self) -> Option<&SiteId> {
        self.members.first().map(|(_, envelope)| &envelope.site)
    }

    fn transport_ids(&self) -> impl Iterator<Item = String> + '_ {
        self.members
            .iter()
            .map(|(transport_id, _)| transport_id.clone())
    }
}
