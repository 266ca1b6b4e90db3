//! How native work runs and settles its JavaScript promise: the promise queue, the file
//! and hashing threads, the panic guard and cancellation; the hashing threads' priority; and the
//! allocator all of it allocates with.

pub mod allocator;
pub mod cancel;
#[cfg(feature = "runtime-comparison")]
pub mod comparison;
pub mod guard;
pub mod job_threads;
pub mod promise;
#[cfg(feature = "test-hooks")]
pub mod test_hooks;
pub mod threads_priority;
