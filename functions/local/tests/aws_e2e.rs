//! crm-local in AWS mode against the local AWS API emulator: an empty emulator, `--create-missing`,
//! a beacon in, its scores out. Needs `tests/aws/moto.sh` sourced (the test entry point does it).

mod support;

use std::time::Duration;

use support::{LocalServer, beacon};

#[test]
fn against_an_empty_emulator_crm_local_creates_its_table_and_queue_and_scores_beacons() {
    let endpoint = crm_store::test_support::aws_endpoint();
    let suffix = std::process::id();
    let table = format!("crm-local-e2e-{suffix}");
    let queue_url = format!("{endpoint}/123456789012/crm-local-events-{suffix}");
    let data = tempfile::tempdir().expect("temp dir");
    let server = LocalServer::start_with(
        data.path(),
        &[
            "--dynamodb-endpoint",
            &endpoint,
            "--table",
            &table,
            "--sqs-queue-url",
            &queue_url,
            "--create-missing",
        ],
    );

    let (status, receipt) = server.post_beacon(&beacon("visitor-aws", "s1", 3));
    assert_eq!(status, 202, "{receipt}");
    let visitors = server.wait_for(Duration::from_secs(15), |server| {
        let page = server.admin_get("/api/admin/behavior/visitors?site=demo");
        page["data"]
            .as_array()
            .filter(|list| !list.is_empty())
            .cloned()
    });
    assert_eq!(visitors.len(), 1);
    assert_eq!(visitors[0]["events"], 3);
    let dashboard = server.admin_get("/api/admin/behavior/dashboard?site=demo");
    assert_eq!(dashboard["data"]["totals"]["events"], 3);
    // Nothing was written to the embedded store.
    assert!(!data.path().join("store.db").exists());
}
