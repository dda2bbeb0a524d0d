//! The SQS trigger: an `SqsEvent` in, a partial batch response out, so that only the messages
//! that failed are retried (and dead-lettered after the queue's maximum receives).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;

use crate::{IncomingMessage, ScorerDeps, process_batch};

pub async fn handle_sqs_event(
    event: LambdaEvent<SqsEvent>,
    deps: &ScorerDeps,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let mut response = SqsBatchResponse::default();
    let mut messages = Vec::with_capacity(event.payload.records.len());
    for record in event.payload.records {
        match (record.message_id, record.body) {
            (Some(transport_id), Some(body)) => {
                messages.push(IncomingMessage { transport_id, body })
            }
            (Some(transport_id), None) => {
                tracing::error!(message_id = %transport_id, "SQS record without a body");
                response.add_failure(transport_id);
            }
            (None, _) => tracing::error!("SQS record without a message id cannot be reported"),
        }
    }
    let report = process_batch(deps, &messages).await;
    for transport_id in report.failed {
        response.add_failure(transport_id);
    }
    Ok(response)
}
