//! The store's operations, one per file; each adds its method to `NativeStore`.

pub mod copy;
pub mod delete;
pub mod get;
pub mod get_local;
pub mod get_options;
pub mod get_range;
pub mod get_ranges;
pub mod get_result;
pub mod head;
pub mod list;
pub mod list_with_delimiter;
pub mod presigned_multipart;
pub mod put;
pub mod rename;
pub mod sign;
pub mod sign_post;
