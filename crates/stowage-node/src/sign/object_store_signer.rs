//! object_store's own signer, for backends that have no signer of ours yet: plain URLs only.

use std::sync::Arc;

use async_trait::async_trait;
use object_store::path::Path;
use object_store::signer::Signer;

use crate::error::{StorageFailure, StorageResult};

use super::{SignRequest, UrlSigner};

/// Signs through object_store's `Signer`; options beyond method and expiry are refused.
pub struct ObjectStoreSigner {
    inner: Arc<dyn Signer>,
}

impl ObjectStoreSigner {
    pub fn new(inner: Arc<dyn Signer>) -> Self {
        Self { inner }
    }
}

#[async_trait]
impl UrlSigner for ObjectStoreSigner {
    async fn sign_urls(&self, paths: &[Path], request: &SignRequest) -> StorageResult<Vec<String>> {
        if request.has_options() {
            return Err(StorageFailure::not_supported(
                "this store signs plain URLs only: responseContentDisposition, \
                 responseContentType, contentType, contentLength and maxContentLength are not \
                 supported",
            ));
        }
        let urls = self
            .inner
            .signed_urls(request.method.clone(), paths, request.expires_in)
            .await?;
        Ok(urls.into_iter().map(String::from).collect())
    }
}
