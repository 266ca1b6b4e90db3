//! Bytes handed to JavaScript as a `Buffer`.
//!
//! Large bodies are lent without copying: the `Buffer` points into the Rust allocation and
//! frees it when garbage-collected. Small ones are copied into memory V8 owns instead, since
//! an external buffer costs a finalizer and a tracked reference per object, which is more
//! than copying a few kilobytes (and, at thousands per second, keeps the allocator churning).

use std::ffi::c_void;
use std::ptr;

use bytes::Bytes;
use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::{sys, ValueType};

/// Below this size a body is copied into a V8-owned `Buffer`.
const COPY_LIMIT: usize = 64 * 1024;

/// Bytes that become a Node.js `Buffer` when returned to JavaScript.
pub struct JsBytes(pub Bytes);

impl From<Vec<u8>> for JsBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(Bytes::from(bytes))
    }
}

impl From<Bytes> for JsBytes {
    fn from(bytes: Bytes) -> Self {
        Self(bytes)
    }
}

impl TypeName for JsBytes {
    fn type_name() -> &'static str {
        "Buffer"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for JsBytes {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let bytes = val.0;
        let mut out = ptr::null_mut();
        let status = if bytes.len() <= COPY_LIMIT {
            let mut data = ptr::null_mut();
            unsafe {
                sys::napi_create_buffer_copy(
                    env,
                    bytes.len(),
                    bytes.as_ptr().cast(),
                    &mut data,
                    &mut out,
                )
            }
        } else {
            let data = bytes.as_ptr().cast_mut().cast::<c_void>();
            let len = bytes.len();
            let owner = Box::into_raw(Box::new(bytes)).cast::<c_void>();
            let status = unsafe {
                sys::napi_create_external_buffer(env, len, data, Some(release), owner, &mut out)
            };
            if status != sys::Status::napi_ok {
                // Not taken (e.g. a runtime without external buffers): copy instead.
                let bytes = unsafe { Box::from_raw(owner.cast::<Bytes>()) };
                let mut data = ptr::null_mut();
                unsafe {
                    sys::napi_create_buffer_copy(
                        env,
                        bytes.len(),
                        bytes.as_ptr().cast(),
                        &mut data,
                        &mut out,
                    )
                }
            } else {
                status
            }
        };
        if status == sys::Status::napi_ok {
            Ok(out)
        } else {
            Err(napi::Error::new(
                napi::Status::GenericFailure,
                format!("could not create a Buffer (N-API status {status})"),
            ))
        }
    }
}

unsafe extern "C" fn release(_env: sys::napi_env, _data: *mut c_void, owner: *mut c_void) {
    drop(unsafe { Box::from_raw(owner.cast::<Bytes>()) });
}
