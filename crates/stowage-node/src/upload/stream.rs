//! Streamed uploads (`put` of a stream, `createWriteStream`): the handle JavaScript feeds
//! chunk by chunk, over buffered parts or, on a `LocalStore`, a staged file.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use object_store::PutMode;
use tokio::sync::Mutex;

use crate::error::ErrorCode;
use crate::io::releasing::{borrow_buffer, Releasing};
use crate::runtime::cancel::Cancel;
use crate::runtime::promise::{promise, promise_on_file_thread, JsMemoryLease};
use crate::store::NativeStore;
use crate::upload::local_file::LocalFileUpload;
use crate::upload::parts::Upload;
use crate::upload::settings::{NativePutOptions, NativePutResult, WriteSettings};

#[napi]
impl NativeStore {
    /// Start a streamed upload to `path`; nothing is visible until `finish()`.
    #[napi]
    pub fn upload(
        &self,
        path: String,
        options: Option<NativePutOptions>,
    ) -> napi::Result<NativeUpload, ErrorCode> {
        let path = self.inner.key(&path)?;
        let settings = WriteSettings::try_from(options)?.for_store(&self.inner)?;
        // A conditional write needs the buffered path: it is decided at `finish`.
        let writer = if self.inner.is_local() && matches!(settings.mode, PutMode::Overwrite) {
            Writer::LocalFile(Arc::new(LocalFileUpload::new(
                self.inner.clone(),
                path,
                settings.content_length,
            )))
        } else {
            Writer::Parts(Arc::new(Mutex::new(Upload::new(
                self.inner.clone(),
                path,
                settings,
            ))))
        };
        Ok(NativeUpload {
            writer,
            cancel: Arc::default(),
        })
    }
}

/// A streamed upload in progress.
#[napi]
pub struct NativeUpload {
    writer: Writer,
    /// Raised by `abort`: a write or finish waiting on the network stops at once, so the
    /// abort does not wait behind it for the upload's lock (see `cancel.rs`).
    cancel: Arc<Cancel>,
}

/// `chunks` copied, one after another, into one buffer of ours.
fn gather(chunks: &[Buffer]) -> Bytes {
    if let [only] = chunks {
        return Bytes::copy_from_slice(only);
    }
    let mut gathered = BytesMut::with_capacity(chunks.iter().map(|c| c.len()).sum());
    for chunk in chunks {
        gathered.extend_from_slice(chunk);
    }
    gathered.freeze()
}

/// Where a streamed upload's bytes go.
enum Writer {
    /// Buffered into parts and sent as a (multipart) upload.
    Parts(Arc<Mutex<Upload>>),
    /// Written straight into a staged local file, one chunk per file-thread job.
    LocalFile(Arc<LocalFileUpload>),
}

#[napi]
impl NativeUpload {
    /// Add `chunks`, in order; resolves when they are accepted within the concurrency
    /// limit, with the number of bytes the server has confirmed so far. Several chunks in one
    /// call cost one trip into Rust and no copy in JavaScript: a stream's chunks go as they
    /// came, however many gathered while the previous write was in flight.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn write<'env>(
        &self,
        env: &'env Env,
        chunks: Vec<Buffer>,
    ) -> napi::Result<PromiseRaw<'env, Releasing<f64, Vec<Bytes>>>> {
        match &self.writer {
            Writer::LocalFile(file) => {
                let file = file.clone();
                // Borrowed: the chunks are in the file before the promise settles.
                promise_on_file_thread(env, move || {
                    let borrowed: Vec<Bytes> = chunks.into_iter().map(borrow_buffer).collect();
                    let confirmed = file.write(&borrowed)? as f64;
                    Ok(Releasing {
                        value: confirmed,
                        borrowed,
                    })
                })
            }
            Writer::Parts(upload) => {
                let upload = upload.clone();
                let cancel = self.cancel.clone();
                let lease = JsMemoryLease::take(env)?;
                promise(env, false, async move {
                    // Copied: the write resolves while the bytes may still wait for their
                    // part, and a stream may reuse a chunk's buffer once its write resolved.
                    // Copied first, before waiting for the upload: the lease on the
                    // chunks' memory is then held for the copy only. One copy for the
                    // batch, which is the gathering into a part JavaScript no longer does.
                    let copy = gather(&chunks);
                    drop(lease);
                    let confirmed = cancel
                        .run(async { upload.lock().await.write(copy).await })
                        .await?;
                    let borrowed: Vec<Bytes> = chunks.into_iter().map(borrow_buffer).collect();
                    Ok(Releasing {
                        value: confirmed as f64,
                        borrowed,
                    })
                })
            }
        }
    }

    /// Upload the rest and make the object visible.
    #[napi]
    pub fn finish<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, NativePutResult>> {
        match &self.writer {
            Writer::LocalFile(file) => {
                let file = file.clone();
                promise_on_file_thread(env, move || Ok(file.finish()?.into()))
            }
            Writer::Parts(upload) => {
                let upload = upload.clone();
                let cancel = self.cancel.clone();
                promise(env, false, async move {
                    let result = cancel
                        .run(async { upload.lock().await.finish().await })
                        .await?;
                    Ok(result.into())
                })
            }
        }
    }

    /// Abandon the upload, removing any parts already on the server. A write or finish in
    /// flight is stopped first, so this does not wait for a stalled connection.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn abort<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
        self.cancel.raise();
        match &self.writer {
            Writer::LocalFile(file) => {
                let file = file.clone();
                promise_on_file_thread(env, move || file.abort())
            }
            Writer::Parts(upload) => {
                let upload = upload.clone();
                promise(env, false, async move { upload.lock().await.abort().await })
            }
        }
    }

    /// Bytes confirmed by the server so far.
    #[napi(getter)]
    pub fn confirmed(&self) -> f64 {
        match &self.writer {
            Writer::LocalFile(file) => file.written() as f64,
            Writer::Parts(upload) => upload
                .try_lock()
                .map(|upload| upload.confirmed() as f64)
                .unwrap_or(0.0),
        }
    }
}
