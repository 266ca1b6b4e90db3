//! `abortMultipartUpload`: discard an upload and the parts sent for it.

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;

use crate::store::NativeStore;

use super::upload_id;

#[napi]
impl NativeStore {
    /// Abort upload `uploadId` of `path`: its parts are discarded and no object appears.
    #[napi]
    pub fn abort_multipart_upload<'env>(
        &self,
        env: &'env Env,
        path: String,
        upload_id_given: String,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        self.run(env, async move {
            let (multipart, path) = inner.presigned_multipart(&path)?;
            let id = upload_id(&upload_id_given)?.to_string();
            Ok(multipart.store.abort_multipart(&path, &id).await?)
        })
    }
}
