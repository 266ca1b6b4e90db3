//! Bytes in and out of JavaScript: buffers lent and borrowed, readers, local file reads.

pub mod file_read;
pub mod js_bytes;
pub mod large_buffer;
pub mod reader;
pub mod releasing;
