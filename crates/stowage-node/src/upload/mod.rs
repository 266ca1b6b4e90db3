//! Every way of uploading: the settings, the part-size plan, buffered multipart parts,
//! streamed uploads and `LocalStore`'s staged files.

pub mod local_file;
pub mod part_size;
pub mod parts;
pub mod settings;
pub mod stream;
