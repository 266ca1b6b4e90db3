use std::path::Path as FsPath;
use std::sync::Arc;

use napi_derive::napi;
use object_store::local::LocalFileSystem;

use crate::confine::LocalRoot;
use crate::error::{StorageFailure, StorageResult};
use crate::part_size::NO_PART_LIMITS;
use crate::store::{NativeStore, StoreInner};

/// Options of `new LocalStore(root, opts)`.
#[napi(object)]
#[derive(Default)]
pub struct LocalOptions {
    /// Create the root directory when it does not exist.
    pub mkdir: Option<bool>,
}

pub fn local_store(root: &str, mkdir: bool) -> StorageResult<StoreInner> {
    if !FsPath::new(root).is_absolute() {
        return Err(StorageFailure::invalid_config(format!(
            "LocalStore needs an absolute root directory, got {root:?}"
        )));
    }
    let root = LocalRoot::open(FsPath::new(root), mkdir)?;
    let fs = LocalFileSystem::new_with_prefix(root.dir())
        .map_err(|err| StorageFailure::invalid_config(err.to_string()))?;
    Ok(StoreInner {
        store: Arc::new(fs),
        signer: None,
        prefix: None,
        description: format!("LocalStore({})", root.dir().display()),
        local_root: Some(root),
        in_process: false,
        part_limits: NO_PART_LIMITS,
    })
}

#[napi]
impl NativeStore {
    /// A store over a directory of the local filesystem.
    #[napi(factory)]
    pub fn local(root: String, options: Option<LocalOptions>) -> napi::Result<Self> {
        let mkdir = options.unwrap_or_default().mkdir.unwrap_or(false);
        Ok(NativeStore::new(local_store(&root, mkdir)?))
    }
}
