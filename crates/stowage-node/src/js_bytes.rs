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

/// A `Buffer` allocated by V8 on the JavaScript thread and filled on another, as `fs.read`
/// does: the bytes land in memory V8 owns, with no copy and no finalizer.
pub struct BufferToFill {
    reference: sys::napi_ref,
    data: *mut u8,
    capacity: usize,
}

// SAFETY: the reference is only used on the JavaScript thread (creation, `to_napi_value`);
// the memory it keeps alive is written by one thread at a time, before JavaScript sees it.
unsafe impl Send for BufferToFill {}

impl BufferToFill {
    /// Allocate `capacity` bytes (not zeroed) and hold them until the fill is handed back.
    pub fn new(env: sys::napi_env, capacity: usize) -> napi::Result<Self> {
        let mut data = ptr::null_mut();
        let mut value = ptr::null_mut();
        let mut reference = ptr::null_mut();
        let status =
            unsafe { sys::napi_create_buffer(env, capacity.max(1), &mut data, &mut value) };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::from_reason(format!(
                "could not allocate a Buffer (N-API status {status})"
            )));
        }
        unsafe { sys::napi_create_reference(env, value, 1, &mut reference) };
        Ok(Self {
            reference,
            data: data.cast(),
            capacity,
        })
    }

    /// The memory to fill.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        unsafe { std::slice::from_raw_parts_mut(self.data, self.capacity) }
    }
}

/// A filled `BufferToFill`: the first `filled` bytes, or `null` when none were (the end).
pub struct FilledBuffer {
    pub buffer: BufferToFill,
    pub filled: napi::Result<usize>,
}

impl TypeName for FilledBuffer {
    fn type_name() -> &'static str {
        "Buffer"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for FilledBuffer {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let BufferToFill {
            reference,
            data,
            capacity,
        } = val.buffer;
        let mut value = ptr::null_mut();
        unsafe {
            sys::napi_get_reference_value(env, reference, &mut value);
            sys::napi_delete_reference(env, reference);
        }
        match val.filled? {
            0 => unsafe { <Option<()>>::to_napi_value(env, None) },
            filled if filled == capacity => Ok(value),
            // Shorter than asked (only at the end): a copy of the part that was filled.
            filled => {
                let bytes = unsafe { std::slice::from_raw_parts(data, filled) };
                unsafe { JsBytes::to_napi_value(env, JsBytes(Bytes::copy_from_slice(bytes))) }
            }
        }
    }
}
