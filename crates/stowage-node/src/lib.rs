#![deny(clippy::all)]
//! stowage: object storage for Node.js over the `object_store` crate.
//!
//! This file only registers modules; each concern lives in its own.

// `store` first: the `#[napi] impl NativeStore` blocks elsewhere need its struct.
mod store;

mod backends;
mod cancel;
mod confine;
mod error;
mod file_threads;
mod get;
mod guard;
mod js_bytes;
mod key;
mod list;
mod local_ops;
mod manage;
mod meta;
mod part_size;
mod promise;
mod put;
mod reader;
mod redact;
mod sign;
mod upload;
