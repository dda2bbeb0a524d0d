//! A beacon's site as the CRM knows it: the edge keeps its own list of sites, so a beacon may
//! name a site the CRM has no configuration of. It is scored, and the site is created with the
//! default retention, so the retention job (which walks configured sites) sweeps its data. A
//! site an admin deleted stays deleted: the edge may still send its beacons, which are dropped.

#![allow(clippy::unwrap_used)]

mod common;

use common::{beacon, deps, messages};
use crm_domain::site::{DEFAULT_RETENTION_DAYS, SiteId};
use crm_store::repo::{SiteRepo, keys};
use event_scorer::process_batch;

#[tokio::test]
async fn a_site_configured_at_the_edge_only_is_created_with_the_default_retention() {
    let deps = deps();
    let sites = SiteRepo::new(deps.table.clone());
    let mut envelope = beacon("m1", "alice", "s1", 0);
    envelope.site = SiteId::parse("edge-only").unwrap();
    let report = process_batch(&deps, &messages(&[envelope], 0)).await;
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(report.applied, 1);
    let created = sites
        .get(&SiteId::parse("edge-only").unwrap())
        .await
        .unwrap();
    let created = created.expect("the site is configured now");
    assert_eq!(created.retention_days, DEFAULT_RETENTION_DAYS);
    assert_eq!(created.name, "edge-only");
    assert!(created.enabled);
}

#[tokio::test]
async fn a_configured_site_is_left_as_the_admin_set_it() {
    let deps = deps();
    let sites = SiteRepo::new(deps.table.clone());
    let mut configured = crm_domain::site::SiteConfig::with_defaults(common::site());
    configured.name = "Demo shop".to_owned();
    configured.retention_days = 30;
    sites.put(&configured).await.unwrap();
    let report = process_batch(&deps, &messages(&[beacon("m1", "alice", "s1", 0)], 0)).await;
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(sites.get(&common::site()).await.unwrap(), Some(configured));
}

#[tokio::test]
async fn beacons_of_a_deleted_site_are_acknowledged_and_not_stored() {
    let deps = deps();
    let sites = SiteRepo::new(deps.table.clone());
    sites
        .put(&crm_domain::site::SiteConfig::with_defaults(common::site()))
        .await
        .unwrap();
    let live = sites.get_stored(&common::site()).await.unwrap().unwrap();
    deps.table
        .put(live.tombstone(common::NOW).item().unwrap(), None)
        .await
        .unwrap();

    let report = process_batch(&deps, &messages(&[beacon("m1", "alice", "s1", 0)], 0)).await;

    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!((report.applied, report.of_deleted_sites), (0, 1));
    let profile = deps
        .table
        .get(&keys::profile(&common::site(), "alice"))
        .await
        .unwrap();
    assert_eq!(profile, None, "nothing of the beacon is stored");
    let site = sites.get_stored(&common::site()).await.unwrap().unwrap();
    assert!(site.is_deleted(), "not re-created with the defaults");
}
