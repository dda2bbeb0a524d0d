//! crm-store: how the CRM persists and queues, behind two small ports.
//!
//! The [`table::Table`] port is shaped like the subset of DynamoDB we use; the [`queue::Queue`]
//! port like SQS. Repositories are written once over the ports; adapters (SQLite here, DynamoDB and
//! SQS later) pass the same conformance suites. Never depends on HTTP or a Lambda/Worker runtime.

pub mod clock;
pub(crate) mod cursor;
pub mod env;
pub(crate) mod limits;
pub mod metered;
pub mod queue;
pub mod repo;
pub mod table;

#[cfg(feature = "sqlite")]
pub mod sqlite;

#[cfg(any(feature = "dynamodb", feature = "sqs"))]
pub mod aws;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
#[cfg(feature = "sqs")]
pub mod sqs;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
#[cfg(feature = "test-support")]
pub mod test_support;
