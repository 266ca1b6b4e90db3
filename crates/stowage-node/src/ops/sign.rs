//! Presigned URLs.

use std::time::Duration;

use http::Method;
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;

use crate::error::{StorageFailure, StorageResult};
use crate::store::NativeStore;

/// The longest expiry any backend accepts (S3's SigV4 limit: 7 days).
const MAX_EXPIRY_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

fn method(name: &str) -> StorageResult<Method> {
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

fn expiry(seconds: Option<f64>) -> StorageResult<Duration> {
    let seconds = seconds.unwrap_or(3600.0);
    if !((1.0..=MAX_EXPIRY_SECONDS).contains(&seconds) && seconds.fract() == 0.0) {
        return Err(StorageFailure::invalid_config(format!(
            "expiresIn must be a whole number of seconds from 1 to {MAX_EXPIRY_SECONDS}, got {seconds}"
        )));
    }
    Ok(Duration::from_secs(seconds as u64))
}

#[napi]
impl NativeStore {
    /// Presigned URLs for `paths`, valid for `expiresIn` seconds (default 3600).
    #[napi]
    pub fn sign_urls<'env>(
        &self,
        env: &'env Env,
        method_name: String,
        paths: Vec<String>,
        expires_in: Option<f64>,
    ) -> napi::Result<PromiseRaw<'env, Vec<String>>> {
        let inner = self.inner.clone();
        self.run(env, async move {
            let method = method(&method_name)?;
            let expires_in = expiry(expires_in)?;
            let signer = inner.signer()?.clone();
            let paths = paths
                .iter()
                .map(|p| inner.key(p).map(|key| inner.full_path(&key)))
                .collect::<StorageResult<Vec<_>>>()?;
            let urls = signer.signed_urls(method, &paths, expires_in).await?;
            Ok(urls.into_iter().map(String::from).collect())
        })
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
}
