//! What `get` answers with, whichever backend produced it.

use napi_derive::napi;

use crate::io::js_bytes::JsBytes;
use crate::io::reader::NativeReader;
use crate::meta::{NativeAttributes, NativeObjectMeta};

/// Bodies up to this size are read within `get` (one native call instead of two).
pub const EAGER_BODY_LIMIT: usize = 256 * 1024;
/// The answer to `get`, as one plain object: one crossing into JavaScript per call.
#[napi(object, object_from_js = false)]
pub struct NativeGetResult {
    pub meta: NativeObjectMeta,
    /// Start of the bytes this result carries.
    pub start: f64,
    /// End (exclusive) of the bytes this result carries.
    pub end: f64,
    /// Attributes stored with the object; absent when it has none.
    pub attributes: Option<NativeAttributes>,
    /// The whole body, when it was small enough to read within `get`.
    #[napi(ts_type = "Buffer")]
    pub body: Option<JsBytes>,
    /// The body as a reader, when it was not read within `get`.
    pub reader: Option<NativeReader>,
}
