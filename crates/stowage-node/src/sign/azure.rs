//! Azure service SAS URLs signed with the account key.
//!
//! The same fields, string-to-sign and HMAC object_store's Azure signer uses (version
//! 2023-11-03; the tests compare the two), with the HMAC key prepared once per store, the
//! URL prefix computed once, and the response headers `rscd` / `rsct` signed in when asked.
//! Two things differ on purpose: the canonicalized resource names the key as stored
//! (object_store signs its percent-encoded form, which the service refuses for any key that
//! needs encoding), and `HEAD` is signed with read permission (object_store gives it none).
//! <https://learn.microsoft.com/en-us/rest/api/storageservices/create-service-sas>

use std::fmt::Write;
use std::time::Duration;

use async_trait::async_trait;
use aws_lc_rs::hmac;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, Datelike, Timelike, Utc};
use futures::FutureExt;
use http::Method;
use object_store::azure::MicrosoftAzure;
use object_store::path::Path;
use object_store::signer::Signer;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet};

use crate::error::{StorageFailure, StorageResult};

use super::encode::{push_encoded, STRICT};
use super::gcs::URL_PATH;
use super::{SignRequest, UrlSigner};

/// The service version object_store signs (its `AZURE_VERSION`).
pub const SAS_VERSION: &str = "2023-11-03";

/// What `url::Url::path_segments_mut().push` percent-encodes in a segment of a special URL
/// (the path set, `/` and `%`): object_store builds Azure paths that way, a segment at a time.
const URL_SEGMENT: &AsciiSet = &URL_PATH.add(b'/').add(b'%');

/// Signs SAS URLs for one container with the account key.
pub struct AzureSasSigner {
    /// `{service}/{container}/` (the account first for the emulator) as object_store writes it.
    url_prefix: String,
    /// `/blob/{account}/{container}/`: the canonicalized resource without the key.
    resource_prefix: String,
    key: hmac::Key,
}

impl std::fmt::Debug for AzureSasSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureSasSigner")
            .field("url_prefix", &self.url_prefix)
            .finish_non_exhaustive()
    }
}

impl AzureSasSigner {
    /// A signer that makes the URLs `azure` makes, for an account whose key is `access_key`
    /// (`account`: the configured account name, when known). The URL prefix and the
    /// canonicalized resource are read off one URL object_store signs here, and the result is
    /// kept only if it reproduces that URL's signature: anything else (another credential
    /// than this key, an endpoint we do not read right) leaves signing to object_store.
    pub fn matching(
        azure: &MicrosoftAzure,
        access_key: &str,
        account: Option<&str>,
    ) -> Option<Self> {
        let decoded = BASE64.decode(access_key).ok()?;
        // A static key signs without any I/O, so the future is ready at its first poll.
        let sample = azure
            .signed_url(Method::GET, &Path::from("x"), Duration::from_secs(60))
            .now_or_never()?
            .ok()?;
        let url_prefix = sample.as_str().split_once('?')?.0.strip_suffix('x')?;
        let path = sample.path().strip_suffix('x')?;
        let path = percent_decode_str(path).decode_utf8().ok()?;
        let pairs: Vec<(String, String)> = sample.query_pairs().into_owned().collect();
        let field = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let start = DateTime::parse_from_rfc3339(field("st")?).ok()?.to_utc();
        let end = DateTime::parse_from_rfc3339(field("se")?).ok()?.to_utc();
        let expires_in = u64::try_from((end - start).num_seconds()).ok()?;
        let host_label = sample.host_str()?.split('.').next()?;
        let key = hmac::Key::new(hmac::HMAC_SHA256, &decoded);
        // As object_store: the account is named by the host (`{account}.blob...`) or, for the
        // emulator and endpoints like it, by the path's first segment.
        let accounts = [account, Some(host_label)];
        let candidates = std::iter::once(format!("/blob{path}")).chain(
            accounts
                .into_iter()
                .flatten()
                .map(|a| format!("/blob/{a}{path}")),
        );
        for resource_prefix in candidates {
            let signer = Self {
                url_prefix: url_prefix.to_string(),
                resource_prefix,
                key: key.clone(),
            };
            let request = SignRequest::new(Method::GET, Duration::from_secs(expires_in));
            if signer
                .sign_at("x", &request, start)
                .ok()?
                .split_once("&sig=")?
                .1
                == sample.as_str().split_once("&sig=")?.1
            {
                return Some(signer);
            }
        }
        None
    }

    /// The signed URL of `path` (the key as stored, prefix included) for `request`, valid from
    /// `now`.
    pub fn sign_at(
        &self,
        path: &str,
        request: &SignRequest,
        now: DateTime<Utc>,
    ) -> StorageResult<String> {
        let permissions = match request.method {
            Method::GET | Method::HEAD => "r",
            Method::PUT => "w",
            Method::DELETE => "d",
            _ => {
                return Err(StorageFailure::invalid_config(
                    "Azure SAS URLs are for GET, HEAD, PUT or DELETE",
                ))
            }
        };
        if request.content_type.is_some()
            || request.content_length.is_some()
            || request.max_content_length.is_some()
        {
            return Err(StorageFailure::not_supported(
                "an Azure SAS cannot bind the Content-Type or length of an upload: sign the PUT \
                 without contentType/contentLength/maxContentLength and check the blob once it \
                 is uploaded",
            ));
        }
        let mut start = String::with_capacity(20);
        push_iso_datetime(&mut start, &now);
        let mut expiry = String::with_capacity(20);
        let end = now + chrono::TimeDelta::seconds(request.expires_in.as_secs() as i64);
        push_iso_datetime(&mut expiry, &end);
        let disposition = request
            .response_content_disposition
            .as_deref()
            .unwrap_or_default();
        let content_type = request.response_content_type.as_deref().unwrap_or_default();

        // sp, st, se, resource, si, sip, spr, sv, sr, snapshot, ses, rscc, rscd, rsce, rscl, rsct
        let mut string_to_sign = String::with_capacity(
            160 + self.resource_prefix.len() + path.len() + disposition.len(),
        );
        for field in [
            permissions,
            start.as_str(),
            expiry.as_str(),
            self.resource_prefix.as_str(),
        ] {
            string_to_sign.push_str(field);
            string_to_sign.push('\n');
        }
        // The resource ends with the key, as stored.
        string_to_sign.pop();
        string_to_sign.push_str(path);
        string_to_sign.push_str("\n\n\n\n");
        string_to_sign.push_str(SAS_VERSION);
        string_to_sign.push_str("\nb\n\n\n\n");
        string_to_sign.push_str(disposition);
        string_to_sign.push_str("\n\n\n");
        string_to_sign.push_str(content_type);
        let tag = hmac::sign(&self.key, string_to_sign.as_bytes());

        let mut url = String::with_capacity(self.url_prefix.len() + path.len() + 200);
        url.push_str(&self.url_prefix);
        for (i, segment) in path.split('/').enumerate() {
            if i > 0 {
                url.push('/');
            }
            url.extend(utf8_percent_encode(segment, URL_SEGMENT));
        }
        url.push_str("?sv=");
        url.push_str(SAS_VERSION);
        url.push_str("&sp=");
        url.push_str(permissions);
        url.push_str("&st=");
        push_encoded(&mut url, &start, STRICT);
        url.push_str("&se=");
        push_encoded(&mut url, &expiry, STRICT);
        url.push_str("&sr=b");
        if let Some(value) = &request.response_content_disposition {
            url.push_str("&rscd=");
            push_encoded(&mut url, value, STRICT);
        }
        if let Some(value) = &request.response_content_type {
            url.push_str("&rsct=");
            push_encoded(&mut url, value, STRICT);
        }
        url.push_str("&sig=");
        push_encoded(&mut url, &BASE64.encode(tag.as_ref()), STRICT);
        Ok(url)
    }
}

#[async_trait]
impl UrlSigner for AzureSasSigner {
    async fn sign_urls(&self, paths: &[Path], request: &SignRequest) -> StorageResult<Vec<String>> {
        let now = Utc::now();
        paths
            .iter()
            .map(|path| self.sign_at(path.as_ref(), request, now))
            .collect()
    }

    async fn sign_url(&self, path: &Path, request: &SignRequest) -> StorageResult<String> {
        self.sign_at(path.as_ref(), request, Utc::now())
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, as SAS `st` and `se` are written.
fn push_iso_datetime(out: &mut String, at: &DateTime<Utc>) {
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use object_store::azure::MicrosoftAzureBuilder;

    const KEY: &str =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    fn split(url: &str) -> (String, BTreeMap<String, String>) {
        let (base, query) = url.split_once('?').unwrap();
        let pairs = query
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect();
        (base.to_string(), pairs)
    }

    fn signed_at(pairs: &BTreeMap<String, String>) -> DateTime<Utc> {
        let start = percent_decode_str(&pairs["st"]).decode_utf8().unwrap();
        DateTime::parse_from_rfc3339(&start).unwrap().to_utc()
    }

    /// The string to sign of a read URL valid 2025-12-01 12:00 to 12:10, written out as Azure
    /// documents it (16 fields, version 2023-11-03): only the resource and the two response
    /// headers differ between the tests.
    fn read_fields<'a>(
        resource: &'a str,
        disposition: &'a str,
        content_type: &'a str,
    ) -> [&'a str; 16] {
        let (start, expiry) = ("2025-12-01T12:00:00Z", "2025-12-01T12:10:00Z");
        [
            "r",
            start,
            expiry,
            resource,
            "",
            "",
            "",
            SAS_VERSION,
            "b",
            "",
            "",
            "",
            disposition,
            "",
            "",
            content_type,
        ]
    }

    fn request(method: Method) -> SignRequest {
        SignRequest::new(method, Duration::from_secs(600))
    }

    /// Azurite's account, reached through its account URL.
    fn azurite(container: &str) -> MicrosoftAzure {
        MicrosoftAzureBuilder::new()
            .with_account("devstoreaccount1")
            .with_access_key(KEY)
            .with_container_name(container)
            .with_endpoint("http://127.0.0.1:10000/devstoreaccount1".to_string())
            .with_allow_http(true)
            .build()
            .unwrap()
    }

    /// object_store writes the same parameters, in a `HashMap`'s order: compared as sets.
    #[tokio::test]
    async fn urls_match_object_store() {
        let emulator = MicrosoftAzureBuilder::new()
            .with_use_emulator(true)
            .with_container_name("container")
            .build()
            .unwrap();
        let public = MicrosoftAzureBuilder::new()
            .with_account("acct")
            .with_access_key(KEY)
            .with_container_name("container")
            .build()
            .unwrap();
        let cases = [
            ("emulator", emulator, None),
            (
                "account URL",
                azurite("container"),
                Some("devstoreaccount1"),
            ),
            ("public cloud", public, Some("acct")),
        ];
        for (name, theirs, account) in cases {
            let ours = AzureSasSigner::matching(&theirs, KEY, account).expect(name);
            for key in ["a.txt", "dir/sub/file_name+1.txt", "x/y/z-~.bin"] {
                for method in [Method::GET, Method::PUT, Method::DELETE] {
                    let expected = theirs
                        .signed_url(
                            method.clone(),
                            &Path::parse(key).unwrap(),
                            Duration::from_secs(600),
                        )
                        .await
                        .unwrap();
                    let (base, pairs) = split(expected.as_str());
                    let url = ours
                        .sign_at(key, &request(method.clone()), signed_at(&pairs))
                        .unwrap();
                    assert_eq!(split(&url), (base, pairs), "{name} {method} {key}");
                }
            }
        }
    }

    #[test]
    fn only_the_key_object_store_signs_with_is_used() {
        let azure = azurite("c");
        assert!(AzureSasSigner::matching(&azure, "not base64!!", None).is_none());
        let other = BASE64.encode([7u8; 64]);
        assert!(AzureSasSigner::matching(&azure, &other, Some("devstoreaccount1")).is_none());
        assert!(AzureSasSigner::matching(&azure, KEY, Some("devstoreaccount1")).is_some());
    }

    fn expected_sig(fields: &[&str]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &BASE64.decode(KEY).unwrap());
        let sig = BASE64.encode(hmac::sign(&key, fields.join("\n").as_bytes()).as_ref());
        let mut encoded = String::new();
        push_encoded(&mut encoded, &sig, STRICT);
        encoded
    }

    #[test]
    fn encoded_keys_keep_their_name_in_the_resource() {
        let signer = AzureSasSigner::matching(&azurite("c"), KEY, None).unwrap();
        let now = DateTime::from_timestamp(1_764_590_400, 0).unwrap();
        let url = signer
            .sign_at("sp ace/100%/ü?#.txt", &request(Method::GET), now)
            .unwrap();
        let (base, pairs) = split(&url);
        assert_eq!(
            base,
            "http://127.0.0.1:10000/devstoreaccount1/c/sp%20ace/100%25/%C3%BC%3F%23.txt"
        );
        let resource = "/blob/devstoreaccount1/c/sp ace/100%/ü?#.txt";
        assert_eq!(pairs["sig"], expected_sig(&read_fields(resource, "", "")));
        assert_eq!(pairs["st"], "2025-12-01T12%3A00%3A00Z");
    }

    #[test]
    fn response_headers_are_signed_in() {
        let signer = AzureSasSigner::matching(&azurite("c"), KEY, None).unwrap();
        let now = DateTime::from_timestamp(1_764_590_400, 0).unwrap();
        let mut req = request(Method::GET);
        req.response_content_disposition = Some("attachment; filename=\"a b.txt\"".into());
        req.response_content_type = Some("text/plain".into());
        let url = signer.sign_at("k", &req, now).unwrap();
        let (_, pairs) = split(&url);
        assert_eq!(pairs["rscd"], "attachment%3B%20filename%3D%22a%20b.txt%22");
        assert_eq!(pairs["rsct"], "text%2Fplain");
        let fields = read_fields(
            "/blob/devstoreaccount1/c/k",
            "attachment; filename=\"a b.txt\"",
            "text/plain",
        );
        assert_eq!(pairs["sig"], expected_sig(&fields));
        // Without them, the fields are empty and the URL names neither; HEAD reads.
        let plain = signer.sign_at("k", &request(Method::HEAD), now).unwrap();
        assert!(!plain.contains("rscd") && plain.contains("sp=r&"));
    }

    /// Per-URL signing time, ours against object_store's `signed_url`, one URL a call (run
    /// with `cargo test --release sign::azure -- --ignored --nocapture`).
    #[tokio::test]
    #[ignore]
    async fn speed_against_object_store() {
        let theirs = azurite("c");
        let ours = AzureSasSigner::matching(&theirs, KEY, None).unwrap();
        crate::sign::speed_check::print_speed_against_object_store("azure", &theirs, &ours, 20_000)
            .await;
    }
}
