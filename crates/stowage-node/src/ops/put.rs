//! `put` of bytes: one request up to `chunkSize`, a concurrent multipart upload above it.

use std::sync::Arc;

use bytes::Bytes;
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use object_store::{PutMode, PutOptions, PutPayload};

use crate::error::StorageResult;
use crate::io::releasing::{borrow_buffer, Releasing};
use crate::runtime::promise::{promise_on_file_thread, JsMemoryLease};
use crate::store::{NativeStore, StoreInner};
use crate::upload::local_file::put_local;
use crate::upload::parts::Upload;
use crate::upload::settings::{NativePutOptions, NativePutResult, WriteSettings};

#[napi]
impl NativeStore {
    /// Write `data` to `path`: one request up to `chunkSize`, a concurrent
    /// multipart upload above it, in parts sized to fit the backend's part limit.
    #[napi(ts_return_type = "Promise<NativePutResult>")]
    pub fn put<'env>(
        &self,
        env: &'env Env,
        path: String,
        data: Buffer,
        options: Option<NativePutOptions>,
    ) -> napi::Result<PromiseRaw<'env, Releasing<NativePutResult>>> {
        let inner = self.inner.clone();
        let borrowed = borrow_buffer(data);
        if inner.is_local() {
            // A local file is written in one go whatever its size: no parts to send.
            return promise_on_file_thread(env, move || {
                let settings = WriteSettings::try_from(options)?
                    .with_known_length(borrowed.len())?
                    .for_store(&inner)?;
                let options = PutOptions {
                    mode: settings.mode,
                    ..Default::default()
                };
                let result = put_local(&inner, &path, borrowed.clone(), options)?;
                Ok(Releasing {
                    value: result.into(),
                    borrowed,
                })
            });
        }
        // The body is read on other threads for as long as the request lasts.
        let lease = JsMemoryLease::take(env)?;
        self.run(env, put_object(inner, path, borrowed, options, Some(lease)))
    }
}

/// The work of `put` on a store that is not local, whichever runtime starts it (see
/// `runtime/comparison.rs`). `lease` is let go once the body has been sent.
pub(crate) async fn put_object(
    inner: Arc<StoreInner>,
    path: String,
    borrowed: Bytes,
    options: Option<NativePutOptions>,
    lease: Option<JsMemoryLease>,
) -> StorageResult<Releasing<NativePutResult>> {
    let path = inner.key(&path)?;
    let settings = WriteSettings::try_from(options)?
        .with_known_length(borrowed.len())?
        .for_store(&inner)?;
    let data = if inner.in_process {
        Bytes::copy_from_slice(&borrowed) // the caller may reuse its buffer after the put
    } else {
        borrowed.clone()
    };
    let result =
        if data.len() <= settings.chunk_size || !matches!(settings.mode, PutMode::Overwrite) {
            let options = PutOptions {
                mode: settings.mode,
                attributes: settings.attributes,
                ..Default::default()
            };
            inner
                .store
                .put_opts(&path, PutPayload::from(data), options)
                .await?
        } else {
            let mut upload = Upload::new(inner, path, settings);
            upload.write(data).await?;
            upload.finish().await?
        };
    drop(lease); // sent: the body is only held now, to be let go on the JavaScript thread
    Ok(Releasing {
        value: result.into(),
        borrowed,
    })
}
