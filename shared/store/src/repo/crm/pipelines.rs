//! Pipelines: versioned records listed from one index partition (a store holds a handful), and
//! the per-stage deal counters that make "a pipeline (stage) with deals cannot be removed" one
//! conditional write instead of a read that could race a new deal.

use std::collections::BTreeMap;
use std::sync::Arc;

use crm_domain::deals::Pipeline;
use crm_domain::time::Millis;
use serde::{Deserialize, Serialize};

use super::change::{Change, Expect};
use super::record::{Versioned, read_record, record_item};
use super::sales_keys as keys;
use crate::table::{
    Condition, Index, Query, SortKeyCondition, Table, TableError, TransactItem, Update, Value,
};

/// A store lists at most this many pipelines (one index page).
pub const MAX_PIPELINES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineRecord {
    #[serde(flatten)]
    pub pipeline: Pipeline,
    pub created_at: Millis,
    pub updated_at: Millis,
}

pub type StoredPipeline = Versioned<PipelineRecord>;

/// Indexes (into the [`Change`]) of a pipeline write's items, to tell its conflicts apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineWrite {
    /// The pipeline record itself (stale version, or exists already).
    pub record: usize,
    /// The deal counters: a removed stage (or the deleted pipeline) still holds deals.
    pub counters: Option<usize>,
}

#[derive(Clone)]
pub struct PipelineRepo {
    table: Arc<dyn Table>,
}

impl PipelineRepo {
    pub fn new(table: Arc<dyn Table>) -> PipelineRepo {
        PipelineRepo { table }
    }

    pub async fn get(&self, id: &str) -> Result<Option<StoredPipeline>, TableError> {
        read_record(&*self.table, &keys::pipeline(id)).await
    }

    /// Every pipeline, oldest first (ids are UUIDv7).
    pub async fn list(&self) -> Result<Vec<StoredPipeline>, TableError> {
        let page = self
            .table
            .query(Query {
                index: Some(Index::Gsi1),
                pk: keys::PIPELINES_INDEX_PK.to_owned(),
                sk: SortKeyCondition::Any,
                forward: true,
                limit: MAX_PIPELINES,
                cursor: None,
            })
            .await?;
        page.items
            .iter()
            .map(|item| {
                Ok(Versioned {
                    record: crate::repo::codec::decode(item)?,
                    version: crate::repo::codec::version(item),
                })
            })
            .collect()
    }

    /// Deals per stage id, from the counters.
    pub async fn deal_counts(&self, id: &str) -> Result<BTreeMap<String, i64>, TableError> {
        let Some(item) = self.table.get(&keys::deal_counts(id)).await? else {
            return Ok(BTreeMap::new());
        };
        Ok(item
            .attrs
            .iter()
            .filter_map(|(name, value)| {
                let stage = name.strip_prefix("n#")?;
                Some((stage.to_owned(), value.as_i64()?))
            })
            .collect())
    }
}

/// Whether the default pipeline was seeded already (see [`seed_items`]).
pub async fn default_seeded(table: &dyn Table) -> Result<bool, TableError> {
    Ok(table.get(&keys::default_seeded()).await?.is_some())
}

/// Adds a new pipeline: its record and its zeroed deal counters.
pub fn create_items(change: &mut Change, record: &PipelineRecord) -> Result<usize, TableError> {
    let id = &record.pipeline.id;
    let index = change.put(pipeline_item(record, 1)?, Expect::Absent);
    let zeros = record
        .pipeline
        .stages
        .iter()
        .map(|stage| (keys::stage_counter(&stage.id), 0))
        .collect();
    change.update(
        keys::deal_counts(id),
        Update {
            add: zeros,
            ..Update::default()
        },
        Expect::Absent,
    );
    Ok(index)
}

/// The first pipeline of a store, claimed by the seeded marker so that it is created once.
pub fn seed_items(change: &mut Change, record: &PipelineRecord) -> Result<usize, TableError> {
    change.put(
        crate::table::Item::new(keys::default_seeded())
            .with("pipeline", Value::S(record.pipeline.id.clone())),
        Expect::Absent,
    );
    create_items(change, record)
}

/// Replaces `before` with `after`: counters for new stages start at 0; removed stages must hold
/// no deals (else the counters' condition fails).
pub fn replace_items(
    change: &mut Change,
    before: &StoredPipeline,
    after: &PipelineRecord,
) -> Result<PipelineWrite, TableError> {
    let record = change.put(
        pipeline_item(after, before.version + 1)?,
        Expect::Version(before.version),
    );
    let removed = before.record.pipeline.removed_stage_ids(&after.pipeline);
    let added: Vec<(String, i64)> = after
        .pipeline
        .stages
        .iter()
        .filter(|stage| before.record.pipeline.stage(&stage.id).is_none())
        .map(|stage| (keys::stage_counter(&stage.id), 0))
        .collect();
    if removed.is_empty() && added.is_empty() {
        return Ok(PipelineWrite {
            record,
            counters: None,
        });
    }
    let condition = empty_stages(&removed);
    let counters = change.push(TransactItem::Update {
        key: keys::deal_counts(&after.pipeline.id),
        update: Update {
            add: added,
            remove: removed.iter().map(|id| keys::stage_counter(id)).collect(),
            ..Update::default()
        },
        condition,
    });
    Ok(PipelineWrite {
        record,
        counters: Some(counters),
    })
}

/// Deletes the pipeline, on condition that none of its stages holds a deal.
pub fn delete_items(change: &mut Change, current: &StoredPipeline) -> PipelineWrite {
    let pipeline = &current.record.pipeline;
    let record = change.delete(
        keys::pipeline(&pipeline.id),
        Expect::Version(current.version),
    );
    let stages: Vec<String> = pipeline.stages.iter().map(|s| s.id.clone()).collect();
    let counters = change.push(TransactItem::Delete {
        key: keys::deal_counts(&pipeline.id),
        condition: empty_stages(&stages),
    });
    PipelineWrite {
        record,
        counters: Some(counters),
    }
}

fn empty_stages(stage_ids: &[String]) -> Option<Condition> {
    (!stage_ids.is_empty()).then(|| {
        Condition::And(
            stage_ids
                .iter()
                .map(|id| Condition::AttrEquals(keys::stage_counter(id), Value::N(0)))
                .collect(),
        )
    })
}

pub fn pipeline_item(
    record: &PipelineRecord,
    version: i64,
) -> Result<crate::table::Item, TableError> {
    Ok(
        record_item(keys::pipeline(&record.pipeline.id), record, version)?
            .with("gsi1pk", Value::S(keys::PIPELINES_INDEX_PK.to_owned()))
            .with("gsi1sk", Value::S(record.pipeline.id.clone())),
    )
}
