//! The async runtime's threads yield to the JavaScript thread when both want a core.
//!
//! A signed S3 upload over plain HTTP hashes every part it sends (SHA-256), on every runtime
//! thread at once: on a 2-core machine that left the JavaScript thread waiting for a core,
//! and the event loop's p99 delay during a 256 MiB put from memory was 7.6 ms against 5.2 ms
//! in the bench when the parts were hashed on one thread. The runtime napi-rs would build is
//! built here instead, the same but for a lower scheduling priority on its threads (Linux:
//! `nice`, which there moves one thread). An idle event loop leaves them every core, so
//! transfers keep their speed; a waking one gets its core first. Measured in fresh processes,
//! interleaved, 3 puts each: p99 medians about 5.0 ms at the same priority, 4.0 at `nice` 5
//! (4.1 with one-thread hashing), at the same 800 MB/s.

use std::io;

/// How much lower than the JavaScript thread the runtime's threads run (a `nice` step; 19 is
/// the lowest). A few steps give the event loop the core it wakes up wanting, and still leave
/// the runtime most of the CPU when it competes with other work of the process.
const NICENESS: i32 = 5;

#[napi_derive::module_init]
fn start_runtime() {
    match build_runtime() {
        Ok(runtime) => napi::bindgen_prelude::create_custom_tokio_runtime(runtime),
        // napi-rs then builds its own, as it would without this module.
        Err(e) => eprintln!("stowage: could not build the async runtime ({e}); using napi-rs's"),
    }
}

fn build_runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(lower_this_threads_priority)
        .build()
}

#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    // On Linux `nice` moves only the calling thread, relative to where it is. A refusal (a
    // seccomp filter, say) leaves the thread as it was, which is only slower for the event loop.
    // SAFETY: a plain system call on this thread's own priority.
    unsafe {
        libc::nice(NICENESS);
    }
}

// Elsewhere `setpriority` moves the whole process, not one thread: the threads keep theirs.
#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// `getpriority` of the calling thread (on Linux `PRIO_PROCESS` with 0 names the thread).
    fn this_threads_niceness() -> i32 {
        // SAFETY: a plain system call reading this thread's own priority.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
    }

    #[test]
    fn the_runtimes_threads_run_below_the_thread_that_built_it() {
        let here = this_threads_niceness();
        let runtime = build_runtime().unwrap();
        let on_a_worker = runtime.block_on(async {
            tokio::spawn(async { this_threads_niceness() })
                .await
                .unwrap()
        });
        let on_a_blocking_thread = runtime
            .block_on(runtime.spawn_blocking(this_threads_niceness))
            .unwrap();
        let expected = (here + NICENESS).min(19);
        assert_eq!((on_a_worker, on_a_blocking_thread), (expected, expected));
        assert_eq!(
            this_threads_niceness(),
            here,
            "the building thread kept its own priority"
        );
    }
}
