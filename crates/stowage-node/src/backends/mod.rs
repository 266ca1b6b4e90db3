//! Builders for each backend: JavaScript options in, a `NativeStore` out.

pub mod local;
pub mod memory;
pub mod url;
