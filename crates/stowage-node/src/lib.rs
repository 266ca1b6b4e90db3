#![deny(clippy::all)]
//! stowage: object storage for Node.js over the `object_store` crate.
//!
//! This file only registers modules; each concern lives in its own:
//! `store` (the one class), `ops/` (one operation per file), `upload/` (every way of
//! uploading), `io/` (bytes in and out of JavaScript), `runtime/` (promises, threads, the
//! panic guard, cancellation), `backends/` (one builder per backend), and the key rules,
//! errors, metadata and redaction beside them.

/// mimalloc instead of the system allocator, for everything the addon allocates. A small
/// S3 request allocates a few hundred times across the runtime's threads (headers, URLs,
/// the signature, body chunks); under glibc's malloc that was a tenth of the client's CPU
/// (`perf` on the bench's small gets: `_int_malloc`, `_int_free`, `malloc_consolidate`),
/// and mimalloc's per-thread pages cut it (bench/: the small S3 rows).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
