//! `fromUrl`: pick a backend from a URL's scheme.

use std::collections::HashMap;

use napi_derive::napi;
use url::Url;

use crate::error::{StorageFailure, StorageResult};
use crate::store::{NativeStore, StoreInner};

use super::{local::local_store, memory::memory_store};

pub fn store_from_url(url: &str, _options: &HashMap<String, String>) -> StorageResult<StoreInner> {
    let parsed = Url::parse(url)
        .map_err(|err| StorageFailure::invalid_config(format!("not a URL ({err}): {url:?}")))?;
    match parsed.scheme() {
        "memory" => Ok(memory_store()),
        "file" => {
            let dir = parsed.to_file_path().map_err(|_| {
                StorageFailure::invalid_config(format!("not an absolute file URL: {url:?}"))
            })?;
            let mkdir = _options.get("mkdir").is_some_and(|v| v == "true");
            local_store(&dir.to_string_lossy(), mkdir)
        }
        scheme => Err(StorageFailure::invalid_config(format!(
            "unsupported URL scheme {scheme:?}"
        ))),
    }
}

#[napi]
impl NativeStore {
    /// Build a store from a URL such as `memory://` or `file:///abs/dir`.
    #[napi(factory)]
    pub fn from_url(url: String, options: Option<HashMap<String, String>>) -> napi::Result<Self> {
        Ok(NativeStore::new(store_from_url(
            &url,
            &options.unwrap_or_default(),
        )?))
    }
}
