//! `list`: every object under a prefix, as an async iterator fed page by page.

use std::sync::Arc;

use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use object_store::path::Path;
use object_store::ObjectMeta;
use tokio::sync::Mutex;

use crate::error::{ErrorCode, StorageResult};
use crate::key::{parse_key, parse_prefix};
use crate::meta::NativeObjectMeta;
use crate::runtime::promise::promise;
use crate::store::NativeStore;

/// Entries handed to JavaScript per call, at most.
const PAGE_SIZE: usize = 1000;

/// A listing in progress.
#[napi]
pub struct NativeLister {
    stream: Arc<Mutex<Option<BoxStream<'static, object_store::Result<ObjectMeta>>>>>,
}

#[napi]
impl NativeLister {
    /// The next page: whatever has arrived, up to 1000 entries; `null` at the end.
    #[napi(ts_return_type = "Promise<Array<NativeObjectMeta> | null>")]
    pub fn next_page<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, Option<Vec<NativeObjectMeta>>>> {
        let stream = self.stream.clone();
        promise(env, false, async move {
            let mut guard = stream.lock().await;
            let Some(entries) = guard.as_mut() else {
                return Ok(None);
            };
            let Some(first) = entries.next().await else {
                *guard = None;
                return Ok(None);
            };
            let mut page = vec![NativeObjectMeta::from(first?)];
            while page.len() < PAGE_SIZE {
                match entries.next().now_or_never() {
                    Some(Some(entry)) => page.push(entry?.into()),
                    Some(None) => {
                        *guard = None;
                        break;
                    }
                    None => break,
                }
            }
            Ok(Some(page))
        })
    }
}

fn validate_offset(offset: Option<&str>) -> StorageResult<Option<Path>> {
    offset.map(parse_key).transpose()
}

#[napi]
impl NativeStore {
    /// Every object under `prefix` (a directory: `docs` matches `docs/a`, not
    /// `docs2/a`), optionally only keys after `offset`.
    #[napi]
    pub fn list(
        &self,
        prefix: Option<String>,
        offset: Option<String>,
    ) -> napi::Result<NativeLister, ErrorCode> {
        let prefix = parse_prefix(prefix.as_deref())?;
        let offset = validate_offset(offset.as_deref())?;
        if let (Some(root), Some(prefix)) = (&self.inner.local_root, &prefix) {
            root.confine(prefix)?;
        }
        let stream = match offset {
            Some(offset) => self.inner.store.list_with_offset(prefix.as_ref(), &offset),
            None => self.inner.store.list(prefix.as_ref()),
        };
        Ok(NativeLister {
            stream: Arc::new(Mutex::new(Some(stream))),
        })
    }
}
