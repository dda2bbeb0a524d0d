//! DynamoDB's errors as the port's: a failed condition is `ConditionFailed`, a transaction
//! cancelled by conditions is `TransactionCanceled` with the positions that failed, a request
//! DynamoDB can never accept is `Invalid`, and everything else (throttling that outlasted the
//! SDK's retries, 5xx, timeouts, a transaction conflict, a missing table or credentials) is
//! `Unavailable`, which callers may retry later.

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

use crate::table::TableError;

/// Error codes of requests that will never succeed as they are.
const INVALID_CODES: [&str; 3] = [
    "ValidationException",
    "SerializationException",
    "ItemCollectionSizeLimitExceededException",
];

/// The port's error for a failed call of `operation`.
pub(crate) fn from_sdk<E, R>(operation: &str, error: SdkError<E, R>) -> TableError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &error {
        SdkError::ServiceError(service) => {
            let service = service.err();
            classify(operation, service.code(), service.message())
        }
        SdkError::ConstructionFailure(_) => TableError::Invalid(format!(
            "{operation}: the request could not be built: {}",
            DisplayErrorContext(&error)
        )),
        _ => TableError::Unavailable(format!("{operation}: {}", DisplayErrorContext(&error))),
    }
}

/// The port's error for a service error `code` (with its `message`).
pub(crate) fn classify(operation: &str, code: Option<&str>, message: Option<&str>) -> TableError {
    let message = message.unwrap_or("no message");
    match code {
        Some("ConditionalCheckFailedException") => TableError::ConditionFailed,
        Some(code) if INVALID_CODES.contains(&code) => {
            TableError::Invalid(format!("{operation}: {message}"))
        }
        Some(code) => TableError::Unavailable(format!("{operation}: {code}: {message}")),
        None => TableError::Unavailable(format!("{operation}: {message}")),
    }
}

pub(crate) fn from_transact(error: SdkError<TransactWriteItemsError>) -> TableError {
    if let SdkError::ServiceError(service) = &error
        && let TransactWriteItemsError::TransactionCanceledException(cancelled) = service.err()
    {
        let codes = cancelled
            .cancellation_reasons()
            .iter()
            .map(|reason| reason.code());
        return cancellation(codes, cancelled.message());
    }
    from_sdk("TransactWriteItems", error)
}

/// A cancelled transaction, from its per-item cancellation reason codes (in request order):
/// conditions that did not hold are reported by position; otherwise an item DynamoDB refused
/// makes the request invalid; anything else (a conflicting transaction, throttling) is transient.
pub(crate) fn cancellation<'a>(
    codes: impl IntoIterator<Item = Option<&'a str>>,
    message: Option<&str>,
) -> TableError {
    let codes: Vec<Option<&str>> = codes.into_iter().collect();
    let failed: Vec<usize> = codes
        .iter()
        .enumerate()
        .filter(|(_, code)| **code == Some("ConditionalCheckFailed"))
        .map(|(position, _)| position)
        .collect();
    if !failed.is_empty() {
        return TableError::TransactionCanceled { failed };
    }
    let message = message.unwrap_or("the transaction was cancelled");
    if codes.contains(&Some("ValidationError")) {
        return TableError::Invalid(format!("TransactWriteItems: {message}"));
    }
    TableError::Unavailable(format!("TransactWriteItems: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes_map_to_the_port_errors() {
        assert_eq!(
            classify("PutItem", Some("ConditionalCheckFailedException"), None),
            TableError::ConditionFailed
        );
        for code in INVALID_CODES {
            assert!(matches!(
                classify("PutItem", Some(code), Some("bad")),
                TableError::Invalid(_)
            ));
        }
        for code in [
            Some("ProvisionedThroughputExceededException"),
            Some("ThrottlingException"),
            Some("RequestLimitExceeded"),
            Some("InternalServerError"),
            Some("ResourceNotFoundException"),
            Some("TransactionConflictException"),
            None,
        ] {
            assert!(
                classify("PutItem", code, None).is_retryable(),
                "{code:?} should be retryable"
            );
        }
    }

    #[test]
    fn cancellations_report_the_conditions_that_failed_by_position() {
        let codes = [
            Some("None"),
            Some("ConditionalCheckFailed"),
            None,
            Some("ConditionalCheckFailed"),
        ];
        assert_eq!(
            cancellation(codes, None),
            TableError::TransactionCanceled { failed: vec![1, 3] }
        );
    }

    #[test]
    fn cancellations_without_failed_conditions_are_transient_or_invalid() {
        let conflict = cancellation([Some("None"), Some("TransactionConflict")], None);
        assert!(conflict.is_retryable());
        let throttled = cancellation([Some("ThrottlingError")], None);
        assert!(throttled.is_retryable());
        let refused = cancellation([Some("ValidationError"), Some("None")], Some("too large"));
        assert!(matches!(refused, TableError::Invalid(_)));
        assert!(cancellation([], None).is_retryable());
    }
}
