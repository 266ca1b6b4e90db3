//! How native work runs and settles its JavaScript promise: the promise queue, the file
//! threads, the panic guard and cancellation; the async runtime's thread priority; and the
//! allocator all of it allocates with.

pub mod allocator;
pub mod cancel;
#[cfg(feature = "runtime-comparison")]
pub mod comparison;
pub mod file_threads;
pub mod guard;
pub mod promise;
#[cfg(feature = "test-hooks")]
pub mod test_hooks;
pub mod threads_priority;
