//! Credentials from a JavaScript `credentialProvider`: an async function
//! called from Rust through a threadsafe function, its answer cached until it
//! nears expiry.
//!
//! The TypeScript layer wraps the user's function so that it always returns a
//! promise of a flat [`NativeCredential`] with `expiresAt` in epoch milliseconds.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use napi::bindgen_prelude::Promise;
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use napi_derive::napi;
use object_store::aws::AwsCredential;
use object_store::azure::{split_sas, AzureAccessKey, AzureCredential};
use object_store::gcp::GcpCredential;
use object_store::CredentialProvider;
use tokio::sync::Mutex;

/// A credential is fetched again once less than this remains before it expires.
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// What a credential provider resolves to, flattened for every backend.
#[napi(object)]
#[derive(Default, Clone)]
pub struct NativeCredential {
    /// S3 access key id.
    pub access_key_id: Option<String>,
    /// S3 secret access key.
    pub secret_access_key: Option<String>,
    /// S3 session token.
    pub session_token: Option<String>,
    /// GCS OAuth bearer token, or Azure bearer token.
    pub token: Option<String>,
    /// Azure shared access signature (query string form).
    pub sas_token: Option<String>,
    /// Azure storage account key.
    pub access_key: Option<String>,
    /// When the credential expires, in milliseconds since the epoch.
    pub expires_at: Option<f64>,
}

/// The JavaScript function: no arguments, a promise of a credential. Weak, so
/// it never keeps the process alive by itself; errors thrown or rejected come
/// back as `Err`.
pub type JsCredentialFn =
    ThreadsafeFunction<(), Promise<NativeCredential>, (), Status, false, true>;

/// Turns what JavaScript gave into the credential a backend signs with.
pub trait FromNative: Sized + Send + Sync + 'static {
    /// The backend's name, for error messages.
    const BACKEND: &'static str;
    fn from_native(credential: &NativeCredential) -> Result<Self, String>;
}

impl FromNative for AwsCredential {
    const BACKEND: &'static str = "S3";
    fn from_native(c: &NativeCredential) -> Result<Self, String> {
        match (&c.access_key_id, &c.secret_access_key) {
            (Some(key_id), Some(secret_key)) if !key_id.is_empty() && !secret_key.is_empty() => {
                Ok(AwsCredential {
                    key_id: key_id.clone(),
                    secret_key: secret_key.clone(),
                    token: c.session_token.clone().filter(|t| !t.is_empty()),
                })
            }
            _ => Err("the credential provider must return accessKeyId and secretAccessKey".into()),
        }
    }
}

impl FromNative for GcpCredential {
    const BACKEND: &'static str = "GCS";
    fn from_native(c: &NativeCredential) -> Result<Self, String> {
        match &c.token {
            Some(token) => Ok(GcpCredential {
                bearer: token.clone(),
            }),
            None => Err("the credential provider must return { token }".into()),
        }
    }
}

impl FromNative for AzureCredential {
    const BACKEND: &'static str = "Azure";
    fn from_native(c: &NativeCredential) -> Result<Self, String> {
        match (&c.access_key, &c.sas_token, &c.token) {
            (Some(key), None, None) => AzureAccessKey::try_new(key)
                .map(AzureCredential::AccessKey)
                .map_err(|_| {
                    "the accessKey from the credential provider is not valid base64".into()
                }),
            (None, Some(sas), None) => split_sas(sas)
                .map(AzureCredential::SASToken)
                .map_err(|_| "the sasToken from the credential provider cannot be parsed".into()),
            (None, None, Some(token)) => Ok(AzureCredential::BearerToken(token.clone())),
            _ => Err(
                "the credential provider must return exactly one of accessKey, sasToken or token"
                    .into(),
            ),
        }
    }
}

struct Cached<C> {
    credential: Arc<C>,
    expires_at: Option<SystemTime>,
}

/// An object_store `CredentialProvider` over a JavaScript function.
pub struct JsCredentialProvider<C> {
    function: Arc<JsCredentialFn>,
    cache: Mutex<Option<Cached<C>>>,
}

impl<C> fmt::Debug for JsCredentialProvider<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JsCredentialProvider")
    }
}

impl<C: FromNative> JsCredentialProvider<C> {
    pub fn new(function: JsCredentialFn) -> Self {
        Self {
            function: Arc::new(function),
            cache: Mutex::new(None),
        }
    }

    async fn fetch(&self) -> object_store::Result<Cached<C>> {
        let failure = |message: String| object_store::Error::Unauthenticated {
            path: String::new(),
            source: format!("{} credential provider: {message}", C::BACKEND).into(),
        };
        let promise = self
            .function
            .call_async(())
            .await
            .map_err(|err| failure(format!("calling it failed: {}", err.reason)))?;
        let native = promise
            .await
            .map_err(|err| failure(format!("it threw or rejected: {}", err.reason)))?;
        let credential = C::from_native(&native).map_err(failure)?;
        let expires_at = match native.expires_at {
            Some(ms) if ms.is_finite() && ms >= 0.0 => {
                Some(UNIX_EPOCH + Duration::from_secs_f64(ms / 1000.0))
            }
            Some(ms) => return Err(failure(format!("expiresAt is not a valid time: {ms}"))),
            None => None,
        };
        Ok(Cached {
            credential: Arc::new(credential),
            expires_at,
        })
    }
}

fn fresh(expires_at: Option<SystemTime>, now: SystemTime) -> bool {
    match expires_at {
        None => true,
        Some(at) => at
            .duration_since(now)
            .is_ok_and(|left| left > REFRESH_BEFORE_EXPIRY),
    }
}

#[async_trait]
impl<C: FromNative> CredentialProvider for JsCredentialProvider<C> {
    type Credential = C;

    async fn get_credential(&self) -> object_store::Result<Arc<C>> {
        // One refresh at a time: concurrent requests wait for it instead of
        // each calling JavaScript.
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref() {
            if fresh(cached.expires_at, SystemTime::now()) {
                return Ok(cached.credential.clone());
            }
        }
        let fetched = self.fetch().await?;
        let credential = fetched.credential.clone();
        *cache = Some(fetched);
        Ok(credential)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_window() {
        let now = SystemTime::now();
        assert!(fresh(None, now));
        assert!(fresh(Some(now + Duration::from_secs(3600)), now));
        assert!(!fresh(Some(now + Duration::from_secs(60)), now));
        assert!(!fresh(Some(now - Duration::from_secs(1)), now));
    }

    #[test]
    fn converts_each_backend() {
        let s3 = NativeCredential {
            access_key_id: Some("id".into()),
            secret_access_key: Some("secret".into()),
            ..Default::default()
        };
        assert!(AwsCredential::from_native(&s3).is_ok());
        assert!(GcpCredential::from_native(&s3).is_err());
        let azure = NativeCredential {
            sas_token: Some("sv=1&sig=abc".into()),
            ..Default::default()
        };
        assert!(matches!(
            AzureCredential::from_native(&azure),
            Ok(AzureCredential::SASToken(_))
        ));
    }
}
