//! `AzureStore`: Azure Blob Storage (and the Azurite emulator).

use std::collections::HashMap;
use std::sync::Arc;

use napi_derive::napi;
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};

use crate::capabilities::Capabilities;
use crate::error::{ErrorCode, StorageFailure, StorageResult};
use crate::sign::azure::AzureSasSigner;
use crate::sign::object_store_signer::ObjectStoreSigner;
use crate::sign::UrlSigner;
use crate::store::{NativeStore, StoreInner};
use crate::upload::part_size::AZURE_LIMITS;

use super::client::{
    assemble, bool_str, config_error, default_headers, describe_prefix, describe_url, retry_config,
    Adjusted, ClientSettings, NativeClientOptions, NativeRetryOptions,
};
use super::config::CloudConfig;
use super::credentials::{JsCredentialFn, JsCredentialProvider};
use super::hyper_client::EndpointConnector;

/// Azurite's well-known development account.
const EMULATOR_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known development key (public, documented by Microsoft).
const EMULATOR_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Options of `new AzureStore(opts)`. Unset options fall back to the `AZURE_*`
/// environment variables.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct NativeAzureOptions {
    /// The container (or `AZURE_CONTAINER_NAME`).
    pub container: Option<String>,
    /// The storage account (or `AZURE_STORAGE_ACCOUNT_NAME`).
    pub account: Option<String>,
    /// The account's shared key (or `AZURE_STORAGE_ACCOUNT_KEY`).
    pub access_key: Option<String>,
    /// A shared access signature in query-string form (or `AZURE_STORAGE_SAS_TOKEN`).
    pub sas_token: Option<String>,
    /// A fixed bearer token (or `AZURE_STORAGE_TOKEN`).
    pub token: Option<String>,
    /// Talk to the Azurite emulator: its well-known account and key unless given, `http`
    /// allowed, at `endpoint` or else `AZURITE_BLOB_STORAGE_URL` (default
    /// `http://127.0.0.1:10000`).
    pub use_emulator: Option<bool>,
    /// The account URL, e.g. `http://127.0.0.1:10000/devstoreaccount1` or a private endpoint.
    pub endpoint: Option<String>,
    /// Allow a plain `http://` endpoint.
    pub allow_http: Option<bool>,
    /// Send unauthenticated requests, for public containers.
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
    /// Credentials fetched on demand: `async () => ({ accessKey } | { sasToken } | { token })`.
    #[napi(ts_type = "() => Promise<NativeCredential>")]
    pub credential_provider: Option<JsCredentialFn>,
    /// Further `object_store` configuration keys (`azure_*` names or their short forms).
    pub config: Option<HashMap<String, String>>,
}

fn is_credential_key(key: &AzureConfigKey) -> bool {
    use AzureConfigKey as K;
    matches!(
        key,
        K::AccessKey
            | K::SasKey
            | K::Token
            | K::ClientId
            | K::ClientSecret
            | K::AuthorityId
            | K::FederatedTokenFile
            | K::UseAzureCli
            | K::CredentialType
            | K::MsiEndpoint
            | K::ObjectId
            | K::MsiResourceId
    )
}

fn build(
    mut config: CloudConfig<MicrosoftAzureBuilder>,
    explicit_client: Option<&NativeClientOptions>,
    retry: Option<&NativeRetryOptions>,
    credential_provider: Option<JsCredentialFn>,
    prefix: Option<&str>,
    url: Option<&str>,
) -> StorageResult<StoreInner> {
    use AzureConfigKey as K;
    let emulator = is_on(&config, &K::UseEmulator);
    let mut client = explicit_client.cloned().unwrap_or_default();
    // object_store's emulator mode ignores a configured endpoint and credential
    // provider; with either, talk to Azurite as to any account URL instead.
    let account_url_mode =
        emulator && (config.get(&K::Endpoint).is_some() || credential_provider.is_some());
    if account_url_mode {
        config.set(K::UseEmulator, bool_str(false));
        if config.get(&K::AccountName).is_none() {
            config.set(K::AccountName, EMULATOR_ACCOUNT.to_string());
        }
        if config.get(&K::Endpoint).is_none() {
            let base = std::env::var("AZURITE_BLOB_STORAGE_URL")
                .unwrap_or_else(|_| "http://127.0.0.1:10000".to_string());
            let account = config.get(&K::AccountName).unwrap_or_default();
            config.set(
                K::Endpoint,
                format!("{}/{account}", base.trim_end_matches('/')),
            );
        }
        let has_credentials = credential_provider.is_some()
            || config.get(&K::AccessKey).is_some()
            || config.get(&K::SasKey).is_some()
            || config.get(&K::Token).is_some();
        if !has_credentials {
            config.set(K::AccessKey, EMULATOR_KEY.to_string());
        }
        if client.allow_http.is_none() {
            client.allow_http = Some(true);
        }
    }
    let container = config.get(&K::ContainerName).unwrap_or_default();
    let account = config.get(&K::AccountName);
    let endpoint = config.get(&K::Endpoint);
    let signing_key = static_access_key(&config, credential_provider.is_some());
    let retries = retry_config(retry)?;
    let base = requests_base(
        &config,
        emulator && !account_url_mode,
        url,
        account.as_deref(),
    );
    let options = config.client.finish(Some(&client))?;
    let connector = EndpointConnector::new(default_headers(Some(&client))?, &base);
    let mut builder = config
        .builder
        .with_client_options(options)
        .with_http_connector(connector)
        .with_retry(retries.clone());
    if let Some(function) = credential_provider {
        builder = builder.with_credentials(Arc::new(JsCredentialProvider::new(function)));
    }
    let azure = builder.build().map_err(config_error)?;
    let mut description = match url {
        Some(url) => format!("AzureStore({}", describe_url(url)),
        None => format!("AzureStore(container={container:?}"),
    };
    if let Some(account) = &account {
        description.push_str(&format!(", account={account:?}"));
    }
    if let Some(endpoint) = endpoint {
        description.push_str(&format!(", endpoint={:?}", describe_url(&endpoint)));
    }
    if emulator {
        description.push_str(", emulator");
    }
    description.push_str(&describe_prefix(prefix));
    description.push(')');
    let own_signer = signing_key.and_then(|key| {
        let account = account.as_deref().or(emulator.then_some(EMULATOR_ACCOUNT));
        AzureSasSigner::matching(&azure, &key, account)
    });
    let signer: Arc<dyn UrlSigner> = match own_signer {
        Some(own) => Arc::new(own),
        None => Arc::new(ObjectStoreSigner::new(Arc::new(azure.clone()))),
    };
    assemble(
        Adjusted::new(azure, retries),
        Some(signer),
        prefix,
        description,
        AZURE_LIMITS,
        Capabilities::AZURE,
    )
}

/// The account key object_store will sign with, when it is one fixed key: given, or
/// Azurite's in emulator mode with no other credential. Any other credential (a token, whose
/// URLs are user-delegation SAS; a SAS, which cannot sign; a provider) leaves signing to
/// object_store, and so does a configuration in which object_store resolves credentials
/// some other way (`AzureSasSigner::matching` checks it signs as object_store does).
fn static_access_key(
    config: &CloudConfig<MicrosoftAzureBuilder>,
    has_provider: bool,
) -> Option<String> {
    use AzureConfigKey as K;
    let on = |key: &K| is_on(config, key);
    let others = [
        K::Token,
        K::SasKey,
        K::EncryptionKey,
        K::FabricTokenServiceUrl,
    ];
    let credential_type = config.get(&K::CredentialType);
    if has_provider
        || on(&K::SkipSignature)
        || others.iter().any(|key| config.get(key).is_some())
        || !matches!(
            credential_type.as_deref(),
            None | Some("auto" | "access_key")
        )
    {
        return None;
    }
    match config.get(&K::AccessKey) {
        Some(key) => Some(key),
        None if on(&K::UseEmulator) => Some(EMULATOR_KEY.to_string()),
        None => None,
    }
}

/// Whether boolean option `key` is set and true, read as object_store reads a boolean.
fn is_on(config: &CloudConfig<MicrosoftAzureBuilder>, key: &AzureConfigKey) -> bool {
    config.get(key).is_some_and(|v| {
        matches!(
            v.to_ascii_lowercase().as_str(),
            "1" | "true" | "on" | "yes" | "y"
        )
    })
}

/// Where the store's requests go, as object_store picks it: Azurite's URL in emulator mode,
/// else the endpoint, an `https://` store URL, or the account's blob (or Fabric) host. A
/// store URL of another scheme (`azure://`) names no host here: its requests, and those of a
/// guess that misses, go through reqwest, which costs speed only.
fn requests_base(
    config: &CloudConfig<MicrosoftAzureBuilder>,
    emulator: bool,
    url: Option<&str>,
    account: Option<&str>,
) -> String {
    use AzureConfigKey as K;
    if emulator {
        return std::env::var("AZURITE_BLOB_STORAGE_URL")
            .unwrap_or_else(|_| "http://127.0.0.1:10000".to_string());
    }
    if let Some(endpoint) = config.get(&K::Endpoint) {
        return endpoint;
    }
    if let Some(url) = url.filter(|u| u.starts_with("https://")) {
        return url.to_string();
    }
    match (account, is_on(config, &K::UseFabricEndpoint)) {
        (Some(account), true) => format!("https://{account}.dfs.fabric.microsoft.com"),
        (Some(account), false) => format!("https://{account}.blob.core.windows.net"),
        (None, _) => String::new(),
    }
}

impl TryFrom<NativeAzureOptions> for StoreInner {
    type Error = StorageFailure;

    fn try_from(o: NativeAzureOptions) -> StorageResult<StoreInner> {
        let explicit_credentials = o.access_key.is_some()
            || o.sas_token.is_some()
            || o.token.is_some()
            || o.credential_provider.is_some();
        let explicit_endpoint = o.endpoint.is_some();
        let mut config =
            CloudConfig::<MicrosoftAzureBuilder>::from_env(ClientSettings::new(), |key| {
                (explicit_credentials && is_credential_key(key))
                    || (explicit_endpoint && matches!(key, AzureConfigKey::Endpoint))
            });
        for (name, value) in o.config.unwrap_or_default() {
            config.set_named(&name, value)?;
        }
        use AzureConfigKey as K;
        let strings = [
            (K::ContainerName, o.container),
            (K::AccountName, o.account),
            (K::AccessKey, o.access_key),
            (K::SasKey, o.sas_token),
            (K::Token, o.token),
            (K::Endpoint, o.endpoint),
        ];
        config.set_given(strings);
        let flags = [
            (K::UseEmulator, o.use_emulator),
            (K::SkipSignature, o.skip_signature),
        ];
        config.set_flags(flags);
        let mut client = o.client.unwrap_or_default();
        if client.allow_http.is_none() {
            client.allow_http = o.allow_http;
        }
        if config.get(&K::ContainerName).is_none() {
            return Err(StorageFailure::invalid_config(
                "AzureStore needs a container (option `container` or AZURE_CONTAINER_NAME)",
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

/// An Azure store from `az://container/prefix` (or an Azure `https://` URL),
/// with object_store configuration keys as options.
pub fn azure_from_url(
    url: &str,
    prefix: Option<&str>,
    options: &HashMap<String, String>,
) -> StorageResult<StoreInner> {
    let skip = CloudConfig::<MicrosoftAzureBuilder>::names_credentials(options, is_credential_key);
    let config = CloudConfig::<MicrosoftAzureBuilder>::from_env(ClientSettings::new(), |key| {
        skip && is_credential_key(key)
    })
    .with_url(url, options)?;
    build(config, None, None, None, prefix, Some(url))
}

#[napi]
impl NativeStore {
    /// A store over an Azure Blob Storage container.
    #[napi(factory)]
    pub fn azure(options: NativeAzureOptions) -> napi::Result<Self, ErrorCode> {
        Ok(NativeStore::new(StoreInner::try_from(options)?))
    }
}
