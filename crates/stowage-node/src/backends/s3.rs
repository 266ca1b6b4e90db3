//! `S3Store`: Amazon S3 and S3-compatible servers.

use std::collections::HashMap;
use std::sync::Arc;

use napi_derive::napi;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::multipart::MultipartStore;

use crate::capabilities::Capabilities;
use crate::error::{ErrorCode, StorageFailure, StorageResult};
use crate::redact::redact;
use crate::sign::s3::endpoint::S3Endpoint;
use crate::sign::s3::signing_client::{SigningConnector, StoreRequestSigner};
use crate::sign::s3::store_signing::StoreSigning;
use crate::sign::s3::S3Signer;
use crate::store::{NativeStore, PresignedMultipart, StoreInner};
use crate::upload::part_size::S3_LIMITS;

use super::client::{
    assemble, bool_str, config_error, default_headers, describe_prefix, describe_url, retry_config,
    Adjusted, ClientSettings, NativeClientOptions, NativeRetryOptions,
};
use super::config::CloudConfig;
use super::credentials::{JsCredentialFn, JsCredentialProvider};
use super::hyper_client::EndpointConnector;

/// Options of `new S3Store(opts)`. Unset options fall back to the `AWS_*`
/// environment variables, then to object_store's defaults.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct NativeS3Options {
    /// The bucket (or `AWS_BUCKET`).
    pub bucket: Option<String>,
    /// The region (or `AWS_REGION` / `AWS_DEFAULT_REGION`, default `us-east-1`).
    pub region: Option<String>,
    /// A custom endpoint for S3-compatible servers, e.g. `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    /// The access key id (or `AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// The secret access key (or `AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: Option<String>,
    /// A session token for temporary credentials (or `AWS_SESSION_TOKEN`).
    pub session_token: Option<String>,
    /// Allow a plain `http://` endpoint.
    pub allow_http: Option<bool>,
    /// `https://bucket.host/key` instead of `https://host/bucket/key`.
    pub virtual_hosted_style: Option<bool>,
    /// Send unsigned requests, for public buckets.
    pub skip_signature: Option<bool>,
    /// Leave request bodies out of the signature (`UNSIGNED-PAYLOAD`). Default: `true` over
    /// HTTPS, where TLS already protects the body (as AWS's own SDKs do), `false` over plain
    /// HTTP, where the SHA-256 in the signature is the body's only protection.
    pub unsigned_payload: Option<bool>,
    /// How `mode: 'create'` and etag updates are done: `'etag'` (default; `If-None-Match` /
    /// `If-Match` headers, as AWS S3 supports) or `'disabled'` (they give `NOT_SUPPORTED`).
    #[napi(ts_type = "'etag' | 'disabled'")]
    pub conditional_put: Option<String>,
    /// How `copy`/`rename` with `overwrite: false` are done, in `object_store`'s syntax:
    /// `'multipart'`, `'header:<name>:<value>'` or `'header-with-status:<name>:<value>:<status>'`.
    /// Default `'multipart'` (a one-part multipart copy completed with `If-None-Match: *`, as
    /// AWS S3 supports; objects above 5 GiB cannot be copied this way).
    pub copy_if_not_exists: Option<String>,
    /// A key prefix applied to every path (and signed URL), stripped from listed keys.
    pub prefix: Option<String>,
    /// HTTP client options.
    // (ts_type: napi-rs resolves a renamed type only in modules built after the rename's.)
    #[napi(ts_type = "ClientOptions")]
    pub client: Option<NativeClientOptions>,
    /// Retries of failed requests.
    #[napi(ts_type = "RetryOptions")]
    pub retry: Option<NativeRetryOptions>,
    /// Credentials fetched on demand; overrides keys and the environment.
    #[napi(ts_type = "() => Promise<NativeCredential>")]
    pub credential_provider: Option<JsCredentialFn>,
    /// Further `object_store` configuration keys (`aws_*` names or their short forms).
    pub config: Option<HashMap<String, String>>,
}

/// Keys that explicit credentials replace wholesale, so the environment's
/// session token is never paired with an explicit access key.
fn is_credential_key(key: &AmazonS3ConfigKey) -> bool {
    use AmazonS3ConfigKey as K;
    matches!(
        key,
        K::AccessKeyId
            | K::SecretAccessKey
            | K::Token
            | K::WebIdentityTokenFile
            | K::RoleArn
            | K::RoleSessionName
            | K::ContainerCredentialsRelativeUri
            | K::ContainerCredentialsFullUri
            | K::ContainerAuthorizationTokenFile
    )
}

/// As AWS's own SDKs do: over HTTPS, TLS already guards the body, so it is not hashed into
/// the signature (that SHA-256 was most of an upload's CPU); over plain HTTP it is.
fn with_default_payload_signing(builder: AmazonS3Builder) -> AmazonS3Builder {
    let endpoint = builder.get_config_value(&AmazonS3ConfigKey::Endpoint);
    let https = endpoint
        .as_deref()
        .is_none_or(|e| e.starts_with("https://"));
    builder.with_config(AmazonS3ConfigKey::UnsignedPayload, bool_str(https))
}

fn build(
    config: CloudConfig<AmazonS3Builder>,
    explicit_client: Option<&NativeClientOptions>,
    retry: Option<&NativeRetryOptions>,
    credential_provider: Option<JsCredentialFn>,
    prefix: Option<&str>,
    url: Option<&str>,
) -> StorageResult<StoreInner> {
    let payload_signing_unchosen = !config.was_chosen(&AmazonS3ConfigKey::UnsignedPayload);
    let mut builder = config.builder;
    if payload_signing_unchosen {
        builder = with_default_payload_signing(builder);
    }
    // CompleteMultipartUpload with If-None-Match: AWS S3 supports it, and so do
    // the S3-compatible servers tested (s3s-fs, moto); copies above 5 GiB fail.
    if builder
        .get_config_value(&AmazonS3ConfigKey::CopyIfNotExists)
        .is_none()
    {
        builder = builder.with_config(AmazonS3ConfigKey::CopyIfNotExists, "multipart");
    }
    let retries = retry_config(retry)?;
    let mut builder = builder
        .with_client_options(config.client.finish(explicit_client)?)
        .with_retry(retries.clone());
    if let Some(function) = credential_provider {
        builder = builder.with_credentials(Arc::new(JsCredentialProvider::new(function)));
    }
    // object_store does `create` and etag updates with conditional headers unless told
    // `conditional_put: disabled`.
    let conditional_puts = builder
        .get_config_value(&AmazonS3ConfigKey::ConditionalPut)
        .is_none_or(|mode| mode != "disabled");
    let bucket = builder
        .get_config_value(&AmazonS3ConfigKey::Bucket)
        .unwrap_or_default();
    let endpoint = builder.get_config_value(&AmazonS3ConfigKey::Endpoint);
    let region = builder.get_config_value(&AmazonS3ConfigKey::Region);
    let s3_endpoint = S3Endpoint::of(&builder)?;
    // Read before the builder is consumed: whether requests sign their bodies.
    let sign_payload = builder
        .get_config_value(&AmazonS3ConfigKey::UnsignedPayload)
        .is_none_or(|unsigned| unsigned != "true");
    let connector = if signs_its_own_requests(&builder) {
        let endpoint =
            EndpointConnector::new(default_headers(explicit_client)?, &s3_endpoint.origin);
        Some(SigningConnector::new(endpoint))
    } else {
        None
    };
    if let Some(connector) = &connector {
        builder = builder
            .with_skip_signature(true)
            .with_http_connector(connector.clone());
    }
    let s3 = builder.build().map_err(config_error)?;
    // The presigner and the request signer share the store's credential provider and keys.
    let signing = Arc::new(StoreSigning::new(s3_endpoint, s3.credentials().clone()));
    if let Some(connector) = connector {
        // A new connector's cell: it is empty until now.
        let _ = connector
            .signer
            .set(StoreRequestSigner::new(signing.clone(), sign_payload));
    }
    let mut description = match url {
        Some(url) => format!("S3Store({}", describe_url(url)),
        None => format!("S3Store(bucket={bucket:?}"),
    };
    if let Some(region) = region {
        description.push_str(&format!(", region={region:?}"));
    }
    if let Some(endpoint) = endpoint {
        // As given (an endpoint rarely has a path worth hiding), less any credentials.
        description.push_str(&format!(", endpoint={:?}", redact(&endpoint)));
    }
    description.push_str(&describe_prefix(prefix));
    description.push(')');
    let signer = Arc::new(S3Signer::new(signing, bucket_of(&s3)));
    let multipart: Arc<dyn MultipartStore> = Arc::new(s3.clone());
    let mut inner = assemble(
        Adjusted::new(s3, retries),
        Some(signer.clone()),
        prefix,
        description,
        S3_LIMITS,
        Capabilities::s3(conditional_puts),
    )?;
    inner.presigned_multipart = Some(PresignedMultipart {
        store: multipart,
        signer,
    });
    Ok(inner)
}

/// Whether the store's requests are signed by stowage's own SigV4 signer
/// (sign/s3/signing_client.rs) rather than object_store's, which derives the signing key
/// anew for every request. Not for a store that signs nothing (`skipSignature`), nor for S3
/// Express One Zone, whose session credentials object_store fetches and uses itself.
fn signs_its_own_requests(builder: &AmazonS3Builder) -> bool {
    let on = |key| builder.get_config_value(&key).is_some_and(|v| v == "true");
    !on(AmazonS3ConfigKey::SkipSignature) && !on(AmazonS3ConfigKey::S3Express)
}

/// The bucket the store was built for, from a URL (`s3://bucket`) or options alike: an
/// `AmazonS3` shows it as `AmazonS3(bucket)`, and has no other way to tell it.
fn bucket_of(s3: &AmazonS3) -> String {
    let shown = s3.to_string();
    shown
        .strip_prefix("AmazonS3(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_default()
        .to_string()
}

impl TryFrom<NativeS3Options> for StoreInner {
    type Error = StorageFailure;

    fn try_from(o: NativeS3Options) -> StorageResult<StoreInner> {
        let explicit_credentials = o.access_key_id.is_some()
            || o.secret_access_key.is_some()
            || o.credential_provider.is_some();
        let explicit_endpoint = o.endpoint.is_some();
        let mut config = CloudConfig::<AmazonS3Builder>::from_env(ClientSettings::new(), |key| {
            (explicit_credentials && is_credential_key(key))
                || (explicit_endpoint
                    && matches!(
                        key,
                        AmazonS3ConfigKey::Endpoint | AmazonS3ConfigKey::S3Endpoint
                    ))
        });
        for (name, value) in o.config.unwrap_or_default() {
            config.set_named(&name, value)?;
        }
        use AmazonS3ConfigKey as K;
        let strings = [
            (K::Bucket, o.bucket),
            (K::Region, o.region),
            (K::Endpoint, o.endpoint),
            (K::AccessKeyId, o.access_key_id),
            (K::SecretAccessKey, o.secret_access_key),
            (K::Token, o.session_token),
            (K::ConditionalPut, o.conditional_put),
            (K::CopyIfNotExists, o.copy_if_not_exists),
        ];
        config.set_given(strings);
        let flags = [
            (K::VirtualHostedStyleRequest, o.virtual_hosted_style),
            (K::SkipSignature, o.skip_signature),
            (K::UnsignedPayload, o.unsigned_payload),
        ];
        config.set_flags(flags);
        let mut client = o.client.unwrap_or_default();
        if client.allow_http.is_none() {
            client.allow_http = o.allow_http;
        }
        if config.builder.get_config_value(&K::Bucket).is_none() {
            return Err(StorageFailure::invalid_config(
                "S3Store needs a bucket (option `bucket` or AWS_BUCKET)",
            ));
        }
        build(
            config,
            Some(&client),
            o.retry.as_ref(),
            o.credential_provider,
            o.prefix.as_deref(),
            None,
        )
    }
}

/// An S3 store from `s3://bucket/prefix` (or an S3 `https://` URL), with
/// object_store configuration keys as options.
pub fn s3_from_url(
    url: &str,
    prefix: Option<&str>,
    options: &HashMap<String, String>,
) -> StorageResult<StoreInner> {
    let skip = CloudConfig::<AmazonS3Builder>::names_credentials(options, is_credential_key);
    let config = CloudConfig::<AmazonS3Builder>::from_env(ClientSettings::new(), |key| {
        skip && is_credential_key(key)
    })
    .with_url(url, options)?;
    build(config, None, None, None, prefix, Some(url))
}

#[napi]
impl NativeStore {
    /// A store over an S3 bucket.
    #[napi(factory)]
    pub fn s3(options: NativeS3Options) -> napi::Result<Self, ErrorCode> {
        Ok(NativeStore::new(StoreInner::try_from(options)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsigned(builder: AmazonS3Builder) -> Option<String> {
        with_default_payload_signing(builder).get_config_value(&AmazonS3ConfigKey::UnsignedPayload)
    }

    #[test]
    fn payload_is_signed_only_over_plain_http() {
        let aws = AmazonS3Builder::new();
        assert_eq!(unsigned(aws).as_deref(), Some("true"));
        let tls = AmazonS3Builder::new().with_endpoint("https://minio.example:9000");
        assert_eq!(unsigned(tls).as_deref(), Some("true"));
        let plain = AmazonS3Builder::new().with_endpoint("http://127.0.0.1:9000");
        assert_eq!(unsigned(plain).as_deref(), Some("false"));
    }
}
