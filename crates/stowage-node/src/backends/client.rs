//! What every HTTP-backed store shares: client options (timeouts, proxy, TLS,
//! user agent), retry options, the environment they start from, and the
//! final assembly of a `StoreInner` with its prefix and signer.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use http::HeaderValue;
use napi_derive::napi;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{
    BackoffConfig, ClientConfigKey, ClientOptions, CopyOptions, GetOptions, GetRange, GetResult,
    ListResult, MultipartUpload, ObjectMeta, ObjectStore, ObjectStoreExt, PutMode,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, RetryConfig,
};

use crate::capabilities::Capabilities;
use crate::error::{StorageFailure, StorageResult};
use crate::key::parse_prefix;
use crate::sign::UrlSigner;
use crate::store::StoreInner;
use crate::upload::part_size::PartLimits;

use super::{body_length, body_retry};

/// The read timeout used unless one is configured: a stalled connection fails,
/// a long but steady download does not.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// HTTP client options shared by `S3Store`, `GCSStore`, `AzureStore` and
/// `HTTPStore`. Durations are in milliseconds.
#[napi(object, js_name = "ClientOptions")]
#[derive(Default, Clone)]
pub struct NativeClientOptions {
    /// Whole-request timeout, body included. Off by default, so long downloads
    /// are not cut off; `connectTimeout` and `readTimeout` apply instead.
    pub timeout: Option<f64>,
    /// Timeout for establishing a connection (default 5000).
    pub connect_timeout: Option<f64>,
    /// Timeout for each read of the response, reset after every read (default 30000).
    pub read_timeout: Option<f64>,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Option<f64>,
    /// Most idle connections kept per host.
    pub pool_max_idle_per_host: Option<u32>,
    /// Allow plain `http://` endpoints.
    pub allow_http: Option<bool>,
    /// Accept any TLS certificate (testing only).
    pub allow_invalid_certificates: Option<bool>,
    /// Proxy for every request, e.g. `http://proxy:3128`.
    pub proxy_url: Option<String>,
    /// PEM certificate of the proxy's CA.
    pub proxy_ca_certificate: Option<String>,
    /// Comma-separated hosts that bypass the proxy.
    pub proxy_excludes: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// Only use HTTP/1.
    pub http1_only: Option<bool>,
    /// Only use HTTP/2.
    pub http2_only: Option<bool>,
    /// Extra headers sent with every request.
    pub default_headers: Option<HashMap<String, String>>,
}

/// Exponential backoff between retries. Durations are in milliseconds.
#[napi(object, js_name = "BackoffOptions")]
#[derive(Default, Clone)]
pub struct NativeBackoffOptions {
    /// The first delay (default 100).
    pub initial_delay: Option<f64>,
    /// The longest delay (default 15000).
    pub max_delay: Option<f64>,
    /// The growth factor between delays (object_store default 2).
    pub base: Option<f64>,
}

/// Retry options. Durations are in milliseconds. They also govern stowage's own retries of
/// what object_store reads after its retry loop: a list page, a new upload's id.
#[napi(object, js_name = "RetryOptions")]
#[derive(Default, Clone)]
pub struct NativeRetryOptions {
    /// Most retries of one request, or of one list page (object_store default 10).
    /// A JavaScript number, checked here: as a `u32`, napi-rs would wrap -1 to 4294967295.
    pub max_retries: Option<f64>,
    /// Give up retrying after this long (object_store default 180000).
    pub retry_timeout: Option<f64>,
    /// Delays between retries.
    pub backoff: Option<NativeBackoffOptions>,
}

/// A duration given in milliseconds by JavaScript.
pub fn millis(name: &str, value: f64) -> StorageResult<Duration> {
    if !value.is_finite() || value < 0.0 {
        return Err(StorageFailure::invalid_config(format!(
            "{name} must be a non-negative number of milliseconds, got {value}"
        )));
    }
    Ok(Duration::from_secs_f64(value / 1000.0))
}

/// Client options from defaults, then the environment, then explicit options.
pub struct ClientSettings {
    options: ClientOptions,
    timeout_set: bool,
    read_timeout_set: bool,
}

impl ClientSettings {
    /// object_store's defaults with the whole-request timeout replaced by a read timeout.
    pub fn new() -> Self {
        Self::starting_from(ClientOptions::new())
    }

    /// Start from a backend's own defaults (GCS allows `http://` by default).
    pub fn starting_from(options: ClientOptions) -> Self {
        Self {
            options,
            timeout_set: false,
            read_timeout_set: false,
        }
    }

    /// Apply one key read from the environment (`AWS_TIMEOUT`, `GOOGLE_PROXY_URL`, ...).
    pub fn env(mut self, key: ClientConfigKey, value: String) -> Self {
        match key {
            ClientConfigKey::Timeout => self.timeout_set = true,
            ClientConfigKey::ReadTimeout => self.read_timeout_set = true,
            _ => {}
        }
        self.options = self.options.with_config(key, value);
        self
    }

    /// Apply the explicit options and produce the final `ClientOptions`.
    pub fn finish(
        mut self,
        explicit: Option<&NativeClientOptions>,
    ) -> StorageResult<ClientOptions> {
        let mut o = self.options;
        if let Some(c) = explicit {
            if let Some(v) = c.timeout {
                o = o.with_timeout(millis("client.timeout", v)?);
                self.timeout_set = true;
            }
            if let Some(v) = c.connect_timeout {
                o = o.with_connect_timeout(millis("client.connectTimeout", v)?);
            }
            if let Some(v) = c.read_timeout {
                o = o.with_read_timeout(millis("client.readTimeout", v)?);
                self.read_timeout_set = true;
            }
            if let Some(v) = c.pool_idle_timeout {
                o = o.with_pool_idle_timeout(millis("client.poolIdleTimeout", v)?);
            }
            if let Some(v) = c.pool_max_idle_per_host {
                o = o.with_pool_max_idle_per_host(v as usize);
            }
            if let Some(v) = c.allow_http {
                o = o.with_allow_http(v);
            }
            if let Some(v) = c.allow_invalid_certificates {
                o = o.with_allow_invalid_certificates(v);
            }
            if let Some(v) = &c.proxy_url {
                o = o.with_proxy_url(v.clone());
            }
            if let Some(v) = &c.proxy_ca_certificate {
                o = o.with_proxy_ca_certificate(v.clone());
            }
            if let Some(v) = &c.proxy_excludes {
                o = o.with_proxy_excludes(v.clone());
            }
            if let Some(v) = &c.user_agent {
                let value = HeaderValue::from_str(v).map_err(|_| {
                    StorageFailure::invalid_config(format!(
                        "client.userAgent is not a valid header value: {v:?}"
                    ))
                })?;
                o = o.with_user_agent(value);
            }
            if c.http1_only == Some(true) {
                o = o.with_http1_only();
            }
            if c.http2_only == Some(true) {
                o = o.with_http2_only();
            }
            if let Some(headers) = default_headers(Some(c))? {
                o = o.with_default_headers(headers);
            }
        }
        if !self.timeout_set {
            o = o.with_timeout_disabled();
            if !self.read_timeout_set {
                o = o.with_read_timeout(DEFAULT_READ_TIMEOUT);
            }
        }
        Ok(o)
    }
}

/// The `defaultHeaders` of `explicit`, checked. The S3 store's own client needs them as
/// well as object_store's (`hyper_client`): object_store has no way to read them back.
pub fn default_headers(
    explicit: Option<&NativeClientOptions>,
) -> StorageResult<Option<http::HeaderMap>> {
    let Some(headers) = explicit.and_then(|c| c.default_headers.as_ref()) else {
        return Ok(None);
    };
    let mut map = http::HeaderMap::new();
    for (name, value) in headers {
        let name = http::HeaderName::try_from(name.as_str()).map_err(|_| {
            StorageFailure::invalid_config(format!(
                "client.defaultHeaders: bad header name {name:?}"
            ))
        })?;
        let value = HeaderValue::from_str(value).map_err(|_| {
            StorageFailure::invalid_config(format!(
                "client.defaultHeaders: bad value for header {name}"
            ))
        })?;
        map.insert(name, value);
    }
    Ok(Some(map))
}

/// More retries than this are a mistake, not a policy (object_store's default is 10).
const MAX_RETRIES: f64 = 1000.0;

/// object_store's retry configuration: its defaults, then the given options.
pub fn retry_config(options: Option<&NativeRetryOptions>) -> StorageResult<RetryConfig> {
    {
        let mut retry = RetryConfig::default();
        let Some(options) = options else {
            return Ok(retry);
        };
        if let Some(n) = options.max_retries {
            if !(n.fract() == 0.0 && (0.0..=MAX_RETRIES).contains(&n)) {
                return Err(StorageFailure::invalid_config(format!(
                    "retry.maxRetries must be a whole number from 0 to {MAX_RETRIES}, got {n}"
                )));
            }
            retry.max_retries = n as usize;
        }
        if let Some(v) = options.retry_timeout {
            retry.retry_timeout = millis("retry.retryTimeout", v)?;
        }
        if let Some(b) = &options.backoff {
            let mut backoff = BackoffConfig::default();
            if let Some(v) = b.initial_delay {
                backoff.init_backoff = millis("retry.backoff.initialDelay", v)?;
            }
            if let Some(v) = b.max_delay {
                backoff.max_backoff = millis("retry.backoff.maxDelay", v)?;
            }
            if let Some(v) = b.base {
                if !(v.is_finite() && v >= 1.0) {
                    return Err(StorageFailure::invalid_config(format!(
                        "retry.backoff.base must be a number >= 1, got {v}"
                    )));
                }
                backoff.base = v;
            }
            retry.backoff = backoff;
        }
        Ok(retry)
    }
}

/// Small corrections over a backend, the same whatever server is behind it:
/// keys at or before a listing offset are dropped even where the server ignores
/// the offset (Azurite's `startFrom`, some GCS emulators), a conditional
/// update without the version a backend needs fails clearly, and a list page or a
/// multipart upload's creation whose answer failed is asked for again (`body_retry`).
#[derive(Debug)]
pub struct Adjusted<S> {
    /// Shared with the streams a listing returns, which outlive the call that made them.
    inner: Arc<S>,
    /// The store's retry options, applied to what object_store reads after its own retry loop.
    retry: RetryConfig,
    needs_version_for_update: Option<&'static str>,
    retries_locked_collections: bool,
}

/// How often a put is retried after a WebDAV collection was found locked.
const LOCKED_RETRIES: u32 = 5;

impl<S> Adjusted<S> {
    /// `inner` with the corrections; `retry` is the `RetryConfig` `inner` was built with.
    pub fn new(inner: S, retry: RetryConfig) -> Self {
        Self {
            inner: Arc::new(inner),
            retry,
            needs_version_for_update: None,
            retries_locked_collections: false,
        }
    }

    /// WebDAV: a put creates missing parent collections with MKCOL, and servers lock a
    /// collection while another request creates it (423 Locked). Puts into one new directory
    /// at the same time are retried shortly instead of failing.
    pub fn retrying_locked_collections(mut self) -> Self {
        self.retries_locked_collections = true;
        self
    }

    /// `mode: { etag }` alone cannot work on `backend` (GCS updates by generation).
    pub fn needing_version_for_updates(mut self, backend: &'static str) -> Self {
        self.needs_version_for_update = Some(backend);
        self
    }
}

impl<S: ObjectStore> Adjusted<S> {
    /// A backend that refuses suffix ranges (Azure) gets a HEAD, then a bounded
    /// range pinned to that version's etag, so a concurrent overwrite fails
    /// instead of mixing two versions.
    async fn get_with_suffix_fallback(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let Some(GetRange::Suffix(suffix)) = options.range else {
            return self.inner.get_opts(location, options).await;
        };
        match self.inner.get_opts(location, options.clone()).await {
            Err(object_store::Error::NotSupported { .. }) => {
                let meta = self.inner.head(location).await?;
                let start = meta.size.saturating_sub(suffix);
                let bounded = GetOptions {
                    range: (start < meta.size).then_some(GetRange::Bounded(start..meta.size)),
                    if_match: options.if_match.clone().or(meta.e_tag),
                    ..options
                };
                self.inner.get_opts(location, bounded).await
            }
            other => other,
        }
    }

    /// The inner listing from `offset` (exclusive), resumed after a failed page.
    fn resuming_list(
        &self,
        prefix: Option<&Path>,
        offset: Option<Path>,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let inner = self.inner.clone();
        let prefix = prefix.cloned();
        body_retry::resuming(self.retry.clone(), offset, move |offset| match offset {
            Some(offset) => listed_after(inner.as_ref(), prefix.as_ref(), offset),
            None => inner.list(prefix.as_ref()),
        })
    }
}

/// `store`'s keys after `offset`, dropping those at or before it even where the server
/// ignores the offset.
fn listed_after<S: ObjectStore>(
    store: &S,
    prefix: Option<&Path>,
    offset: &Path,
) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
    let offset = offset.clone();
    store
        .list_with_offset(prefix, &offset)
        .try_filter(move |meta| futures::future::ready(meta.location > offset))
        .boxed()
}

impl<S: ObjectStore> fmt::Display for Adjusted<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

#[async_trait]
impl<S: ObjectStore> ObjectStore for Adjusted<S> {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        if let (Some(backend), PutMode::Update(version)) =
            (self.needs_version_for_update, &opts.mode)
        {
            if version.version.is_none() {
                return Err(object_store::Error::NotSupported {
                    source: format!(
                        "{backend} conditional updates need the object's version (its generation), \
                         not only its etag: pass mode {{ etag, version }} with the version from head() or put()"
                    )
                    .into(),
                });
            }
        }
        let mut attempt = 0;
        loop {
            let result = self
                .inner
                .put_opts(location, payload.clone(), opts.clone())
                .await;
            match result {
                Err(err)
                    if self.retries_locked_collections
                        && attempt < LOCKED_RETRIES
                        && is_locked_collection(&err) =>
                {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * u64::from(attempt)))
                        .await;
                }
                other => return other,
            }
        }
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        // Creating an upload writes no object yet: one whose answer was cut off is only left
        // unused (S3 and GCS read the upload id from the body, after their retry loop).
        body_retry::retrying(&self.retry, || {
            self.inner.put_multipart_opts(location, opts.clone())
        })
        .await
    }

    /// A body must bring the bytes its headers announced (`body_length`).
    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let head = options.head;
        let result = self.get_with_suffix_fallback(location, options).await?;
        Ok(if head {
            result
        } else {
            body_length::checked(result)
        })
    }

    // No `get_ranges`: the trait's own fetches each range with `get_range`, so through
    // `get_opts` above (the inner store's would bypass it).

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.resuming_list(prefix, None)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.resuming_list(prefix, Some(offset.clone()))
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        body_retry::retrying(&self.retry, || self.inner.list_with_delimiter(prefix)).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(
        &self,
        from: &Path,
        to: &Path,
        options: RenameOptions,
    ) -> object_store::Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

/// Assemble a store: the prefix applied to every key (and, by hand, to signed
/// URLs), the unprefixed store kept as the signer when it can sign.
pub fn assemble<S: ObjectStore>(
    store: S,
    signer: Option<Arc<dyn UrlSigner>>,
    prefix: Option<&str>,
    description: String,
    part_limits: PartLimits,
    capabilities: Capabilities,
) -> StorageResult<StoreInner> {
    let prefix = parse_prefix(prefix).map_err(|failure| {
        StorageFailure::invalid_config(format!("bad prefix: {}", failure.message))
    })?;
    let inner: Arc<dyn ObjectStore> = match &prefix {
        Some(prefix) => Arc::new(PrefixStore::new(store, prefix.clone())),
        None => Arc::new(store),
    };
    Ok(StoreInner {
        store: inner,
        signer,
        prefix,
        local_root: None,
        description,
        in_process: false,
        part_limits,
        capabilities,
        presigned_multipart: None,
    })
}

/// A MKCOL refused because the collection is locked (being created by another request).
fn is_locked_collection(err: &object_store::Error) -> bool {
    let text = crate::error::error_chain(err);
    text.contains("MKCOL") && text.contains("423")
}

/// The prefix part of a description, e.g. ` prefix=uploads`.
pub fn describe_prefix(prefix: Option<&str>) -> String {
    match prefix {
        Some(p) if !p.is_empty() => format!(", prefix={p:?}"),
        _ => String::new(),
    }
}

/// `true`/`false` as object_store configuration values.
pub fn bool_str(value: bool) -> String {
    value.to_string()
}

/// An option name as object_store's key parsers expect it: `accessKeyId` and
/// `access_key_id` both become `access_key_id`.
pub fn parse_key_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A URL for a description: scheme, host and path only (never userinfo or a query). The
/// result is redacted too, as a path can hold a parameter (`;password=`) and the path of
/// a URL written without `//` can hold userinfo; one that does not parse is shown
/// redacted, so an error can still say what was wrong with it.
pub fn describe_url(url: &str) -> String {
    let described = match url::Url::parse(url) {
        Ok(parsed) => format!(
            "{}://{}{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or(""),
            match parsed.port() {
                Some(port) => format!(":{port}{}", parsed.path()),
                None => parsed.path().to_string(),
            }
        ),
        Err(_) => url.to_string(),
    };
    crate::redact::redact(&described)
}

/// An object_store configuration error as `INVALID_CONFIG`.
pub fn config_error(err: object_store::Error) -> StorageFailure {
    StorageFailure::invalid_config(crate::error::error_chain(&err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_a_locked_collection() {
        let locked = object_store::Error::Generic {
            store: "HTTP",
            source: "Error performing MKCOL http://h/a/b in 1ms - Server returned non-2xx status code: 423 Locked".into(),
        };
        assert!(is_locked_collection(&locked));
        let other = object_store::Error::Generic {
            store: "HTTP",
            source: "Error performing PUT http://h/a/b: 500 Internal Server Error".into(),
        };
        assert!(!is_locked_collection(&other));
    }

    #[test]
    fn timeout_defaults_to_read_timeout_only() {
        let options = ClientSettings::new().finish(None).unwrap();
        let debug = format!("{options:?}");
        assert!(debug.contains(", timeout: None"), "{debug}");
        assert!(debug.contains("read_timeout: Some"), "{debug}");
    }

    #[test]
    fn explicit_timeout_wins() {
        let explicit = NativeClientOptions {
            timeout: Some(1000.0),
            ..Default::default()
        };
        let options = ClientSettings::new().finish(Some(&explicit)).unwrap();
        let debug = format!("{options:?}");
        assert!(!debug.contains(", timeout: None"), "{debug}");
    }

    #[test]
    fn key_names_and_urls() {
        assert_eq!(parse_key_name("accessKeyId"), "access_key_id");
        assert_eq!(parse_key_name("aws_region"), "aws_region");
        assert_eq!(
            describe_url("https://user:pw@host:8080/a/b?sig=secret"),
            "https://host:8080/a/b"
        );
        assert_eq!(
            describe_url("http://user:pw@host:99999/?sig=secret&a=b"),
            "http://***@host:99999/?sig=***&a=b"
        );
        assert_eq!(
            describe_url("https://host/a;password=secret"),
            "https://host/a;password=***"
        );
    }

    #[test]
    fn rejects_bad_durations() {
        assert!(millis("x", -1.0).is_err());
        assert!(millis("x", f64::NAN).is_err());
        let retry = NativeRetryOptions {
            max_retries: Some(2.0),
            retry_timeout: Some(500.0),
            backoff: None,
        };
        let config = retry_config(Some(&retry)).unwrap();
        assert_eq!(config.max_retries, 2);
        assert_eq!(config.retry_timeout, Duration::from_millis(500));
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY, 1e9] {
            let retry = NativeRetryOptions {
                max_retries: Some(bad),
                ..Default::default()
            };
            assert!(retry_config(Some(&retry)).is_err(), "maxRetries {bad}");
        }
    }
}
