//! The HTTP client of an S3 store that signs the store's requests itself (`request`), with a
//! signing key derived once a day, instead of object_store deriving one per request. The
//! store is built with `skip_signature`, so object_store sends its requests unsigned through
//! this client, which signs each one (each retry too, with a fresh date) before it goes out.
//!
//! Only requests to the store's own bucket endpoint are signed: the same connector also makes
//! the clients of object_store's credential providers (STS, instance metadata, containers),
//! whose requests must go out as they are. The signed requests are sent by the store's
//! `HyperClient` (backends/hyper_client says why) where it has one, by reqwest otherwise.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use chrono::Utc;
use object_store::client::{HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest};
use object_store::client::{HttpResponse, HttpService, ReqwestConnector};
use object_store::ClientOptions;

use crate::backends::hyper_client::{is_on_origin, EndpointConnector, HyperClient};

use super::presign::Timestamp;
use super::request::{payload_hash, sign_request, RequestSigning};
use super::store_signing::StoreSigning;

/// Signs the requests of one S3 store.
pub struct StoreRequestSigner {
    /// Shared with the store's presigner: one credential provider, one day's key.
    signing: Arc<StoreSigning>,
    sign_payload: bool,
}

impl std::fmt::Debug for StoreRequestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The credential provider is left out: whatever it holds stays out of logs.
        let endpoint = &self.signing.endpoint;
        f.debug_struct("StoreRequestSigner")
            .field("origin", &endpoint.origin)
            .field("base_path", &endpoint.base_path)
            .field("sign_payload", &self.sign_payload)
            .finish_non_exhaustive()
    }
}

impl StoreRequestSigner {
    pub fn new(signing: Arc<StoreSigning>, sign_payload: bool) -> Self {
        Self {
            signing,
            sign_payload,
        }
    }

    /// Whether `uri` is a request to the store's bucket: its origin is the endpoint's and its
    /// path the bucket's path or below it.
    fn covers(&self, uri: &http::Uri) -> bool {
        let endpoint = &self.signing.endpoint;
        is_on_origin(uri, &endpoint.origin)
            && uri
                .path()
                .strip_prefix(endpoint.base_path.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    async fn sign(&self, request: &mut HttpRequest) -> Result<(), HttpError> {
        let payload_hash = payload_hash(request.body(), self.sign_payload).await;
        // Unknown: a credential that cannot be had is not the request's fault, and is not
        // retried (the provider has its own retries); the error mapping finds its code.
        let credential = self
            .signing
            .credential()
            .await
            .map_err(|err| HttpError::new(HttpErrorKind::Unknown, err))?;
        let at = Timestamp::of(Utc::now());
        let key = self.signing.key(&credential, &at);
        let endpoint = &self.signing.endpoint;
        let signing = RequestSigning {
            credential: &credential,
            key: &key,
            at,
            region: &endpoint.region,
            host: &endpoint.host,
            payload_hash: &payload_hash,
            request_payer: endpoint.request_payer,
        };
        sign_request(request, &signing).map_err(|err| HttpError::new(HttpErrorKind::Unknown, err))
    }
}

/// The connector an S3 store is built with: reqwest's, with every client it makes signing
/// through `signer`, which is set once the store is built (its credential provider only
/// exists then). Before that, nothing is signed; nothing is sent before it either. What it
/// signs goes out through the endpoint's hyper client, where there is one.
#[derive(Debug, Clone)]
pub struct SigningConnector {
    pub signer: Arc<OnceLock<StoreRequestSigner>>,
    endpoint: EndpointConnector,
}

impl SigningConnector {
    /// A connector whose signed requests go out through `endpoint`'s clients.
    pub fn new(endpoint: EndpointConnector) -> Self {
        Self {
            signer: Arc::default(),
            endpoint,
        }
    }
}

impl HttpConnector for SigningConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        let inner = ReqwestConnector::default().connect(options)?;
        Ok(HttpClient::new(SigningService {
            inner,
            signer: self.signer.clone(),
            bucket_client: self.endpoint.endpoint_client(options)?,
        }))
    }
}

#[derive(Debug)]
struct SigningService {
    inner: HttpClient,
    signer: Arc<OnceLock<StoreRequestSigner>>,
    bucket_client: Option<Arc<HyperClient>>,
}

#[async_trait]
impl HttpService for SigningService {
    async fn call(&self, mut request: HttpRequest) -> Result<HttpResponse, HttpError> {
        if let Some(signer) = self.signer.get() {
            if signer.covers(request.uri()) {
                signer.sign(&mut request).await?;
                if let Some(client) = &self.bucket_client {
                    return client.execute(request).await;
                }
            }
        }
        self.inner.execute(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::s3::endpoint::S3Endpoint;
    use object_store::aws::AwsCredential;
    use object_store::StaticCredentialProvider;

    fn signer(origin: &str, base_path: &str) -> StoreRequestSigner {
        let endpoint = S3Endpoint {
            origin: origin.into(),
            host: origin.split("://").nth(1).unwrap().into(),
            base_path: base_path.into(),
            region: "us-east-1".into(),
            request_payer: false,
        };
        let credential = AwsCredential {
            key_id: "id".into(),
            secret_key: "secret".into(),
            token: None,
        };
        let credentials = Arc::new(StaticCredentialProvider::new(credential));
        StoreRequestSigner::new(Arc::new(StoreSigning::new(endpoint, credentials)), true)
    }

    #[test]
    fn signs_only_the_bucket_requests() {
        let path_style = signer("http://127.0.0.1:9000", "/bkt");
        let aws = signer("https://bkt.s3.us-east-1.amazonaws.com", "");
        let cases = [
            (&path_style, "http://127.0.0.1:9000/bkt/a/b.txt", true),
            (
                &path_style,
                "http://127.0.0.1:9000/bkt?list-type=2&prefix=a",
                true,
            ),
            (&path_style, "http://127.0.0.1:9000/bkt", true),
            // Another bucket whose name starts alike, the server's root (STS), another host.
            (&path_style, "http://127.0.0.1:9000/bkt2/a", false),
            (
                &path_style,
                "http://127.0.0.1:9000/?Action=AssumeRoleWithWebIdentity",
                false,
            ),
            (&path_style, "http://127.0.0.1:9001/bkt/a", false),
            (
                &path_style,
                "http://169.254.169.254/latest/api/token",
                false,
            ),
            (&aws, "https://bkt.s3.us-east-1.amazonaws.com/k", true),
            (
                &aws,
                "https://bkt.s3.us-east-1.amazonaws.com?list-type=2",
                true,
            ),
            // Spelled otherwise, the same endpoint.
            (&aws, "https://BKT.s3.us-east-1.amazonaws.com:443/k", true),
            (&aws, "https://sts.us-east-1.amazonaws.com/", false),
            (&aws, "http://bkt.s3.us-east-1.amazonaws.com/k", false),
        ];
        for (signer, uri, signed) in cases {
            assert_eq!(signer.covers(&uri.parse().unwrap()), signed, "{uri}");
        }
    }
}
