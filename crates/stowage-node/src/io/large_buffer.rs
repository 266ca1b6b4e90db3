//! Memory for a whole large body arriving from the network, faulted in ahead of the copies.
//!
//! A body read whole into memory (`bytes()` of a get) is written front to back into memory the
//! process has never touched, and every 4 KiB page costs a fault and the kernel's zeroing the
//! first time it is written: 65 536 of them for 256 MiB, which on loopback took about as long
//! as receiving the bytes. [`LargeBuffer`] moves that work to another thread while the body
//! arrives.
//!
//! Measured on a release build, in fresh processes interleaved: a 256 MiB S3 get into memory
//! reached a median of about 2100 MB/s with the pages faulted in ahead, against about 1500
//! without.
//!
//! Huge pages (`madvise(MADV_HUGEPAGE)`) were asked for here too, and are not any more: on the
//! virtual machines this was measured on, a fresh 2 MiB page sometimes cost ten times its
//! share of CPU. A 128 MiB LocalStore get read into huge pages took 36-361 ms (5 of 6 runs over
//! 160 ms) against 59-67 ms in 4 KiB pages, and the 256 MiB get above fell to 600-800 MB/s in
//! 1 of 4 gets, where faulting ahead in 4 KiB pages never did.

use std::sync::{Arc, Mutex};

/// Below this a buffer is faulted in by the writes that fill it: a few faults cost less than
/// handing the work to another thread.
const FAULT_AHEAD_FROM: usize = 4 << 20;

/// A buffer for a whole body arriving in pieces, with its pages faulted in (zeroed by the
/// kernel) on a blocking-pool thread, ahead of the copies that fill it, which then find them
/// ready.
///
/// The faulting thread works on the buffer's address range, so the buffer must neither move
/// nor be freed while it runs. This type is what keeps that: it grows only through
/// [`LargeBuffer::extend_from_slice`], which waits for the thread before the buffer would
/// move, and when it is dropped early (a cancelled read) it leaves its memory to the faulting
/// thread, which frees it once it is done. The thread never reads or writes the bytes (the kernel
/// only backs the pages), so the buffer may be filled meanwhile.
pub struct LargeBuffer {
    bytes: Vec<u8>,
    prefault: Option<Prefault>,
}

impl LargeBuffer {
    /// An empty buffer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        let bytes = Vec::with_capacity(capacity);
        let prefault = Prefault::start(bytes.as_ptr() as usize, bytes.capacity());
        Self { bytes, prefault }
    }

    /// Appends `more`, first waiting for the faulting if the buffer must move to make room
    /// (a body longer than announced).
    pub async fn extend_from_slice(&mut self, more: &[u8]) {
        if self.bytes.len() + more.len() > self.bytes.capacity() {
            if let Some(prefault) = self.prefault.take() {
                prefault.finished().await;
            }
        }
        self.bytes.extend_from_slice(more);
    }

    /// The filled buffer, once the faulting is over.
    pub async fn into_vec(mut self) -> Vec<u8> {
        if let Some(prefault) = self.prefault.take() {
            prefault.finished().await;
        }
        std::mem::take(&mut self.bytes)
    }
}

impl Drop for LargeBuffer {
    fn drop(&mut self) {
        if let Some(prefault) = self.prefault.take() {
            // Dropped while its pages may still be faulted in (a cancelled read): the faulting
            // thread frees the memory when it is done, if it is not done already.
            prefault.leave(std::mem::take(&mut self.bytes));
        }
    }
}

/// The thread faulting in a buffer's pages, and where a buffer dropped before it is done is
/// left for it to free.
struct Prefault {
    thread: tokio::task::JoinHandle<()>,
    left: Arc<Mutex<Left>>,
}

/// What the faulting thread and the buffer's owner agree on, under one lock.
#[derive(Default)]
struct Left {
    /// The thread is past its last touch of the range.
    faulted: bool,
    /// A buffer dropped while the thread ran, for the thread to free.
    orphan: Vec<u8>,
}

impl Prefault {
    /// Starts faulting in `[start, start + len)`, if it is large and the platform can.
    fn start(start: usize, len: usize) -> Option<Self> {
        if len < FAULT_AHEAD_FROM || !CAN_POPULATE {
            return None;
        }
        let (begin, end) = whole_pages(start, len)?;
        // A thread of the runtime's blocking pool, kept warm between bodies. A fresh thread
        // for each body used more CPU in 6 interleaved pairs of 256 MiB gets (median 1.30
        // against 0.79 s/GiB; this measure varies widely from one process to the next).
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let left = Arc::new(Mutex::new(Left::default()));
        let thread_left = left.clone();
        let thread = runtime.spawn_blocking(move || {
            populate(begin, end);
            let orphan = {
                let mut left = thread_left.lock().unwrap_or_else(|p| p.into_inner());
                left.faulted = true;
                std::mem::take(&mut left.orphan)
            };
            drop(orphan);
        });
        Some(Self { thread, left })
    }

    /// Waits without blocking the runtime's thread until the faulting is over.
    async fn finished(self) {
        let _ = self.thread.await;
    }

    /// Frees `bytes` now if the faulting is over, or leaves them to the thread.
    fn leave(self, bytes: Vec<u8>) {
        let mut left = self.left.lock().unwrap_or_else(|p| p.into_inner());
        if !left.faulted {
            left.orphan = bytes;
        }
    }
}

/// Whether this platform can fault pages in ahead of use.
const CAN_POPULATE: bool = cfg!(target_os = "linux");

#[cfg(target_os = "linux")]
fn populate(begin: usize, end: usize) {
    // SAFETY: the range lies inside a live allocation, kept mapped by `LargeBuffer` until this
    // returns; MADV_POPULATE_WRITE faults its pages in as a write would, leaving any page
    // already there and its bytes as they are. A kernel without it (before 5.14) says EINVAL,
    // and the pages are faulted in by the writes instead.
    unsafe {
        libc::madvise(
            begin as *mut libc::c_void,
            end - begin,
            libc::MADV_POPULATE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn populate(_begin: usize, _end: usize) {}

/// The whole pages inside `[start, start + len)`, if there is one.
fn whole_pages(start: usize, len: usize) -> Option<(usize, usize)> {
    const PAGE: usize = 4096;
    let begin = start.next_multiple_of(PAGE);
    let end = (start + len) & !(PAGE - 1);
    (end > begin).then_some((begin, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn large_and_empty_buffers_keep_what_is_written() {
        let mut grown = LargeBuffer::with_capacity(8 << 20);
        grown.extend_from_slice(&[7; 1000]).await;
        let grown = grown.into_vec().await;
        assert_eq!(grown, vec![7; 1000]);
        assert!(grown.capacity() >= 8 << 20);
        assert!(LargeBuffer::with_capacity(0).into_vec().await.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_buffer_filled_while_it_is_faulted_in_keeps_every_byte() {
        let len = 32 << 20;
        let mut buf = LargeBuffer::with_capacity(len);
        for i in 0..len / 4096 {
            buf.extend_from_slice(&[(i % 251) as u8; 4096]).await;
        }
        // Past the room announced: the buffer moves, after the faulting is over.
        buf.extend_from_slice(&[9; 4096]).await;
        let buf = buf.into_vec().await;
        assert_eq!(buf.len(), len + 4096);
        assert!(buf.chunks(4096).enumerate().all(|(i, page)| page
            .iter()
            .all(|&b| b == if i < len / 4096 { (i % 251) as u8 } else { 9 })));
    }

    /// A read cancelled mid-body drops its buffer while the pages may still be faulted in;
    /// the memory must stay mapped until then, and be freed after.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_buffer_dropped_while_it_is_faulted_in_is_freed_by_the_faulting_thread() {
        for _ in 0..20 {
            let mut buf = LargeBuffer::with_capacity(64 << 20);
            let left = buf.prefault.as_ref().map(|p| p.left.clone());
            assert_eq!(
                left.is_some(),
                CAN_POPULATE,
                "no faulting started on the runtime"
            );
            buf.bytes.extend_from_slice(&[1; 4096]);
            drop(buf);
            if let Some(left) = left {
                // Once the thread is done nothing is left behind.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                loop {
                    let state = left.lock().unwrap();
                    if state.faulted {
                        assert_eq!(state.orphan.capacity(), 0, "the orphan was not freed");
                        break;
                    }
                    drop(state);
                    assert!(std::time::Instant::now() < deadline, "faulting never ended");
                    std::thread::yield_now();
                }
            }
        }
    }
}
