//! `crm-local job retention|segments --now … --data-dir …` end to end, against the data of a
//! running server: what each job prints and what the admin API shows afterwards.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use support::{LocalServer, beacon};

/// Runs `crm-local job {job}` as of `now`; returns its report lines (the JSON objects printed).
fn run_job(data_dir: &Path, job: &str, now: &str) -> Vec<Value> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_crm-local"))
        .args(["job", job, "--now", now, "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("crm-local job runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|report| report["job"] == job)
        .collect()
}

fn total(reports: &[Value], field: &str) -> u64 {
    reports
        .iter()
        .map(|report| report[field].as_u64().unwrap_or(0))
        .sum()
}

fn time_after_days(days: i64) -> String {
    let moment = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    moment
        .format(&time::format_description::well_known::Rfc3339)
        .expect("an RFC 3339 instant")
}

#[test]
fn the_retention_job_anonymizes_a_session_once_the_site_keeps_it_no_longer() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = LocalServer::start(data.path());
    let (status, _) = server.post_beacon(&beacon("visitor-s", "s1", 2));
    assert_eq!(status, 202);
    let visitor = server.wait_for(Duration::from_secs(2), |server| {
        let page = server.admin_get("/api/admin/behavior/visitors?site=demo");
        page["data"].as_array()?.first()?["id"]
            .as_str()
            .map(str::to_owned)
    });
    let sessions = |server: &LocalServer| {
        let detail = server.admin_get(&format!("/api/admin/behavior/visitors/{visitor}?site=demo"));
        detail["data"]["session_list"]
            .as_array()
            .map_or(0, Vec::len)
    };
    assert_eq!(sessions(&server), 1);

    let within = run_job(data.path(), "retention", &time_after_days(179));
    assert_eq!(total(&within, "sessions_anonymized"), 0, "{within:?}");
    assert_eq!(sessions(&server), 1);

    let past = run_job(data.path(), "retention", &time_after_days(181));
    assert_eq!(total(&past, "sessions_anonymized"), 1, "{past:?}");
    assert_eq!(sessions(&server), 0, "the visitor no longer has it");
    let page = server.admin_get("/api/admin/behavior/visitors?site=demo");
    assert_eq!(
        page["data"].as_array().map(Vec::len),
        Some(1),
        "the profile stays"
    );

    let again = run_job(data.path(), "retention", &time_after_days(181));
    assert_eq!(total(&again, "sessions_anonymized"), 0, "{again:?}");
}

#[test]
fn the_segments_job_brings_a_dynamic_segment_up_to_date_with_its_rules_and_contacts() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = LocalServer::start(data.path());
    let mut ids = Vec::new();
    for (email, company) in [("ada@acme.example", "Acme"), ("bob@beta.example", "Beta")] {
        let (status, created) = server.admin_send(
            "POST",
            "/api/admin/crm/contacts",
            &json!({"email": email, "company": company}),
        );
        assert_eq!(status, 201, "{created}");
        ids.push(
            created["data"]["id"]
                .as_str()
                .expect("contact id")
                .to_owned(),
        );
    }
    let (status, segment) = server.admin_send(
        "POST",
        "/api/admin/crm/segments",
        &json!({"name": "Acme people", "kind": "dynamic",
                "rules": {"all": [{"field": "company", "op": "eq", "value": "acme"}]}}),
    );
    assert_eq!(status, 201, "{segment}");
    let segment = segment["data"]["id"]
        .as_str()
        .expect("segment id")
        .to_owned();
    let members = |server: &LocalServer| -> Vec<String> {
        let page = server.admin_get(&format!("/api/admin/crm/segments/{segment}/contacts"));
        page["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|member| member["contact_id"].as_str().map(str::to_owned))
            .collect()
    };

    let first = run_job(data.path(), "segments", &time_after_days(0));
    assert_eq!(
        (
            total(&first, "members_added"),
            total(&first, "members_removed")
        ),
        (1, 0),
        "{first:?}"
    );
    assert_eq!(members(&server), [ids[0].clone()]);

    // A contact edited through the API joins at once: the server's own write path.
    let (status, patched) = server.admin_send(
        "PATCH",
        &format!("/api/admin/crm/contacts/{}", ids[1]),
        &json!({"company": "ACME"}),
    );
    assert_eq!(status, 200, "{patched}");
    assert_eq!(members(&server), ids);

    // Rules edited: nobody is at Beta any more; the job recomputes every membership.
    let (status, edited) = server.admin_send(
        "PATCH",
        &format!("/api/admin/crm/segments/{segment}"),
        &json!({"rules": {"all": [{"field": "company", "op": "eq", "value": "beta"}]}}),
    );
    assert_eq!(status, 200, "{edited}");
    let second = run_job(data.path(), "segments", &time_after_days(0));
    assert_eq!(
        (
            total(&second, "members_added"),
            total(&second, "members_removed")
        ),
        (0, 2),
        "{second:?}"
    );
    assert_eq!(members(&server), Vec::<String>::new());

    let third = run_job(data.path(), "segments", &time_after_days(0));
    assert_eq!(
        (
            total(&third, "members_added"),
            total(&third, "members_removed")
        ),
        (0, 0)
    );
}
