//! Presigned URLs: `signUrl` (one, on a fast path) and `signUrls` (many in one call).

use std::time::Duration;

use http::Method;
use napi::bindgen_prelude::{Either, PromiseRaw};
use napi::Env;
use napi_derive::napi;

use crate::error::{ErrorCode, StorageFailure, StorageResult};
use crate::runtime::promise::now_or_promise;
use crate::sign::SignRequest;
use crate::store::{NativeStore, StoreInner};

/// Batches up to this size are signed on the calling thread when the credential is at hand
/// (about a microsecond a URL); larger ones on the runtime, so the event loop never waits
/// long for a batch.
const INLINE_BATCH: usize = 64;

/// The longest expiry any backend accepts (S3's SigV4 limit: 7 days).
pub const MAX_EXPIRY_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// Options of `signUrl` and `signUrls`.
#[napi(object, object_to_js = false)]
#[derive(Default, Clone)]
pub struct SignOptions {
    /// Seconds the URL stays valid: a whole number from 1 to 604800 (7 days); default 3600.
    pub expires_in: Option<f64>,
    /// GET/HEAD only: the `Content-Disposition` the server answers with, as you would write
    /// the header (e.g. `attachment; filename="report.pdf"`); it is encoded into the URL
    /// and signed, so it cannot be changed.
    pub response_content_disposition: Option<String>,
    /// GET/HEAD only: the `Content-Type` the server answers with, signed likewise.
    pub response_content_type: Option<String>,
    /// PUT only: the `Content-Type` the upload must send; signed as a header, so an upload
    /// with another type is refused by the server.
    pub content_type: Option<String>,
    /// PUT only: the exact size in bytes the upload must have; signed as the
    /// `Content-Length` header, so an upload of another size is refused.
    pub content_length: Option<f64>,
    /// PUT only, GCS only: the largest size in bytes the upload may have; signed as the
    /// `x-goog-content-length-range: 0,N` header, which the upload must send and GCS
    /// refuses a larger body by. S3 and Azure cannot sign it (`NOT_SUPPORTED`); not with
    /// `contentLength`.
    pub max_content_length: Option<f64>,
}

/// The method named `name`.
pub fn method(name: &str) -> StorageResult<Method> {
    match name {
        "GET" => Ok(Method::GET),
        "PUT" => Ok(Method::PUT),
        "HEAD" => Ok(Method::HEAD),
        "DELETE" => Ok(Method::DELETE),
        other => Err(StorageFailure::invalid_config(format!(
            "method must be GET, PUT, HEAD or DELETE, got {other:?}"
        ))),
    }
}

/// `expiresIn` checked: whole seconds from 1 to 7 days, 3600 when not given.
pub fn expiry(seconds: Option<f64>) -> StorageResult<Duration> {
    let seconds = seconds.unwrap_or(3600.0);
    if !((1.0..=MAX_EXPIRY_SECONDS).contains(&seconds) && seconds.fract() == 0.0) {
        return Err(StorageFailure::invalid_config(format!(
            "expiresIn must be a whole number of seconds from 1 to {MAX_EXPIRY_SECONDS}, got {seconds}"
        )));
    }
    Ok(Duration::from_secs(seconds as u64))
}

/// A header value the caller gives: no control characters (a CR or LF would let it forge
/// further headers); `ascii` for values a browser sends itself (it refuses others).
pub fn header_value(option: &str, value: String, ascii: bool) -> StorageResult<String> {
    let bad = |c: char| (c.is_control() && c != '\t') || (ascii && !c.is_ascii());
    if value.trim().is_empty() || value.chars().any(bad) {
        let allowed = if ascii { "printable ASCII" } else { "text" };
        return Err(StorageFailure::invalid_config(format!(
            "{option} must be non-empty {allowed} without control characters, got {value:?}"
        )));
    }
    Ok(value)
}

/// A size in bytes the caller gives: a whole number from 0 to `Number.MAX_SAFE_INTEGER`.
pub fn byte_count(option: &str, value: f64) -> StorageResult<u64> {
    if !((0.0..=9_007_199_254_740_991.0).contains(&value) && value.fract() == 0.0) {
        return Err(StorageFailure::invalid_config(format!(
            "{option} must be a whole number of bytes, got {value}"
        )));
    }
    Ok(value as u64)
}

impl SignRequest {
    /// What `options` ask of a `method_name` URL, checked: response overrides are for
    /// reads, a signed type and length for uploads.
    pub fn from_options(method_name: &str, options: Option<SignOptions>) -> StorageResult<Self> {
        let method = method(method_name)?;
        let o = options.unwrap_or_default();
        let mut request = SignRequest::new(method.clone(), expiry(o.expires_in)?);
        let reads = method == Method::GET || method == Method::HEAD;
        let only = |option: &str, methods: &str| {
            StorageFailure::invalid_config(format!(
                "{option} only applies to {methods} URLs, not {method_name}"
            ))
        };
        if let Some(value) = o.response_content_disposition {
            if !reads {
                return Err(only("responseContentDisposition", "GET and HEAD"));
            }
            let value = header_value("responseContentDisposition", value, false)?;
            request.response_content_disposition = Some(value);
        }
        if let Some(value) = o.response_content_type {
            if !reads {
                return Err(only("responseContentType", "GET and HEAD"));
            }
            request.response_content_type =
                Some(header_value("responseContentType", value, false)?);
        }
        if let Some(value) = o.content_type {
            if method != Method::PUT {
                return Err(only("contentType", "PUT"));
            }
            request.content_type = Some(header_value("contentType", value, true)?);
        }
        if let Some(value) = o.content_length {
            if method != Method::PUT {
                return Err(only("contentLength", "PUT"));
            }
            request.content_length = Some(byte_count("contentLength", value)?);
        }
        if let Some(value) = o.max_content_length {
            if method != Method::PUT {
                return Err(only("maxContentLength", "PUT"));
            }
            if request.content_length.is_some() {
                return Err(StorageFailure::invalid_config(
                    "give contentLength (the exact size) or maxContentLength (the largest), not both",
                ));
            }
            request.max_content_length = Some(byte_count("maxContentLength", value)?);
        }
        Ok(request)
    }
}

impl StoreInner {
    /// The path a signer gets for `key`: checked, the store's prefix applied.
    pub fn signing_path(&self, key: &str) -> StorageResult<object_store::path::Path> {
        self.key(key).map(|key| self.full_path(&key))
    }
}

#[napi]
impl NativeStore {
    /// A presigned URL for `path`. With a credential already at hand (static keys, or a
    /// provider's answer still fresh) it is signed on the spot and returned as it is (a
    /// failure is thrown); otherwise a promise of it.
    #[napi]
    pub fn sign_url<'env>(
        &self,
        env: &'env Env,
        method_name: String,
        path: String,
        options: Option<SignOptions>,
    ) -> napi::Result<Either<String, PromiseRaw<'env, String>>, ErrorCode> {
        let inner = self.inner.clone();
        now_or_promise(env, async move {
            let request = SignRequest::from_options(&method_name, options)?;
            let signer = inner.signer()?;
            let path = inner.signing_path(&path)?;
            signer.sign_url(&path, &request).await
        })
    }

    /// Presigned URLs for `paths`, in order, all for the same method and options: a small
    /// batch as `signUrl` gives one URL, a large one always as a promise.
    #[napi]
    pub fn sign_urls<'env>(
        &self,
        env: &'env Env,
        method_name: String,
        paths: Vec<String>,
        options: Option<SignOptions>,
    ) -> napi::Result<Either<Vec<String>, PromiseRaw<'env, Vec<String>>>, ErrorCode> {
        let inner = self.inner.clone();
        let inline = paths.len() <= INLINE_BATCH;
        let op = async move {
            let request = SignRequest::from_options(&method_name, options)?;
            let signer = inner.signer()?;
            let paths = paths
                .iter()
                .map(|p| inner.signing_path(p))
                .collect::<StorageResult<Vec<_>>>()?;
            signer.sign_urls(&paths, &request).await
        };
        if inline {
            now_or_promise(env, op)
        } else {
            Ok(Either::B(self.run(env, op).map_err(StorageFailure::from)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_method_and_expiry() {
        assert!(method("GET").is_ok());
        assert!(method("POST").is_err());
        assert_eq!(expiry(None).unwrap(), Duration::from_secs(3600));
        assert!(expiry(Some(0.0)).is_err());
        assert!(expiry(Some(1.5)).is_err());
        assert!(expiry(Some(MAX_EXPIRY_SECONDS + 1.0)).is_err());
    }

    #[test]
    fn options_fit_their_methods() {
        let get = |o: SignOptions| SignRequest::from_options("GET", Some(o));
        let put = |o: SignOptions| SignRequest::from_options("PUT", Some(o));
        let disposition = SignOptions {
            response_content_disposition: Some("attachment; filename=\"a b.pdf\"".into()),
            ..Default::default()
        };
        assert!(get(disposition.clone()).is_ok());
        assert!(put(disposition).is_err());
        let typed = SignOptions {
            content_type: Some("text/plain".into()),
            content_length: Some(12.0),
            ..Default::default()
        };
        assert_eq!(put(typed.clone()).unwrap().content_length, Some(12));
        assert!(get(typed).is_err());
        for bad in ["", "a\r\nx-evil: 1", "é"] {
            let o = SignOptions {
                content_type: Some(bad.into()),
                ..Default::default()
            };
            assert!(put(o).is_err(), "{bad:?}");
        }
        for bad in [-1.0, 1.5, f64::NAN, 1e300] {
            let o = SignOptions {
                content_length: Some(bad),
                ..Default::default()
            };
            assert!(put(o).is_err(), "{bad}");
            let o = SignOptions {
                max_content_length: Some(bad),
                ..Default::default()
            };
            assert!(put(o).is_err(), "{bad}");
        }
        let at_most = SignOptions {
            max_content_length: Some(1000.0),
            ..Default::default()
        };
        let request = put(at_most.clone()).unwrap();
        assert_eq!(request.max_content_length, Some(1000));
        assert_eq!(request.content_length_range(), Some((0, 1000)));
        assert!(get(at_most.clone()).is_err());
        let both = SignOptions {
            content_length: Some(10.0),
            ..at_most
        };
        assert!(put(both).is_err());
    }
}
