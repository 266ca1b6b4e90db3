//! Threads that yield to the JavaScript thread when both want a core.
//!
//! A signed S3 upload over plain HTTP hashes every part it sends (SHA-256). On a 2-core machine,
//! parts hashed on every thread at once left the JavaScript thread waiting for a core: the
//! event loop's p99 delay during a 256 MiB put from memory was 7.6 ms against 5.2 ms when the
//! parts were hashed on one thread. Those hashes run on `HASH_THREADS` (`job_threads.rs`), a
//! few `nice` steps down: an idle event loop leaves them every core, so transfers keep their
//! speed; a waking one gets its core first.
//!
//! Only those threads, not the async runtime's: with its workers lowered too (as they once
//! were), the runtime lost its core to the S3 server's threads on every small request, and
//! 20 000 small S3 gets, puts and range reads ran 12-25% slower in fresh processes, interleaved
//! (four runs each, the server on the same 2 cores).

/// How much lower than the JavaScript thread the hashing threads run (a `nice` step; 19 is the
/// lowest). A few steps give the event loop the core it wakes up wanting, and still leave the
/// hashing most of the CPU when it competes with other work of the process.
pub const NICENESS: i32 = 5;

/// Lower the calling thread's priority by `NICENESS` steps.
#[cfg(target_os = "linux")]
pub fn lower_this_threads_priority() {
    // On Linux `nice` moves only the calling thread, relative to where it is. A refusal (a
    // seccomp filter, say) leaves the thread as it was, which is only slower for the event loop.
    // SAFETY: a plain system call on this thread's own priority.
    unsafe {
        libc::nice(NICENESS);
    }
}

/// Elsewhere `setpriority` moves the whole process, not one thread: the threads keep theirs.
#[cfg(not(target_os = "linux"))]
pub fn lower_this_threads_priority() {}
