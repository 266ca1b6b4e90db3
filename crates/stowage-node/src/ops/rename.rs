//! `rename`: one object moved to another key, optionally refusing to overwrite.

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use object_store::ObjectStoreExt;

use crate::store::NativeStore;

#[napi]
impl NativeStore {
    /// Move `from` to `to`; with `overwrite: false`, fail if `to` exists.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn rename<'env>(
        &self,
        env: &'env Env,
        from: String,
        to: String,
        overwrite: bool,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        self.run(env, async move {
            let (from, to) = (inner.key(&from)?, inner.key(&to)?);
            if overwrite {
                inner.store.rename(&from, &to).await?;
            } else {
                inner.store.rename_if_not_exists(&from, &to).await?;
            }
            Ok(())
        })
    }
}
