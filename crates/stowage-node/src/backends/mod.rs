//! Builders for each backend: JavaScript options in, a `NativeStore` out.

pub mod azure;
mod backoff;
mod body_length;
mod body_retry;
pub mod client;
pub mod config;
pub mod credentials;
pub mod gcs;
pub mod http;
pub mod hyper_client;
pub mod local;
pub mod memory;
pub mod s3;
#[cfg(test)]
mod scripted_server;
pub mod url;
