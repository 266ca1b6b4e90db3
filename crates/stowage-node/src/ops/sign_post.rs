//! `signPost`: a presigned browser form upload (S3's POST Object with a signed policy).

use std::collections::HashMap;

use napi::bindgen_prelude::{Either, PromiseRaw};
use napi::Env;
use napi_derive::napi;

use crate::error::{ErrorCode, StorageFailure};
use crate::ops::sign::{byte_count, expiry, header_value};
use crate::runtime::promise::now_or_promise;
use crate::sign::PostRequest;
use crate::store::NativeStore;

/// Options of `signPost`.
#[napi(object, object_to_js = false)]
pub struct SignPostOptions {
    /// Seconds the form stays valid: a whole number from 1 to 604800; default 3600.
    pub expires_in: Option<f64>,
    /// The `Content-Type` the form must declare (its `Content-Type` field, sent as given);
    /// any other is refused. Without it the form may declare any type.
    pub content_type: Option<String>,
    /// The smallest file accepted, in bytes (default 0).
    pub min_size: Option<f64>,
    /// The largest file accepted, in bytes; a larger one is refused and nothing is stored.
    pub max_size: f64,
}

/// A presigned form: post `fields`, then the file as the field `file` (last), to `url`.
#[napi(object, object_from_js = false)]
pub struct SignedPostForm {
    /// Where the form goes (the bucket's URL).
    pub url: String,
    /// The form's fields, the signed policy and its signature among them.
    pub fields: HashMap<String, String>,
}

#[napi]
impl NativeStore {
    /// A form a browser can post a file with straight to the store, for `path`. The signed
    /// policy fixes the key, the size range and (when given) the content type. S3 only;
    /// other stores give `NOT_SUPPORTED`.
    #[napi]
    pub fn sign_post<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: SignPostOptions,
    ) -> napi::Result<Either<SignedPostForm, PromiseRaw<'env, SignedPostForm>>, ErrorCode> {
        let inner = self.inner.clone();
        now_or_promise(env, async move {
            let signer = inner.signer()?;
            if !inner.capabilities.sign_post {
                return Err(StorageFailure::not_supported(format!(
                    "{} cannot sign POST forms; only S3 stores can",
                    inner.description
                )));
            }
            let path = inner.signing_path(&path)?;
            let content_type = options
                .content_type
                .map(|value| header_value("contentType", value, true))
                .transpose()?;
            let request = PostRequest {
                expires_in: expiry(options.expires_in)?,
                content_type,
                min_size: byte_count("minSize", options.min_size.unwrap_or(0.0))?,
                max_size: byte_count("maxSize", options.max_size)?,
            };
            let post = signer.sign_post(&path, &request).await?;
            Ok(SignedPostForm {
                url: post.url,
                fields: post.fields.into_iter().collect(),
            })
        })
    }
}
