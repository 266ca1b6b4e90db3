//! Multipart uploads whose parts a client without credentials sends through presigned
//! URLs (S3): create, sign part URLs, complete, abort; one operation per file.

pub mod abort;
pub mod complete;
pub mod create;
pub mod sign_parts;

use object_store::path::Path;

use crate::error::{StorageFailure, StorageResult};
use crate::store::{PresignedMultipart, StoreInner};

/// S3's limit on a multipart upload's parts.
pub const MAX_PART_NUMBER: u32 = 10_000;

impl StoreInner {
    /// The multipart API and full path for `key`, or `NOT_SUPPORTED` where stores lack it.
    pub fn presigned_upload(&self, key: &str) -> StorageResult<(&PresignedMultipart, Path)> {
        let multipart = self.presigned_multipart.as_ref().ok_or_else(|| {
            StorageFailure::not_supported(format!(
                "{} has no presigned multipart uploads; only S3 stores do",
                self.description
            ))
        })?;
        Ok((multipart, self.signing_path(key)?))
    }
}

/// An upload id as `createMultipartUpload` returned it: non-empty, without control
/// characters (it goes into query strings).
pub fn check_upload_id(id: &str) -> StorageResult<&str> {
    if id.is_empty() || id.len() > 1024 || id.chars().any(char::is_control) {
        return Err(StorageFailure::invalid_config(format!(
            "uploadId must be the non-empty id createMultipartUpload returned, got {id:?}"
        )));
    }
    Ok(id)
}

/// A part number: a whole number from 1 to 10 000.
pub fn part_number(value: f64) -> StorageResult<u32> {
    if !(1.0..=f64::from(MAX_PART_NUMBER)).contains(&value) || value.fract() != 0.0 {
        return Err(StorageFailure::invalid_config(format!(
            "part numbers must be whole numbers from 1 to {MAX_PART_NUMBER}, got {value}"
        )));
    }
    Ok(value as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_ids_and_numbers() {
        assert!(check_upload_id("abc").is_ok());
        assert!(check_upload_id("").is_err());
        assert!(check_upload_id("a\nb").is_err());
        assert_eq!(part_number(1.0).unwrap(), 1);
        assert_eq!(part_number(10_000.0).unwrap(), 10_000);
        for bad in [0.0, 10_001.0, 1.5, f64::NAN, -1.0] {
            assert!(part_number(bad).is_err(), "{bad}");
        }
    }
}
