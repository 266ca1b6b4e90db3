//! S3's own SigV4 signer: URLs (`presign`), browser form uploads (`post`), the part
//! URLs of presigned multipart uploads, and the store's own requests (`request`, sent through
//! `signing_client`), over the store's endpoint (`endpoint`) and credential provider, with
//! signing keys derived once a day (`key`), all shared per store (`store_signing`).

pub mod endpoint;
pub mod key;
pub mod post;
pub mod presign;
pub mod request;
pub mod signing_client;
pub mod store_signing;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use object_store::aws::AwsCredential;
use object_store::path::Path;

use crate::error::{StorageFailure, StorageResult};
use crate::sign::{PostRequest, SignRequest, SignedPost, UrlSigner};

use self::presign::{Presign, Timestamp};
use self::store_signing::StoreSigning;

/// Presigns for one S3 store.
pub struct S3Signer {
    signing: Arc<StoreSigning>,
    bucket: String,
}

impl S3Signer {
    pub fn new(signing: Arc<StoreSigning>, bucket: String) -> Self {
        Self { signing, bucket }
    }

    async fn credential(&self) -> StorageResult<Arc<AwsCredential>> {
        Ok(self.signing.credential().await?)
    }

    /// What the URLs of one call share, signed by `credential` at `at`.
    fn presign<'a>(
        &'a self,
        credential: &Arc<AwsCredential>,
        at: &Timestamp,
        request: &'a SignRequest,
        extra: &[(&str, &str)],
    ) -> Presign<'a> {
        let key = self.signing.key(credential, at);
        Presign::new(&self.signing.endpoint, credential, key, at, request, extra)
    }

    /// URLs for `paths`, signed by `credential` at `at` (tests fix both).
    pub fn sign_with(
        &self,
        credential: &Arc<AwsCredential>,
        at: &Timestamp,
        paths: &[Path],
        request: &SignRequest,
    ) -> Vec<String> {
        let presign = self.presign(credential, at, request, &[]);
        paths.iter().map(|path| presign.url(path)).collect()
    }

    /// Presigned `UploadPart` URLs of multipart upload `upload_id`, one per part number:
    /// `partNumber` and `uploadId` are signed into each.
    pub async fn sign_parts(
        &self,
        path: &Path,
        upload_id: &str,
        part_numbers: &[u32],
        request: &SignRequest,
    ) -> StorageResult<Vec<String>> {
        let credential = self.credential().await?;
        let at = Timestamp::of(Utc::now());
        Ok(part_numbers
            .iter()
            .map(|number| {
                let number = number.to_string();
                let extra = [("partNumber", number.as_str()), ("uploadId", upload_id)];
                self.presign(&credential, &at, request, &extra).url(path)
            })
            .collect())
    }
}

/// A presigned S3 PUT signs an exact `Content-Length` or none: a size range is only a POST
/// policy's (`signPost`).
fn refuse_size_range(request: &SignRequest) -> StorageResult<()> {
    if request.max_content_length.is_some() {
        return Err(StorageFailure::not_supported(
            "a presigned S3 PUT cannot limit the upload to a largest size: sign its exact \
             contentLength, or use signPost, whose policy limits the size to a range",
        ));
    }
    Ok(())
}

#[async_trait]
impl UrlSigner for S3Signer {
    async fn sign_urls(&self, paths: &[Path], request: &SignRequest) -> StorageResult<Vec<String>> {
        refuse_size_range(request)?;
        let credential = self.credential().await?;
        Ok(self.sign_with(&credential, &Timestamp::of(Utc::now()), paths, request))
    }

    async fn sign_url(&self, path: &Path, request: &SignRequest) -> StorageResult<String> {
        refuse_size_range(request)?;
        let credential = self.credential().await?;
        let at = Timestamp::of(Utc::now());
        Ok(self.presign(&credential, &at, request, &[]).url(path))
    }

    async fn sign_post(&self, path: &Path, request: &PostRequest) -> StorageResult<SignedPost> {
        let credential = self.credential().await?;
        let now = Utc::now();
        let key = self.signing.key(&credential, &Timestamp::of(now));
        post::sign(
            &self.signing.endpoint,
            &self.bucket,
            &credential,
            &key,
            now,
            path,
            request,
        )
    }
}
