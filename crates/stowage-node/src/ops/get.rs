//! `get`: an object, or part of it, with its metadata; small bodies come along.

use std::sync::Arc;

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;

use crate::error::StorageResult;
use crate::io::js_bytes::JsBytes;
use crate::io::reader::{ByteSource, NativeReader};
use crate::meta::NativeAttributes;
use crate::ops::get_local::get_local;
use crate::ops::get_options::{get_options, NativeGetOptions};
use crate::ops::get_result::{NativeGetResult, EAGER_BODY_LIMIT};
use crate::runtime::promise::promise_on_file_thread;
use crate::store::{NativeStore, StoreInner};

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
                get_local(&inner, &path, get_options(options)?)
            });
        }
        self.run(env, get_object(inner, path, options))
    }
}

/// The work of `get` on a store that is not local, whichever runtime starts it (see
/// `runtime/comparison.rs`).
pub(crate) async fn get_object(
    inner: Arc<StoreInner>,
    path: String,
    options: Option<NativeGetOptions>,
) -> StorageResult<NativeGetResult> {
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
}
