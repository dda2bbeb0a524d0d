//! The `Table` conformance suite: what every adapter must do the way DynamoDB does it.
//!
//! An adapter's test calls [`run_all`] with a function that makes a fresh, empty table:
//! `conformance::table::run_all(|| async { Arc::new(MyTable::new()) as Arc<dyn Table> }).await`.
//! Reads of the secondary indexes are polled until they settle, as DynamoDB's indexes are
//! eventually consistent; reads by key are strongly consistent.

mod batches;
mod items;
mod queries;
mod values;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use batches::*;
pub use items::*;
pub use queries::*;
pub use values::*;

use super::support::s;
use super::{CaseFuture, run_case};
use crate::table::{Item, Key, Query, SortKeyCondition, Table, WriteRequest};

/// One case: takes a fresh table, panics when the adapter misbehaves.
pub type TableCase = fn(Arc<dyn Table>) -> CaseFuture;

/// How long an index may take to show a write.
const INDEX_SETTLE: Duration = Duration::from_secs(10);

macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        vec![$((stringify!($case), (|table| Box::pin($case(table)) as CaseFuture) as TableCase)),*]
    };
}

/// Every case, by name.
pub fn cases() -> Vec<(&'static str, TableCase)> {
    cases![
        get_returns_none_for_a_missing_item_and_the_item_when_present,
        put_replaces_the_whole_item,
        put_if_not_exists_fails_on_an_existing_item_and_leaves_it_unchanged,
        put_conditions_on_attributes_are_checked_against_the_stored_item,
        update_creates_a_missing_item_and_returns_it,
        update_add_starts_from_zero_and_accumulates,
        concurrent_adds_are_atomic,
        update_sets_and_removes_and_returns_the_whole_item,
        update_with_a_failed_condition_changes_nothing,
        update_refuses_add_on_a_non_number_and_changes_to_the_key,
        delete_with_and_without_a_condition,
        query_applies_sort_key_conditions_in_both_directions,
        query_pages_through_a_partition_exactly_once_in_order,
        index_queries_are_sparse_and_paginate,
        index_items_with_equal_sort_keys_page_without_loss_or_repetition,
        tampered_cursors_are_invalid,
        batch_write_puts_and_deletes,
        batch_write_of_more_than_25_requests_is_invalid,
        batches_with_duplicate_keys_are_invalid,
        batch_get_returns_only_existing_items,
        transact_write_is_all_or_nothing,
        transact_write_refuses_duplicate_keys_and_more_than_100_items,
        items_over_400_kib_are_invalid,
        values_of_every_type_round_trip,
        keys_sort_by_utf8_bytes,
        invalid_requests_are_refused,
    ]
}

/// Runs every case, each against a fresh table from `make`; panics naming the first that fails.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Table>>,
{
    for (name, case) in cases() {
        let table = make().await;
        run_case("table", name, case(table)).await;
    }
}

fn puts(pk: &str, sort_keys: &[&str]) -> Vec<WriteRequest> {
    sort_keys
        .iter()
        .map(|sk| WriteRequest::Put(Item::new(Key::new(pk, *sk)).with("sk-copy", s(sk))))
        .collect()
}

fn query(pk: &str, sk: SortKeyCondition, forward: bool, limit: usize) -> Query {
    Query {
        index: None,
        pk: pk.to_owned(),
        sk,
        forward,
        limit,
        cursor: None,
    }
}

fn reversed(items: &[&str]) -> Vec<String> {
    items.iter().rev().map(|item| (*item).to_owned()).collect()
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}
