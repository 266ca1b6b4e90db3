//! One error type for everything that crosses into JavaScript.
//!
//! A failure reaches JavaScript as an `Error` whose `code` is its stable code (`NOT_FOUND`,
//! `INVALID_PATH`, ...: the error table of docs/errors.md) and whose message is redacted;
//! `src/errors.ts` turns it into the matching `StorageError` subclass by that code.

use crate::redact::redact;

/// The stable error codes of docs/errors.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    NotFound,
    AlreadyExists,
    PreconditionFailed,
    NotModified,
    PermissionDenied,
    Unauthenticated,
    InvalidPath,
    NotSupported,
    InvalidConfig,
    Aborted,
    Generic,
}

/// A failure with a stable code; becomes a `StorageError` in JavaScript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageFailure {
    pub code: ErrorCode,
    pub message: String,
}

/// Result alias used by every operation.
pub type StorageResult<T> = std::result::Result<T, StorageFailure>;

/// A synchronous `#[napi]` function returns `napi::Result<T, ErrorCode>`: napi-rs throws
/// its error with the code as the JavaScript error's `code`, as promises reject with it.
impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        match self {
            Self::NotFound => "NOT_FOUND",
            Self::AlreadyExists => "ALREADY_EXISTS",
            Self::PreconditionFailed => "PRECONDITION_FAILED",
            Self::NotModified => "NOT_MODIFIED",
            Self::PermissionDenied => "PERMISSION_DENIED",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::InvalidPath => "INVALID_PATH",
            Self::NotSupported => "NOT_SUPPORTED",
            Self::InvalidConfig => "INVALID_CONFIG",
            Self::Aborted => "ABORTED",
            Self::Generic => "GENERIC",
        }
    }
}

impl StorageFailure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid_path(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidPath, message)
    }

    pub fn invalid_config(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidConfig, message)
    }

    pub fn not_supported(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotSupported, message)
    }

    pub fn generic(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Generic, message)
    }
}

impl StorageFailure {
    /// The message as JavaScript sees it: without the credentials of any URL it quotes.
    pub fn redacted_message(&self) -> String {
        redact(&self.message)
    }
}

impl std::fmt::Display for StorageFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl From<object_store::Error> for StorageFailure {
    fn from(err: object_store::Error) -> Self {
        Self::new(code_of(&err), error_chain(&err))
    }
}

/// The code of an object_store error.
fn code_of(err: &object_store::Error) -> ErrorCode {
    use object_store::Error as E;
    match err {
        E::NotFound { .. } => ErrorCode::NotFound,
        E::AlreadyExists { .. } => ErrorCode::AlreadyExists,
        E::Precondition { .. } => ErrorCode::PreconditionFailed,
        E::NotModified { .. } => ErrorCode::NotModified,
        E::PermissionDenied { .. } => ErrorCode::PermissionDenied,
        E::Unauthenticated { .. } => ErrorCode::Unauthenticated,
        E::InvalidPath { .. } => ErrorCode::InvalidPath,
        E::NotSupported { .. } | E::NotImplemented { .. } => ErrorCode::NotSupported,
        E::UnknownConfigurationKey { .. } => ErrorCode::InvalidConfig,
        E::Generic { source, .. } => classify_generic(source.as_ref()),
        _ => ErrorCode::Generic,
    }
}

impl From<StorageFailure> for napi::Error<ErrorCode> {
    /// Every failure reaches JavaScript through here, so this is where URLs quoted in its
    /// message (by us, object_store or reqwest) lose their credentials.
    fn from(failure: StorageFailure) -> Self {
        let message = failure.redacted_message();
        napi::Error::new(failure.code, message)
    }
}

impl From<napi::Error> for StorageFailure {
    /// napi-rs' own failures (a value it could not convert, an environment going away).
    fn from(err: napi::Error) -> Self {
        Self::generic(err.reason)
    }
}

/// Some backends report a few well-known conditions only as generic errors
/// (a local file in the way of a directory, a range past the end, ...).
fn classify_generic(source: &(dyn std::error::Error + 'static)) -> ErrorCode {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(source);
    while let Some(err) = current {
        // An error of object_store's own inside a request's failure: an S3 store's request
        // signer (sign/s3/signing_client.rs) passes on its credential provider's this way.
        if let Some(inner) = err.downcast_ref::<object_store::Error>() {
            return code_of(inner);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::NotFound => ErrorCode::NotFound,
                std::io::ErrorKind::PermissionDenied => ErrorCode::PermissionDenied,
                std::io::ErrorKind::AlreadyExists => ErrorCode::AlreadyExists,
                _ => ErrorCode::Generic,
            };
        }
        current = err.source();
    }
    ErrorCode::Generic
}

/// The error and its sources on one line, so the JavaScript `cause` keeps all of it.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = inner.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_object_store_variants_to_codes() {
        let not_found = object_store::Error::NotFound {
            path: "a".into(),
            source: "missing".into(),
        };
        assert_eq!(StorageFailure::from(not_found).code, ErrorCode::NotFound);
        let exists = object_store::Error::AlreadyExists {
            path: "a".into(),
            source: "there".into(),
        };
        assert_eq!(StorageFailure::from(exists).code, ErrorCode::AlreadyExists);
        let precondition = object_store::Error::Precondition {
            path: "a".into(),
            source: "etag".into(),
        };
        assert_eq!(
            StorageFailure::from(precondition).code,
            ErrorCode::PreconditionFailed
        );
        let unimplemented = object_store::Error::NotImplemented {
            operation: "x".into(),
            implementer: "y".into(),
        };
        assert_eq!(
            StorageFailure::from(unimplemented).code,
            ErrorCode::NotSupported
        );
    }

    #[test]
    fn generic_io_not_found_is_not_found() {
        let err = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(std::io::Error::new(std::io::ErrorKind::NotFound, "gone")),
        };
        assert_eq!(StorageFailure::from(err).code, ErrorCode::NotFound);
    }

    #[test]
    fn codes_reach_javascript_as_the_error_code_with_a_redacted_message() {
        // (A `napi::Error` cannot be built here: dropping one calls into Node, which a unit
        // test binary does not link. What it is made of is checked instead.)
        let failure = StorageFailure::new(
            ErrorCode::PreconditionFailed,
            "GET http://user:pw@host/k?sig=abc failed",
        );
        assert_eq!(failure.code.as_ref(), "PRECONDITION_FAILED");
        assert_eq!(ErrorCode::NotFound.as_ref(), "NOT_FOUND");
        let message = failure.redacted_message();
        assert!(
            !message.contains("pw") && !message.contains("abc"),
            "{message}"
        );
    }
}
