//! GCS V4 signed URLs (`GOOG4-RSA-SHA256`) with a service account's own RSA key.
//!
//! The same URLs object_store's `GoogleCloudStorage::signed_url_opts` makes (byte for byte:
//! see the tests), built straight into one string: the key is parsed once per store, the URL
//! prefix and the credential's encodings are computed once, and nothing is re-parsed per URL.
//! <https://cloud.google.com/storage/docs/access-control/signing-urls-manually>

use std::sync::Arc;

use async_trait::async_trait;
use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use chrono::Utc;
use http::{HeaderName, HeaderValue};
use object_store::gcp::ServiceAccountKey;
use object_store::path::Path;
use object_store::signer::{SignedUrlOptions, Signer};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;
use url::Url;

use crate::error::{StorageFailure, StorageResult};

use super::encode::{push_encoded, push_hex, STRICT};
use super::s3::presign::Timestamp;
use super::{SignRequest, UrlSigner};

/// object_store signs this host whatever base URL the store talks to (an emulator's included).
const SIGNED_HOST: &str = "storage.googleapis.com";

/// What `url::Url` percent-encodes in a path (WHATWG's path set), plus `\`, which a special
/// URL would otherwise read as `/`. object_store formats `{base}/{bucket}/{key}` and parses it,
/// so a key is encoded exactly like this in its requests and signed URLs.
pub const URL_PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'#')
    .add(b'?')
    .add(b'{')
    .add(b'}')
    .add(b'\\');

/// A service account's RSA key, parsed once and shared with object_store's own signer.
#[derive(Clone)]
pub struct GcsRsaKey(Arc<RsaKeyPair>);

impl GcsRsaKey {
    /// Parses a PEM private key (PKCS#8 or PKCS#1), as object_store's `from_pem` does.
    pub fn from_pem(pem: &str) -> StorageResult<Self> {
        let invalid = || {
            StorageFailure::invalid_config(
                "the service account's private_key is not a valid PEM RSA key",
            )
        };
        let key = match PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| invalid())? {
            PrivateKeyDer::Pkcs8(key) => RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(key) => RsaKeyPair::from_der(key.secret_pkcs1_der()),
            _ => return Err(invalid()),
        }
        .map_err(|_| invalid())?;
        Ok(Self(Arc::new(key)))
    }

    fn sign(&self, message: &[u8]) -> StorageResult<Vec<u8>> {
        let mut signature = vec![0; self.0.public_modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| StorageFailure::generic("RSA signing failed"))?;
        Ok(signature)
    }

    /// The same key for object_store (its tokens and the URLs we leave to it).
    pub fn for_object_store(&self) -> ServiceAccountKey {
        ServiceAccountKey::new(Box::new(self.clone()))
    }
}

impl object_store::client::Signer for GcsRsaKey {
    fn sign(&self, string_to_sign: &[u8]) -> object_store::Result<Vec<u8>> {
        GcsRsaKey::sign(self, string_to_sign).map_err(|err| object_store::Error::Generic {
            store: "GCS",
            source: err.message.into(),
        })
    }
}

/// Signs URLs for one bucket with one service account.
pub struct GcsUrlSigner {
    /// `{base}/{bucket}/` as `url::Url` writes it; the encoded key follows.
    url_prefix: String,
    /// The path of `url_prefix`, which the canonical request starts with.
    path_prefix: String,
    /// `X-Goog-Credential`'s account part, form-encoded for the URL, with the `/` after it.
    credential_in_url: String,
    /// The same, strictly encoded, for the canonical query.
    credential_canonical: String,
    key: GcsRsaKey,
}

impl std::fmt::Debug for GcsUrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcsUrlSigner")
            .field("url_prefix", &self.url_prefix)
            .finish_non_exhaustive()
    }
}

impl GcsUrlSigner {
    /// A signer for `bucket` at `base_url` (object_store's `google_base_url`).
    pub fn new(base_url: &str, bucket: &str, email: &str, key: GcsRsaKey) -> StorageResult<Self> {
        // Parsed once, with a placeholder key, exactly as object_store parses every URL.
        let sample = Url::parse(&format!("{base_url}/{bucket}/x")).map_err(|err| {
            StorageFailure::invalid_config(format!("the GCS base URL cannot be parsed: {err}"))
        })?;
        if sample.query().is_some() || sample.fragment().is_some() || !sample.path().ends_with("/x")
        {
            return Err(StorageFailure::invalid_config(
                "the GCS base URL and bucket must form a plain URL (no '?' or '#')",
            ));
        }
        let url_prefix = sample
            .as_str()
            .strip_suffix('x')
            .unwrap_or_default()
            .to_string();
        let path_prefix = sample
            .path()
            .strip_suffix('x')
            .unwrap_or_default()
            .to_string();
        let mut credential_in_url = String::new();
        push_form(&mut credential_in_url, email);
        credential_in_url.push_str("%2F");
        let mut credential_canonical = String::new();
        push_encoded(&mut credential_canonical, email, STRICT);
        credential_canonical.push_str("%2F");
        Ok(Self {
            url_prefix,
            path_prefix,
            credential_in_url,
            credential_canonical,
            key,
        })
    }

    /// The signed URL of `path` (the key as stored, prefix included) for `request`, signed at
    /// `at` (V4's date forms are SigV4's).
    pub fn sign_at(
        &self,
        path: &str,
        request: &SignRequest,
        at: &Timestamp,
    ) -> StorageResult<String> {
        let date = at.datetime_str();
        let day = at.date_str();
        let expires = request.expires_in.as_secs().to_string();

        // Signed headers, in canonical (name) order; `host` always.
        let mut headers: [(&str, String); 3] = Default::default();
        let mut count = 0;
        if let Some(content_type) = &request.content_type {
            headers[count] = ("content-type", header_value(content_type));
            count += 1;
        }
        headers[count] = ("host", SIGNED_HOST.to_string());
        count += 1;
        if let Some((min, max)) = request.content_length_range() {
            headers[count] = ("x-goog-content-length-range", format!("{min},{max}"));
            count += 1;
        }
        let headers = &headers[..count];
        let mut signed_headers = String::with_capacity(48);
        for (i, (name, _)) in headers.iter().enumerate() {
            if i > 0 {
                signed_headers.push(';');
            }
            signed_headers.push_str(name);
        }

        let encoded_path = utf8_percent_encode(path, URL_PATH).to_string();
        let extras = [
            (
                "response-content-disposition",
                &request.response_content_disposition,
            ),
            ("response-content-type", &request.response_content_type),
        ];

        // The canonical request: every X-Goog-* name sorts before the lower-case extras.
        let mut canonical = String::with_capacity(512);
        canonical.push_str(request.method.as_str());
        canonical.push('\n');
        canonical.push_str(&self.path_prefix);
        canonical.push_str(&encoded_path);
        canonical.push('\n');
        self.push_goog_params(&mut canonical, false, at, &expires, &signed_headers);
        for (name, value) in extras {
            if let Some(value) = value {
                canonical.push('&');
                canonical.push_str(name);
                canonical.push('=');
                push_encoded(&mut canonical, value, STRICT);
            }
        }
        canonical.push('\n');
        for (name, value) in headers {
            canonical.push_str(name);
            canonical.push(':');
            canonical.push_str(value);
            canonical.push('\n');
        }
        canonical.push('\n');
        canonical.push_str(&signed_headers);
        canonical.push_str("\nUNSIGNED-PAYLOAD");

        let mut string_to_sign = String::with_capacity(128);
        string_to_sign.push_str("GOOG4-RSA-SHA256\n");
        string_to_sign.push_str(date);
        string_to_sign.push('\n');
        push_scope(&mut string_to_sign, day, "/");
        string_to_sign.push('\n');
        push_hex(
            &mut string_to_sign,
            digest(&SHA256, canonical.as_bytes()).as_ref(),
        );
        let signature = self.key.sign(string_to_sign.as_bytes())?;

        // The URL: object_store appends the extras first, then the X-Goog-* parameters.
        let mut url = String::with_capacity(self.url_prefix.len() + encoded_path.len() + 900);
        url.push_str(&self.url_prefix);
        url.push_str(&encoded_path);
        url.push('?');
        for (name, value) in extras {
            if let Some(value) = value {
                url.push_str(name);
                url.push('=');
                push_encoded(&mut url, value, STRICT);
                url.push('&');
            }
        }
        self.push_goog_params(&mut url, true, at, &expires, &signed_headers);
        url.push_str("&X-Goog-Signature=");
        push_hex(&mut url, &signature);
        Ok(url)
    }
}

/// `push_form` for the URL, as `url::Url::query_pairs_mut` writes what object_store appends.
fn push_form(out: &mut String, value: &str) {
    out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
}

/// An RSA-2048 signature takes about a millisecond: too long for JavaScript's thread, where
/// the promise machinery polls a signer first. Yielding once moves the rest onto the runtime's
/// threads, as object_store's signer ran.
#[async_trait]
impl UrlSigner for GcsUrlSigner {
    async fn sign_urls(&self, paths: &[Path], request: &SignRequest) -> StorageResult<Vec<String>> {
        tokio::task::yield_now().await;
        let at = Timestamp::of(Utc::now());
        paths
            .iter()
            .map(|path| self.sign_at(path.as_ref(), request, &at))
            .collect()
    }

    async fn sign_url(&self, path: &Path, request: &SignRequest) -> StorageResult<String> {
        tokio::task::yield_now().await;
        self.sign_at(path.as_ref(), request, &Timestamp::of(Utc::now()))
    }
}

/// object_store's GCS signer, for accounts without a key of their own (it signs through the
/// IAM `signBlob` API); it signs the same options as ours, as extra query parameters and
/// signed headers.
pub struct GcsObjectStoreSigner(pub Arc<dyn Signer>);

#[async_trait]
impl UrlSigner for GcsObjectStoreSigner {
    async fn sign_urls(&self, paths: &[Path], request: &SignRequest) -> StorageResult<Vec<String>> {
        if !request.has_options() {
            let urls = self
                .0
                .signed_urls(request.method.clone(), paths, request.expires_in)
                .await?;
            return Ok(urls.into_iter().map(String::from).collect());
        }
        let options = object_store_options(request)?;
        let mut urls = Vec::with_capacity(paths.len());
        for path in paths {
            let url = self
                .0
                .signed_url_opts(request.method.clone(), path, request.expires_in, &options)
                .await?;
            urls.push(String::from(url));
        }
        Ok(urls)
    }
}

/// `request`'s options as object_store signs them for GCS: the query parameters and signed
/// headers our signer signs.
pub fn object_store_options(extras: &SignRequest) -> StorageResult<SignedUrlOptions> {
    let mut options = SignedUrlOptions::default();
    let query = [
        (
            "response-content-disposition",
            &extras.response_content_disposition,
        ),
        ("response-content-type", &extras.response_content_type),
    ];
    for (name, value) in query {
        if let Some(value) = value {
            options = options.with_query([(name, value.as_str())]);
        }
    }
    let invalid = |_| StorageFailure::invalid_config("contentType is not a valid header value");
    if let Some(content_type) = &extras.content_type {
        let value = HeaderValue::from_str(content_type).map_err(invalid)?;
        options = options.with_signed_header(http::header::CONTENT_TYPE, value);
    }
    if let Some((min, max)) = extras.content_length_range() {
        let value = HeaderValue::from_str(&format!("{min},{max}")).map_err(invalid)?;
        options = options.with_signed_header(
            HeaderName::from_static("x-goog-content-length-range"),
            value,
        );
    }
    Ok(options)
}

impl GcsUrlSigner {
    /// The `X-Goog-*` parameters but the signature, in their (canonical) order: encoded for
    /// the URL as object_store's `query_pairs_mut` writes them, or strictly for the canonical
    /// query.
    fn push_goog_params(
        &self,
        out: &mut String,
        for_url: bool,
        at: &Timestamp,
        expires: &str,
        signed_headers: &str,
    ) {
        out.push_str("X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=");
        out.push_str(match for_url {
            true => &self.credential_in_url,
            false => &self.credential_canonical,
        });
        push_scope(out, at.date_str(), "%2F");
        out.push_str("&X-Goog-Date=");
        out.push_str(at.datetime_str());
        out.push_str("&X-Goog-Expires=");
        out.push_str(expires);
        out.push_str("&X-Goog-SignedHeaders=");
        match for_url {
            true => push_form(out, signed_headers),
            false => push_encoded(out, signed_headers, STRICT),
        }
    }
}

/// `{day}/auto/storage/goog4_request`, with `/` written as `slash`.
fn push_scope(out: &mut String, day: &str, slash: &str) {
    out.push_str(day);
    for part in ["auto", "storage", "goog4_request"] {
        out.push_str(slash);
        out.push_str(part);
    }
}

/// A header value as the canonical request writes it: trimmed, inner whitespace runs as one
/// space (the service normalises the header it receives the same way).
fn header_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;
    use base64::Engine;
    use chrono::{DateTime, NaiveDateTime, Utc};
    use http::Method;
    use object_store::gcp::GoogleCloudStorageBuilder;

    const EMAIL: &str = "signer@project.iam.gserviceaccount.com";

    fn pem() -> String {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key).unwrap();
        let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        )
    }

    /// object_store's store, signing with the same account (its own parse of the key).
    /// object_store's GCS signer and ours, for the same bucket, account and key.
    fn signer_pair() -> (object_store::gcp::GoogleCloudStorage, GcsUrlSigner) {
        let pem = pem();
        let theirs = object_store_gcs(&pem, "http://127.0.0.1:4443");
        let ours = GcsUrlSigner::new(
            "http://127.0.0.1:4443",
            "bucket",
            EMAIL,
            GcsRsaKey::from_pem(&pem).unwrap(),
        )
        .unwrap();
        (theirs, ours)
    }

    fn object_store_gcs(pem: &str, base_url: &str) -> object_store::gcp::GoogleCloudStorage {
        let account = serde_json::json!({
            "private_key": pem,
            "private_key_id": "id",
            "client_email": EMAIL,
        });
        GoogleCloudStorageBuilder::new()
            .with_bucket_name("bucket")
            .with_base_url(base_url)
            .with_service_account_key(account.to_string())
            .build()
            .unwrap()
    }

    fn signed_at(url: &str) -> DateTime<Utc> {
        let url = Url::parse(url).unwrap();
        let (_, date) = url.query_pairs().find(|(k, _)| k == "X-Goog-Date").unwrap();
        NaiveDateTime::parse_from_str(&date, "%Y%m%dT%H%M%SZ")
            .unwrap()
            .and_utc()
    }

    #[tokio::test]
    async fn urls_are_byte_identical_to_object_store() {
        let (theirs, ours) = signer_pair();
        let keys = [
            "a.txt",
            "dir/sub/file name+ü.txt",
            "100%25 (copy) [1] {x} <y> `z` \"q\" !$&'*,;=:@|^",
            "日本/語",
        ];
        for key in keys {
            for method in [Method::GET, Method::PUT, Method::HEAD, Method::DELETE] {
                for extras in 0..6 {
                    let disposition = "attachment; filename=\"r\u{e9}sum\u{e9} 1.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%201.pdf";
                    let mut options = SignedUrlOptions::default();
                    let mut request = SignRequest::new(method.clone(), Duration::from_secs(900));
                    if extras & 1 == 1 {
                        options = options.with_query([
                            ("response-content-disposition", disposition),
                            ("response-content-type", "text/plain; charset=utf-8"),
                        ]);
                        request.response_content_disposition = Some(disposition.into());
                        request.response_content_type = Some("text/plain; charset=utf-8".into());
                    }
                    if extras & 2 == 2 {
                        options = options
                            .with_signed_header(
                                http::header::CONTENT_TYPE,
                                HeaderValue::from_static("image/png"),
                            )
                            .with_signed_header(
                                HeaderName::from_static("x-goog-content-length-range"),
                                HeaderValue::from_static("1234,1234"),
                            );
                        request.content_type = Some("image/png".into());
                        request.content_length = Some(1234);
                    }
                    if extras & 4 == 4 {
                        options = options.with_signed_header(
                            HeaderName::from_static("x-goog-content-length-range"),
                            HeaderValue::from_static("0,65536"),
                        );
                        request.max_content_length = Some(65536);
                    }
                    // object_store's own mapping of the options is the one compared with.
                    if extras != 0 {
                        let mapped = object_store_options(&request).unwrap();
                        assert_eq!(format!("{mapped:?}"), format!("{options:?}"));
                    }
                    let expected = theirs
                        .signed_url_opts(
                            method.clone(),
                            &Path::parse(key).unwrap(),
                            Duration::from_secs(900),
                            &options,
                        )
                        .await
                        .unwrap();
                    let at = Timestamp::of(signed_at(expected.as_str()));
                    assert_eq!(
                        ours.sign_at(key, &request, &at).unwrap(),
                        expected.as_str(),
                        "{method} {key:?} extras {extras}"
                    );
                }
            }
        }
    }

    #[test]
    fn key_paths_are_encoded_as_url_encodes_them() {
        for key in ["a b/ü\"<>`{}|^[]%41!", "x%2Fy", "~tilde*"] {
            let prefix = "https://storage.googleapis.com/bucket/";
            let parsed = Url::parse(&format!("{prefix}{key}")).unwrap();
            let ours = utf8_percent_encode(key, URL_PATH).to_string();
            assert_eq!(format!("{prefix}{ours}"), parsed.as_str(), "{key:?}");
        }
        // Where object_store's parse would cut the key short, the key stays whole.
        let ours = utf8_percent_encode("a?b#c\\d", URL_PATH).to_string();
        assert_eq!(ours, "a%3Fb%23c%5Cd");
    }

    #[test]
    fn a_bad_key_is_invalid_config_without_its_text() {
        let err = GcsRsaKey::from_pem(
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n",
        )
        .err()
        .unwrap();
        assert_eq!(err.code, crate::error::ErrorCode::InvalidConfig);
        assert!(!err.message.contains("c2VjcmV0"));
    }

    /// Per-URL signing time, ours against object_store's `signed_url`, one URL a call (run
    /// with `cargo test --release sign::gcs -- --ignored --nocapture`).
    #[tokio::test]
    #[ignore]
    async fn speed_against_object_store() {
        let (theirs, ours) = signer_pair();
        crate::sign::speed_check::print_speed_against_object_store("gcs", &theirs, &ours, 2_000)
            .await;
    }
}
