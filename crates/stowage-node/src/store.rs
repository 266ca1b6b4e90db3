//! The one `#[napi]` class every JavaScript store wraps.
//!
//! Operations live in their own modules (`put.rs`, `get.rs`, ...) as further
//! `#[napi] impl NativeStore` blocks; this module holds what they share.

use std::future::Future;
use std::sync::Arc;

use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::Env;

use napi_derive::napi;
use object_store::multipart::MultipartStore;
use object_store::path::Path;
use object_store::ObjectStore;

use crate::backends::local::confine::LocalRoot;
use crate::capabilities::Capabilities;
use crate::error::{StorageFailure, StorageResult};
use crate::key::{check_local_file_name, parse_key};
use crate::redact::redact;
use crate::runtime::promise::promise;
use crate::sign::s3::S3Signer;
use crate::sign::UrlSigner;
use crate::upload::part_size::PartLimits;

/// What an operation needs to reach one configured store.
pub struct StoreInner {
    /// The store with any configured prefix already applied.
    pub store: Arc<dyn ObjectStore>,
    /// The backend's presigner (over unprefixed paths), for backends that can sign.
    pub signer: Option<Arc<dyn UrlSigner>>,
    /// Applied by hand to signed URLs, since `PrefixStore` cannot sign.
    pub prefix: Option<Path>,
    /// Set for `LocalStore`: every path is confined to this directory.
    pub local_root: Option<LocalRoot>,
    /// A description without secrets, for `util.inspect` and errors.
    pub description: String,
    /// The store lives in this process (`MemoryStore`): its operations finish without
    /// waiting, so their futures are polled on the calling thread first, and it keeps the
    /// very bytes it is given, so a put copies the caller's buffer.
    pub in_process: bool,
    /// The backend's multipart limits, which part sizes are planned to fit.
    pub part_limits: PartLimits,
    /// What the store supports, as users can ask (`store.capabilities`).
    pub capabilities: Capabilities,
    /// S3's multipart API and signer, for multipart uploads through presigned part URLs.
    pub presigned_multipart: Option<PresignedMultipart>,
}

/// What presigned multipart uploads need: the unprefixed store's multipart API (paths are
/// given prefix included, as to the signer) and the signer of its part URLs.
pub struct PresignedMultipart {
    pub store: Arc<dyn MultipartStore>,
    pub signer: Arc<S3Signer>,
}

/// A handle on one configured object store; cheap to share across calls.
#[napi]
pub struct NativeStore {
    pub(crate) inner: Arc<StoreInner>,
}

impl NativeStore {
    pub(crate) fn new(inner: StoreInner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }
}

impl NativeStore {
    /// A promise of `op`'s outcome; failures become `StorageError`s, panics `GENERIC` ones.
    pub(crate) fn run<'env, T, F>(&self, env: &'env Env, op: F) -> napi::Result<PromiseRaw<'env, T>>
    where
        T: ToNapiValue + Send + 'static,
        F: Future<Output = StorageResult<T>> + Send + 'static,
    {
        promise(env, self.inner.in_process, op)
    }
}

impl StoreInner {
    /// Parse `key` and check it may be touched by this store.
    pub fn key(&self, key: &str) -> StorageResult<Path> {
        let path = parse_key(key)?;
        if let Some(root) = &self.local_root {
            check_local_file_name(&path)?;
            root.confine(&path)?;
        }
        Ok(path)
    }

    /// A `LocalStore`, whose single-request operations run as one job on a file thread.
    pub fn is_local(&self) -> bool {
        self.local_root.is_some()
    }

    /// `LocalFileSystem` cannot keep attributes; docs/api.md has them dropped, not refused.
    pub fn keeps_attributes(&self) -> bool {
        self.local_root.is_none()
    }

    /// The key as the server sees it, prefix included (used for signing).
    pub fn full_path(&self, path: &Path) -> Path {
        match &self.prefix {
            Some(prefix) => prefix.parts().chain(path.parts()).collect(),
            None => path.clone(),
        }
    }

    /// The store's presigner, or `NOT_SUPPORTED` for stores that cannot sign.
    pub fn signer(&self) -> StorageResult<&Arc<dyn UrlSigner>> {
        self.signer.as_ref().ok_or_else(|| {
            StorageFailure::not_supported(format!(
                "{} cannot sign URLs; only S3, GCS and Azure stores can",
                self.description
            ))
        })
    }
}

#[napi]
impl NativeStore {
    /// What this store supports; anything else fails with `NOT_SUPPORTED` when tried.
    #[napi(getter)]
    pub fn capabilities(&self) -> Capabilities {
        self.inner.capabilities
    }

    /// A description of the store that never contains a secret: backends build it from
    /// `describe_url`, and it is redacted once more in case a name quoted in it holds one.
    #[napi]
    pub fn describe(&self) -> String {
        redact(&self.inner.description)
    }
}
