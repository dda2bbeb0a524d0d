//! Conformance suites for the ports: the same assertions run against every adapter (SQLite here;
//! DynamoDB and SQS later), so an embedded store can never drift from what production does.
//!
//! The suites assert only what DynamoDB and SQS actually guarantee: no order among messages, no
//! exact page sizes (DynamoDB may end a page early or return a cursor before an empty page),
//! receives that may return fewer messages than available (so every receive is in a loop), and
//! waits in whole seconds. Each case is a `pub async fn` taking a fresh port, so a failing case can
//! be run alone; `run_all` runs them in turn and panics naming the case that failed. Cases keep to
//! tens of writes: the DynamoDB emulator manages about 300 writes a second.
//!
//! Compiled for this crate's tests and with the `conformance` feature; never in production code.

pub mod queue;
mod support;
pub mod table;

use std::any::Any;
use std::future::Future;
use std::pin::Pin;

/// A case's future, boxed so cases of different types fit in one list.
pub type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Runs one case on its own task so that its panic can be reported with the case's name.
pub(crate) async fn run_case(suite: &str, name: &str, case: CaseFuture) {
    tracing::info!(suite, case = name, "conformance case");
    match tokio::spawn(case).await {
        Ok(()) => {}
        Err(error) if error.is_panic() => {
            let message = panic_message(error.into_panic());
            panic!("{suite} conformance case `{name}` failed: {message}");
        }
        Err(error) => panic!("{suite} conformance case `{name}` did not finish: {error}"),
    }
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(message) => (*message).to_owned(),
            Err(_) => "(a panic without a message)".to_owned(),
        },
    }
}
