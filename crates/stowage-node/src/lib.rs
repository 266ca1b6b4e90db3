#![deny(clippy::all)]
//! stowage: object storage for Node.js over the `object_store` crate.
//!
//! This file only registers modules; each concern lives in its own:
//! `store` (the one class), `ops/` (one operation per file), `upload/` (every way of
//! uploading), `io/` (bytes in and out of JavaScript), `runtime/` (promises, threads, the
//! panic guard, cancellation), `backends/` (one builder per backend), and the key rules,
//! errors, metadata and redaction beside them.

/// mimalloc for small blocks, the system allocator for large ones (`runtime/allocator.rs`
/// says why, with the measurements).
#[global_allocator]
static ALLOCATOR: runtime::allocator::SplitAllocator = runtime::allocator::SplitAllocator;

// `store` first: the `#[napi] impl NativeStore` blocks elsewhere need its struct.
mod store;

mod backends;
mod capabilities;
mod error;
mod io;
mod key;
mod meta;
mod ops;
mod redact;
mod runtime;
mod sign;
mod upload;
