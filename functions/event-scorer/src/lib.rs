//! event-scorer: applies a batch of queue messages to the store, idempotently.
//!
//! Messages are grouped per visitor; each group is folded by `crm_domain::scoring`, and the
//! batch's folds are committed together as one transaction whose profile writes are each
//! conditional on the version read, with the site counters they add held as pending counters
//! until a roll-up. Redelivered messages are skipped because the profile remembers the ids it
//! applied. A message that cannot be applied is reported as failed, alone, so the queue retries
//! it and finally dead-letters it. After the commit, the consented `identify` requests of the
//! committed visitors link those visitors to contacts (`identity`), and the contacts linked to
//! the batch's visitors are rescored (`rescore`, best effort).
//! Transport (SQS, the embedded queue) and runtime (Lambda, crm-local) stay outside this crate.

mod batch;
mod commit;
mod identity;
#[cfg(feature = "lambda")]
pub mod lambda;
mod rescore;
mod visitor;

pub use batch::{BatchReport, IncomingMessage, ScorerDeps, process_batch};
