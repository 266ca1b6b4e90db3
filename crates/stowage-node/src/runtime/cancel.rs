//! Cancelling native work that waits on something outside our control.
//!
//! A read of a stalled body or a part upload over a stalled connection would otherwise
//! hold its handle's lock until the read timeout fires (30 s by default), and an abort
//! queued behind that lock would wait just as long. An operation that can be cancelled
//! races its work against its `Cancel`; the losing work is dropped, which releases the
//! lock and closes the connection at once.

use std::future::Future;

use tokio::sync::watch;

use crate::error::{ErrorCode, StorageFailure, StorageResult};

/// A flag that, once raised, makes every `run` of it fail with `ABORTED` at once.
pub struct Cancel {
    raised: watch::Sender<bool>,
}

impl Default for Cancel {
    fn default() -> Self {
        Self {
            raised: watch::Sender::new(false),
        }
    }
}

impl Cancel {
    /// Cancel the work in flight and every later `run`.
    pub fn raise(&self) {
        self.raised.send_replace(true);
    }

    /// `work`, unless the flag is raised first (or was already): then `ABORTED`, and
    /// `work` is dropped where it stands.
    pub async fn run<T>(&self, work: impl Future<Output = StorageResult<T>>) -> StorageResult<T> {
        let mut raised = self.raised.subscribe();
        tokio::select! {
            biased;
            _ = raised.wait_for(|raised| *raised) => Err(aborted()),
            outcome = work => outcome,
        }
    }
}

/// The failure of cancelled work.
pub fn aborted() -> StorageFailure {
    StorageFailure::new(ErrorCode::Aborted, "the operation was aborted")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn raising_stops_work_that_never_finishes() {
        let cancel = Arc::new(Cancel::default());
        let raiser = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            raiser.raise();
        });
        let outcome = cancel
            .run(futures::future::pending::<StorageResult<()>>())
            .await;
        assert_eq!(outcome.unwrap_err().code, ErrorCode::Aborted);
        // Once raised, later work is refused too, even work that is ready.
        assert!(cancel.run(async { Ok(1) }).await.is_err());
    }

    #[tokio::test]
    async fn unraised_work_runs_to_its_end() {
        let cancel = Cancel::default();
        assert_eq!(cancel.run(async { Ok(7) }).await, Ok(7));
    }
}
