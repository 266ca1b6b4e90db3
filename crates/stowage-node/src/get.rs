//! `get`, `getRange`, `getRanges` and `head`.

use std::ops::Range;

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use object_store::{GetOptions, GetRange, ObjectStoreExt};

use crate::error::{StorageFailure, StorageResult};
use crate::guard::guarded;
use crate::meta::{NativeAttributes, NativeObjectMeta};
use crate::reader::{ByteSource, NativeReader};
use crate::store::NativeStore;

/// Bodies up to this size are read within `get` (one native call instead of two).
const EAGER_BODY_LIMIT: usize = 256 * 1024;

/// Options of `get`, flattened by the TypeScript layer.
#[napi(object)]
#[derive(Default)]
pub struct NativeGetOptions {
    pub range_start: Option<f64>,
    pub range_end: Option<f64>,
    pub suffix: Option<f64>,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<DateTime<Utc>>,
    pub if_unmodified_since: Option<DateTime<Utc>>,
    pub version: Option<String>,
}

fn byte_offset(name: &str, value: f64) -> StorageResult<u64> {
    if value.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&value) {
        return Err(StorageFailure::invalid_config(format!(
            "{name} must be a non-negative whole number, got {value}"
        )));
    }
    Ok(value as u64)
}

/// `[start, end)` from JavaScript numbers; an empty or inverted range is refused.
pub fn byte_range(start: f64, end: f64) -> StorageResult<Range<u64>> {
    let (start, end) = (byte_offset("start", start)?, byte_offset("end", end)?);
    if end <= start {
        return Err(StorageFailure::invalid_config(format!(
            "a range needs end > start, got [{start}, {end})"
        )));
    }
    Ok(start..end)
}

/// Checked `GetOptions` from what JavaScript passed.
pub fn get_options(options: Option<NativeGetOptions>) -> StorageResult<GetOptions> {
    {
        let options = options.unwrap_or_default();
        let range = match (options.range_start, options.range_end, options.suffix) {
            (None, None, None) => None,
            (Some(start), Some(end), None) => Some(GetRange::Bounded(byte_range(start, end)?)),
            (Some(start), None, None) => Some(GetRange::Offset(byte_offset("start", start)?)),
            (None, None, Some(suffix)) => Some(GetRange::Suffix(byte_offset("suffix", suffix)?)),
            _ => {
                return Err(StorageFailure::invalid_config(
                    "range takes either { start, end? } or { suffix }",
                ))
            }
        };
        Ok(GetOptions {
            if_match: options.if_match,
            if_none_match: options.if_none_match,
            if_modified_since: options.if_modified_since,
            if_unmodified_since: options.if_unmodified_since,
            range,
            version: options.version,
            ..Default::default()
        })
    }
}

/// The answer to `get`: metadata now, bytes on demand.
#[napi]
pub struct NativeGetResult {
    meta: Option<NativeObjectMeta>,
    range: Vec<f64>,
    attributes: Option<NativeAttributes>,
    source: Option<ByteSource>,
}

#[napi]
impl NativeGetResult {
    /// Metadata of the object; can be taken once.
    #[napi]
    pub fn take_meta(&mut self) -> Option<NativeObjectMeta> {
        self.meta.take()
    }

    /// `[start, end)` of the bytes this result carries.
    #[napi(getter)]
    pub fn range(&self) -> Vec<f64> {
        self.range.clone()
    }

    /// Attributes stored with the object; can be taken once.
    #[napi]
    pub fn take_attributes(&mut self) -> Option<NativeAttributes> {
        self.attributes.take()
    }

    /// The body as a reader; the body can be taken once.
    #[napi]
    pub fn take_reader(&mut self) -> Option<NativeReader> {
        self.source.take().map(NativeReader::new)
    }

    /// The whole body at once if `get` already read it (small objects); else `null`
    /// and the body stays for `takeReader`.
    #[napi]
    pub fn take_ready_body(&mut self) -> Option<Buffer> {
        match self.source.take() {
            Some(ByteSource::Ready(body)) => Some(Buffer::from(body)),
            other => {
                self.source = other;
                None
            }
        }
    }
}

#[napi]
impl NativeStore {
    /// Fetch an object (or part of it) with optional conditions.
    #[napi]
    pub async fn get(
        &self,
        path: String,
        options: Option<NativeGetOptions>,
    ) -> napi::Result<NativeGetResult> {
        let inner = self.inner.clone();
        guarded(async move {
            let path = inner.key(&path)?;
            let options = get_options(options)?;
            let result = inner.store.get_opts(&path, options).await?;
            let range = result.range.clone();
            let mut source = ByteSource::new(result.payload, range.clone());
            let len = (range.end - range.start) as usize;
            // A small body is read now, saving JavaScript a second call into Rust.
            if len <= EAGER_BODY_LIMIT {
                source = ByteSource::Ready(source.read_all(len).await?);
            }
            Ok(NativeGetResult {
                meta: Some(result.meta.into()),
                range: vec![range.start as f64, range.end as f64],
                attributes: Some(NativeAttributes::from(&result.attributes)),
                source: Some(source),
            })
        })
        .await
    }

    /// The bytes `[start, end)` of an object.
    #[napi]
    pub async fn get_range(&self, path: String, start: f64, end: f64) -> napi::Result<Buffer> {
        let inner = self.inner.clone();
        guarded(async move {
            let path = inner.key(&path)?;
            let range = byte_range(start, end)?;
            let bytes = inner.store.get_range(&path, range).await?;
            Ok(Buffer::from(Vec::from(bytes)))
        })
        .await
    }

    /// Several byte ranges of one object, fetched with coalesced requests.
    #[napi]
    pub async fn get_ranges(
        &self,
        path: String,
        ranges: Vec<Vec<f64>>,
    ) -> napi::Result<Vec<Buffer>> {
        let inner = self.inner.clone();
        guarded(async move {
            let path = inner.key(&path)?;
            let ranges = ranges
                .iter()
                .map(|pair| match pair.as_slice() {
                    [start, end] => byte_range(*start, *end),
                    _ => Err(StorageFailure::invalid_config(
                        "each range is a [start, end] pair",
                    )),
                })
                .collect::<StorageResult<Vec<_>>>()?;
            let parts = inner.store.get_ranges(&path, &ranges).await?;
            Ok(parts
                .into_iter()
                .map(|b| Buffer::from(Vec::from(b)))
                .collect())
        })
        .await
    }

    /// Metadata of an object, without its bytes.
    #[napi]
    pub async fn head(&self, path: String) -> napi::Result<NativeObjectMeta> {
        let inner = self.inner.clone();
        guarded(async move {
            let path = inner.key(&path)?;
            Ok(inner.store.head(&path).await?.into())
        })
        .await
    }
}
