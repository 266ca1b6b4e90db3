//! `signUploadParts`: presigned `UploadPart` URLs for parts of a multipart upload.

use http::Method;
use napi::bindgen_prelude::{Either, PromiseRaw};
use napi::Env;
use napi_derive::napi;

use crate::error::{ErrorCode, StorageResult};
use crate::ops::sign::expiry;
use crate::runtime::promise::now_or_promise;
use crate::sign::SignRequest;
use crate::store::NativeStore;

use super::{check_upload_id, part_number};

/// Options of `signUploadParts`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct SignUploadPartsOptions {
    /// Seconds the URLs stay valid: a whole number from 1 to 604800; default 3600.
    pub expires_in: Option<f64>,
}

#[napi]
impl NativeStore {
    /// A presigned PUT URL for each of `partNumbers` (1 to 10 000) of upload `uploadId`:
    /// the part number and upload id are signed into it. The server answers each PUT with
    /// the part's `ETag`, which `completeMultipartUpload` needs.
    #[napi]
    pub fn sign_upload_parts<'env>(
        &self,
        env: &'env Env,
        path: String,
        upload_id: String,
        part_numbers: Vec<f64>,
        options: Option<SignUploadPartsOptions>,
    ) -> napi::Result<Either<Vec<String>, PromiseRaw<'env, Vec<String>>>, ErrorCode> {
        let inner = self.inner.clone();
        now_or_promise(env, async move {
            let (multipart, path) = inner.presigned_upload(&path)?;
            let id = check_upload_id(&upload_id)?;
            let numbers = part_numbers
                .into_iter()
                .map(part_number)
                .collect::<StorageResult<Vec<_>>>()?;
            let expires_in = expiry(options.unwrap_or_default().expires_in)?;
            let request = SignRequest::new(Method::PUT, expires_in);
            multipart
                .signer
                .sign_parts(&path, id, &numbers, &request)
                .await
        })
    }
}
