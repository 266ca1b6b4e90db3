//! Configuration shared by the S3, GCS and Azure builders: the environment first,
//! then `fromUrl` options or explicit options over it, client keys split off to
//! `ClientSettings` so explicit client options can win over them too.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::ClientConfigKey;

use crate::error::{StorageFailure, StorageResult};

use super::client::{bool_str, parse_key_name, ClientSettings};

/// An `object_store` builder configured by string keys.
pub trait KeyedBuilder: Default {
    type Key: FromStr + AsRef<str>;
    /// The store's name in error messages.
    const NAME: &'static str;
    /// Environment variables read for this store start with this.
    const ENV_PREFIX: &'static str;
    /// A client key goes to `ClientSettings`; any other key back to the builder.
    fn split(key: Self::Key) -> Result<ClientConfigKey, Self::Key>;
    fn with_key(self, key: Self::Key, value: String) -> Self;
    fn with_url(self, url: &str) -> Self;
    fn config_value(&self, key: &Self::Key) -> Option<String>;
}

macro_rules! keyed_builder {
    ($builder:ty, $key:ident, $name:literal, $prefix:literal) => {
        impl KeyedBuilder for $builder {
            type Key = $key;
            const NAME: &'static str = $name;
            const ENV_PREFIX: &'static str = $prefix;
            fn split(key: $key) -> Result<ClientConfigKey, $key> {
                match key {
                    $key::Client(client) => Ok(client),
                    other => Err(other),
                }
            }
            fn with_key(self, key: $key, value: String) -> Self {
                self.with_config(key, value)
            }
            fn with_url(self, url: &str) -> Self {
                <$builder>::with_url(self, url)
            }
            fn config_value(&self, key: &$key) -> Option<String> {
                self.get_config_value(key)
            }
        }
    };
}

keyed_builder!(AmazonS3Builder, AmazonS3ConfigKey, "S3", "AWS_");
keyed_builder!(GoogleCloudStorageBuilder, GoogleConfigKey, "GCS", "GOOGLE_");
keyed_builder!(MicrosoftAzureBuilder, AzureConfigKey, "Azure", "AZURE_");

/// A builder and the client settings gathered for it.
pub struct CloudConfig<B: KeyedBuilder> {
    pub builder: B,
    pub client: ClientSettings,
    /// Builder keys set from any source, for defaults that apply only when nobody chose.
    chosen: HashSet<String>,
}

impl<B: KeyedBuilder> CloudConfig<B> {
    /// Start from the environment, leaving out the keys `skip` names.
    pub fn from_env(client: ClientSettings, skip: impl Fn(&B::Key) -> bool) -> Self {
        let mut config = Self {
            builder: B::default(),
            client,
            chosen: HashSet::new(),
        };
        for (name, value) in std::env::vars() {
            if !name.starts_with(B::ENV_PREFIX) {
                continue;
            }
            if let Ok(key) = B::Key::from_str(&name.to_ascii_lowercase()) {
                if !skip(&key) {
                    config.set(key, value);
                }
            }
        }
        config
    }

    /// Whether `fromUrl` options name any credential: if so, they replace every
    /// credential from the environment.
    pub fn names_credentials(
        options: &HashMap<String, String>,
        is_credential_key: impl Fn(&B::Key) -> bool,
    ) -> bool {
        options.keys().any(|name| {
            B::Key::from_str(&parse_key_name(name)).is_ok_and(|key| is_credential_key(&key))
        })
    }

    /// Apply `url` and its `fromUrl` options over what is set.
    pub fn with_url(mut self, url: &str, options: &HashMap<String, String>) -> StorageResult<Self> {
        for (name, value) in options {
            self.set_named(name, value.clone())?;
        }
        self.builder = std::mem::take(&mut self.builder).with_url(url);
        Ok(self)
    }

    /// Whether `key` was set by the environment, a URL option or an explicit option.
    pub fn was_chosen(&self, key: &B::Key) -> bool {
        self.chosen.contains(key.as_ref())
    }

    pub fn get(&self, key: &B::Key) -> Option<String> {
        self.builder.config_value(key)
    }

    pub fn set(&mut self, key: B::Key, value: String) {
        match B::split(key) {
            Ok(client_key) => {
                let client = std::mem::replace(&mut self.client, ClientSettings::new());
                self.client = client.env(client_key, value);
            }
            Err(key) => {
                self.chosen.insert(key.as_ref().to_string());
                let builder = std::mem::take(&mut self.builder);
                self.builder = builder.with_key(key, value);
            }
        }
    }

    /// Set a key given by its object_store name (`aws_region`, `region`, ...).
    pub fn set_named(&mut self, name: &str, value: String) -> StorageResult<()> {
        let key = B::Key::from_str(&parse_key_name(name)).map_err(|_| {
            StorageFailure::invalid_config(format!("unknown {} option {name:?}", B::NAME))
        })?;
        self.set(key, value);
        Ok(())
    }

    /// Set every option that was given.
    pub fn set_given(&mut self, options: impl IntoIterator<Item = (B::Key, Option<String>)>) {
        for (key, value) in options {
            if let Some(value) = value {
                self.set(key, value);
            }
        }
    }

    /// Set every flag that was given.
    pub fn set_flags(&mut self, flags: impl IntoIterator<Item = (B::Key, Option<bool>)>) {
        self.set_given(
            flags
                .into_iter()
                .map(|(key, flag)| (key, flag.map(bool_str))),
        );
    }
}
