//! Object metadata and attributes as JavaScript sees them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use napi_derive::napi;
use object_store::{Attribute, AttributeValue, Attributes, ObjectMeta};

/// Metadata of one stored object.
#[napi(object)]
pub struct NativeObjectMeta {
    /// The key, without the store's prefix.
    pub path: String,
    /// Size in bytes.
    pub size: f64,
    pub last_modified: DateTime<Utc>,
    pub etag: Option<String>,
    pub version: Option<String>,
}

impl From<ObjectMeta> for NativeObjectMeta {
    fn from(meta: ObjectMeta) -> Self {
        Self {
            path: meta.location.to_string(),
            size: meta.size as f64,
            last_modified: meta.last_modified,
            etag: meta.e_tag,
            version: meta.version,
        }
    }
}

/// HTTP attributes and user metadata kept with an object.
#[napi(object)]
#[derive(Default)]
pub struct NativeAttributes {
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub metadata: Option<HashMap<String, String>>,
}

impl From<&NativeAttributes> for Attributes {
    fn from(attrs: &NativeAttributes) -> Self {
        let mut out = Attributes::new();
        let fields = [
            (Attribute::ContentType, &attrs.content_type),
            (Attribute::ContentDisposition, &attrs.content_disposition),
            (Attribute::ContentEncoding, &attrs.content_encoding),
            (Attribute::ContentLanguage, &attrs.content_language),
            (Attribute::CacheControl, &attrs.cache_control),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                out.insert(key, AttributeValue::from(value.clone()));
            }
        }
        for (key, value) in attrs.metadata.iter().flatten() {
            out.insert(
                Attribute::Metadata(key.clone().into()),
                value.clone().into(),
            );
        }
        out
    }
}

impl NativeAttributes {
    /// The attributes stored with an object, or `None` when it has none.
    pub fn from_stored(attrs: &Attributes) -> Option<Self> {
        (!attrs.is_empty()).then(|| Self::from(attrs))
    }
}

impl From<&Attributes> for NativeAttributes {
    fn from(attrs: &Attributes) -> Self {
        let mut out = NativeAttributes {
            metadata: Some(HashMap::new()),
            ..Default::default()
        };
        for (key, value) in attrs {
            let value = Some(value.as_ref().to_string());
            match key {
                Attribute::ContentType => out.content_type = value,
                Attribute::ContentDisposition => out.content_disposition = value,
                Attribute::ContentEncoding => out.content_encoding = value,
                Attribute::ContentLanguage => out.content_language = value,
                Attribute::CacheControl => out.cache_control = value,
                Attribute::Metadata(name) => {
                    if let (Some(map), Some(value)) = (out.metadata.as_mut(), value) {
                        map.insert(name.to_string(), value);
                    }
                }
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_round_trip() {
        let js = NativeAttributes {
            content_type: Some("text/plain".into()),
            cache_control: Some("no-cache".into()),
            metadata: Some(HashMap::from([("owner".to_string(), "ana".to_string())])),
            ..Default::default()
        };
        let back = NativeAttributes::from(&Attributes::from(&js));
        assert_eq!(back.content_type.as_deref(), Some("text/plain"));
        assert_eq!(back.cache_control.as_deref(), Some("no-cache"));
        assert_eq!(back.content_disposition, None);
        assert_eq!(back.metadata.unwrap()["owner"], "ana");
    }
}
