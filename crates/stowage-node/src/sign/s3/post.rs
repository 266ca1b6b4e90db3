//! S3 browser form uploads (POST Object with a SigV4-signed policy): the policy pins the key,
//! the bucket, the size range, the content type when given and every `x-amz-*` field, so a
//! form that changes any of them, or a file outside the range, is refused by the server.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html>

use aws_lc_rs::hmac;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use object_store::aws::AwsCredential;
use object_store::path::Path;
use serde_json::{json, Value};

use crate::error::{StorageFailure, StorageResult};
use crate::sign::encode::push_hex;
use crate::sign::{PostRequest, SignedPost};

use super::endpoint::S3Endpoint;
use super::presign::{scope, Timestamp, ALGORITHM};

/// The form for `path` (the full key), signed at `now` with `key` (the signing key of
/// `credential` for `now`'s date).
pub fn sign(
    endpoint: &S3Endpoint,
    bucket: &str,
    credential: &AwsCredential,
    key: &hmac::Key,
    now: DateTime<Utc>,
    path: &Path,
    request: &PostRequest,
) -> StorageResult<SignedPost> {
    if request.min_size > request.max_size {
        return Err(StorageFailure::invalid_config(format!(
            "minSize ({}) is above maxSize ({})",
            request.min_size, request.max_size
        )));
    }
    let at = Timestamp::of(now);
    let expires_in = chrono::Duration::from_std(request.expires_in)
        .map_err(|_| StorageFailure::invalid_config("expiresIn is out of range"))?;
    let expiration = (now + expires_in).to_rfc3339_opts(SecondsFormat::Millis, true);

    // Form fields in the order they are posted; `file` goes last, after all of them.
    let mut fields: Vec<(String, String)> = vec![("key".into(), path.as_ref().to_string())];
    if let Some(content_type) = &request.content_type {
        fields.push(("Content-Type".into(), content_type.clone()));
    }
    fields.push(("x-amz-algorithm".into(), ALGORITHM.into()));
    fields.push((
        "x-amz-credential".into(),
        format!("{}/{}", credential.key_id, scope(&at, &endpoint.region)),
    ));
    fields.push(("x-amz-date".into(), at.datetime_str().into()));
    if let Some(token) = &credential.token {
        fields.push(("x-amz-security-token".into(), token.clone()));
    }

    let mut conditions: Vec<Value> = vec![
        json!({ "bucket": bucket }),
        json!(["content-length-range", request.min_size, request.max_size]),
    ];
    // Every field is pinned with `eq`: AWS refuses a form field the policy does not name.
    conditions.extend(
        fields
            .iter()
            .map(|(name, value)| json!(["eq", format!("${name}"), value])),
    );
    let policy = json!({ "expiration": expiration, "conditions": conditions }).to_string();
    let policy = base64::engine::general_purpose::STANDARD.encode(policy);
    let mut signature = String::with_capacity(64);
    push_hex(&mut signature, hmac::sign(key, policy.as_bytes()).as_ref());
    fields.push(("policy".into(), policy));
    fields.push(("x-amz-signature".into(), signature));

    Ok(SignedPost {
        // Forms go to the bucket: `/bucket` path-style, `/` virtual-hosted.
        url: match endpoint.base_path.as_str() {
            "" => format!("{}/", endpoint.origin),
            path => format!("{}{path}", endpoint.origin),
        },
        fields,
    })
}
