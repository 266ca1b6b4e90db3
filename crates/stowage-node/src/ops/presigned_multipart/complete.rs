//! `completeMultipartUpload`: assemble the parts sent through presigned URLs.

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use object_store::multipart::PartId;

use crate::error::{StorageFailure, StorageResult};
use crate::store::NativeStore;
use crate::upload::settings::NativePutResult;

use super::{check_upload_id, part_number};

/// One uploaded part: its number and the `ETag` the server answered its PUT with.
#[napi(object, object_to_js = false)]
pub struct UploadedPart {
    pub part_number: f64,
    pub etag: String,
}

/// The parts' etags in part-number order, checked: numbers 1 to n, each once (object_store
/// numbers the parts it completes by their place in the list).
fn ordered_etags(parts: Vec<UploadedPart>) -> StorageResult<Vec<PartId>> {
    if parts.is_empty() {
        return Err(StorageFailure::invalid_config(
            "completeMultipartUpload needs at least one part",
        ));
    }
    let mut numbered = parts
        .into_iter()
        .map(|part| {
            let number = part_number(part.part_number)?;
            let etag = part.etag;
            // The etag goes into the completion's XML; S3's are quoted hex.
            if etag.is_empty()
                || etag.len() > 1024
                || etag.chars().any(|c| c.is_control() || c == '<' || c == '>')
            {
                return Err(StorageFailure::invalid_config(format!(
                    "part {number}'s etag must be the ETag its upload returned, got {etag:?}"
                )));
            }
            Ok((number, etag))
        })
        .collect::<StorageResult<Vec<_>>>()?;
    numbered.sort_by_key(|(number, _)| *number);
    for (index, (number, _)) in numbered.iter().enumerate() {
        if *number as usize != index + 1 {
            return Err(StorageFailure::invalid_config(format!(
                "parts must be numbered 1 to {} once each; part {} is {}",
                numbered.len(),
                index + 1,
                if (*number as usize) < index + 1 {
                    "repeated"
                } else {
                    "missing"
                }
            )));
        }
    }
    Ok(numbered
        .into_iter()
        .map(|(_, etag)| PartId { content_id: etag })
        .collect())
}

#[napi]
impl NativeStore {
    /// Complete upload `uploadId` of `path` from its parts (numbered 1 to n, in any order):
    /// the object appears whole. Resolves to its etag and version.
    #[napi]
    pub fn complete_multipart_upload<'env>(
        &self,
        env: &'env Env,
        path: String,
        upload_id: String,
        parts: Vec<UploadedPart>,
    ) -> napi::Result<PromiseRaw<'env, NativePutResult>> {
        let inner = self.inner.clone();
        self.run(env, async move {
            let (multipart, path) = inner.presigned_upload(&path)?;
            let id = check_upload_id(&upload_id)?.to_string();
            let parts = ordered_etags(parts)?;
            let result = multipart
                .store
                .complete_multipart(&path, &id, parts)
                .await?;
            Ok(NativePutResult::from(result))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: f64, etag: &str) -> UploadedPart {
        UploadedPart {
            part_number: number,
            etag: etag.into(),
        }
    }

    #[test]
    fn orders_and_checks_parts() {
        let ids = ordered_etags(vec![part(2.0, "\"b\""), part(1.0, "\"a\"")]).unwrap();
        assert_eq!(ids[0].content_id, "\"a\"");
        assert_eq!(ids[1].content_id, "\"b\"");
        assert!(ordered_etags(vec![]).is_err());
        assert!(ordered_etags(vec![part(1.0, "a"), part(1.0, "b")]).is_err());
        assert!(ordered_etags(vec![part(1.0, "a"), part(3.0, "b")]).is_err());
        assert!(ordered_etags(vec![part(1.0, "")]).is_err());
        assert!(ordered_etags(vec![part(1.0, "<x>")]).is_err());
    }
}
