//! The production `Queue` adapter: [`SqsQueue`] implements the port on an SQS standard queue
//! with `aws-sdk-sqs`, passing the same conformance suite as the SQLite queue.
//!
//! One idea per file: [`sdk_config`] (re-exported from [`crate::aws`]) loads the AWS
//! configuration, `batches` checks and splits sends as SQS requires, `errors` maps SQS's errors
//! to the port's, `setup` creates a queue and its dead-letter queue, `queue` is the adapter.
//!
//! ```no_run
//! # async fn example() -> Result<(), crm_store::queue::QueueError> {
//! use crm_store::sqs::{SqsQueue, create_queue_with_dead_letter_if_missing, sdk_config};
//! let config = sdk_config(None).await;
//! let client = crm_store::sqs::Client::new(&config);
//! let (events_url, _dead_letters_url) =
//!     create_queue_with_dead_letter_if_missing(&client, "crm-events", "crm-events-dlq", 5).await?;
//! let events = SqsQueue::new(client, events_url);
//! # Ok(()) }
//! ```

mod batches;
mod errors;
mod queue;
mod setup;

pub use crate::aws::{DEFAULT_REGION, sdk_config};
pub use aws_sdk_sqs::Client;
pub use queue::SqsQueue;
pub use setup::create_queue_with_dead_letter_if_missing;
