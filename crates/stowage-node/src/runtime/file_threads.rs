//! A few threads for `LocalStore` file operations, outside the async runtime.
//!
//! `LocalFileSystem` does each file operation on tokio's blocking pool, then resumes on an
//! async worker; a small `get` or `put` crossed threads four or five times. Outside a tokio
//! context `LocalFileSystem` runs the same code inline instead (its documented fallback), so
//! on these threads a whole operation — confinement, open, write or read, rename — is one
//! job, and its result goes straight to JavaScript.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

/// As many as libuv's default thread pool: enough to keep a disk busy, few enough to stay cheap.
const THREADS: usize = 4;

static JOBS: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();

/// Run `job` on a file thread.
pub fn run_on_file_thread(job: impl FnOnce() + Send + 'static) {
    let jobs = JOBS.get_or_init(|| {
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..THREADS {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("stowage-fs-{n}"))
                .spawn(move || work(&receiver))
                .expect("cannot start a stowage file thread");
        }
        Mutex::new(sender)
    });
    let sent = jobs
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .send(Box::new(job));
    sent.expect("stowage file threads are gone");
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        let next = jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .recv();
        match next {
            // A job that panics (a bug) must not take its thread along: with all of them gone,
            // every later local operation would fail to start.
            Ok(job) => {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
            Err(_) => return,
        }
    }
}
