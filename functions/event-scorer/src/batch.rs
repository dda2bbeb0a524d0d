//! One batch: parse, group per visitor, apply each group, report per-message failures.

use std::collections::HashMap;
use std::sync::Arc;

use crm_domain::message::{BeaconEnvelope, QueueMessage};
use crm_domain::scoring::SiteDelta;
use crm_domain::site::{DEFAULT_RETENTION_DAYS, SiteId};
use crm_store::clock::Clock;
use crm_store::repo::{BehaviorRepo, SiteRepo};
use crm_store::table::Table;

use crate::visitor::apply_visitor_group;

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
}

pub async fn process_batch(deps: &ScorerDeps, messages: &[IncomingMessage]) -> BatchReport {
    let behavior = BehaviorRepo::new(deps.table.clone());
    let sites = SiteRepo::new(deps.table.clone());
    let now = deps.clock.now();
    let mut report = BatchReport::default();
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

    let mut retention_days: HashMap<SiteId, u32> = HashMap::new();
    for group in &groups {
        let Some((_, first)) = group.members.first() else {
            continue;
        };
        let retention = match retention_days.get(&first.site) {
            Some(days) => *days,
            None => {
                let days = match sites.get(&first.site).await {
                    Ok(site) => site.map_or(DEFAULT_RETENTION_DAYS, |site| site.retention_days),
                    Err(error) => {
                        tracing::warn!(site = %first.site, %error, "site lookup failed");
                        report.failed.extend(group.transport_ids());
                        continue;
                    }
                };
                retention_days.insert(first.site.clone(), days);
                days
            }
        };
        let envelopes: Vec<&BeaconEnvelope> =
            group.members.iter().map(|(_, envelope)| envelope).collect();
        match apply_visitor_group(&behavior, &envelopes, retention, now).await {
            Ok(outcome) => {
                report.applied += outcome.applied;
                report.duplicates += outcome.duplicates;
                let failed_ids = outcome.failed_envelopes;
                report.failed.extend(
                    group
                        .members
                        .iter()
                        .filter(|(_, envelope)| failed_ids.contains(&envelope.id))
                        .map(|(transport_id, _)| transport_id.clone()),
                );
            }
            Err(error) => {
                tracing::warn!(site = %first.site, visitor = %first.visitor, %error, "visitor group not applied");
                report.failed.extend(group.transport_ids());
            }
        }
    }
    tracing::info!(
        messages = messages.len(),
        applied = report.applied,
        duplicates = report.duplicates,
        poison = report.poison,
        failed = report.failed.len(),
        "batch processed"
    );
    report
}

#[derive(Default)]
struct VisitorGroup {
    members: Vec<(String, BeaconEnvelope)>,
}

impl VisitorGroup {
    fn transport_ids(&self) -> impl Iterator<Item = String> + '_ {
        self.members
            .iter()
            .map(|(transport_id, _)| transport_id.clone())
    }
}
