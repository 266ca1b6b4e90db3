//! SigV4 query signing (`X-Amz-*` parameters), built straight into the URL: the canonical
//! query is also the URL's query (both strictly encoded, sorted), the canonical URI is the
//! URL's path, and nothing is parsed back. What every URL of a batch shares (query, headers,
//! key) is built once; each path costs one SHA-256 of its canonical request and one HMAC.

use std::sync::Arc;

use aws_lc_rs::{digest, hmac};
use chrono::{DateTime, Datelike, Timelike, Utc};
use object_store::aws::AwsCredential;
use object_store::path::Path;

use crate::sign::encode::{push_encoded, push_hex, STRICT, STRICT_PATH};
use crate::sign::SignRequest;

use super::endpoint::S3Endpoint;
use super::key::SERVICE;

/// The SigV4 algorithm name.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The payload hash of a request whose body is not signed. A presigned URL never covers the
/// body: its holder sends whatever they send.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// A signing time in SigV4's two forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    /// `YYYYMMDD`.
    pub date: [u8; 8],
    /// `YYYYMMDDTHHMMSSZ`.
    pub datetime: [u8; 16],
}

impl Timestamp {
    pub fn of(at: DateTime<Utc>) -> Self {
        fn put(out: &mut [u8], value: u32) {
            let mut value = value;
            for slot in out.iter_mut().rev() {
                *slot = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
        let mut datetime = *b"00000000T000000Z";
        // Years past 9999 cannot be written in 4 digits; SigV4 has no form for them either.
        put(&mut datetime[0..4], at.year().clamp(0, 9999) as u32);
        put(&mut datetime[4..6], at.month());
        put(&mut datetime[6..8], at.day());
        put(&mut datetime[9..11], at.hour());
        put(&mut datetime[11..13], at.minute());
        put(&mut datetime[13..15], at.second());
        let mut date = [0; 8];
        date.copy_from_slice(&datetime[..8]);
        Self { date, datetime }
    }

    pub fn date_str(&self) -> &str {
        // Only ASCII digits are ever written.
        std::str::from_utf8(&self.date).unwrap_or_default()
    }

    pub fn datetime_str(&self) -> &str {
        std::str::from_utf8(&self.datetime).unwrap_or_default()
    }
}

/// The credential scope: `date/region/s3/aws4_request`.
pub fn scope(at: &Timestamp, region: &str) -> String {
    format!("{}/{region}/{SERVICE}/aws4_request", at.date_str())
}

/// The start of SigV4's string to sign, up to the canonical request's hash: the algorithm,
/// the signing time and the scope, a line each.
pub fn string_to_sign_prefix(at: &Timestamp, scope: &str) -> String {
    let mut prefix = String::with_capacity(ALGORITHM.len() + scope.len() + 20);
    for part in [ALGORITHM, "\n", at.datetime_str(), "\n", scope, "\n"] {
        prefix.push_str(part);
    }
    prefix
}

/// A SigV4 canonical request, in its parts: whatever signs (a presigned URL's query, a
/// request's `Authorization` header) hashes and signs it here.
pub struct CanonicalRequest<'a> {
    pub method: &'a str,
    /// The URI's path, as sent (already encoded).
    pub path: &'a str,
    /// The canonical query: strictly encoded and sorted (see [`canonical_query`]).
    pub query: &'a str,
    /// `name:value\n` for every signed header, sorted by name.
    pub headers: &'a str,
    /// The signed headers' names, sorted, joined with `;`.
    pub signed_headers: &'a str,
    /// The body's hex SHA-256, or [`UNSIGNED_PAYLOAD`].
    pub payload_hash: &'a str,
}

impl CanonicalRequest<'_> {
    /// The signature: HMAC-SHA256, with the day's signing `key`, of the string to sign, which
    /// is `to_sign_prefix` (see [`string_to_sign_prefix`]) and this request's hex SHA-256.
    /// The canonical request is hashed part by part, never joined into one string.
    pub fn signature(&self, key: &hmac::Key, to_sign_prefix: &str) -> hmac::Tag {
        let mut hash = digest::Context::new(&digest::SHA256);
        for part in [
            self.method,
            "\n",
            self.path,
            "\n",
            self.query,
            "\n",
            self.headers,
            "\n",
            self.signed_headers,
            "\n",
            self.payload_hash,
        ] {
            hash.update(part.as_bytes());
        }
        let mut hashed = String::with_capacity(64);
        push_hex(&mut hashed, hash.finish().as_ref());
        let mut mac = hmac::Context::with_key(key);
        mac.update(to_sign_prefix.as_bytes());
        mac.update(hashed.as_bytes());
        mac.sign()
    }
}

/// Append SigV4's canonical form of a header value to `out`: trimmed, inner runs of
/// whitespace as one space.
pub fn push_canonical_value(out: &mut String, value: &str) {
    for (i, word) in value.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// [`push_canonical_value`] into a new string.
fn canonical_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    push_canonical_value(&mut out, value);
    out
}

/// What the URLs of one signing call share.
pub struct Presign<'a> {
    endpoint: &'a S3Endpoint,
    method: &'a str,
    /// The canonical query without the signature; also the URL's query.
    query: String,
    /// `name:value\n` for every signed header, sorted.
    canonical_headers: String,
    /// `content-length;content-type;host` or a part of it.
    signed_headers: String,
    /// The string to sign up to the canonical request's hash.
    to_sign_prefix: String,
    key: Arc<hmac::Key>,
}

impl<'a> Presign<'a> {
    /// `extra` are further signed query parameters (a part's `partNumber` and `uploadId`).
    pub fn new(
        endpoint: &'a S3Endpoint,
        credential: &AwsCredential,
        key: Arc<hmac::Key>,
        at: &Timestamp,
        request: &'a SignRequest,
        extra: &[(&str, &str)],
    ) -> Self {
        let scope = scope(at, &endpoint.region);
        let mut headers: Vec<(&str, String)> = Vec::with_capacity(3);
        if let Some(length) = request.content_length {
            headers.push(("content-length", length.to_string()));
        }
        if let Some(content_type) = &request.content_type {
            headers.push(("content-type", canonical_value(content_type)));
        }
        headers.push(("host", endpoint.host.clone()));
        let signed_headers = headers
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(";");
        let mut canonical_headers = String::with_capacity(64);
        for (name, value) in &headers {
            canonical_headers.push_str(name);
            canonical_headers.push(':');
            canonical_headers.push_str(value);
            canonical_headers.push('\n');
        }

        let credential_value = format!("{}/{scope}", credential.key_id);
        let expires = request.expires_in.as_secs().to_string();
        let mut params: Vec<(&str, &str)> = vec![
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", credential_value.as_str()),
            ("X-Amz-Date", at.datetime_str()),
            ("X-Amz-Expires", expires.as_str()),
            ("X-Amz-SignedHeaders", signed_headers.as_str()),
        ];
        if endpoint.request_payer {
            params.push(("x-amz-request-payer", "requester"));
        }
        if let Some(token) = &credential.token {
            params.push(("X-Amz-Security-Token", token.as_str()));
        }
        if let Some(value) = &request.response_content_disposition {
            params.push(("response-content-disposition", value.as_str()));
        }
        if let Some(value) = &request.response_content_type {
            params.push(("response-content-type", value.as_str()));
        }
        params.extend_from_slice(extra);
        let query = canonical_query(&params);

        let to_sign_prefix = string_to_sign_prefix(at, &scope);
        Self {
            endpoint,
            method: request.method.as_str(),
            query,
            canonical_headers,
            signed_headers,
            to_sign_prefix,
            key,
        }
    }

    /// The presigned URL of `path` (the full key, prefix included).
    pub fn url(&self, path: &Path) -> String {
        let endpoint = self.endpoint;
        let mut url = String::with_capacity(
            endpoint.origin.len()
                + endpoint.base_path.len()
                + path.as_ref().len() * 3
                + self.query.len()
                + 100,
        );
        url.push_str(&endpoint.origin);
        let uri_start = url.len();
        url.push_str(&endpoint.base_path);
        url.push('/');
        push_encoded(&mut url, path.as_ref(), STRICT_PATH);

        let signature = CanonicalRequest {
            method: self.method,
            path: &url[uri_start..],
            query: &self.query,
            headers: &self.canonical_headers,
            signed_headers: &self.signed_headers,
            payload_hash: UNSIGNED_PAYLOAD,
        }
        .signature(&self.key, &self.to_sign_prefix);

        url.push('?');
        url.push_str(&self.query);
        url.push_str("&X-Amz-Signature=");
        push_hex(&mut url, signature.as_ref());
        url
    }
}

/// `name=value` pairs strictly encoded, sorted by name then value, joined with `&`.
pub fn canonical_query(params: &[(&str, &str)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(name, value)| {
            let mut n = String::with_capacity(name.len());
            push_encoded(&mut n, name, STRICT);
            let mut v = String::with_capacity(value.len() + 8);
            push_encoded(&mut v, value, STRICT);
            (n, v)
        })
        .collect();
    encoded.sort_unstable();
    let mut query = String::with_capacity(encoded.iter().map(|(n, v)| n.len() + v.len() + 2).sum());
    for (i, (name, value)) in encoded.iter().enumerate() {
        if i > 0 {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        query.push_str(value);
    }
    query
}
