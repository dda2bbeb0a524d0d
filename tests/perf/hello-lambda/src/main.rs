//! Hello-world Lambda: the baseline the function binaries' start-to-ready time is compared with.
//! Same shape as their `main`s (tokio multi-threaded runtime, the runtime's default tracing
//! subscriber), minus configuration and the AWS SDK client.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
