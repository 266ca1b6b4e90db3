//! `put`, and the upload handle behind streams and `createWriteStream`.

use std::sync::Arc;

use crate::local_ops::{put_local, LocalFileUpload};
use crate::promise::{promise, promise_on_file_thread, JsMemoryLease};
use bytes::Bytes;
use napi::bindgen_prelude::{Buffer, PromiseRaw, ToNapiValue};
use napi::Env;
use napi_derive::napi;
use object_store::{Attributes, PutMode, PutOptions, PutPayload, UpdateVersion};
use tokio::sync::Mutex;

use crate::cancel::Cancel;
use crate::error::{StorageFailure, StorageResult};
use crate::guard::guarded;
use crate::meta::NativeAttributes;
use crate::part_size::MAX_SAFE_INTEGER;
use crate::store::{NativeStore, StoreInner};
use crate::upload::Upload;

/// S3's smallest part size, and a part size every backend accepts.
pub const DEFAULT_CHUNK_SIZE: usize = 5 * 1024 * 1024;
/// Parts in flight at once unless `concurrency` says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The most parts in flight at once: each holds a part in memory and a connection, and far
/// fewer already fill any link.
pub const MAX_CONCURRENCY: usize = 1024;

/// Options of `put` and `createWriteStream`, as the TypeScript layer passes them.
#[napi(object)]
#[derive(Default)]
pub struct NativePutOptions {
    pub attributes: Option<NativeAttributes>,
    /// `overwrite` (default), `create`, or `update` (with `etag` and/or `version`).
    pub mode: Option<String>,
    pub etag: Option<String>,
    pub version: Option<String>,
    /// Multipart part size in bytes: a whole number from 1 to the backend's largest part.
    pub chunk_size: Option<f64>,
    /// Parts uploaded at once: a whole number from 1 to 1024. A number, not a `u32`, so that
    /// -1 or 1.5 are refused instead of wrapped or truncated by the conversion.
    pub concurrency: Option<f64>,
    /// The total size of a streamed upload, when known: parts are sized to fit it, and the
    /// upload fails if the data turns out longer or shorter.
    pub content_length: Option<f64>,
}

/// What a successful write returns.
#[napi(object)]
pub struct NativePutResult {
    pub etag: Option<String>,
    pub version: Option<String>,
}

impl From<object_store::PutResult> for NativePutResult {
    fn from(result: object_store::PutResult) -> Self {
        Self {
            etag: result.e_tag,
            version: result.version,
        }
    }
}

/// Checked write options.
#[derive(Debug, Clone)]
pub struct WriteSettings {
    pub attributes: Attributes,
    pub mode: PutMode,
    pub chunk_size: usize,
    pub concurrency: usize,
    /// The declared total size (`contentLength`, or a `Buffer`'s length).
    pub content_length: Option<u64>,
}

impl Default for WriteSettings {
    fn default() -> Self {
        Self {
            attributes: Attributes::new(),
            mode: PutMode::Overwrite,
            chunk_size: DEFAULT_CHUNK_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            content_length: None,
        }
    }
}

impl WriteSettings {
    /// Check the sizes against `store`'s limits, and drop what it cannot keep.
    pub fn for_store(mut self, store: &StoreInner) -> StorageResult<Self> {
        let max_chunk_size = store.part_limits.max_chunk_size();
        if self.chunk_size as u64 > max_chunk_size {
            return Err(StorageFailure::invalid_config(format!(
                "chunkSize must be at most {max_chunk_size} bytes on this store (its largest part), \
                 got {}",
                self.chunk_size
            )));
        }
        if let Some(total) = self.content_length {
            store.part_limits.check_total(total)?;
        }
        if !store.keeps_attributes() {
            self.attributes = Attributes::new();
        }
        Ok(self)
    }

    /// The data is in hand (a `Buffer`): its length is the total, and a `contentLength` that
    /// says otherwise is a mistake.
    pub fn with_known_length(mut self, len: usize) -> StorageResult<Self> {
        let len = len as u64;
        match self.content_length {
            Some(declared) if declared != len => Err(StorageFailure::invalid_config(format!(
                "contentLength is {declared} but the data is {len} bytes long"
            ))),
            _ => {
                self.content_length = Some(len);
                Ok(self)
            }
        }
    }
}

/// A whole number of at least `min` and at most `max`, as JavaScript passes sizes and counts.
fn whole_number(name: &str, value: f64, min: u64, max: u64) -> StorageResult<u64> {
    // NaN fails every comparison, so it is refused here too.
    if value.fract() == 0.0 && value >= min as f64 && value <= max as f64 {
        Ok(value as u64)
    } else {
        Err(StorageFailure::invalid_config(format!(
            "{name} must be a whole number from {min} to {max}, got {value}"
        )))
    }
}

impl TryFrom<Option<NativePutOptions>> for WriteSettings {
    type Error = StorageFailure;

    fn try_from(options: Option<NativePutOptions>) -> StorageResult<Self> {
        let options = options.unwrap_or_default();
        let mode = match options.mode.as_deref() {
            None | Some("overwrite") => PutMode::Overwrite,
            Some("create") => PutMode::Create,
            Some("update") => {
                if options.etag.is_none() && options.version.is_none() {
                    return Err(StorageFailure::invalid_config(
                        "mode { etag, version } needs an etag or a version",
                    ));
                }
                PutMode::Update(UpdateVersion {
                    e_tag: options.etag,
                    version: options.version,
                })
            }
            Some(other) => {
                return Err(StorageFailure::invalid_config(format!(
                    "mode must be 'overwrite', 'create' or {{ etag, version }}, got {other:?}"
                )))
            }
        };
        // The store's own largest part is checked in `for_store`.
        let chunk_size = match options.chunk_size {
            None => DEFAULT_CHUNK_SIZE,
            Some(size) => whole_number("chunkSize", size, 1, MAX_SAFE_INTEGER)? as usize,
        };
        let concurrency = match options.concurrency {
            None => DEFAULT_CONCURRENCY,
            Some(n) => whole_number("concurrency", n, 1, MAX_CONCURRENCY as u64)? as usize,
        };
        let content_length = options
            .content_length
            .map(|len| whole_number("contentLength", len, 0, MAX_SAFE_INTEGER))
            .transpose()?;
        Ok(Self {
            attributes: options
                .attributes
                .as_ref()
                .map(Attributes::from)
                .unwrap_or_default(),
            mode,
            chunk_size,
            concurrency,
            content_length,
        })
    }
}

/// Wrap a JavaScript buffer without copying it; it stays referenced until sent.
pub fn borrow_buffer(buffer: Buffer) -> Bytes {
    Bytes::from_owner(buffer)
}

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
        self.run(env, async move {
            let path = inner.key(&path)?;
            let settings = WriteSettings::try_from(options)?
                .with_known_length(borrowed.len())?
                .for_store(&inner)?;
            let data = if inner.in_process {
                Bytes::copy_from_slice(&borrowed) // the caller may reuse its buffer after the put
            } else {
                borrowed.clone()
            };
            let result = if data.len() <= settings.chunk_size
                || !matches!(settings.mode, PutMode::Overwrite)
            {
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
        })
    }

    /// Start a streamed upload to `path`; nothing is visible until `finish()`.
    #[napi]
    pub fn upload(
        &self,
        path: String,
        options: Option<NativePutOptions>,
    ) -> napi::Result<NativeUpload> {
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

/// A result for JavaScript, and the borrowed buffer it came from, which is let go on the
/// JavaScript thread: there a `Buffer` is released at once, where from another thread its
/// release takes one more trip through napi-rs' queue and the memory lingers (a 1 GiB
/// streamed upload peaked at 212-269 MiB of RSS that way, 113-131 MiB this way).
pub struct Releasing<T> {
    value: T,
    borrowed: Bytes,
}

impl<T: ToNapiValue> ToNapiValue for Releasing<T> {
    unsafe fn to_napi_value(
        env: napi::sys::napi_env,
        val: Self,
    ) -> napi::Result<napi::sys::napi_value> {
        drop(val.borrowed);
        unsafe { T::to_napi_value(env, val.value) }
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

/// Where a streamed upload's bytes go.
enum Writer {
    /// Buffered into parts and sent as a (multipart) upload.
    Parts(Arc<Mutex<Upload>>),
    /// Written straight into a staged local file, one chunk per file-thread job.
    LocalFile(Arc<LocalFileUpload>),
}

#[napi]
impl NativeUpload {
    /// Add bytes; resolves when they are accepted within the concurrency limit,
    /// with the number of bytes the server has confirmed so far.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn write<'env>(
        &self,
        env: &'env Env,
        chunk: Buffer,
    ) -> napi::Result<PromiseRaw<'env, Releasing<f64>>> {
        match &self.writer {
            Writer::LocalFile(file) => {
                let file = file.clone();
                // Borrowed: the chunk is in the file before the promise settles.
                promise_on_file_thread(env, move || {
                    let borrowed = borrow_buffer(chunk);
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
                promise(
                    env,
                    false,
                    guarded(async move {
                        // Copied: the write resolves while the bytes may still wait for their
                        // part, and a stream may reuse a chunk's buffer once its write resolved.
                        // Copied first, before waiting for the upload: the lease on the
                        // chunk's memory is then held for the copy only.
                        let copy = Bytes::copy_from_slice(&chunk);
                        drop(lease);
                        let confirmed = cancel
                            .run(async { upload.lock().await.write(copy).await })
                            .await?;
                        let borrowed = borrow_buffer(chunk);
                        Ok(Releasing {
                            value: confirmed as f64,
                            borrowed,
                        })
                    }),
                )
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
                promise(
                    env,
                    false,
                    guarded(async move {
                        let result = cancel
                            .run(async { upload.lock().await.finish().await })
                            .await?;
                        Ok(result.into())
                    }),
                )
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
                promise_on_file_thread(env, move || Ok(file.abort()?))
            }
            Writer::Parts(upload) => {
                let upload = upload.clone();
                promise(
                    env,
                    false,
                    guarded(async move { upload.lock().await.abort().await }),
                )
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
