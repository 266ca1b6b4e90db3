//! Bytes handed to JavaScript as a `Buffer`.
//!
//! Large bodies are lent without copying: the `Buffer` points into the Rust allocation and
//! frees it when garbage-collected. Small ones are copied into memory V8 owns instead, since
//! an external buffer costs a finalizer and a tracked reference per object, which is more
//! than copying a few kilobytes (and, at thousands per second, keeps the allocator churning).

use std::ffi::c_void;
use std::ptr;

use bytes::Bytes;
use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

/// Below this size a body is copied into a V8-owned `Buffer`.
const COPY_LIMIT: usize = 64 * 1024;

/// Bytes that become a Node.js `Buffer` when returned to JavaScript.
pub struct JsBytes(pub Bytes);

impl ToNapiValue for JsBytes {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        if val.0.len() <= COPY_LIMIT {
            copy_to_buffer(env, &val.0)
        } else {
            lend_to_buffer(env, val.0)
        }
    }
}

/// A new V8-owned `Buffer` holding a copy of `bytes`.
fn copy_to_buffer(env: sys::napi_env, bytes: &[u8]) -> napi::Result<sys::napi_value> {
    let mut data = ptr::null_mut();
    let mut out = ptr::null_mut();
    let status = unsafe {
        sys::napi_create_buffer_copy(env, bytes.len(), bytes.as_ptr().cast(), &mut data, &mut out)
    };
    created(status, out)
}

/// A `Buffer` over `bytes` themselves, which it frees when collected; a copy where the
/// runtime allows no external buffers.
fn lend_to_buffer(env: sys::napi_env, bytes: Bytes) -> napi::Result<sys::napi_value> {
    let data = bytes.as_ptr().cast_mut().cast::<c_void>();
    let len = bytes.len();
    let owner = Box::into_raw(Box::new(bytes));
    let mut out = ptr::null_mut();
    let status = unsafe {
        sys::napi_create_external_buffer(env, len, data, Some(release), owner.cast(), &mut out)
    };
    if status == sys::Status::napi_ok {
        return Ok(out);
    }
    let bytes = unsafe { Box::from_raw(owner) };
    copy_to_buffer(env, &bytes)
}

fn created(status: sys::napi_status, value: sys::napi_value) -> napi::Result<sys::napi_value> {
    if status == sys::Status::napi_ok && !value.is_null() {
        Ok(value)
    } else {
        Err(napi::Error::from_reason(format!(
            "could not create a Buffer (N-API status {status})"
        )))
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
        let value = created(status, value)?;
        let status = unsafe { sys::napi_create_reference(env, value, 1, &mut reference) };
        created(status, value)?;
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

impl ToNapiValue for FilledBuffer {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let BufferToFill {
            reference,
            data,
            capacity,
        } = val.buffer;
        let mut value = ptr::null_mut();
        // Checked, not assumed: in an environment that is tearing down (a terminated worker)
        // a failed call must end as an error, which is then dropped, not as a null `Buffer`.
        let status = unsafe { sys::napi_get_reference_value(env, reference, &mut value) };
        unsafe { sys::napi_delete_reference(env, reference) };
        let value = created(status, value)?;
        match val.filled? {
            0 => unsafe { <Option<()>>::to_napi_value(env, None) },
            filled if filled == capacity => Ok(value),
            // Shorter than asked (only at the end): a copy of the part that was filled.
            filled => copy_to_buffer(env, unsafe { std::slice::from_raw_parts(data, filled) }),
        }
    }
}
