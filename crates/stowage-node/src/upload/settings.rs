//! Options of `put` and `createWriteStream`, and the checked settings every upload runs with.

use std::collections::HashMap;

use napi::bindgen_prelude::Either;
use napi_derive::napi;
use object_store::{Attributes, PutMode, UpdateVersion};

use crate::error::{StorageFailure, StorageResult};
use crate::meta::NativeAttributes;
use crate::store::StoreInner;
use crate::upload::part_size::MAX_SAFE_INTEGER;

/// The default `chunkSize`: S3's smallest part size, and a part size every backend accepts.
/// Exported, so the TypeScript layer slices buffers it reports progress on by the same size.
#[napi]
pub const DEFAULT_CHUNK_SIZE: u32 = 5 * 1024 * 1024;
/// Parts in flight at once unless `concurrency` says otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The most parts in flight at once: each holds a part in memory and a connection, and far
/// fewer already fill any link.
pub const MAX_CONCURRENCY: usize = 1024;

/// Options of `put` and `createWriteStream`, as users write them (`signal` and `onProgress`
/// are added by the TypeScript layer: they are JavaScript's).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct NativePutOptions {
    /// The `Content-Type` kept with the object.
    pub content_type: Option<String>,
    /// The `Content-Disposition` kept with the object.
    pub content_disposition: Option<String>,
    /// The `Content-Encoding` kept with the object.
    pub content_encoding: Option<String>,
    /// The `Content-Language` kept with the object.
    pub content_language: Option<String>,
    /// The `Cache-Control` kept with the object.
    pub cache_control: Option<String>,
    /// User metadata, names to values. Like the attributes above, kept where the backend can
    /// (not on `LocalStore` or `HTTPStore`, which drop them).
    pub metadata: Option<HashMap<String, String>>,
    /// `'overwrite'` (default); `'create'`: fail with `ALREADY_EXISTS` if the object exists;
    /// `{ etag, version }`: write only over that version (`PRECONDITION_FAILED` otherwise).
    /// A conditional put must fit in one request (at most `chunkSize` when streamed).
    #[napi(ts_type = "'overwrite' | 'create' | UpdateVersion")]
    pub mode: Option<Either<String, NativeUpdateVersion>>,
    /// Multipart part size in bytes (default 5 MiB): a whole number from 1 to the backend's
    /// largest part. A larger part size is chosen where needed to fit the part limit.
    pub chunk_size: Option<f64>,
    /// Parts uploaded at once (default 8): a whole number from 1 to 1024. A number, not a
    /// `u32`, so that -1 or 1.5 are refused instead of wrapped or truncated by the conversion.
    pub concurrency: Option<f64>,
    /// The total size of a streamed upload, when known: parts are sized to fit it, and the
    /// upload fails if the data turns out longer or shorter.
    pub content_length: Option<f64>,
}

/// The version a conditional put writes over: an etag, a version, or both.
#[napi(object, object_to_js = false, js_name = "UpdateVersion")]
#[derive(Default)]
pub struct NativeUpdateVersion {
    /// The etag the object must still have.
    pub etag: Option<String>,
    /// The version the object must still be (GCS: its generation).
    pub version: Option<String>,
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
            chunk_size: DEFAULT_CHUNK_SIZE as usize,
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
        let mode = match options.mode {
            None => PutMode::Overwrite,
            Some(Either::A(name)) => match name.as_str() {
                "overwrite" => PutMode::Overwrite,
                "create" => PutMode::Create,
                other => {
                    return Err(StorageFailure::invalid_config(format!(
                        "mode must be 'overwrite', 'create' or {{ etag, version }}, got {other:?}"
                    )))
                }
            },
            Some(Either::B(NativeUpdateVersion { etag, version })) => {
                if etag.is_none() && version.is_none() {
                    return Err(StorageFailure::invalid_config(
                        "mode { etag, version } needs an etag or a version",
                    ));
                }
                PutMode::Update(UpdateVersion {
                    e_tag: etag,
                    version,
                })
            }
        };
        // The store's own largest part is checked in `for_store`.
        let chunk_size = match options.chunk_size {
            None => DEFAULT_CHUNK_SIZE as usize,
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
        let attributes = NativeAttributes {
            content_type: options.content_type,
            content_disposition: options.content_disposition,
            content_encoding: options.content_encoding,
            content_language: options.content_language,
            cache_control: options.cache_control,
            metadata: options.metadata,
        };
        Ok(Self {
            attributes: Attributes::from(&attributes),
            mode,
            chunk_size,
            concurrency,
            content_length,
        })
    }
}
