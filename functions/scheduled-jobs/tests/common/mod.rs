//! What the retention tests share across store adapters: a store filled through the scorer's own
//! write path (raw events, then the folded profile and sessions), and readers of what is left.

pub mod crm;
pub mod privacy;

use std::collections::BTreeMap;
use std::sync::Arc;

use crm_domain::message::{BeaconEnvelope, Consent, VisitorKeyKind};
use crm_domain::scoring::fold_visitor;
use crm_domain::site::{SiteConfig, SiteId};
use crm_domain::time::{MILLIS_PER_DAY, Millis};
use crm_store::clock::FixedClock;
use crm_store::repo::{BehaviorRepo, SiteRepo, keys};
use crm_store::table::{Item, Query, SortKeyCondition, Table};
use scheduled_jobs::{Budget, JobDeps, JobKind, JobReport, JobRequest, run_job};
use serde_json::json;

pub const NOW: Millis = Millis(1_763_700_000_000);
pub const DAY: i64 = MILLIS_PER_DAY;
pub const HOUR: i64 = 3_600_000;

pub fn site_id(id: &str) -> SiteId {
    SiteId::parse(id).expect("a valid site id")
}

pub fn deps_at(table: Arc<dyn Table>, now: Millis) -> JobDeps {
    JobDeps {
        table,
        clock: Arc::new(FixedClock(now)),
    }
}

pub async fn add_site(table: &Arc<dyn Table>, id: &str, retention_days: u32) {
    SiteRepo::new(Arc::clone(table))
        .put(&SiteConfig {
            id: site_id(id),
            name: id.to_owned(),
            allowed_origins: vec!["*".to_owned()],
            retention_days,
            session_retention_days: crm_domain::retention::DEFAULT_SESSION_RETENTION_DAYS,
            enabled: true,
        })
        .await
        .expect("put the site");
}

fn beacon(site: &str, visitor: &str, received_at: Millis) -> BeaconEnvelope {
    let ts = received_at.0 - 1_000;
    let id = format!("{site}-{visitor}-{}", received_at.0);
    let events = serde_json::from_value(json!([
        {"id": format!("{id}-1"), "t": "page_view", "ts": ts, "url": "https://shop.example/pricing", "path": "/pricing"},
        {"id": format!("{id}-2"), "t": "page_leave", "ts": ts + 500, "url": "https://shop.example/pricing", "path": "/pricing", "props": {"engaged_ms": 4000}}
    ]))
    .expect("valid events");
    BeaconEnvelope {
        v: 1,
        id,
        site: site_id(site),
        visitor: visitor.to_owned(),
        visitor_kind: VisitorKeyKind::FirstParty,
        // One session per beacon: sessions are keyed by the day so that old ones stay around.
        session: format!("{visitor}-{}", received_at.day()),
        received_at,
        country: None,
        consent: Consent {
            analytics: true,
            marketing: false,
        },
        events,
        rejected: 0,
        identify: None,
    }
}

/// Records one beacon of `visitor` received `age_ms` before [`NOW`] the way the scorer does:
/// the raw-events item first, then the fold committed as one transaction.
pub async fn record_visit(
    table: &Arc<dyn Table>,
    site: &str,
    retention_days: u32,
    visitor: &str,
    age_ms: i64,
) {
    let envelope = beacon(site, visitor, Millis(NOW.0 - age_ms));
    let repo = BehaviorRepo::new(Arc::clone(table));
    repo.put_raw_events(&[&envelope], retention_days)
        .await
        .expect("put the raw events");
    let stored = repo
        .load_visitor(&envelope.site, visitor, &[envelope.session.as_str()])
        .await
        .expect("load the visitor");
    let fold = fold_visitor(
        stored.profile.clone(),
        stored.sessions.clone(),
        &[&envelope],
        envelope.received_at,
    );
    repo.commit_folds(&[(&fold, &stored)], envelope.received_at)
        .await
        .expect("commit the fold");
}

/// The received times (ms before [`NOW`]) of the raw-events items left in a visitor's partition.
pub async fn raw_event_ages(table: &Arc<dyn Table>, site: &str, visitor: &str) -> Vec<i64> {
    let mut ages: Vec<i64> = partition(table, &keys::visitor_partition(&site_id(site), visitor))
        .await
        .into_iter()
        .filter_map(|item| {
            let millis = item.key.sk.strip_prefix(keys::RAW_EVENTS_SK_PREFIX)?;
            let millis: i64 = millis.split('#').next()?.parse().ok()?;
            Some(NOW.0 - millis)
        })
        .collect();
    ages.sort_unstable();
    ages.reverse();
    ages
}

/// Every item of the sites' visitor partitions that is not a raw-events item, and every item
/// of their aggregate and page-counter partitions: what retention must never change.
pub async fn everything_but_raw_events(
    table: &Arc<dyn Table>,
    visitors: &[(&str, &str)],
) -> BTreeMap<(String, String), Item> {
    let mut items = BTreeMap::new();
    let mut partitions: Vec<String> = visitors
        .iter()
        .map(|(site, visitor)| keys::visitor_partition(&site_id(site), visitor))
        .collect();
    for (site, _) in visitors {
        partitions.push(keys::aggregates_partition(&site_id(site)));
        partitions.push(keys::pages_partition(&site_id(site)));
    }
    partitions.sort();
    partitions.dedup();
    for pk in partitions {
        for item in partition(table, &pk).await {
            if !item.key.sk.starts_with(keys::RAW_EVENTS_SK_PREFIX) {
                items.insert((item.key.pk.clone(), item.key.sk.clone()), item);
            }
        }
    }
    items
}

async fn partition(table: &Arc<dyn Table>, pk: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = table
            .query(Query {
                sk: SortKeyCondition::Any,
                limit: 1000,
                cursor,
                ..Query::partition(pk)
            })
            .await
            .expect("query a partition");
        items.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return items,
        }
    }
}

pub async fn retention(deps: &JobDeps, budget: Option<u32>) -> JobReport {
    let mut request = JobRequest::new(JobKind::Retention);
    if let Some(budget) = budget {
        request = request.with_budget(Budget::new(budget.into()).expect("a valid budget"));
    }
    run_job(request, deps).await.expect("the retention run")
}

/// Ages of the beacons every visitor of the scenario has: older and younger than both sites'
/// retention, and one exactly at the short site's retention (kept: only older is removed).
pub const AGES: [i64; 6] = [40 * DAY, 20 * DAY, 8 * DAY, 7 * DAY, 6 * DAY, HOUR];
pub const SHORT_RETENTION_DAYS: u32 = 7;
pub const LONG_RETENTION_DAYS: u32 = 30;
pub const SCENARIO_VISITORS: [(&str, &str); 4] = [
    ("long", "ann"),
    ("long", "bob"),
    ("short", "cid"),
    ("short", "dee"),
];

/// Two sites with different retention, two visitors each, six beacons per visitor.
pub async fn fill_scenario(table: &Arc<dyn Table>) {
    add_site(table, "short", SHORT_RETENTION_DAYS).await;
    add_site(table, "long", LONG_RETENTION_DAYS).await;
    for age in AGES {
        for (site, visitor) in SCENARIO_VISITORS {
            let days = if site == "short" {
                SHORT_RETENTION_DAYS
            } else {
                LONG_RETENTION_DAYS
            };
            record_visit(table, site, days, visitor, age).await;
        }
    }
}

/// The retention scenario, whole: run on every adapter.
pub async fn each_site_keeps_raw_events_for_its_own_retention_and_nothing_else_changes(
    table: Arc<dyn Table>,
) {
    fill_scenario(&table).await;
    let untouched_before = everything_but_raw_events(&table, &SCENARIO_VISITORS).await;
    let deps = deps_at(Arc::clone(&table), NOW);

    let report = retention(&deps, None).await;

    assert_eq!(report.job, JobKind::Retention);
    assert_eq!(report.sites_visited, 2);
    assert_eq!(report.visitors_scanned, 4);
    // short: 40, 20 and 8 days old go (7 days exactly stays); long: only 40 days old goes.
    assert_eq!(report.items_removed, 2 * 3 + 2);
    assert!(report.sweep_finished);
    assert!(!report.cursor_saved);
    assert!(!report.superseded);
    for visitor in ["cid", "dee"] {
        assert_eq!(
            raw_event_ages(&table, "short", visitor).await,
            vec![7 * DAY, 6 * DAY, HOUR],
            "{visitor}"
        );
    }
    for visitor in ["ann", "bob"] {
        assert_eq!(
            raw_event_ages(&table, "long", visitor).await,
            vec![20 * DAY, 8 * DAY, 7 * DAY, 6 * DAY, HOUR],
            "{visitor}"
        );
    }
    let untouched_after = everything_but_raw_events(&table, &SCENARIO_VISITORS).await;
    assert_eq!(untouched_after, untouched_before);

    let again = retention(&deps, None).await;
    assert_eq!(again.items_removed, 0);
    assert_eq!(again.visitors_scanned, 4);
    assert!(again.sweep_finished);
}
