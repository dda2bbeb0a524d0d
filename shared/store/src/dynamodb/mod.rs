//! The production `Table` adapter: [`DynamoTable`] implements the port on one DynamoDB table
//! with `aws-sdk-dynamodb`, passing the same conformance suite as the SQLite adapter.
//!
//! One idea per file: `attrs` converts values, `expression` renders conditions, updates and key
//! conditions with placeholders, `cursor` turns LastEvaluatedKey into opaque cursors (encoded by
//! the shared [`crate::cursor`]), `retry` resends unprocessed batch entries, `errors` maps
//! DynamoDB's errors to the port's, `schema` defines and creates the table, `table` is the
//! adapter. The port's limits are enforced before any request (emulators do not) by
//! [`crate::limits`], shared with the SQLite adapter. The client's configuration comes from
//! [`crate::aws`] ([`sdk_config`] is re-exported here).
//!
//! ```no_run
//! # async fn example() -> Result<(), crm_store::table::TableError> {
//! use crm_store::dynamodb::{DynamoTable, create_table_if_missing, sdk_config};
//! let config = sdk_config(Some("http://127.0.0.1:5000")).await;
//! let client = crm_store::dynamodb::Client::new(&config);
//! create_table_if_missing(&client, "crm").await?;
//! let table = DynamoTable::new(client, "crm");
//! # Ok(()) }
//! ```

mod attrs;
mod cursor;
mod errors;
mod expression;
mod retry;
mod schema;
mod table;

pub use crate::aws::{DEFAULT_REGION, sdk_config};
pub use aws_sdk_dynamodb::Client;
pub use schema::{
    GSI1_NAME, GSI2_NAME, create_table_if_missing, table_definition, wait_until_active,
};
pub use table::DynamoTable;
