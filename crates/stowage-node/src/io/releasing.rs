//! Borrowed JavaScript buffers, and results that let go of them on the JavaScript thread.

use bytes::Bytes;
use napi::bindgen_prelude::{Buffer, ToNapiValue};

/// Wrap a JavaScript buffer without copying it; it stays referenced until sent.
pub fn borrow_buffer(buffer: Buffer) -> Bytes {
    Bytes::from_owner(buffer)
}

/// A result for JavaScript, and the borrowed buffer it came from, which is let go on the
/// JavaScript thread: there a `Buffer` is released at once, where from another thread its
/// release takes one more trip through napi-rs' queue and the memory lingers (a 1 GiB
/// streamed upload peaked at 212-269 MiB of RSS that way, 113-131 MiB this way).
pub struct Releasing<T, B = Bytes> {
    pub value: T,
    /// One borrowed buffer, or several (a streamed upload's batch of chunks).
    pub borrowed: B,
}

impl<T: ToNapiValue, B> ToNapiValue for Releasing<T, B> {
    unsafe fn to_napi_value(
        env: napi::sys::napi_env,
        val: Self,
    ) -> napi::Result<napi::sys::napi_value> {
        drop(val.borrowed);
        unsafe { T::to_napi_value(env, val.value) }
    }
}
