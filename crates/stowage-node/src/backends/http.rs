//! `HTTPStore`: a plain HTTP server or WebDAV share.

use std::collections::HashMap;

use napi_derive::napi;
use object_store::http::HttpBuilder;

use crate::capabilities::Capabilities;
use crate::error::{ErrorCode, StorageFailure, StorageResult};
use crate::store::{NativeStore, StoreInner};
use crate::upload::part_size::NO_PART_LIMITS;

use super::client::{
    assemble, config_error, default_headers, describe_url, parse_key_name, retry_config, Adjusted,
    ClientSettings, NativeClientOptions, NativeRetryOptions,
};
use super::hyper_client::EndpointConnector;

/// Options of `new HTTPStore(url, opts)`.
#[napi(object, js_name = "HTTPOptions")]
#[derive(Default)]
pub struct NativeHttpOptions {
    /// HTTP client options. `allowHttp` is implied by an `http://` URL.
    pub client: Option<NativeClientOptions>,
    /// Retries of failed requests.
    pub retry: Option<NativeRetryOptions>,
}

fn build(
    url: &str,
    client: ClientSettings,
    explicit_client: Option<NativeClientOptions>,
    retry: Option<&NativeRetryOptions>,
) -> StorageResult<StoreInner> {
    let parsed = url::Url::parse(url).map_err(|err| {
        StorageFailure::invalid_config(format!("not a URL ({err}): {:?}", describe_url(url)))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(StorageFailure::invalid_config(format!(
            "HTTPStore needs an http:// or https:// URL, got {:?}",
            describe_url(url)
        )));
    }
    let mut explicit = explicit_client.unwrap_or_default();
    // An http:// URL given on purpose is allowed without further ado.
    if explicit.allow_http.is_none() && parsed.scheme() == "http" {
        explicit.allow_http = Some(true);
    }
    let retries = retry_config(retry)?;
    let options = client.finish(Some(&explicit))?;
    let connector = EndpointConnector::new(default_headers(Some(&explicit))?, url);
    let store = HttpBuilder::new()
        .with_url(url)
        .with_client_options(options)
        .with_http_connector(connector)
        .with_retry(retries.clone())
        .build()
        .map_err(config_error)?;
    let description = format!("HTTPStore({})", describe_url(url));
    assemble(
        Adjusted::new(store, retries).retrying_locked_collections(),
        None,
        None,
        description,
        // No multipart in object_store's HTTP store: the body goes up in one request.
        NO_PART_LIMITS,
        Capabilities::HTTP,
    )
}

impl TryFrom<(String, Option<NativeHttpOptions>)> for StoreInner {
    type Error = StorageFailure;

    fn try_from((url, options): (String, Option<NativeHttpOptions>)) -> StorageResult<StoreInner> {
        let options = options.unwrap_or_default();
        build(
            &url,
            ClientSettings::new(),
            options.client,
            options.retry.as_ref(),
        )
    }
}

/// An HTTP store from an `http(s)://` URL; options are client configuration keys
/// (`allow_http`, `timeout`, `proxy_url`, ...).
pub fn http_from_url(url: &str, options: &HashMap<String, String>) -> StorageResult<StoreInner> {
    let mut client = ClientSettings::new();
    for (name, value) in options {
        let key = parse_key_name(name)
            .parse()
            .map_err(|_| StorageFailure::invalid_config(format!("unknown HTTP option {name:?}")))?;
        client = client.env(key, value.clone());
    }
    build(url, client, None, None)
}

#[napi]
impl NativeStore {
    /// A store over an HTTP server (WebDAV for listing, copying and renaming).
    #[napi(factory)]
    pub fn http(url: String, options: Option<NativeHttpOptions>) -> napi::Result<Self, ErrorCode> {
        Ok(NativeStore::new(StoreInner::try_from((url, options))?))
    }
}
