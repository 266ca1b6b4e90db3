//! `get`, `getRange`, `getRanges` and `head`.

use std::ops::Range;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use object_store::path::Path;
use object_store::{
    coalesce_ranges, GetOptions, GetRange, ObjectStore, ObjectStoreExt,
    OBJECT_STORE_COALESCE_DEFAULT,
};

use crate::error::{StorageFailure, StorageResult};
use crate::js_bytes::JsBytes;
use crate::local_ops::get_local;
use crate::meta::{NativeAttributes, NativeObjectMeta};
use crate::promise::promise_on_file_thread;
use crate::reader::{ByteSource, NativeReader};
use crate::store::NativeStore;

/// Bodies up to this size are read within `get` (one native call instead of two).
pub const EAGER_BODY_LIMIT: usize = 256 * 1024;

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

/// The answer to `get`, as one plain object: one crossing into JavaScript per call.
#[napi(object, object_from_js = false)]
pub struct NativeGetResult {
    pub meta: NativeObjectMeta,
    /// Start of the bytes this result carries.
    pub start: f64,
    /// End (exclusive) of the bytes this result carries.
    pub end: f64,
    /// Attributes stored with the object; absent when it has none.
    pub attributes: Option<NativeAttributes>,
    /// The whole body, when it was small enough to read within `get`.
    #[napi(ts_type = "Buffer")]
    pub body: Option<JsBytes>,
    /// The body as a reader, when it was not read within `get`.
    pub reader: Option<NativeReader>,
}

#[napi]
impl NativeStore {
    /// Fetch an object (or part of it) with optional conditions.
    #[napi]
    pub fn get<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: Option<NativeGetOptions>,
    ) -> napi::Result<PromiseRaw<'env, NativeGetResult>> {
        let inner = self.inner.clone();
        if inner.is_local() {
            return promise_on_file_thread(env, move || {
                Ok(get_local(&inner, &path, get_options(options)?)?)
            });
        }
        self.run(env, async move {
            let path = inner.key(&path)?;
            let options = get_options(options)?;
            let result = inner.store.get_opts(&path, options).await?;
            let range = result.range.clone();
            let mut source = ByteSource::new(result.payload, range.clone());
            let len = (range.end - range.start) as usize;
            // A small body is read now, saving JavaScript a second call into Rust.
            let (body, reader) = if len <= EAGER_BODY_LIMIT {
                (Some(JsBytes(source.read_all(len).await?)), None)
            } else {
                (None, Some(NativeReader::new(source)))
            };
            Ok(NativeGetResult {
                meta: result.meta.into(),
                start: range.start as f64,
                end: range.end as f64,
                attributes: NativeAttributes::from_stored(&result.attributes),
                body,
                reader,
            })
        })
    }

    /// The bytes `[start, end)` of an object.
    #[napi(ts_return_type = "Promise<Buffer>")]
    pub fn get_range<'env>(
        &self,
        env: &'env Env,
        path: String,
        start: f64,
        end: f64,
    ) -> napi::Result<PromiseRaw<'env, JsBytes>> {
        let inner = self.inner.clone();
        self.run(env, async move {
            let path = inner.key(&path)?;
            let range = byte_range(start, end)?;
            Ok(JsBytes(inner.store.get_range(&path, range).await?))
        })
    }

    /// Several byte ranges of one object, fetched with coalesced requests.
    #[napi(ts_return_type = "Promise<Array<Buffer>>")]
    pub fn get_ranges<'env>(
        &self,
        env: &'env Env,
        path: String,
        ranges: Vec<Vec<f64>>,
    ) -> napi::Result<PromiseRaw<'env, Vec<JsBytes>>> {
        let inner = self.inner.clone();
        self.run(env, async move {
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
            let parts = fetch_ranges(inner.store.as_ref(), &path, &ranges).await?;
            Ok(parts.into_iter().map(JsBytes).collect())
        })
    }

    /// Metadata of an object, without its bytes.
    #[napi]
    pub fn head<'env>(
        &self,
        env: &'env Env,
        path: String,
    ) -> napi::Result<PromiseRaw<'env, NativeObjectMeta>> {
        let inner = self.inner.clone();
        self.run(env, async move {
            let path = inner.key(&path)?;
            Ok(inner.store.head(&path).await?.into())
        })
    }
}

/// Why a merged range request was not used as it came.
enum MergedFetch {
    Failed(object_store::Error),
    /// The response was shorter than the merged range: the object ends inside it.
    Short,
}

/// `ranges` of the object at `path`, with nearby ranges fetched in one request.
///
/// object_store's own `get_ranges` slices each range out of the merged response and panics
/// when that response is shorter than a range's start (S3 answers a range past the end of an
/// object with what there is). A short merged response is answered range by range instead,
/// so each range gets exactly what `getRange` would give it: its bytes, or its error.
async fn fetch_ranges(
    store: &dyn ObjectStore,
    path: &Path,
    ranges: &[Range<u64>],
) -> StorageResult<Vec<Bytes>> {
    let merged = coalesce_ranges(
        ranges,
        |range| async move {
            let wanted = range.end - range.start;
            let bytes = store
                .get_range(path, range)
                .await
                .map_err(MergedFetch::Failed)?;
            if (bytes.len() as u64) < wanted {
                return Err(MergedFetch::Short);
            }
            Ok(bytes)
        },
        OBJECT_STORE_COALESCE_DEFAULT,
    )
    .await;
    match merged {
        Ok(parts) => Ok(parts),
        Err(MergedFetch::Failed(err)) => Err(err.into()),
        Err(MergedFetch::Short) => {
            let each = ranges
                .iter()
                .map(|range| store.get_range(path, range.clone()));
            Ok(futures::future::try_join_all(each).await?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use object_store::PutPayload;

    #[tokio::test]
    async fn ranges_past_the_end_fail_like_get_range_instead_of_panicking() {
        let store = InMemory::new();
        let path = Path::parse("small").unwrap();
        store
            .put(&path, PutPayload::from_static(b"abc"))
            .await
            .unwrap();
        let parts = fetch_ranges(&store, &path, &[0..1, 1..3]).await.unwrap();
        assert_eq!(
            parts,
            vec![Bytes::from_static(b"a"), Bytes::from_static(b"bc")]
        );
        assert!(fetch_ranges(&store, &path, &[0..1, 629..700])
            .await
            .is_err());
    }
}
