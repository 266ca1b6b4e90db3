//! Pools of plain threads for work kept off the async runtime's threads.
//!
//! - `FILE_THREADS`, for `LocalStore` file operations. `LocalFileSystem` does each file
//!   operation on tokio's blocking pool, then resumes on an async worker; a small `get` or `put`
//!   crossed threads four or five times. Outside a tokio context `LocalFileSystem` runs the same
//!   code inline instead (its documented fallback), so on these threads a whole operation —
//!   confinement, open, write or read, rename — is one job, and its result goes straight to
//!   JavaScript.
//! - `HASH_THREADS`, for hashing large request bodies (the parts of a signed S3 upload), at a
//!   lower priority than the JavaScript thread (`threads_priority.rs`): on a machine with few
//!   cores, hashing on every core at once left the event loop waiting for one.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};

use crate::runtime::threads_priority::lower_this_threads_priority;

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads, started on first use, taking jobs from one queue.
pub struct JobThreads {
    /// Thread names are this and a number (`stowage-fs-0`), as profilers and debuggers show them.
    name: &'static str,
    /// How many threads to start.
    count: fn() -> usize,
    /// Whether the threads run below the priority of the thread that starts them.
    below_javascript: bool,
    jobs: OnceLock<Mutex<Sender<Job>>>,
}

/// As many as libuv's default thread pool: enough to keep a disk busy, few enough to stay cheap.
pub static FILE_THREADS: JobThreads = JobThreads {
    name: "stowage-fs",
    count: || 4,
    below_javascript: false,
    jobs: OnceLock::new(),
};

/// One a core: hashing is CPU work, and more threads than cores would only take turns.
pub static HASH_THREADS: JobThreads = JobThreads {
    name: "stowage-hash",
    count: || std::thread::available_parallelism().map_or(2, |n| n.get()),
    below_javascript: true,
    jobs: OnceLock::new(),
};

impl JobThreads {
    /// Run `job` on one of these threads.
    pub fn run(&'static self, job: impl FnOnce() + Send + 'static) {
        let jobs = self.jobs.get_or_init(|| self.start());
        let sent = jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .send(Box::new(job));
        sent.expect("stowage job threads are gone");
    }

    /// `work`'s result, computed on one of these threads while the calling task waits.
    pub async fn compute<T: Send + 'static>(
        &'static self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        self.run(move || {
            let _ = sender.send(work());
        });
        match receiver.await {
            Ok(value) => value,
            // The job panicked (a bug); the caller's task carries the panic on, as it would
            // have had `work` run inline, and the panic guard turns it into an error.
            Err(_) => panic!("a {} job panicked", self.name),
        }
    }

    fn start(&'static self) -> Mutex<Sender<Job>> {
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..(self.count)() {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("{}-{n}", self.name))
                .spawn(move || {
                    if self.below_javascript {
                        lower_this_threads_priority();
                    }
                    work(&receiver)
                })
                .expect("cannot start a stowage job thread");
        }
        Mutex::new(sender)
    }
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        let next = jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .recv();
        match next {
            // A job that panics (a bug) must not take its thread along: with all of them gone,
            // every later job would fail to start.
            Ok(job) => {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn computes_on_a_hash_thread() {
        let name = HASH_THREADS
            .compute(|| std::thread::current().name().map(str::to_owned))
            .await;
        assert!(name.unwrap().starts_with("stowage-hash-"));
    }

    #[tokio::test]
    async fn a_panicking_job_leaves_the_threads_working() {
        let panicked = tokio::spawn(HASH_THREADS.compute(|| panic!("a bug"))).await;
        assert!(panicked.is_err());
        for _ in 0..(HASH_THREADS.count)() * 2 {
            assert_eq!(HASH_THREADS.compute(|| 7).await, 7);
        }
    }

    /// `getpriority` of the calling thread (on Linux `PRIO_PROCESS` with 0 names the thread).
    #[cfg(target_os = "linux")]
    fn this_threads_niceness() -> i32 {
        // SAFETY: a plain system call reading this thread's own priority.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hash_threads_run_below_the_others() {
        use crate::runtime::threads_priority::NICENESS;
        let here = this_threads_niceness();
        let on_a_worker = tokio::spawn(async { this_threads_niceness() })
            .await
            .unwrap();
        let on_a_hash_thread = HASH_THREADS.compute(this_threads_niceness).await;
        let (sender, receiver) = tokio::sync::oneshot::channel();
        FILE_THREADS.run(move || sender.send(this_threads_niceness()).unwrap());
        let on_a_file_thread = receiver.await.unwrap();
        assert_eq!(
            (on_a_worker, on_a_hash_thread, on_a_file_thread),
            (here, (here + NICENESS).min(19), here)
        );
        assert_eq!(
            this_threads_niceness(),
            here,
            "the calling thread kept its own priority"
        );
    }
}
