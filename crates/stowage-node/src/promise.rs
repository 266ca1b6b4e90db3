//! Promises for native operations, settled through one queue per JavaScript environment.
//!
//! napi-rs' `async fn` creates a threadsafe function (a libuv async handle, a cleanup hook
//! and a second watcher task) for every call and tears it down after one use. At tens of
//! thousands of small operations per second that bookkeeping cost more than the operations
//! themselves. Here every environment owns one threadsafe function for its whole life:
//! finished operations are queued on it, and Node drains the queue in batches on one wake-up.
//!
//! Futures of stores whose operations complete without waiting (`MemoryStore`) are polled
//! once on the calling thread first; when they are already done, the promise is settled on
//! the spot and no thread is involved at all.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::future::Future;
use std::ptr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{sys, Env, JsError};

use crate::file_threads::run_on_file_thread;
use crate::guard::panic_failure;

/// Turns a finished operation into a JavaScript value or error, on the JavaScript thread.
type Settle = Box<dyn FnOnce(sys::napi_env) -> napi::Result<sys::napi_value> + Send>;

/// A promise's resolver; it travels with the operation but is only used on the JavaScript thread.
struct Deferred(sys::napi_deferred);

// SAFETY: the handle is only dereferenced by N-API calls on the JavaScript thread (`settle`).
unsafe impl Send for Deferred {}

/// One finished operation waiting for the JavaScript thread.
struct Completion {
    deferred: Deferred,
    settle: Settle,
}

/// The environment's threadsafe function; `None` once the environment is tearing down.
struct Queue(Mutex<Option<usize>>);

/// Per JavaScript thread (the main thread and each worker): its queue and how many
/// operations are in flight, which decides whether the queue keeps the event loop alive.
struct Local {
    queue: Arc<Queue>,
    tsfn: sys::napi_threadsafe_function,
    in_flight: Cell<usize>,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Run `fut` and return a promise of its output. With `poll_inline`, the future is polled
/// once here first (only for stores whose operations never block the thread).
pub fn promise<'env, T, F>(
    env: &'env Env,
    poll_inline: bool,
    fut: F,
) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = napi::Result<T>> + Send + 'static,
{
    let raw_env = env.raw();
    let (deferred, promise) = new_promise(raw_env)?;
    let mut fut = Box::pin(fut);
    if poll_inline {
        let polled = napi::bindgen_prelude::within_runtime_if_available(|| {
            fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
        });
        if let Poll::Ready(outcome) = polled {
            settle(raw_env, deferred, into_value(raw_env, outcome));
            return Ok(PromiseRaw::new(raw_env, promise));
        }
    }

    let queue = enqueue_start(raw_env)?;
    napi::bindgen_prelude::spawn(async move { deliver(&queue, deferred, fut.await) });
    Ok(PromiseRaw::new(raw_env, promise))
}

/// Run `work` on a file thread (outside the async runtime) and return a promise of its
/// output. The result goes straight from that thread to JavaScript's queue.
pub fn promise_on_file_thread<'env, T, W>(
    env: &'env Env,
    work: W,
) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    W: FnOnce() -> napi::Result<T> + Send + 'static,
{
    let raw_env = env.raw();
    let (deferred, promise) = new_promise(raw_env)?;
    let queue = enqueue_start(raw_env)?;
    run_on_file_thread(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
            .unwrap_or_else(|panic| Err(panic_failure(panic.as_ref()).into()));
        deliver(&queue, deferred, outcome)
    });
    Ok(PromiseRaw::new(raw_env, promise))
}

/// A pending promise and its resolver.
fn new_promise(env: sys::napi_env) -> napi::Result<(Deferred, sys::napi_value)> {
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    check(unsafe { sys::napi_create_promise(env, &mut deferred, &mut promise) })?;
    Ok((Deferred(deferred), promise))
}

/// Queue a finished operation for the JavaScript thread.
fn deliver<T: ToNapiValue + Send + 'static>(
    queue: &Queue,
    deferred: Deferred,
    outcome: napi::Result<T>,
) {
    let completion = Box::new(Completion {
        deferred,
        settle: Box::new(move |env| into_value(env, outcome)),
    });
    let guard = queue
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(tsfn) = *guard else {
        return; // the environment is closing: nobody is left to settle the promise
    };
    let data = Box::into_raw(completion).cast::<c_void>();
    let status = unsafe {
        sys::napi_call_threadsafe_function(
            tsfn as sys::napi_threadsafe_function,
            data,
            sys::ThreadsafeFunctionCallMode::nonblocking,
        )
    };
    if status != sys::Status::napi_ok {
        drop(unsafe { Box::from_raw(data.cast::<Completion>()) });
    }
}

fn into_value<T: ToNapiValue>(
    env: sys::napi_env,
    outcome: napi::Result<T>,
) -> napi::Result<sys::napi_value> {
    unsafe { T::to_napi_value(env, outcome?) }
}

fn settle(env: sys::napi_env, deferred: Deferred, outcome: napi::Result<sys::napi_value>) {
    let deferred = deferred.0;
    let status = match outcome {
        Ok(value) => unsafe { sys::napi_resolve_deferred(env, deferred, value) },
        Err(err) => unsafe {
            sys::napi_reject_deferred(env, deferred, JsError::from(err).into_value(env))
        },
    };
    debug_assert_eq!(status, sys::Status::napi_ok);
}

/// Count one more operation in flight (keeping the event loop alive while any is) and
/// return the queue it will finish on, creating the environment's queue on first use.
fn enqueue_start(env: sys::napi_env) -> napi::Result<Arc<Queue>> {
    LOCAL.with(|local| {
        let mut local = local.borrow_mut();
        if local.is_none() {
            *local = Some(create_queue(env)?);
        }
        let local = local.as_ref().expect("created above");
        let in_flight = local.in_flight.get();
        if in_flight == 0 {
            check(unsafe { sys::napi_ref_threadsafe_function(env, local.tsfn) })?;
        }
        local.in_flight.set(in_flight + 1);
        Ok(local.queue.clone())
    })
}

fn create_queue(env: sys::napi_env) -> napi::Result<Local> {
    let mut name = ptr::null_mut();
    check(unsafe { sys::napi_create_string_utf8(env, c"stowage".as_ptr(), 7, &mut name) })?;
    let mut tsfn = ptr::null_mut();
    check(unsafe {
        sys::napi_create_threadsafe_function(
            env,
            ptr::null_mut(),
            ptr::null_mut(),
            name,
            0,
            1,
            ptr::null_mut(),
            None,
            ptr::null_mut(),
            Some(call_js),
            &mut tsfn,
        )
    })?;
    check(unsafe { sys::napi_unref_threadsafe_function(env, tsfn) })?;
    let queue = Arc::new(Queue(Mutex::new(Some(tsfn as usize))));
    // Registered after the threadsafe function, so it runs before Node frees it: from then on
    // late completions are dropped instead of reaching freed memory.
    let hook_data = Arc::into_raw(queue.clone()).cast_mut().cast::<c_void>();
    check(unsafe { sys::napi_add_env_cleanup_hook(env, Some(close_queue), hook_data) })?;
    Ok(Local {
        queue,
        tsfn,
        in_flight: Cell::new(0),
    })
}

unsafe extern "C" fn close_queue(data: *mut c_void) {
    let queue = unsafe { Arc::from_raw(data.cast_const().cast::<Queue>()) };
    *queue
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    LOCAL.with(|local| local.borrow_mut().take());
}

unsafe extern "C" fn call_js(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    let completion = unsafe { Box::from_raw(data.cast::<Completion>()) };
    if env.is_null() {
        return; // the environment is gone; only the memory is left to free
    }
    let value = (completion.settle)(env);
    settle(env, completion.deferred, value);
    LOCAL.with(|local| {
        if let Some(local) = local.borrow().as_ref() {
            let in_flight = local.in_flight.get().saturating_sub(1);
            local.in_flight.set(in_flight);
            if in_flight == 0 {
                unsafe { sys::napi_unref_threadsafe_function(env, local.tsfn) };
            }
        }
    });
}

fn check(status: sys::napi_status) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::new(
            napi::Status::GenericFailure,
            format!("N-API call failed with status {status}"),
        ))
    }
}
