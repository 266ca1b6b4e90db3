//! `delete`: one object or many; deleting what is already gone succeeds.

use futures::StreamExt;
use napi::bindgen_prelude::{Either, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use object_store::ObjectStoreExt;

use crate::error::{ErrorCode, StorageFailure, StorageResult};
use crate::store::NativeStore;

/// Deleting what is already gone succeeds, as on S3, whatever the backend.
fn ignore_missing(result: object_store::Result<()>) -> StorageResult<()> {
    match result.map_err(StorageFailure::from) {
        Err(failure) if failure.code == ErrorCode::NotFound => Ok(()),
        other => other,
    }
}

#[napi]
impl NativeStore {
    /// Delete one object or many (batched where the backend allows).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete<'env>(
        &self,
        env: &'env Env,
        paths: Either<String, Vec<String>>,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        self.run(env, async move {
            let paths = match paths {
                Either::A(one) => vec![one],
                Either::B(many) => many,
            };
            let paths = paths
                .iter()
                .map(|p| inner.key(p))
                .collect::<StorageResult<Vec<_>>>()?;
            if let [only] = paths.as_slice() {
                return ignore_missing(inner.store.delete(only).await);
            }
            let locations = futures::stream::iter(paths.into_iter().map(Ok)).boxed();
            let mut results = inner.store.delete_stream(locations);
            while let Some(result) = results.next().await {
                ignore_missing(result.map(|_| ()))?;
            }
            Ok(())
        })
    }
}
