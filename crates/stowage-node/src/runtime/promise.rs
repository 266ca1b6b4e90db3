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
//!
//! Why this exists, measured: `bench/runtime-comparison.mjs` runs the same futures through
//! napi-rs's own machinery (`runtime/comparison.rs`, cargo feature `runtime-comparison`) in
//! one process, interleaved round by round. On a quiet machine (load average 1.2 before, 3.2
//! after; release build with the feature, 5000 × 16 KiB at c64, median of 7 rounds), ops/s of
//! ours against `async fn` / `AsyncTask` / a `ThreadsafeFunction` callback per call:
//!
//! | row | ours | async fn | AsyncTask | tsfn |
//! | --- | ---: | ---: | ---: | ---: |
//! | memory head | 199394 | 156447 | 65940 | 165635 |
//! | memory get | 88380 | 57571 | 60041 | 65838 |
//! | memory put | 143434 | 129138 | 197810 | 141974 |
//! | S3 head | 11373 | 10403 | 9030 | 11701 |
//! | S3 get | 9448 | 9645 | 7316 | 8707 |
//! | S3 put | 9084 | 7870 | 6741 | 8774 |
//!
//! Ours wins 14 of the 18 cells: by 1.1-3× on the MemoryStore rows (settling on the spot,
//! with no thread involved) and by up to 1.35× on S3. It loses memory put to `AsyncTask`
//! (0.73×: polling inline does a MemoryStore's copying on the JavaScript thread, where
//! `AsyncTask` moves it to libuv's pool), and S3 head and get to a callback and to `async fn`
//! by 3% and 2%, which is within the rounds' spread. So it stays. (Measured 2026-12-01;
//! under a load average of 22-25 an earlier pair of runs disagreed with each other by up to
//! 3.7× on one cell and settled nothing.)
//!
//! An environment can go away with operations in flight: `worker.terminate()` (test runners
//! do it all the time) stops a worker's JavaScript at once, and its loop may still deliver
//! completions, whose N-API calls then fail (`napi_pending_exception`, `napi_cannot_run_js`),
//! before Node closes the queue and hands the rest over with no environment at all. Nobody
//! is left to receive those settlements, so every step here drops them quietly: no status
//! is asserted and no panic leaves a callback (one would abort the whole process).
//!
//! Right after its cleanup hooks, Node frees the worker's isolate, and with it the memory of
//! every `Buffer`, including those an operation is still reading (a borrowed `put` body) or
//! filling (a local read) on another thread. So the environment's cleanup hook first waits
//! for the `JsMemoryLease`s such operations hold (file-thread jobs hold one each).

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use napi::bindgen_prelude::{Either, PromiseRaw, ToNapiValue};
use napi::{sys, Env, JsError};

use crate::error::{ErrorCode, StorageFailure, StorageResult};
use crate::runtime::guard::{catch_panic, panic_failure};
use crate::runtime::job_threads::FILE_THREADS;

/// Turns a finished operation into a JavaScript value or error, on the JavaScript thread.
type Settle = Box<dyn FnOnce(sys::napi_env) -> StorageResult<sys::napi_value> + Send>;

/// A promise's resolver; it travels with the operation but is only used on the JavaScript thread.
struct Deferred(sys::napi_deferred);

// SAFETY: the handle is only dereferenced by N-API calls on the JavaScript thread (`settle`).
unsafe impl Send for Deferred {}

/// One finished operation waiting for the JavaScript thread.
struct Completion {
    deferred: Deferred,
    settle: Settle,
}

/// What other threads share with one environment: its queue, and the leases out on its memory.
struct Queue {
    /// The threadsafe function; `None` once the environment is tearing down.
    tsfn: Mutex<Option<usize>>,
    /// How many `JsMemoryLease`s are out; teardown waits for none.
    leases: Mutex<usize>,
    lease_returned: Condvar,
}

/// How long an environment's teardown waits for leases. Local files and copies take
/// milliseconds; only a network `put`, which reads the caller's `Buffer` while it sends,
/// can take longer. Past this the teardown goes on (that upload may then read freed memory;
/// a `put` that copies its body, or an isolate kept alive, is for the redesign of this module).
const LEASE_WAIT: Duration = Duration::from_secs(10);

/// A poisoned lock is still used: what it guards (a handle, a count) stays consistent, and
/// these locks are taken inside Node's callbacks, where a panic would abort the process.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Queue {
    fn is_closing(&self) -> bool {
        lock(&self.tsfn).is_none()
    }

    /// Block until every lease is back, or `at_most` has passed.
    fn wait_for_leases(&self, at_most: Duration) {
        let deadline = Instant::now() + at_most;
        let mut leases = lock(&self.leases);
        while *leases > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            leases = match self.lease_returned.wait_timeout(leases, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// Held while another thread reads or writes memory V8 owns (a borrowed `Buffer`, a `Buffer`
/// being filled): the environment's teardown waits for it, so that memory is not freed under
/// the operation. Return it as soon as the memory is no longer touched, and before the
/// operation is delivered: a completion waiting in the queue cannot be drained while the
/// teardown waits.
pub struct JsMemoryLease(Arc<Queue>);

impl JsMemoryLease {
    /// Take a lease on `env`'s memory (on its JavaScript thread).
    pub fn take(env: &Env) -> napi::Result<Self> {
        Ok(Self::on(local_queue(env.raw())?))
    }

    fn on(queue: Arc<Queue>) -> Self {
        *lock(&queue.leases) += 1;
        Self(queue)
    }
}

impl Drop for JsMemoryLease {
    fn drop(&mut self) {
        let mut leases = lock(&self.0.leases);
        *leases -= 1;
        if *leases == 0 {
            self.0.lease_returned.notify_all();
        }
    }
}

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

/// Run `fut` on the async runtime and return a promise of its output; a panic in it
/// rejects the promise with `GENERIC`. With `poll_inline`, the future is polled once here
/// first (only for stores whose operations never block the thread).
///
/// This, `now_or_promise` and `promise_on_file_thread` are the only ways an operation starts.
pub fn promise<'env, T, F>(
    env: &'env Env,
    poll_inline: bool,
    fut: F,
) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = StorageResult<T>> + Send + 'static,
{
    let raw_env = env.raw();
    let mut fut = Box::pin(catch_panic(fut));
    if poll_inline {
        if let Poll::Ready(outcome) = poll_once(&mut fut) {
            let (deferred, promise) = new_promise(raw_env)?;
            settle(raw_env, deferred, into_value(raw_env, outcome));
            return Ok(PromiseRaw::new(raw_env, promise));
        }
    }
    carry_on(raw_env, fut)
}

/// `fut` polled once on the calling thread: its output when that poll finishes it (a
/// failure is thrown by the call itself), otherwise a promise that the runtime settles.
///
/// For operations that nearly always finish without waiting: signing, with a credential at
/// hand. Making and settling a promise through N-API costs more than signing a URL (see
/// `bench/`'s `presign-one` row), so a finished one crosses as a plain value, and the
/// JavaScript layer (`src/store.ts`) wraps it in an already-settled promise.
pub fn now_or_promise<'env, T, F>(
    env: &'env Env,
    fut: F,
) -> napi::Result<Either<T, PromiseRaw<'env, T>>, ErrorCode>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = StorageResult<T>> + Send + 'static,
{
    let mut fut = Box::pin(catch_panic(fut));
    match poll_once(&mut fut) {
        Poll::Ready(outcome) => Ok(Either::A(outcome?)),
        Poll::Pending => Ok(Either::B(
            carry_on(env.raw(), fut).map_err(StorageFailure::from)?,
        )),
    }
}

/// One poll on this thread, inside the runtime's context (a future may look for it).
fn poll_once<O>(fut: &mut Pin<Box<impl Future<Output = O>>>) -> Poll<O> {
    napi::bindgen_prelude::within_runtime_if_available(|| {
        fut.as_mut().poll(&mut Context::from_waker(Waker::noop()))
    })
}

/// A promise of `fut`, which goes on on the runtime and settles through the queue.
fn carry_on<'env, T, F>(
    raw_env: sys::napi_env,
    fut: Pin<Box<F>>,
) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = StorageResult<T>> + Send + 'static,
{
    let (deferred, promise) = new_promise(raw_env)?;
    let queue = enqueue_start(raw_env)?;
    napi::bindgen_prelude::spawn(async move { deliver(&queue, deferred, fut.await) });
    Ok(PromiseRaw::new(raw_env, promise))
}

/// Run `work` on a file thread (outside the async runtime) and return a promise of its
/// output; a panic in it rejects the promise with `GENERIC`. The result goes straight from
/// that thread to JavaScript's queue.
///
/// The job holds a `JsMemoryLease` while it runs, since file jobs read borrowed `Buffer`s
/// and fill V8's; a job that only starts once its environment is closing is skipped.
pub fn promise_on_file_thread<'env, T, W>(
    env: &'env Env,
    work: W,
) -> napi::Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    W: FnOnce() -> StorageResult<T> + Send + 'static,
{
    let raw_env = env.raw();
    let (deferred, promise) = new_promise(raw_env)?;
    let queue = enqueue_start(raw_env)?;
    let lease = JsMemoryLease::on(queue.clone());
    FILE_THREADS.run(move || {
        if queue.is_closing() {
            return; // nobody is left for the result: `work` and its lease are dropped here
        }
        let outcome = catch_unwind(AssertUnwindSafe(work))
            .unwrap_or_else(|panic| Err(panic_failure(panic.as_ref())));
        drop(lease); // `work` is done with the environment's memory
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
    outcome: StorageResult<T>,
) {
    let completion = Box::new(Completion {
        deferred,
        settle: Box::new(move |env| into_value(env, outcome)),
    });
    let guard = lock(&queue.tsfn);
    let Some(tsfn) = *guard else {
        // The environment is closing: nobody is left to settle the promise. Dropping the
        // completion here, on this thread, is safe: what it may hold from JavaScript (a
        // borrowed `Buffer`) is released by napi-rs, which leaks the reference of an
        // environment that is gone (its teardown frees it) instead of touching it.
        return;
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

/// The JavaScript value of an outcome. A panic while converting (a bug, in napi-rs or here)
/// becomes a failure: it would otherwise unwind into Node, which aborts the process.
fn into_value<T: ToNapiValue>(
    env: sys::napi_env,
    outcome: StorageResult<T>,
) -> StorageResult<sys::napi_value> {
    let output = outcome?;
    match catch_unwind(AssertUnwindSafe(|| unsafe {
        T::to_napi_value(env, output)
    })) {
        Ok(converted) => converted.map_err(StorageFailure::from),
        Err(panic) => Err(panic_failure(panic.as_ref())),
    }
}

/// Resolve or reject the promise. The status is not checked, because the only way these
/// calls fail is an environment that is tearing down (a terminated worker): they return
/// `napi_pending_exception` or `napi_cannot_run_js`, and the error object may not even be
/// creatable (`into_value` gives null). That settlement has no one left to receive it, so
/// it is dropped; the few bytes Node keeps per unsettled promise go with the environment.
fn settle(env: sys::napi_env, deferred: Deferred, outcome: StorageResult<sys::napi_value>) {
    let deferred = deferred.0;
    match outcome {
        Ok(value) => {
            unsafe { sys::napi_resolve_deferred(env, deferred, value) };
        }
        Err(failure) => {
            // An `Error` whose `code` is the failure's code (see `error.rs`).
            let err = napi::Error::<ErrorCode>::from(failure);
            let error = catch_unwind(AssertUnwindSafe(|| unsafe {
                JsError::from(err).into_value(env)
            }))
            .unwrap_or(ptr::null_mut());
            if !error.is_null() {
                // (null: the environment could not build an error, it is going away)
                unsafe { sys::napi_reject_deferred(env, deferred, error) };
            }
        }
    }
}

/// Run `f` with this thread's `Local`, creating the environment's queue on first use.
fn with_local<R>(env: sys::napi_env, f: impl FnOnce(&Local) -> napi::Result<R>) -> napi::Result<R> {
    LOCAL.with(|local| {
        let mut local = local.borrow_mut();
        if local.is_none() {
            *local = Some(create_queue(env)?);
        }
        f(local.as_ref().expect("created above"))
    })
}

/// The environment's queue, without counting an operation in flight.
fn local_queue(env: sys::napi_env) -> napi::Result<Arc<Queue>> {
    with_local(env, |local| Ok(local.queue.clone()))
}

/// Count one more operation in flight (keeping the event loop alive while any is) and
/// return the queue it will finish on.
fn enqueue_start(env: sys::napi_env) -> napi::Result<Arc<Queue>> {
    with_local(env, |local| {
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
    let queue = Arc::new(Queue {
        tsfn: Mutex::new(Some(tsfn as usize)),
        leases: Mutex::new(0),
        lease_returned: Condvar::new(),
    });
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

/// The environment's cleanup hook: close the queue, then wait for the leases on its memory
/// (operations finishing meanwhile find the queue closed and are dropped on their thread).
unsafe extern "C" fn close_queue(data: *mut c_void) {
    let queue = unsafe { Arc::from_raw(data.cast_const().cast::<Queue>()) };
    *lock(&queue.tsfn) = None;
    queue.wait_for_leases(LEASE_WAIT);
    // `try_with`: a thread-local already destroyed must not panic inside Node's teardown.
    let _ = LOCAL.try_with(|local| local.borrow_mut().take());
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
    // The environment may be tearing down already (see the module comment): the conversion
    // and `settle` then fail quietly, and the completion is freed all the same.
    let Completion {
        deferred,
        settle: to_value,
    } = *completion;
    let value = to_value(env);
    settle(env, deferred, value);
    let _ = LOCAL.try_with(|local| {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn closed_queue() -> Arc<Queue> {
        Arc::new(Queue {
            tsfn: Mutex::new(None),
            leases: Mutex::new(0),
            lease_returned: Condvar::new(),
        })
    }

    #[test]
    fn teardown_waits_until_every_lease_is_back() {
        let queue = closed_queue();
        let leases: Vec<_> = (0..3).map(|_| JsMemoryLease::on(queue.clone())).collect();
        let returner = std::thread::spawn(move || {
            for lease in leases {
                std::thread::sleep(Duration::from_millis(20));
                drop(lease);
            }
        });
        queue.wait_for_leases(Duration::from_secs(60));
        assert_eq!(*lock(&queue.leases), 0);
        returner.join().unwrap();
    }

    #[test]
    fn teardown_stops_waiting_at_its_bound() {
        let queue = closed_queue();
        let kept = JsMemoryLease::on(queue.clone());
        queue.wait_for_leases(Duration::from_millis(50));
        assert_eq!(*lock(&queue.leases), 1);
        drop(kept);
        assert_eq!(*lock(&queue.leases), 0);
    }
}
