//! Test support: a tiny HTTP server that answers from a script, and an S3 client for it,
//! to see how object_store itself reports what a server does (cut-off bodies, odd headers).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{BackoffConfig, RetryConfig};

/// A server answering one connection at a time, each request with the next of `responses`
/// (raw bytes, sent as they are), then closing the connection; its address.
pub fn scripted_server(responses: Vec<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for response in responses {
            let Ok((mut socket, _)) = listener.accept() else {
                return;
            };
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && socket.read(&mut byte).unwrap_or(0) == 1 {
                request.push(byte[0]);
            }
            let _ = socket.write_all(&response);
        }
    });
    address
}

/// An XML answer whose headers announce `declared_length` bytes, followed by `body`.
pub fn response(status: &str, declared_length: usize, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {declared_length}\r\nConnection: close\r\n\r\n{body}"
    )
    .into_bytes()
}

/// Retries with delays of a few milliseconds.
pub fn quick_retries(max_retries: usize) -> RetryConfig {
    RetryConfig {
        max_retries,
        retry_timeout: Duration::from_secs(60),
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            base: 2.0,
        },
    }
}

/// An S3 client of bucket `b` at `endpoint`, retrying its requests `max_retries` times.
pub fn s3_at(endpoint: &str, max_retries: usize) -> AmazonS3 {
    AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_bucket_name("b")
        .with_region("us-east-1")
        .with_access_key_id("key")
        .with_secret_access_key("secret")
        .with_retry(quick_retries(max_retries))
        .build()
        .unwrap()
}
