//! `abortMultipartUpload`: discard an upload and the parts sent for it.

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;

use crate::store::NativeStore;

use super::check_upload_id;

#[napi]
impl NativeStore {
    /// Abort upload `uploadId` of `path`: its parts are discarded and no object appears.
    #[napi]
    pub fn abort_multipart_upload<'env>(
        &self,
        env: &'env Env,
        path: String,
        upload_id: String,
    ) -> napi::Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        self.run(env, async move {
            let (multipart, path) = inner.presigned_upload(&path)?;
            let id = check_upload_id(&upload_id)?.to_string();
            Ok(multipart.store.abort_multipart(&path, &id).await?)
        })
    }
}
