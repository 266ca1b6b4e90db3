//! `head`: an object's metadata, without its bytes.

use std::sync::Arc;

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use object_store::ObjectStoreExt;

use crate::error::StorageResult;
use crate::meta::NativeObjectMeta;
use crate::store::{NativeStore, StoreInner};

#[napi]
impl NativeStore {
    /// Metadata of an object, without its bytes.
    #[napi]
    pub fn head<'env>(
        &self,
        env: &'env Env,
        path: String,
    ) -> napi::Result<PromiseRaw<'env, NativeObjectMeta>> {
        self.run(env, head_object(self.inner.clone(), path))
    }
}

/// The work of `head`, whichever runtime starts it (see `runtime/comparison.rs`).
pub(crate) async fn head_object(
    inner: Arc<StoreInner>,
    path: String,
) -> StorageResult<NativeObjectMeta> {
    let path = inner.key(&path)?;
    Ok(inner.store.head(&path).await?.into())
}
