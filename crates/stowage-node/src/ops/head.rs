//! `head`: an object's metadata, without its bytes.

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use object_store::ObjectStoreExt;

use crate::meta::NativeObjectMeta;
use crate::store::NativeStore;

#[napi]
impl NativeStore {
    /// Metadata of an object, without its bytes.
    #[napi]
    pub fn head<'env>(
        &self,
        env: &'env Env,
        path: String,
    ) -> napi::Result<PromiseRaw<'env, NativeObjectMeta>> {
        let inner = self.inner.clone();
        self.run(env, async move {
            let path = inner.key(&path)?;
            Ok(inner.store.head(&path).await?.into())
        })
    }
}
