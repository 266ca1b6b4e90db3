//! What the hyper client takes from a store's `ClientOptions`: read back through
//! `get_config_value`, the one way object_store offers, so options set from the environment
//! (`AWS_TIMEOUT=30s`) and explicitly alike arrive here as object_store itself would apply them.

use std::time::Duration;

use object_store::{ClientConfigKey, ClientOptions};

use crate::error::{StorageFailure, StorageResult};

/// object_store's `User-Agent` when none is configured (`DEFAULT_USER_AGENT` in its client
/// module, which is private): the same header whichever client sends a request.
pub const DEFAULT_USER_AGENT: &str = concat!("object_store", "/", "0.14.2");

/// The client settings of one store, as typed values.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    pub user_agent: Option<String>,
    pub allow_http: bool,
    pub allow_invalid_certificates: bool,
    pub no_system_certificates: bool,
    pub timeout: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    pub read_timeout: Option<Duration>,
    pub pool_idle_timeout: Option<Duration>,
    pub pool_max_idle_per_host: Option<usize>,
    pub http2_keep_alive_interval: Option<Duration>,
    pub http2_keep_alive_timeout: Option<Duration>,
    pub http2_keep_alive_while_idle: bool,
    pub http2_max_frame_size: Option<u32>,
    pub http1_only: bool,
    pub http2_only: bool,
    pub randomize_addresses: bool,
    /// A proxy configured in the options (the environment's proxies are looked up apart).
    pub proxy_url: Option<String>,
}

impl HttpSettings {
    /// The settings `options` hold. A value that does not parse is `INVALID_CONFIG`, as
    /// object_store's own client would refuse it when the store is built.
    pub fn read(options: &ClientOptions) -> StorageResult<Self> {
        let value = |key: ClientConfigKey| options.get_config_value(&key);
        let flag = |key: ClientConfigKey| -> StorageResult<bool> {
            match value(key) {
                None => Ok(false),
                Some(text) => parse_bool(&text).ok_or_else(|| bad(key, &text)),
            }
        };
        let duration = |key: ClientConfigKey| -> StorageResult<Option<Duration>> {
            value(key)
                .map(|text| humantime::parse_duration(&text).map_err(|_| bad(key, &text)))
                .transpose()
        };
        let number = |key: ClientConfigKey| -> StorageResult<Option<u64>> {
            value(key)
                .map(|text| text.parse::<u64>().map_err(|_| bad(key, &text)))
                .transpose()
        };
        use ClientConfigKey as K;
        Ok(Self {
            user_agent: value(K::UserAgent),
            allow_http: flag(K::AllowHttp)?,
            allow_invalid_certificates: flag(K::AllowInvalidCertificates)?,
            no_system_certificates: flag(K::NoSystemCertificates)?,
            timeout: duration(K::Timeout)?,
            connect_timeout: duration(K::ConnectTimeout)?,
            read_timeout: duration(K::ReadTimeout)?,
            pool_idle_timeout: duration(K::PoolIdleTimeout)?,
            pool_max_idle_per_host: number(K::PoolMaxIdlePerHost)?.map(|n| n as usize),
            http2_keep_alive_interval: duration(K::Http2KeepAliveInterval)?,
            http2_keep_alive_timeout: duration(K::Http2KeepAliveTimeout)?,
            http2_keep_alive_while_idle: flag(K::Http2KeepAliveWhileIdle)?,
            http2_max_frame_size: number(K::Http2MaxFrameSize)?
                .map(|n| u32::try_from(n).map_err(|_| bad(K::Http2MaxFrameSize, &n.to_string())))
                .transpose()?,
            http1_only: flag(K::Http1Only)?,
            http2_only: flag(K::Http2Only)?,
            randomize_addresses: flag(K::RandomizeAddresses)?,
            proxy_url: value(K::ProxyUrl),
        })
    }
}

/// A boolean as object_store reads one (its `Parse for bool`).
fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" | "y" => Some(true),
        "false" | "0" | "off" | "no" | "n" => Some(false),
        _ => None,
    }
}

fn bad(key: ClientConfigKey, text: &str) -> StorageFailure {
    StorageFailure::invalid_config(format!(
        "client option {} has a value that does not parse: {text:?}",
        key.as_ref()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_options_set_either_way() {
        let options = ClientOptions::new()
            .with_timeout(Duration::from_millis(1500))
            .with_config(ClientConfigKey::ReadTimeout, "2s")
            .with_config(ClientConfigKey::PoolMaxIdlePerHost, "7")
            .with_allow_http(true);
        let settings = HttpSettings::read(&options).unwrap();
        assert_eq!(settings.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(settings.read_timeout, Some(Duration::from_secs(2)));
        assert_eq!(settings.connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(settings.pool_max_idle_per_host, Some(7));
        assert!(settings.allow_http && settings.http1_only && settings.randomize_addresses);
        assert!(!settings.allow_invalid_certificates && settings.proxy_url.is_none());
    }

    #[test]
    fn refuses_what_does_not_parse() {
        let options = ClientOptions::new().with_config(ClientConfigKey::Timeout, "soon");
        let err = HttpSettings::read(&options).unwrap_err();
        assert!(err.message.contains("timeout"), "{}", err.message);
    }

    #[test]
    fn default_user_agent_is_object_stores() {
        // object_store's version, as Cargo.lock pins it: a new object_store must update it.
        let lock = include_str!("../../../../../Cargo.lock");
        let pinned = lock
            .split("[[package]]")
            .find(|p| p.contains("name = \"object_store\""))
            .and_then(|p| p.split("version = \"").nth(1))
            .and_then(|v| v.split('"').next())
            .unwrap();
        assert_eq!(DEFAULT_USER_AGENT, format!("object_store/{pinned}"));
    }
}
