//! `fromUrl`: pick a backend from a URL's scheme.

use std::collections::HashMap;

use napi_derive::napi;
use object_store::ObjectStoreScheme;
use url::Url;

use crate::error::{ErrorCode, StorageFailure, StorageResult};
use crate::store::{NativeStore, StoreInner};

use super::azure::azure_from_url;
use super::client::describe_url;
use super::gcs::gcs_from_url;
use super::http::http_from_url;
use super::s3::s3_from_url;
use super::{local::local_store, memory::memory_store};

/// A cloud URL's scheme and the key prefix its path names.
fn cloud_scheme(parsed: &Url, url: &str) -> StorageResult<(ObjectStoreScheme, Option<String>)> {
    let (scheme, path) = ObjectStoreScheme::parse(parsed).map_err(|err| {
        StorageFailure::invalid_config(format!("unrecognised URL {:?}: {err}", describe_url(url)))
    })?;
    let prefix = Some(path.to_string()).filter(|p| !p.is_empty());
    Ok((scheme, prefix))
}

pub fn store_from_url(url: &str, _options: &HashMap<String, String>) -> StorageResult<StoreInner> {
    let parsed = Url::parse(url).map_err(|err| {
        StorageFailure::invalid_config(format!("not a URL ({err}): {:?}", describe_url(url)))
    })?;
    match parsed.scheme() {
        "s3" | "s3a" | "gs" | "az" | "azure" | "abfs" | "abfss" | "adl" | "https" | "http" => {
            let (scheme, prefix) = cloud_scheme(&parsed, url)?;
            let prefix = prefix.as_deref();
            match scheme {
                ObjectStoreScheme::AmazonS3 => s3_from_url(url, prefix, _options),
                ObjectStoreScheme::GoogleCloudStorage => gcs_from_url(url, prefix, _options),
                ObjectStoreScheme::MicrosoftAzure => azure_from_url(url, prefix, _options),
                ObjectStoreScheme::Http => http_from_url(url, _options),
                _ => Err(StorageFailure::invalid_config(format!(
                    "unsupported URL {:?}",
                    describe_url(url)
                ))),
            }
        }
        "memory" => Ok(memory_store()),
        "file" => {
            let dir = parsed.to_file_path().map_err(|_| {
                StorageFailure::invalid_config(format!("not an absolute file URL: {url:?}"))
            })?;
            let mkdir = _options.get("mkdir").is_some_and(|v| v == "true");
            local_store(&dir.to_string_lossy(), mkdir)
        }
        scheme => Err(StorageFailure::invalid_config(format!(
            "unsupported URL scheme {scheme:?}"
        ))),
    }
}

#[napi]
impl NativeStore {
    /// Build a store from a URL: `memory://`, `file:///abs/dir`, `s3://bucket/prefix`,
    /// `gs://bucket/prefix`, `az://container/prefix` or `https://host/path`.
    #[napi(factory)]
    pub fn from_url(
        url: String,
        options: Option<HashMap<String, String>>,
    ) -> napi::Result<Self, ErrorCode> {
        Ok(NativeStore::new(store_from_url(
            &url,
            &options.unwrap_or_default(),
        )?))
    }
}
