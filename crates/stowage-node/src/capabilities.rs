//! What a store can do, decided where the store is built, so users can ask before they try
//! (`store.capabilities`) and the operations never guess from the kind of store.

use napi_derive::napi;

/// What a store supports. Anything it lacks fails with `NOT_SUPPORTED` when tried.
#[napi(object, object_from_js = false)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// `signUrl`/`signUrls` give presigned URLs.
    pub sign: bool,
    /// Large uploads go up in concurrent parts; without it they are collected and sent in
    /// one request.
    pub multipart: bool,
    /// `put` with `mode: { etag }`: write only over that version.
    pub conditional_put: bool,
    /// `put` with `mode: 'create'`: fail with `ALREADY_EXISTS` if the object exists.
    pub create: bool,
    /// Content type, disposition, encoding, language, cache control and metadata are kept.
    pub attributes: bool,
    /// `get` with `range: { suffix }`: the last bytes of an object.
    pub suffix_range: bool,
    /// Objects have versions: `version` in put results and gets.
    pub versions: bool,
    /// `list(prefix, { offset })`: only keys after the offset.
    pub list_offset: bool,
    /// `list` yields keys in lexicographic order.
    pub ordered_list: bool,
    /// `copy`/`rename` with `overwrite: false`.
    pub copy_if_not_exists: bool,
    /// `get` with `ifMatch`, `ifNoneMatch`, `ifModifiedSince`, `ifUnmodifiedSince`.
    pub conditional_get: bool,
    /// `signPost`: a browser form upload whose signed policy limits size and type (S3).
    pub sign_post: bool,
    /// `createMultipartUpload`, `signUploadParts`, `completeMultipartUpload` and
    /// `abortMultipartUpload`: multipart uploads whose parts go up through presigned URLs (S3).
    pub presigned_multipart: bool,
}

impl Capabilities {
    /// Everything; backends say what they lack.
    const ALL: Self = Self {
        sign: true,
        multipart: true,
        conditional_put: true,
        create: true,
        attributes: true,
        suffix_range: true,
        versions: true,
        list_offset: true,
        ordered_list: true,
        copy_if_not_exists: true,
        conditional_get: true,
        sign_post: true,
        presigned_multipart: true,
    };

    /// What only S3 has: presigned forms and presigned multipart uploads.
    const NO_S3_EXTRAS: Self = Self {
        sign_post: false,
        presigned_multipart: false,
        ..Self::ALL
    };

    /// `InMemory`: all but signing and versions.
    pub const MEMORY: Self = Self {
        sign: false,
        versions: false,
        ..Self::NO_S3_EXTRAS
    };

    /// `LocalFileSystem`: no attributes, no etag updates, listings in directory order.
    pub const LOCAL: Self = Self {
        sign: false,
        conditional_put: false,
        attributes: false,
        versions: false,
        ordered_list: false,
        ..Self::NO_S3_EXTRAS
    };

    /// Amazon S3 and compatibles; `conditional_put: 'disabled'` turns off `create` and
    /// etag updates alike (object_store's `S3ConditionalPut`).
    pub fn s3(conditional_puts: bool) -> Self {
        Self {
            conditional_put: conditional_puts,
            create: conditional_puts,
            ..Self::ALL
        }
    }

    /// GCS updates by generation, not by etag; a service account without a key cannot sign.
    pub fn gcs(can_sign: bool) -> Self {
        Self {
            sign: can_sign,
            conditional_put: false,
            ..Self::NO_S3_EXTRAS
        }
    }

    /// Azure Blob: everything (suffix ranges through a HEAD and a pinned range).
    pub const AZURE: Self = Self::NO_S3_EXTRAS;

    /// A plain HTTP/WebDAV server: no multipart, signing, conditional puts or attributes;
    /// listings in the server's order.
    pub const HTTP: Self = Self {
        sign: false,
        multipart: false,
        conditional_put: false,
        create: false,
        attributes: false,
        versions: false,
        ordered_list: false,
        ..Self::NO_S3_EXTRAS
    };
}
