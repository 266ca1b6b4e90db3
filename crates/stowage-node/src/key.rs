//! Keys as users write them, checked once, before any store sees them.
//!
//! Keys are parsed like `object_store::path::Path::parse` (never `Path::from`,
//! whose percent-encoding would store `a%b` as `a%25b`), with the stricter rules
//! of docs/api.md (Keys and prefixes) applied first so every backend refuses
//! the same inputs.

use object_store::path::Path;

use crate::error::{StorageFailure, StorageResult};

/// Parse an object key. Refuses what cannot be a key on every backend.
pub fn parse_key(key: &str) -> StorageResult<Path> {
    if key.is_empty() {
        return Err(StorageFailure::invalid_path("a key cannot be empty"));
    }
    if key.starts_with('/') {
        return Err(StorageFailure::invalid_path(format!(
            "a key cannot start with '/': {key:?}"
        )));
    }
    if key.ends_with('/') {
        return Err(StorageFailure::invalid_path(format!(
            "a key cannot end with '/': {key:?}"
        )));
    }
    check_segments(key)?;
    Path::parse(key).map_err(|err| StorageFailure::invalid_path(err.to_string()))
}

/// Parse a listing prefix: empty means everything; one trailing `/` is allowed.
pub fn parse_prefix(prefix: Option<&str>) -> StorageResult<Option<Path>> {
    let Some(prefix) = prefix else {
        return Ok(None);
    };
    if prefix.is_empty() {
        return Ok(None);
    }
    let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
    parse_key(trimmed).map(Some)
}

/// `LocalFileSystem` keeps a multipart upload's staging file beside its target as
/// `<name>#<digits>`, so it cannot store a key whose file name has that shape (it fails with a
/// generic error). Refused here, as every other key the store cannot keep, with `INVALID_PATH`.
pub fn check_local_file_name(path: &Path) -> StorageResult<()> {
    let Some(name) = path.filename() else {
        return Ok(());
    };
    match name.split_once('#') {
        Some((_, suffix)) if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()) => {
            Err(StorageFailure::invalid_path(format!(
                "a LocalStore key's file name cannot end in '#' and digits only \
                 (the form of object_store's staging files): {:?}",
                path.as_ref()
            )))
        }
        _ => Ok(()),
    }
}

fn check_segments(key: &str) -> StorageResult<()> {
    if let Some(c) = key.chars().find(|c| c.is_ascii_control()) {
        return Err(StorageFailure::invalid_path(format!(
            "a key cannot contain control characters (found U+{:04X}) in {key:?}",
            c as u32
        )));
    }
    for segment in key.split('/') {
        match segment {
            "" => {
                return Err(StorageFailure::invalid_path(format!(
                    "a key cannot contain empty segments: {key:?}"
                )))
            }
            "." | ".." => {
                return Err(StorageFailure::invalid_path(format!(
                    "a key cannot contain '.' or '..' segments: {key:?}"
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn refused(key: &str) -> bool {
        matches!(parse_key(key), Err(e) if e.code == ErrorCode::InvalidPath)
    }

    #[test]
    fn keeps_keys_exactly() {
        for key in [
            "a",
            "a/b/c.txt",
            "a%b",
            "with space/ü ñ.txt",
            "100%25",
            "日本/語",
        ] {
            assert_eq!(parse_key(key).unwrap().as_ref(), key);
        }
    }

    #[test]
    fn refuses_bad_keys() {
        for key in [
            "", "/a", "a/", "a//b", "./a", "a/../b", "..", "a\0b", "a\nb", "a\u{7f}",
        ] {
            assert!(refused(key), "{key:?} should be refused");
        }
    }

    #[test]
    fn local_file_names_cannot_look_like_staging_files() {
        let refused = |key: &str| check_local_file_name(&Path::parse(key).unwrap()).is_err();
        for key in ["#9", "a/#9", "a#12", "x/a#0"] {
            assert!(refused(key), "{key:?} should be refused");
        }
        for key in ["a#", "a#x", "a#1x", "a#1#2", "a#1/b", "plain"] {
            assert!(!refused(key), "{key:?} should be allowed");
        }
    }

    #[test]
    fn prefixes_accept_one_trailing_slash() {
        assert_eq!(
            parse_prefix(Some("docs/")).unwrap().unwrap().as_ref(),
            "docs"
        );
        assert_eq!(
            parse_prefix(Some("docs")).unwrap().unwrap().as_ref(),
            "docs"
        );
        assert!(parse_prefix(Some("")).unwrap().is_none());
        assert!(parse_prefix(None).unwrap().is_none());
        assert!(parse_prefix(Some("/")).is_err());
        assert!(parse_prefix(Some("a//")).is_err());
    }
}
