//! Retrying what a batch call left undone. BatchWriteItem and BatchGetItem succeed even when
//! DynamoDB processed only part of the request (throttling, the 16 MiB response cap): the rest
//! comes back as UnprocessedItems/UnprocessedKeys and must be sent again, after a backoff, or the
//! write is lost. The SDK retries failed calls, not these partial successes.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::BuildHasher;
use std::time::Duration;

use crate::table::{TableError, TableResult};

/// Exponential backoff with jitter between calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// Calls in all, the first included.
    pub(crate) max_calls: u32,
    /// The delay before the first retry; it doubles with each retry up to `max_delay`.
    pub(crate) first_delay: Duration,
    pub(crate) max_delay: Duration,
}

impl Backoff {
    /// About 5 s of retries at most: 50 ms, 100 ms, … capped at 2 s, over 8 calls.
    pub(crate) const UNPROCESSED: Backoff = Backoff {
        max_calls: 8,
        first_delay: Duration::from_millis(50),
        max_delay: Duration::from_secs(2),
    };

    /// The delay before retry number `retry` (1 for the first): between half and all of the
    /// exponential step, so that writers throttled together do not come back together.
    fn delay(&self, retry: u32) -> Duration {
        let step = self
            .first_delay
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max_delay);
        let half = step / 2;
        let random = RandomState::new().hash_one(retry);
        let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(random % jitter_nanos.max(1))
    }
}

/// Calls `call` with `work`, then again with whatever it reports unprocessed, sleeping per
/// `backoff` in between, until nothing is left; collects what each call returns. Gives up with
/// `Unavailable` after `backoff.max_calls` calls. An error of a call ends the loop at once.
pub(crate) async fn until_processed<W, T, F, Fut>(
    operation: &str,
    work: W,
    backoff: Backoff,
    mut call: F,
) -> TableResult<Vec<T>>
where
    F: FnMut(W) -> Fut,
    Fut: Future<Output = TableResult<(Vec<T>, Option<W>)>>,
{
    let mut results = Vec::new();
    let mut pending = Some(work);
    let mut calls = 0;
    while let Some(work) = pending.take() {
        if calls == backoff.max_calls {
            return Err(TableError::Unavailable(format!(
                "{operation}: part of the batch was still unprocessed after {calls} calls"
            )));
        }
        if calls > 0 {
            let delay = backoff.delay(calls);
            tracing::debug!(
                operation,
                retry = calls,
                ?delay,
                "retrying unprocessed batch entries"
            );
            tokio::time::sleep(delay).await;
        }
        calls += 1;
        let (done, left) = call(work).await?;
        results.extend(done);
        pending = left;
    }
    Ok(results)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    const FAST: Backoff = Backoff {
        max_calls: 4,
        first_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
    };

    /// A fake batch call that processes at most `per_call` entries each time, as a throttled
    /// table does, and records what it was sent.
    async fn partial(
        sent: &Mutex<Vec<Vec<u32>>>,
        work: Vec<u32>,
        per_call: usize,
    ) -> TableResult<(Vec<u32>, Option<Vec<u32>>)> {
        sent.lock().unwrap().push(work.clone());
        let (done, left) = work.split_at(per_call.min(work.len()));
        Ok((done.to_vec(), (!left.is_empty()).then(|| left.to_vec())))
    }

    #[tokio::test]
    async fn unprocessed_entries_are_sent_again_until_all_are_processed() {
        let sent = Mutex::new(Vec::new());
        let done = until_processed("BatchWriteItem", vec![1, 2, 3, 4, 5], FAST, |work| {
            partial(&sent, work, 2)
        })
        .await
        .unwrap();
        assert_eq!(done, vec![1, 2, 3, 4, 5]);
        assert_eq!(
            sent.into_inner().unwrap(),
            vec![vec![1, 2, 3, 4, 5], vec![3, 4, 5], vec![5]]
        );
    }

    #[tokio::test]
    async fn a_batch_never_fully_processed_gives_up_as_unavailable() {
        let sent = Mutex::new(Vec::new());
        let result = until_processed("BatchGetItem", vec![1, 2, 3, 4, 5, 6, 7], FAST, |work| {
            partial(&sent, work, 1)
        })
        .await;
        assert!(matches!(result, Err(TableError::Unavailable(_))));
        assert_eq!(
            sent.into_inner().unwrap().len(),
            4,
            "max_calls calls, no more"
        );
    }

    #[tokio::test]
    async fn an_error_ends_the_retries_at_once() {
        let mut calls = 0;
        let result: TableResult<Vec<u32>> =
            until_processed("BatchWriteItem", vec![1], FAST, |_| {
                calls += 1;
                async { Err(TableError::Invalid("refused".to_owned())) }
            })
            .await;
        assert_eq!(result, Err(TableError::Invalid("refused".to_owned())));
        assert_eq!(calls, 1);
    }

    #[test]
    fn delays_grow_exponentially_with_jitter_up_to_the_cap() {
        let backoff = Backoff::UNPROCESSED;
        for retry in 1..=10 {
            let step = Duration::from_millis(50 * 2u64.pow(retry - 1)).min(backoff.max_delay);
            let delay = backoff.delay(retry);
            assert!(
                delay >= step / 2 && delay <= step,
                "retry {retry}: {delay:?}"
            );
        }
    }
}
