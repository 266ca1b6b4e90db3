//! `getRange`: the bytes `[start, end)` of an object.

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use object_store::ObjectStoreExt;

use crate::io::js_bytes::JsBytes;
use crate::ops::get_options::byte_range;
use crate::store::NativeStore;

#[napi]
impl NativeStore {
    /// The bytes `[start, end)` of an object.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn get_range<'env>(
        &self,
        env: &'env Env,
        path: String,
        start: f64,
        end: f64,
    ) -> napi::Result<PromiseRaw<'env, JsBytes>> {
        let inner = self.inner.clone();
        self.run(env, async move {
            let path = inner.key(&path)?;
            let range = byte_range(start, end)?;
            Ok(JsBytes(inner.store.get_range(&path, range).await?))
        })
    }
}
