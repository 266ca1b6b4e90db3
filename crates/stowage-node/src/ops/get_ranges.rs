//! `getRanges`: several byte ranges of one object, nearby ones fetched together.

use std::ops::Range;

use bytes::Bytes;
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use object_store::path::Path;
use object_store::{coalesce_ranges, ObjectStore, ObjectStoreExt, OBJECT_STORE_COALESCE_DEFAULT};

use crate::error::{StorageFailure, StorageResult};
use crate::io::js_bytes::JsBytes;
use crate::ops::get_options::byte_range;
use crate::store::NativeStore;

#[napi]
impl NativeStore {
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
