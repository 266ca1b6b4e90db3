//! What one S3 store signs with, shared by its presigner and its request signer, so that a
//! store asks one credential provider and derives the day's signing key once.

use std::sync::Arc;

use aws_lc_rs::hmac;
use object_store::aws::{AwsCredential, AwsCredentialProvider};

use super::endpoint::S3Endpoint;
use super::key::SigningKeys;
use super::presign::Timestamp;

/// What one S3 store signs with, shared by its presigner (`S3Signer`) and its request signer
/// (`signing_client.rs`): the endpoint, the store's credential provider and one cache of
/// signing keys.
pub struct StoreSigning {
    pub endpoint: S3Endpoint,
    /// The store's own provider: it caches and refreshes the credential (a JavaScript
    /// `credentialProvider` until near its `expiresAt`, instance and web-identity ones
    /// until near theirs), so asking it per call costs a lock, not a fetch.
    credentials: AwsCredentialProvider,
    keys: SigningKeys,
}

impl StoreSigning {
    pub fn new(endpoint: S3Endpoint, credentials: AwsCredentialProvider) -> Self {
        Self {
            endpoint,
            credentials,
            keys: SigningKeys::default(),
        }
    }

    /// The credential to sign with now.
    pub async fn credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        self.credentials.get_credential().await
    }

    /// The signing key of `credential` for `at`'s date in the endpoint's region.
    pub fn key(&self, credential: &Arc<AwsCredential>, at: &Timestamp) -> Arc<hmac::Key> {
        self.keys.get(credential, at.date, &self.endpoint.region)
    }
}
