//! Panics become failures: the runtime's entry points (`runtime/promise.rs`) run every
//! operation through `catch_panic`, so a panic rejects its promise with a `GENERIC`
//! `StorageError` instead of ending the process. No operation can opt out.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

use crate::error::{StorageFailure, StorageResult};

/// Await `fut`, turning a panic into a `GENERIC` failure.
pub async fn catch_panic<T>(fut: impl Future<Output = StorageResult<T>>) -> StorageResult<T> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(panic_failure(panic.as_ref())),
    }
}

/// The failure a caught panic becomes.
pub fn panic_failure(panic: &(dyn std::any::Any + Send)) -> StorageFailure {
    StorageFailure::generic(format!(
        "internal error in stowage (panic): {}",
        panic_message(panic)
    ))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[tokio::test]
    async fn a_panic_becomes_a_generic_failure() {
        let failure = catch_panic(async { panic!("boom") as StorageResult<()> })
            .await
            .unwrap_err();
        assert_eq!(failure.code, ErrorCode::Generic);
        assert!(failure.message.contains("boom"), "{}", failure.message);
        assert_eq!(catch_panic(async { Ok(7) }).await, Ok(7));
    }
}
