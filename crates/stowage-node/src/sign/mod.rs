//! Presigned URLs and forms, one signer per backend behind [`UrlSigner`].
//!
//! `ops/sign.rs` checks what JavaScript asked for and turns it into a [`SignRequest`]; the
//! store's signer (S3's own in `s3/`, GCS's and Azure's in their files) turns that into URLs.
//! Signers receive full paths: the store's prefix is already applied.

pub mod azure;
pub mod encode;
pub mod gcs;
pub mod object_store_signer;
pub mod s3;
#[cfg(test)]
mod speed_check;

use std::time::Duration;

use async_trait::async_trait;
use http::Method;
use object_store::path::Path;

use crate::error::{StorageFailure, StorageResult};

/// What a presigned URL lets its holder do, besides naming the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignRequest {
    /// GET, PUT, HEAD or DELETE.
    pub method: Method,
    /// How long the URL stays valid (1 s to 7 days, checked by `ops/sign.rs`).
    pub expires_in: Duration,
    /// GET/HEAD only: the `Content-Disposition` the server answers with, as the caller wrote
    /// it (the signer encodes it into the URL).
    pub response_content_disposition: Option<String>,
    /// GET/HEAD only: the `Content-Type` the server answers with.
    pub response_content_type: Option<String>,
    /// PUT only: the `Content-Type` the upload must declare (signed, so another is refused).
    pub content_type: Option<String>,
    /// PUT only: the exact `Content-Length` the upload must have (signed likewise).
    pub content_length: Option<u64>,
    /// PUT only: the largest size the upload may have. Only GCS can sign it (as
    /// `x-goog-content-length-range: 0,N`); never set together with `content_length`.
    pub max_content_length: Option<u64>,
}

impl SignRequest {
    /// A request with no options beyond method and expiry.
    pub fn new(method: Method, expires_in: Duration) -> Self {
        Self {
            method,
            expires_in,
            response_content_disposition: None,
            response_content_type: None,
            content_type: None,
            content_length: None,
            max_content_length: None,
        }
    }

    /// Whether any option beyond method and expiry is set.
    pub fn has_options(&self) -> bool {
        self.response_content_disposition.is_some()
            || self.response_content_type.is_some()
            || self.content_type.is_some()
            || self.content_length.is_some()
            || self.max_content_length.is_some()
    }

    /// The size range a GCS upload is signed for (`x-goog-content-length-range: MIN,MAX`):
    /// exactly `content_length`, or up to `max_content_length`.
    pub fn content_length_range(&self) -> Option<(u64, u64)> {
        self.content_length
            .map(|length| (length, length))
            .or(self.max_content_length.map(|max| (0, max)))
    }
}

/// A browser form upload (S3's POST policy): what the policy allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRequest {
    /// How long the form stays valid.
    pub expires_in: Duration,
    /// The `Content-Type` the form must declare (an `eq` condition), if any.
    pub content_type: Option<String>,
    /// The smallest file accepted, in bytes.
    pub min_size: u64,
    /// The largest file accepted, in bytes.
    pub max_size: u64,
}

/// A signed form: post `fields` (in this order, the file last) to `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPost {
    pub url: String,
    pub fields: Vec<(String, String)>,
}

/// One backend's presigning. Implementations must never panic on user input and must keep
/// secrets out of their errors.
#[async_trait]
pub trait UrlSigner: Send + Sync {
    /// Presigned URLs for `paths`, in order, all for `request`.
    async fn sign_urls(&self, paths: &[Path], request: &SignRequest) -> StorageResult<Vec<String>>;

    /// One presigned URL; signers with a cheaper single path override it.
    async fn sign_url(&self, path: &Path, request: &SignRequest) -> StorageResult<String> {
        let mut urls = self.sign_urls(std::slice::from_ref(path), request).await?;
        urls.pop()
            .ok_or_else(|| StorageFailure::generic("the signer returned no URL"))
    }

    /// A browser form upload of `path`; only S3 has one.
    async fn sign_post(&self, _path: &Path, _request: &PostRequest) -> StorageResult<SignedPost> {
        Err(StorageFailure::not_supported(
            "presigned POST forms are only available on S3 stores",
        ))
    }
}
