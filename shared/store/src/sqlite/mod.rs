//! The embedded adapters: [`SqliteTable`] implements the `Table` port and [`SqliteQueue`] the
//! `Queue` port on SQLite (WAL mode, `synchronous=FULL`), mirroring DynamoDB's and SQS's
//! semantics and limits so that code tested here behaves the same on AWS. Blocking SQLite calls
//! run on tokio's blocking pool, never on the async executor.
//!
//! One idea per file: `connection` opens a database and runs work on it, `schema` creates the
//! tables, `expression` evaluates conditions and updates, `attrs` stores attributes, `query`
//! reads pages, `table` and `queue` are the adapters, `messages` holds the queue's SQL.
//! DynamoDB's request limits ([`crate::limits`]) and the page cursors ([`crate::cursor`]) are
//! shared with the DynamoDB adapter.

mod attrs;
mod connection;
mod expression;
mod messages;
mod query;
mod queue;
mod schema;
mod table;

pub use connection::OpenError;
pub use queue::{QueueCounts, RedrivePolicy, SqliteQueue};
pub use table::SqliteTable;
