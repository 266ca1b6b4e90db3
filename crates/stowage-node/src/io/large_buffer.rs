//! Memory for a whole large body, asked of the kernel in huge pages.
//!
//! A body read whole into memory (`bytes()` of a get, a local file read at once) is written
//! front to back into memory the process has never touched, and every 4 KiB page costs a
//! fault the first time it is written: 65 536 of them for 256 MiB, which on loopback took
//! about as long as receiving the bytes. With transparent huge pages (2 MiB) that is 128.
//! Linux gives them only where a program asks (`madvise`, the default `transparent_hugepage`
//! setting), so large buffers ask; elsewhere, or where the kernel says no, nothing changes.
//! What is left is the kernel zeroing each fresh page (half the samples of such a get in
//! `perf`), which `Prefault` moves to another thread while the body arrives.
//!
//! Measured (release-speed builds, fresh processes, interleaved): a 256 MiB S3 get into
//! memory went from about 1000 to 2200 MB/s in the bench (curl to /dev/null: 3400), a
//! 128 MiB LocalStore get from 1700 to 3900 MB/s.

/// Below this a buffer is left to the allocator as it is: a few faults cost less than the call.
const ASK_FROM: usize = 4 << 20;

/// An empty `Vec` with room for `capacity` bytes.
pub fn with_capacity(capacity: usize) -> Vec<u8> {
    let buf = Vec::with_capacity(capacity);
    advise_huge_pages(buf.as_ptr(), buf.capacity());
    buf
}

/// `len` zero bytes, for a read to fill.
pub fn zeroed(len: usize) -> Vec<u8> {
    // Large zeroed allocations come straight from mmap, untouched, so the advice still
    // applies to every page the read will fault in.
    let buf = vec![0; len];
    advise_huge_pages(buf.as_ptr(), buf.capacity());
    buf
}

/// The pages of a buffer's room being faulted in (zeroed by the kernel) on a blocking-pool
/// thread, ahead of the thread that fills the buffer, which then finds them ready. Zeroing
/// fresh pages was half the time of a 256 MiB get into memory on loopback.
pub struct Prefault(Option<tokio::task::JoinHandle<()>>);

impl Prefault {
    /// Starts faulting in `buf`'s capacity, if it is large (and the platform can).
    ///
    /// The buffer must not be freed or moved (grown past its capacity) before
    /// [`Prefault::finish`] returns: the thread works on its address range. It never reads
    /// or writes the bytes (the kernel only backs the pages), so the buffer may be filled
    /// meanwhile.
    pub fn start(buf: &Vec<u8>) -> Self {
        Self(populate(buf.as_ptr() as usize, buf.capacity()))
    }

    /// Waits until the faulting is over (at once if it never started).
    pub async fn finish(&mut self) {
        if let Some(task) = self.0.take() {
            let _ = task.await;
        }
    }
}

#[cfg(target_os = "linux")]
fn populate(start: usize, len: usize) -> Option<tokio::task::JoinHandle<()>> {
    if len < ASK_FROM {
        return None;
    }
    let (begin, end) = whole_pages(start, len)?;
    Some(tokio::task::spawn_blocking(move || {
        // SAFETY: the range lies inside a live allocation (see `Prefault::start`);
        // MADV_POPULATE_WRITE faults its pages in as a write would, leaving any page already
        // there and its bytes as they are. A kernel without it (before 5.14) says EINVAL,
        // and the pages are faulted in by the writes instead.
        unsafe {
            libc::madvise(
                begin as *mut libc::c_void,
                end - begin,
                libc::MADV_POPULATE_WRITE,
            );
        }
    }))
}

#[cfg(not(target_os = "linux"))]
fn populate(_start: usize, _len: usize) -> Option<tokio::task::JoinHandle<()>> {
    None
}

/// The whole pages inside `[start, start + len)`, if there is one.
#[cfg(target_os = "linux")]
fn whole_pages(start: usize, len: usize) -> Option<(usize, usize)> {
    const PAGE: usize = 4096;
    let begin = start.next_multiple_of(PAGE);
    let end = (start + len) & !(PAGE - 1);
    (end > begin).then_some((begin, end))
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(start: *const u8, len: usize) {
    if len < ASK_FROM {
        return;
    }
    // madvise wants a page-aligned start; the part pages at either end keep small pages.
    if let Some((begin, end)) = whole_pages(start as usize, len) {
        // SAFETY: the range lies inside the allocation; the advice changes how the kernel backs
        // those pages, never their contents, and a refusal (an old kernel, THP turned off) is
        // harmless, so its result is ignored.
        unsafe {
            libc::madvise(begin as *mut libc::c_void, end - begin, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_start: *const u8, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_usable_whatever_the_advice() {
        let mut grown = with_capacity(8 << 20);
        grown.extend_from_slice(&[7; 1000]);
        assert_eq!(grown.len(), 1000);
        assert!(grown.capacity() >= 8 << 20);
        let filled = zeroed(8 << 20);
        assert_eq!(filled.len(), 8 << 20);
        assert!(filled.iter().all(|&b| b == 0));
        assert!(zeroed(0).is_empty() && with_capacity(0).is_empty());
    }

    /// Where the kernel offers huge pages on request, a large buffer gets them once written.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_large_buffer_is_backed_by_huge_pages_where_the_kernel_offers_them() {
        let setting = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .unwrap_or_default();
        if !setting.contains("[madvise]") && !setting.contains("[always]") {
            eprintln!("skipped: transparent huge pages are off here ({setting:?})");
            return;
        }
        let mut buf = with_capacity(64 << 20);
        buf.resize(64 << 20, 1);
        // The middle: the advice splits the mapping, and its first page keeps small pages.
        let at = buf.as_ptr() as usize + (32 << 20);
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut in_buffer = false;
        let mut huge_kib = None;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ') {
                if let Some((start, end)) = range.split_once('-') {
                    if let (Ok(start), Ok(end)) = (
                        usize::from_str_radix(start, 16),
                        usize::from_str_radix(end, 16),
                    ) {
                        in_buffer = (start..end).contains(&at);
                        continue;
                    }
                }
            }
            if in_buffer {
                if let Some(kib) = line.strip_prefix("AnonHugePages:") {
                    huge_kib = kib.trim().trim_end_matches(" kB").parse::<usize>().ok();
                }
            }
        }
        assert!(
            huge_kib.unwrap_or(0) > 0,
            "no huge pages in the buffer's mapping"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_buffer_filled_while_it_is_faulted_in_keeps_every_byte() {
        let len = 32 << 20;
        let mut buf = with_capacity(len);
        let mut prefault = Prefault::start(&buf);
        for i in 0..len / 4096 {
            buf.extend_from_slice(&[(i % 251) as u8; 4096]);
        }
        prefault.finish().await;
        prefault.finish().await; // a second wait returns at once
        assert_eq!(buf.len(), len);
        assert!(buf
            .chunks(4096)
            .enumerate()
            .all(|(i, page)| page.iter().all(|&b| b == (i % 251) as u8)));
    }
}
