//! `GCSStore`: Google Cloud Storage.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use napi_derive::napi;
use object_store::gcp::{GcpSigningCredential, GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::path::Path;
use object_store::signer::{Method, Signer, Url};
use object_store::{ClientOptions, StaticCredentialProvider};
use serde::Deserialize;

use crate::capabilities::Capabilities;
use crate::error::{ErrorCode, StorageFailure, StorageResult};
use crate::sign::gcs::{GcsObjectStoreSigner, GcsRsaKey, GcsUrlSigner};
use crate::sign::object_store_signer::ObjectStoreSigner;
use crate::sign::UrlSigner;
use crate::store::{NativeStore, StoreInner};
use crate::upload::part_size::GCS_LIMITS;

use super::client::{
    assemble, bool_str, config_error, default_headers, describe_prefix, describe_url, retry_config,
    Adjusted, ClientSettings, NativeClientOptions, NativeRetryOptions,
};
use super::config::CloudConfig;
use super::credentials::{JsCredentialFn, JsCredentialProvider};
use super::hyper_client::EndpointConnector;

/// Options of `new GCSStore(opts)`. Unset options fall back to the `GOOGLE_*`
/// environment variables (and Application Default Credentials).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct NativeGcsOptions {
    /// The bucket (or `GOOGLE_BUCKET`).
    pub bucket: Option<String>,
    /// Path of a service-account JSON file (or `GOOGLE_SERVICE_ACCOUNT`). An emulator
    /// account (`disable_oauth` with an empty `private_key`) cannot sign: `signUrls` is then
    /// `NOT_SUPPORTED`.
    pub service_account_path: Option<String>,
    /// A service-account JSON document (or `GOOGLE_SERVICE_ACCOUNT_KEY`; the same rules as a
    /// file).
    pub service_account_key: Option<String>,
    /// Path of an Application Default Credentials file (or `GOOGLE_APPLICATION_CREDENTIALS`).
    pub application_credentials: Option<String>,
    /// A fixed OAuth bearer token.
    pub token: Option<String>,
    /// The storage API's base URL, for emulators (default `https://storage.googleapis.com`).
    pub base_url: Option<String>,
    /// Send unauthenticated requests, for public buckets.
    pub skip_signature: Option<bool>,
    /// A key prefix applied to every path (and signed URL), stripped from listed keys.
    pub prefix: Option<String>,
    /// HTTP client options.
    // (ts_type: napi-rs resolves a renamed type only in modules built after the rename's.)
    #[napi(ts_type = "ClientOptions")]
    pub client: Option<NativeClientOptions>,
    /// Retries of failed requests.
    #[napi(ts_type = "RetryOptions")]
    pub retry: Option<NativeRetryOptions>,
    /// Tokens fetched on demand: `async () => ({ token, expiresAt? })`.
    #[napi(ts_type = "() => Promise<NativeCredential>")]
    pub credential_provider: Option<JsCredentialFn>,
    /// Further `object_store` configuration keys (`google_*` names or their short forms).
    pub config: Option<HashMap<String, String>>,
}

fn is_credential_key(key: &GoogleConfigKey) -> bool {
    use GoogleConfigKey as K;
    matches!(
        key,
        K::ServiceAccount | K::ServiceAccountKey | K::ApplicationCredentials | K::BearerToken
    )
}

/// object_store's default base URL (the XML API).
const DEFAULT_BASE_URL: &str = "https://storage.googleapis.com";

/// The parts of a service-account file needed to sign URLs ourselves.
#[derive(Deserialize)]
struct ServiceAccountFile {
    client_email: Option<String>,
    private_key: Option<String>,
    #[serde(default)]
    disable_oauth: bool,
    /// A base URL the file may carry (object_store uses it when none is configured).
    gcs_base_url: Option<String>,
}

impl ServiceAccountFile {
    fn read(path: Option<&str>, key: Option<&str>) -> StorageResult<Option<Self>> {
        let text = match (path, key) {
            (_, Some(key)) => key.to_string(),
            (Some(path), None) => std::fs::read_to_string(path).map_err(|err| {
                StorageFailure::invalid_config(format!(
                    "cannot read the service account file {path:?}: {err}"
                ))
            })?,
            (None, None) => return Ok(None),
        };
        serde_json::from_str(&text).map(Some).map_err(|err| {
            StorageFailure::invalid_config(format!(
                "the service account is not valid JSON (line {}, column {})",
                err.line(),
                err.column()
            ))
        })
    }

    /// How URLs get signed. An account with a private key signs locally, by our signer (its
    /// key parsed once, here, and lent to object_store as well). With OAuth disabled (as for
    /// emulators) object_store would otherwise sign through the IAM `signBlob` API with an
    /// empty token; an empty key there (object_store's own CI account for fake-gcs-server)
    /// means there is nothing to sign with.
    fn signing(&self) -> StorageResult<AccountSigning> {
        let pem = self.private_key.as_deref().unwrap_or_default();
        if pem.trim().is_empty() {
            return Ok(match self.disable_oauth {
                true => AccountSigning::Unavailable,
                false => AccountSigning::ObjectStore,
            });
        }
        let Some(email) = &self.client_email else {
            return Ok(AccountSigning::ObjectStore);
        };
        let key = GcsRsaKey::from_pem(pem)?;
        Ok(AccountSigning::Local {
            email: email.clone(),
            key,
        })
    }
}

/// What a service account leaves URL signing to.
enum AccountSigning {
    /// object_store's own choice (a token-backed account signs through the IAM API).
    ObjectStore,
    /// Locally, with the account's key.
    Local { email: String, key: GcsRsaKey },
    /// Nothing: an emulator account without a key.
    Unavailable,
}

/// The signer of a store whose service account has no key: every URL is `NOT_SUPPORTED`,
/// at once, instead of object_store's `signBlob` call to Google with an empty token, which
/// leaves the emulator and can only fail (after its retries, when offline).
#[derive(Debug)]
struct NoSigningKey;

#[async_trait]
impl Signer for NoSigningKey {
    async fn signed_url(&self, _: Method, _: &Path, _: Duration) -> object_store::Result<Url> {
        Err(object_store::Error::NotSupported {
            source: "this GCSStore's service account has an empty private_key (an emulator \
                     account with disable_oauth), so it cannot sign URLs; give it a key to sign \
                     with"
                .into(),
        })
    }
}

/// The `GOOGLE_*` environment, plus `SERVICE_ACCOUNT` as object_store reads it
/// (a `GOOGLE_` variable wins). HTTP is allowed so `gcs_base_url` may name an emulator.
fn gcs_env(skip: impl Fn(&GoogleConfigKey) -> bool) -> CloudConfig<GoogleCloudStorageBuilder> {
    let client = ClientSettings::starting_from(ClientOptions::new().with_allow_http(true));
    let mut config = CloudConfig::<GoogleCloudStorageBuilder>::from_env(client, &skip);
    if let Ok(path) = std::env::var("SERVICE_ACCOUNT") {
        let unset = config
            .builder
            .get_config_value(&GoogleConfigKey::ServiceAccount)
            .is_none();
        if unset && !skip(&GoogleConfigKey::ServiceAccount) {
            config.set(GoogleConfigKey::ServiceAccount, path);
        }
    }
    config
}

fn build(
    mut config: CloudConfig<GoogleCloudStorageBuilder>,
    explicit_client: Option<&NativeClientOptions>,
    retry: Option<&NativeRetryOptions>,
    credential_provider: Option<JsCredentialFn>,
    prefix: Option<&str>,
    url: Option<&str>,
) -> StorageResult<StoreInner> {
    let account = ServiceAccountFile::read(
        config
            .builder
            .get_config_value(&GoogleConfigKey::ServiceAccount)
            .as_deref(),
        config
            .builder
            .get_config_value(&GoogleConfigKey::ServiceAccountKey)
            .as_deref(),
    )?;
    let signing = match &account {
        Some(account) => account.signing()?,
        None => AccountSigning::ObjectStore,
    };
    let unsigned = matches!(signing, AccountSigning::Unavailable);
    let bucket = match url {
        // object_store reads `gs://bucket/...`'s bucket at build time, from the host.
        Some(url) => url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string)),
        None => config.builder.get_config_value(&GoogleConfigKey::Bucket),
    }
    .unwrap_or_default();
    let base_url = config.builder.get_config_value(&GoogleConfigKey::BaseUrl);
    // Where the store's requests go, as object_store picks it.
    let endpoint = base_url
        .clone()
        .or_else(|| account.as_ref().and_then(|a| a.gcs_base_url.clone()))
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
    let mut own_signer = None;
    if let AccountSigning::Local { email, key } = signing {
        own_signer = Some(GcsUrlSigner::new(&endpoint, &bucket, &email, key.clone())?);
        let credential = GcpSigningCredential {
            email,
            private_key: Some(key.for_object_store()),
        };
        config.builder = config
            .builder
            .with_signing_credentials(Arc::new(StaticCredentialProvider::new(credential)));
    }
    let retries = retry_config(retry)?;
    let options = config.client.finish(explicit_client)?;
    let connector = EndpointConnector::new(default_headers(explicit_client)?, &endpoint);
    let mut builder = config
        .builder
        .with_client_options(options)
        .with_http_connector(connector)
        .with_retry(retries.clone());
    if let Some(function) = credential_provider {
        builder = builder.with_credentials(Arc::new(JsCredentialProvider::new(function)));
    }
    let gcs = builder.build().map_err(config_error)?;
    let mut description = match url {
        Some(url) => format!("GCSStore({}", describe_url(url)),
        None => format!("GCSStore(bucket={bucket:?}"),
    };
    if let Some(base_url) = base_url {
        description.push_str(&format!(", baseUrl={:?}", describe_url(&base_url)));
    }
    description.push_str(&describe_prefix(prefix));
    description.push(')');
    let signer: Arc<dyn UrlSigner> = match own_signer {
        Some(own) => Arc::new(own),
        None if unsigned => Arc::new(ObjectStoreSigner::new(Arc::new(NoSigningKey))),
        None => Arc::new(GcsObjectStoreSigner(Arc::new(gcs.clone()))),
    };
    assemble(
        Adjusted::new(gcs, retries).needing_version_for_updates("GCS"),
        Some(signer),
        prefix,
        description,
        GCS_LIMITS,
        Capabilities::gcs(!unsigned),
    )
}

impl TryFrom<NativeGcsOptions> for StoreInner {
    type Error = StorageFailure;

    fn try_from(o: NativeGcsOptions) -> StorageResult<StoreInner> {
        let explicit_credentials = o.service_account_path.is_some()
            || o.service_account_key.is_some()
            || o.application_credentials.is_some()
            || o.token.is_some()
            || o.credential_provider.is_some();
        let explicit_base_url = o.base_url.is_some();
        let mut config = gcs_env(|key| {
            (explicit_credentials && is_credential_key(key))
                || (explicit_base_url && matches!(key, GoogleConfigKey::BaseUrl))
        });
        for (name, value) in o.config.unwrap_or_default() {
            config.set_named(&name, value)?;
        }
        use GoogleConfigKey as K;
        let strings = [
            (K::Bucket, o.bucket),
            (K::ServiceAccount, o.service_account_path),
            (K::ServiceAccountKey, o.service_account_key),
            (K::ApplicationCredentials, o.application_credentials),
            (K::BearerToken, o.token),
            (K::BaseUrl, o.base_url),
        ];
        config.set_given(strings);
        if let Some(skip) = o.skip_signature {
            config.set(K::SkipSignature, bool_str(skip));
        }
        if config.builder.get_config_value(&K::Bucket).is_none() {
            return Err(StorageFailure::invalid_config(
                "GCSStore needs a bucket (option `bucket` or GOOGLE_BUCKET)",
            ));
        }
        build(
            config,
            o.client.as_ref(),
            o.retry.as_ref(),
            o.credential_provider,
            o.prefix.as_deref(),
            None,
        )
    }
}

/// A GCS store from `gs://bucket/prefix`, with object_store configuration keys as options.
pub fn gcs_from_url(
    url: &str,
    prefix: Option<&str>,
    options: &HashMap<String, String>,
) -> StorageResult<StoreInner> {
    let skip =
        CloudConfig::<GoogleCloudStorageBuilder>::names_credentials(options, is_credential_key);
    let config = gcs_env(|key| skip && is_credential_key(key)).with_url(url, options)?;
    build(config, None, None, None, prefix, Some(url))
}

#[napi]
impl NativeStore {
    /// A store over a Google Cloud Storage bucket.
    #[napi(factory)]
    pub fn gcs(options: NativeGcsOptions) -> napi::Result<Self, ErrorCode> {
        Ok(NativeStore::new(StoreInner::try_from(options)?))
    }
}
