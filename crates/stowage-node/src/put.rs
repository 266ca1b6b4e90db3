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

use crate::error::{StorageFailure, StorageResult};
use crate::guard::guarded;
use crate::meta::NativeAttributes;
use crate::store::{NativeStore, StoreInner};
use crate::upload::Upload;

/// S3's smallest part size, and a part size every backend accepts.
pub const DEFAULT_CHUNK_SIZE: usize = 5 * 1024 * 1024;
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Options of `put` and `createWriteStream`, as the TypeScript layer passes them.
#[napi(object)]
#[derive(Default)]
pub struct NativePutOptions {
    pub attributes: Option<NativeAttributes>,
    /// `overwrite` (default), `create`, or `update` (with `etag` and/or `version`).
    pub mode: Option<String>,
    pub etag: Option<String>,
    pub version: Option<String>,
    /// Multipart part size in bytes.
    pub chunk_size: Option<f64>,
    /// Parts uploaded at once.
    pub concurrency: Option<u32>,
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
}

impl Default for WriteSettings {
    fn default() -> Self {
        Self {
            attributes: Attributes::new(),
            mode: PutMode::Overwrite,
            chunk_size: DEFAULT_CHUNK_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

impl WriteSettings {
    /// Drop what `store` cannot keep.
    pub fn for_store(mut self, store: &StoreInner) -> Self {
        if !store.keeps_attributes() {
            self.attributes = Attributes::new();
        }
        self
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
        let chunk_size = match options.chunk_size {
            None => DEFAULT_CHUNK_SIZE,
            Some(size) if size.fract() == 0.0 && (1.0..=5e9).contains(&size) => size as usize,
            Some(size) => {
                return Err(StorageFailure::invalid_config(format!(
                    "chunkSize must be a whole number of bytes between 1 and 5e9, got {size}"
                )))
            }
        };
        let concurrency = match options.concurrency {
            None => DEFAULT_CONCURRENCY,
            Some(0) => {
                return Err(StorageFailure::invalid_config(
                    "concurrency must be at least 1",
                ))
            }
            Some(n) => n as usize,
        };
        Ok(Self {
            attributes: options
                .attributes
                .as_ref()
                .map(Attributes::from)
                .unwrap_or_default(),
            mode,
            chunk_size,
            concurrency,
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
    /// multipart upload above it.
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
                let settings = WriteSettings::try_from(options)?.for_store(&inner);
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
            let settings = WriteSettings::try_from(options)?.for_store(&inner);
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
        let settings = WriteSettings::try_from(options)?.for_store(&self.inner);
        // A conditional write needs the buffered path: it is decided at `finish`.
        let writer = if self.inner.is_local() && matches!(settings.mode, PutMode::Overwrite) {
            Writer::LocalFile(Arc::new(LocalFileUpload::new(self.inner.clone(), path)))
        } else {
            Writer::Parts(Arc::new(Mutex::new(Upload::new(
                self.inner.clone(),
                path,
                settings,
            ))))
        };
        Ok(NativeUpload { writer })
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
                let lease = JsMemoryLease::take(env)?;
                promise(
                    env,
                    false,
                    guarded(async move {
                        // Copied: the write resolves while the bytes may still wait for their
                        // part, and a stream may reuse a chunk's buffer once its write resolved.
                        // Copied first, before waiting for the upload: the lease on the
                        // chunk's memory is then held for the copy only.
                        let data = Bytes::copy_from_slice(&chunk);
                        drop(lease);
                        let confirmed = upload.lock().await.write(data).await?;
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
                promise(
                    env,
                    false,
                    guarded(async move { Ok(upload.lock().await.finish().await?.into()) }),
                )
            }
        }
    }

    /// Abandon the upload, removing any parts already on the server.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn abort<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, ()>> {
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
