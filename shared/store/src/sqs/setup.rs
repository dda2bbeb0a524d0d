//! Creating the events queue and its dead-letter queue when they are missing (crm-local's
//! `--create-missing`, the emulator tests). Production creates them from `infra/template.yaml`,
//! which must declare the same: the dead-letter queue keeps messages 14 days, and the queue's
//! RedrivePolicy moves a message there once it was received `max_receives` times.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;

use super::batches::is_sqs_word;
use super::errors::{from_sdk, is_missing_queue};
use crate::queue::QueueError;

const MAX_QUEUE_NAME_CHARS: usize = 80;
/// SQS's range for a RedrivePolicy's maxReceiveCount.
const MAX_RECEIVES: u32 = 1000;
/// The dead-letter queue keeps what it holds as long as SQS allows: 14 days.
const DEAD_LETTER_RETENTION_SECONDS: &str = "1209600";

/// Returns the URLs of the queue `name` and its dead-letter queue `dead_letter_name`, creating
/// each that does not exist: the dead-letter queue first (retention 14 days), then the queue with
/// a RedrivePolicy to it after `max_receives` receives. Existing queues are used as they are; an
/// existing queue without that RedrivePolicy is reported in the log, not changed.
pub async fn create_queue_with_dead_letter_if_missing(
    client: &Client,
    name: &str,
    dead_letter_name: &str,
    max_receives: u32,
) -> Result<(String, String), QueueError> {
    for queue in [name, dead_letter_name] {
        if !is_sqs_word(queue, MAX_QUEUE_NAME_CHARS) {
            return Err(QueueError::Invalid(format!(
                "queue name {queue:?} must be 1 to {MAX_QUEUE_NAME_CHARS} letters, digits, '-' or '_'"
            )));
        }
    }
    if name == dead_letter_name {
        return Err(QueueError::Invalid(format!(
            "queue {name} cannot be its own dead-letter queue"
        )));
    }
    if !(1..=MAX_RECEIVES).contains(&max_receives) {
        return Err(QueueError::Invalid(format!(
            "max_receives {max_receives} is outside 1..={MAX_RECEIVES}"
        )));
    }
    let dead_letter_url = match queue_url(client, dead_letter_name).await? {
        Some(url) => url,
        None => {
            create(
                client,
                dead_letter_name,
                QueueAttributeName::MessageRetentionPeriod,
                DEAD_LETTER_RETENTION_SECONDS.to_owned(),
            )
            .await?
        }
    };
    let dead_letter_arn = queue_arn(client, &dead_letter_url).await?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": max_receives.to_string(),
    })
    .to_string();
    let url = match queue_url(client, name).await? {
        Some(url) => {
            warn_without_redrive(client, &url, &dead_letter_arn).await?;
            url
        }
        None => create(client, name, QueueAttributeName::RedrivePolicy, redrive).await?,
    };
    Ok((url, dead_letter_url))
}

async fn queue_url(client: &Client, name: &str) -> Result<Option<String>, QueueError> {
    match client.get_queue_url().queue_name(name).send().await {
        Ok(output) => Ok(output.queue_url),
        Err(error)
            if error.as_service_error().is_some_and(|service| {
                service.is_queue_does_not_exist()
                    || is_missing_queue(aws_sdk_sqs::error::ProvideErrorMetadata::code(service))
            }) =>
        {
            Ok(None)
        }
        Err(error) => Err(from_sdk("GetQueueUrl", error)),
    }
}

async fn create(
    client: &Client,
    name: &str,
    attribute: QueueAttributeName,
    value: String,
) -> Result<String, QueueError> {
    let output = client
        .create_queue()
        .queue_name(name)
        .attributes(attribute, value)
        .send()
        .await
        .map_err(|error| from_sdk("CreateQueue", error))?;
    tracing::info!(queue = name, "created the SQS queue");
    output
        .queue_url
        .ok_or_else(|| QueueError::Unavailable(format!("CreateQueue returned no URL for {name}")))
}

async fn queue_arn(client: &Client, url: &str) -> Result<String, QueueError> {
    let output = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|error| from_sdk("GetQueueAttributes", error))?;
    output
        .attributes
        .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| QueueError::Unavailable(format!("SQS returned no ARN for {url}")))
}

async fn warn_without_redrive(
    client: &Client,
    url: &str,
    dead_letter_arn: &str,
) -> Result<(), QueueError> {
    let output = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .map_err(|error| from_sdk("GetQueueAttributes", error))?;
    let policy = output
        .attributes()
        .and_then(|attributes| attributes.get(&QueueAttributeName::RedrivePolicy));
    if !policy.is_some_and(|policy| policy.contains(dead_letter_arn)) {
        tracing::warn!(
            queue = url,
            dead_letter = dead_letter_arn,
            "the existing queue does not redrive to this dead-letter queue; poison messages may be retried forever"
        );
    }
    Ok(())
}
