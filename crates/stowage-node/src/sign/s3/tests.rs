//! Our URLs against object_store's signer for the same inputs and second, and against AWS's
//! documented example: equal signatures prove the canonical requests byte-identical.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeZone, Utc};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method};
use object_store::aws::{AmazonS3Builder, AwsCredential};
use object_store::path::Path;
use object_store::signer::{SignedUrlOptions, Signer};
use object_store::StaticCredentialProvider;
use url::Url;

use super::endpoint::S3Endpoint;
use super::presign::Timestamp;
use super::store_signing::StoreSigning;
use super::S3Signer;
use crate::sign::SignRequest;

fn credential(token: Option<&str>) -> AwsCredential {
    AwsCredential {
        key_id: "AKIDEXAMPLE".into(),
        secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        token: token.map(str::to_string),
    }
}

fn ours(builder: &AmazonS3Builder, token: Option<&str>) -> S3Signer {
    let credential = credential(token);
    let credentials = Arc::new(StaticCredentialProvider::new(credential));
    let signing = StoreSigning::new(S3Endpoint::of(builder).unwrap(), credentials);
    S3Signer::new(Arc::new(signing), "bkt".into())
}

/// Query pairs decoded, and the path: what a server reads from a URL.
fn read(url: &str) -> (String, String, BTreeMap<String, String>) {
    let url = Url::parse(url).unwrap();
    let origin = url[..url::Position::BeforePath].to_string();
    (
        origin,
        url.path().to_string(),
        url.query_pairs().into_owned().collect(),
    )
}

fn signed_at(url: &Url) -> Timestamp {
    let (_, date) = url.query_pairs().find(|(k, _)| k == "X-Amz-Date").unwrap();
    let at = NaiveDateTime::parse_from_str(&date, "%Y%m%dT%H%M%SZ").unwrap();
    Timestamp::of(Utc.from_utc_datetime(&at))
}

async fn compare(
    builder: AmazonS3Builder,
    token: Option<&str>,
    key: &str,
    method: Method,
    ours_request: SignRequest,
    theirs: SignedUrlOptions,
) {
    let builder = builder.with_bucket_name("bkt");
    let store = builder
        .clone()
        .with_credentials(Arc::new(StaticCredentialProvider::new(credential(token))))
        .build()
        .unwrap();
    let path = Path::from(key);
    let expected = store
        .signed_url_opts(method, &path, ours_request.expires_in, &theirs)
        .await
        .unwrap();
    let signer = ours(&builder, token);
    let credential = Arc::new(credential(token));
    let got = signer.sign_with(&credential, &signed_at(&expected), &[path], &ours_request);
    assert_eq!(
        read(&got[0]),
        read(expected.as_str()),
        "{key}: {} vs {expected}",
        got[0]
    );
}

#[tokio::test]
async fn matches_object_store_signer() {
    let local = || {
        AmazonS3Builder::new()
            .with_endpoint("http://127.0.0.1:9000")
            .with_allow_http(true)
            .with_region("us-east-1")
    };
    let hour = Duration::from_secs(3600);
    for key in [
        "a.txt",
        "deep/er/key.txt",
        "a b/c+d=e&f",
        "ünï/cödé",
        "x~y!*'()[]$@,;:",
        "100%/#?",
    ] {
        let get = SignRequest::new(Method::GET, hour);
        compare(
            local(),
            None,
            key,
            Method::GET,
            get,
            SignedUrlOptions::new(),
        )
        .await;
    }
    let hosted = AmazonS3Builder::new()
        .with_region("eu-central-1")
        .with_virtual_hosted_style_request(true);
    let put = SignRequest::new(Method::PUT, Duration::from_secs(604_800));
    compare(
        hosted,
        Some("FwoG/session+token=="),
        "k/y",
        Method::PUT,
        put,
        SignedUrlOptions::new(),
    )
    .await;

    let mut download = SignRequest::new(Method::GET, hour);
    download.response_content_disposition =
        Some("attachment; filename=\"r é.pdf\"; filename*=UTF-8''r%20%C3%A9.pdf".into());
    download.response_content_type = Some("application/pdf".into());
    let theirs = SignedUrlOptions::new().with_query([
        (
            "response-content-disposition",
            download.response_content_disposition.clone().unwrap(),
        ),
        ("response-content-type", "application/pdf".to_string()),
    ]);
    compare(local(), None, "docs/r.pdf", Method::GET, download, theirs).await;

    let mut typed = SignRequest::new(Method::PUT, hour);
    typed.content_type = Some("text/plain;  charset=utf-8".into());
    let theirs = SignedUrlOptions::new().with_signed_header(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain;  charset=utf-8"),
    );
    compare(local(), Some("tok"), "up/a.txt", Method::PUT, typed, theirs).await;
}

#[test]
fn matches_aws_documented_example() {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
    let builder = AmazonS3Builder::new()
        .with_bucket_name("examplebucket")
        .with_endpoint("https://examplebucket.s3.amazonaws.com")
        .with_virtual_hosted_style_request(true);
    let credentials = Arc::new(StaticCredentialProvider::new(AwsCredential {
        key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        token: None,
    }));
    let signing = StoreSigning::new(S3Endpoint::of(&builder).unwrap(), credentials);
    let signer = S3Signer::new(Arc::new(signing), "examplebucket".into());
    let credential = Arc::new(AwsCredential {
        key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        token: None,
    });
    let at = Timestamp::of(Utc.with_ymd_and_hms(2013, 5, 24, 0, 0, 0).unwrap());
    let request = SignRequest::new(Method::GET, Duration::from_secs(86400));
    let url = signer.sign_with(&credential, &at, &[Path::from("test.txt")], &request);
    assert!(
        url[0].ends_with(
            "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        ),
        "{}",
        url[0]
    );
    assert!(url[0].starts_with("https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&"));
}

#[test]
fn signs_content_length_and_part_query() {
    let builder = AmazonS3Builder::new()
        .with_bucket_name("bkt")
        .with_endpoint("http://127.0.0.1:9000")
        .with_allow_http(true);
    let signer = ours(&builder, None);
    let credential = Arc::new(credential(None));
    let at = Timestamp::of(Utc::now());
    let mut request = SignRequest::new(Method::PUT, Duration::from_secs(60));
    request.content_type = Some("image/png".into());
    request.content_length = Some(1234);
    let url = &signer.sign_with(&credential, &at, &[Path::from("a")], &request)[0];
    let (_, path, query) = read(url);
    assert_eq!(path, "/bkt/a");
    assert_eq!(
        query["X-Amz-SignedHeaders"],
        "content-length;content-type;host"
    );
}

#[test]
fn post_policy_pins_every_field() {
    use base64::Engine;
    let builder = AmazonS3Builder::new()
        .with_bucket_name("bkt")
        .with_endpoint("http://127.0.0.1:9000")
        .with_allow_http(true);
    let endpoint = S3Endpoint::of(&builder).unwrap();
    let credential = credential(Some("tok"));
    let now = Utc::now();
    let key = super::key::derive(
        &credential.secret_key,
        &Timestamp::of(now).date,
        "us-east-1",
    );
    let request = crate::sign::PostRequest {
        expires_in: Duration::from_secs(600),
        content_type: Some("image/png".into()),
        min_size: 1,
        max_size: 1000,
    };
    let post = super::post::sign(
        &endpoint,
        "bkt",
        &credential,
        &key,
        now,
        &Path::from("u/a.png"),
        &request,
    )
    .unwrap();
    assert_eq!(post.url, "http://127.0.0.1:9000/bkt");
    let fields: BTreeMap<_, _> = post.fields.iter().cloned().collect();
    let policy = base64::engine::general_purpose::STANDARD
        .decode(&fields["policy"])
        .unwrap();
    let policy: serde_json::Value = serde_json::from_slice(&policy).unwrap();
    let conditions = policy["conditions"].as_array().unwrap();
    assert!(conditions.contains(&serde_json::json!(["content-length-range", 1, 1000])));
    assert!(conditions.contains(&serde_json::json!({ "bucket": "bkt" })));
    for (name, value) in &post.fields {
        if name != "policy" && name != "x-amz-signature" {
            assert!(
                conditions.contains(&serde_json::json!(["eq", format!("${name}"), value])),
                "{name}"
            );
        }
    }
    let bad = crate::sign::PostRequest {
        min_size: 5,
        max_size: 4,
        ..request
    };
    assert!(super::post::sign(
        &endpoint,
        "bkt",
        &credential,
        &key,
        now,
        &Path::from("u"),
        &bad
    )
    .is_err());
}
