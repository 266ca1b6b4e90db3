//! `createMultipartUpload`: start an upload whose parts go up through presigned URLs.

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use object_store::{Attribute, Attributes, PutMultipartOptions};

use crate::ops::sign::header_value;
use crate::store::NativeStore;

/// Options of `createMultipartUpload`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct CreateMultipartUploadOptions {
    /// The object's `Content-Type` once completed.
    pub content_type: Option<String>,
}

#[napi]
impl NativeStore {
    /// Start a multipart upload of `path`; resolves to its upload id, for
    /// `signUploadParts`, `completeMultipartUpload` and `abortMultipartUpload`. S3 only.
    #[napi]
    pub fn create_multipart_upload<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: Option<CreateMultipartUploadOptions>,
    ) -> napi::Result<PromiseRaw<'env, String>> {
        let inner = self.inner.clone();
        self.run(env, async move {
            let (multipart, path) = inner.presigned_upload(&path)?;
            let mut attributes = Attributes::new();
            if let Some(value) = options.unwrap_or_default().content_type {
                let value = header_value("contentType", value, true)?;
                attributes.insert(Attribute::ContentType, value.into());
            }
            let options = PutMultipartOptions {
                attributes,
                ..Default::default()
            };
            Ok(multipart
                .store
                .create_multipart_opts(&path, options)
                .await?)
        })
    }
}
