//! Where a store's requests go, as object_store decided it: its own signer is asked once, at
//! construction, for a URL with a throwaway credential, and the URL is read back. So the host,
//! path-style or virtual-hosted addressing, endpoint override, S3 Express zonal endpoint,
//! region and requester-pays setting are exactly the store's, with no second copy of
//! object_store's rules here.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use object_store::aws::{AmazonS3Builder, AwsCredential};
use object_store::client::{HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest};
use object_store::client::{HttpResponse, HttpService};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{ClientOptions, StaticCredentialProvider};
use url::Url;

use crate::error::{StorageFailure, StorageResult};

/// The key the probe signs; stripped from the URL's path again.
const PROBE_KEY: &str = "stowage-probe";

/// A store's S3 endpoint, as its signed URLs need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Endpoint {
    /// `scheme://host[:port]`, as the URL starts.
    pub origin: String,
    /// The `Host` header: host and non-default port.
    pub host: String,
    /// The bucket's path: `/bucket` for path-style, empty when virtual-hosted.
    pub base_path: String,
    /// The signing region.
    pub region: String,
    /// Whether URLs carry `x-amz-request-payer=requester`.
    pub request_payer: bool,
}

impl S3Endpoint {
    /// The endpoint of the store `builder` builds (call it with the builder's final state).
    pub fn of(builder: &AmazonS3Builder) -> StorageResult<Self> {
        let probe = builder
            .clone()
            .with_credentials(Arc::new(StaticCredentialProvider::new(AwsCredential {
                key_id: "PROBE".into(),
                secret_key: "PROBE".into(),
                token: None,
            })))
            .with_http_connector(NoConnection)
            .build()
            .map_err(|err| StorageFailure::invalid_config(err.to_string()))?;
        let url = probe
            .signed_url(
                http::Method::GET,
                &Path::from(PROBE_KEY),
                Duration::from_secs(1),
            )
            // A static credential is there at once: the signer never waits.
            .now_or_never()
            .ok_or_else(|| StorageFailure::generic("object_store's signer did not finish at once"))?
            .map_err(StorageFailure::from)?;
        Self::from_signed(&url)
    }

    fn from_signed(url: &Url) -> StorageResult<Self> {
        let unexpected =
            || StorageFailure::generic(format!("unexpected probe URL shape: {}", url.path()));
        let base_path = url
            .path()
            .strip_suffix(PROBE_KEY)
            .and_then(|p| p.strip_suffix('/'))
            .ok_or_else(unexpected)?
            .to_string();
        let mut region = None;
        let mut request_payer = false;
        for (name, value) in url.query_pairs() {
            match name.as_ref() {
                // PROBE/<date>/<region>/s3/aws4_request
                "X-Amz-Credential" => region = value.split('/').nth(2).map(str::to_string),
                "x-amz-request-payer" => request_payer = true,
                _ => {}
            }
        }
        Ok(Self {
            origin: url[..url::Position::BeforePath].to_string(),
            host: url[url::Position::BeforeHost..url::Position::AfterPort].to_string(),
            base_path,
            region: region.ok_or_else(unexpected)?,
            request_payer,
        })
    }
}

/// The probe store's HTTP client: it is never asked to send anything (signing is offline),
/// and building it costs nothing, unlike a real client with its TLS roots.
#[derive(Debug)]
struct NoConnection;

impl HttpConnector for NoConnection {
    fn connect(&self, _: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(NoConnection))
    }
}

#[async_trait]
impl HttpService for NoConnection {
    async fn call(&self, _: HttpRequest) -> Result<HttpResponse, HttpError> {
        Err(HttpError::new(
            HttpErrorKind::Connect,
            std::io::Error::other("the endpoint probe sends no requests"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::aws::AmazonS3ConfigKey;

    fn endpoint(builder: AmazonS3Builder) -> S3Endpoint {
        S3Endpoint::of(&builder.with_bucket_name("bkt")).unwrap()
    }

    #[test]
    fn follows_the_store_addressing() {
        let aws = endpoint(AmazonS3Builder::new().with_region("eu-west-3"));
        assert_eq!(aws.origin, "https://s3.eu-west-3.amazonaws.com");
        assert_eq!(aws.base_path, "/bkt");
        assert_eq!(aws.region, "eu-west-3");
        let hosted = endpoint(AmazonS3Builder::new().with_virtual_hosted_style_request(true));
        assert_eq!(hosted.origin, "https://bkt.s3.us-east-1.amazonaws.com");
        assert_eq!(hosted.base_path, "");
        let local = endpoint(
            AmazonS3Builder::new()
                .with_endpoint("http://127.0.0.1:9000/")
                .with_allow_http(true),
        );
        assert_eq!(local.origin, "http://127.0.0.1:9000");
        assert_eq!(local.host, "127.0.0.1:9000");
        assert_eq!(local.base_path, "/bkt");
        assert!(!local.request_payer);
        let default_port =
            endpoint(AmazonS3Builder::new().with_endpoint("https://Minio.Example:443"));
        assert_eq!(default_port.host, "minio.example");
        let payer =
            endpoint(AmazonS3Builder::new().with_config(AmazonS3ConfigKey::RequestPayer, "true"));
        assert!(payer.request_payer);
        let url = S3Endpoint::of(&AmazonS3Builder::new().with_url("s3://from-url")).unwrap();
        assert_eq!(url.base_path, "/from-url");
    }
}
