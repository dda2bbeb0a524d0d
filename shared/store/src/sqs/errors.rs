//! SQS's errors as the port's: a request SQS can never accept is `Invalid`; throttling that
//! outlasted the SDK's retries, 5xx, timeouts, a missing queue or credentials are `Unavailable`.

use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::queue::QueueError;

/// Error codes of requests that will never succeed as they are (SQS's JSON and query names).
const INVALID_CODES: [&str; 10] = [
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "MissingParameter",
    "InvalidMessageContents",
    "BatchEntryIdsNotDistinct",
    "TooManyEntriesInBatchRequest",
    "BatchRequestTooLong",
    "InvalidBatchEntryId",
    "EmptyBatchRequest",
    "InvalidAttributeValue",
];

/// Whether `code` names a missing queue (the JSON protocol and the query protocol differ).
pub(crate) fn is_missing_queue(code: Option<&str>) -> bool {
    code.is_some_and(|code| {
        code.ends_with("NonExistentQueue") || code.ends_with("QueueDoesNotExist")
    })
}

pub(crate) fn from_sdk<E, R>(operation: &str, error: SdkError<E, R>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &error {
        SdkError::ServiceError(service) => {
            let service = service.err();
            classify(operation, service.code(), service.message())
        }
        SdkError::ConstructionFailure(_) => QueueError::Invalid(format!(
            "{operation}: the request could not be built: {}",
            DisplayErrorContext(&error)
        )),
        _ => QueueError::Unavailable(format!("{operation}: {}", DisplayErrorContext(&error))),
    }
}

pub(crate) fn classify(operation: &str, code: Option<&str>, message: Option<&str>) -> QueueError {
    let message = message.unwrap_or("no message");
    match code {
        Some(code) if INVALID_CODES.iter().any(|invalid| code.ends_with(invalid)) => {
            QueueError::Invalid(format!("{operation}: {code}: {message}"))
        }
        Some(code) => QueueError::Unavailable(format!("{operation}: {code}: {message}")),
        None => QueueError::Unavailable(format!("{operation}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_invalid_and_everything_else_unavailable() {
        assert!(matches!(
            classify(
                "SendMessageBatch",
                Some("AWS.SimpleQueueService.BatchRequestTooLong"),
                None
            ),
            QueueError::Invalid(_)
        ));
        assert!(matches!(
            classify("ReceiveMessage", Some("InvalidParameterValue"), Some("bad")),
            QueueError::Invalid(_)
        ));
        for code in [
            Some("RequestThrottled"),
            Some("InternalError"),
            Some("QueueDoesNotExist"),
            None,
        ] {
            assert!(matches!(
                classify("ReceiveMessage", code, None),
                QueueError::Unavailable(_)
            ));
        }
        assert!(is_missing_queue(Some(
            "AWS.SimpleQueueService.NonExistentQueue"
        )));
        assert!(is_missing_queue(Some("QueueDoesNotExist")));
        assert!(!is_missing_queue(Some("InternalError")));
    }
}
