//! `LocalStore`: `LocalFileSystem` confined to its root directory.

pub mod confine;
pub mod walk;

use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use napi_derive::napi;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions,
};

use crate::backends::local::confine::LocalRoot;
use crate::capabilities::Capabilities;
use crate::error::{ErrorCode, StorageFailure, StorageResult};
use crate::store::{NativeStore, StoreInner};
use crate::upload::part_size::NO_PART_LIMITS;
use walk::{list_one_level, LocalKeys, Walk};

/// Options of `new LocalStore(root, opts)`.
#[napi(object, js_name = "LocalStoreOptions")]
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
    let files = LocalFileSystem::new_with_prefix(root.dir())
        .map_err(|err| StorageFailure::invalid_config(err.to_string()))?;
    let keys = LocalKeys::new(root.clone())
        .map_err(|err| StorageFailure::invalid_config(err.to_string()))?;
    Ok(StoreInner {
        store: Arc::new(ConfinedLocalFileSystem {
            files,
            keys: Arc::new(keys),
        }),
        signer: None,
        prefix: None,
        description: format!("LocalStore({})", root.dir().display()),
        local_root: Some(root),
        in_process: false,
        part_limits: NO_PART_LIMITS,
        capabilities: Capabilities::LOCAL,
        presigned_multipart: None,
    })
}

#[napi]
impl NativeStore {
    /// A store over a directory of the local filesystem.
    #[napi(factory)]
    pub fn local(root: String, options: Option<LocalOptions>) -> napi::Result<Self, ErrorCode> {
        let mkdir = options.unwrap_or_default().mkdir.unwrap_or(false);
        Ok(NativeStore::new(local_store(&root, mkdir)?))
    }
}

/// `LocalFileSystem` with listings that stay inside the root (see `local_walk.rs`). Every
/// other operation is `LocalFileSystem`'s own: their keys are confined before they get here
/// (`StoreInner::key`), but a listing meets links the caller never named.
#[derive(Debug)]
pub struct ConfinedLocalFileSystem {
    files: LocalFileSystem,
    keys: Arc<LocalKeys>,
}

/// Listed entries produced per job on the blocking pool, as `LocalFileSystem` batches them.
const LIST_BATCH: usize = 1024;

impl ConfinedLocalFileSystem {
    fn walk(
        &self,
        prefix: Option<&Path>,
        offset: Option<&Path>,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let walk = Walk::new(self.keys.clone(), prefix, offset);
        futures::stream::try_unfold(
            (walk, VecDeque::new()),
            |(mut walk, mut batch)| async move {
                if batch.is_empty() {
                    (walk, batch) = off_the_runtime(move || {
                        batch.extend(walk.by_ref().take(LIST_BATCH));
                        (walk, batch)
                    })
                    .await?;
                }
                match batch.pop_front() {
                    Some(Ok(meta)) => Ok(Some((meta, (walk, batch)))),
                    Some(Err(err)) => Err(err),
                    None => Ok(None),
                }
            },
        )
        .boxed()
    }
}

/// Run blocking file-system work on tokio's blocking pool, or right here when there is no
/// runtime (on a file thread, see `runtime/job_threads.rs`), as `LocalFileSystem` does.
async fn off_the_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> object_store::Result<T> {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => Ok(runtime.spawn_blocking(work).await?),
        Err(_) => Ok(work()),
    }
}

impl fmt::Display for ConfinedLocalFileSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.files, f)
    }
}

#[async_trait]
impl ObjectStore for ConfinedLocalFileSystem {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.files.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.files.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.files.get_opts(location, options).await
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        self.files.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.files.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.walk(prefix, None)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.walk(prefix, Some(offset))
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let keys = self.keys.clone();
        let prefix = prefix.cloned();
        off_the_runtime(move || list_one_level(&keys, prefix.as_ref())).await?
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.files.copy_opts(from, to, options).await
    }

    async fn rename_opts(
        &self,
        from: &Path,
        to: &Path,
        options: RenameOptions,
    ) -> object_store::Result<()> {
        self.files.rename_opts(from, to, options).await
    }
}
