//! The addon's allocator: mimalloc for small blocks, the system's for large ones.
//!
//! A small S3 request allocates a few hundred times across the runtime's threads (headers,
//! URLs, the signature, body chunks). Under glibc's malloc that was a tenth of the client's
//! CPU (`perf` on the bench's small gets: `_int_malloc`, `_int_free`, `malloc_consolidate`);
//! with mimalloc for everything, the small S3 rows of `npm run bench` gained 8-42% in
//! interleaved runs on a quiet machine. But the 256 MiB get into memory lost 20-45%, its
//! CPU per GiB up by a quarter. That body is one block, allocated on a runtime thread and
//! freed on the JavaScript thread when V8 collects its `Buffer`; why mimalloc handles such
//! a block worse than glibc was not pinned down. Blocks from `LARGE` bytes up go to the
//! system allocator, as before, and everything smaller to mimalloc.
//!
//! mimalloc is built without transparent huge pages (its `no_thp` feature): it asked the
//! kernel for them on its own memory, and on the virtual machines this was measured on a
//! fresh 2 MiB page sometimes cost ten times its share of CPU. The bench's 5000 MemoryStore
//! puts of 16 KiB (80 MiB kept, in 40 huge pages) ran at 21 000-105 000 ops/s with them, at
//! 72 000-80 000 without, level with glibc's 71 000-84 000 (fresh processes, interleaved).
//!
//! Sound because Rust gives `dealloc` and `realloc` the layout the block was allocated
//! with: its size says which allocator holds it. A `realloc` that crosses `LARGE` moves
//! the block to the other allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;

use mimalloc::MiMalloc;

/// Blocks of this many bytes or more go to the system allocator (glibc maps blocks this
/// large on their own anyway).
const LARGE: usize = 1024 * 1024;

/// mimalloc below `LARGE` bytes, the system allocator from there on.
pub struct SplitAllocator;

fn is_large(size: usize) -> bool {
    size >= LARGE
}

// SAFETY: each block is allocated and freed by the same allocator, chosen by its size,
// which Rust passes back unchanged to `dealloc` and `realloc`; both allocators uphold
// `GlobalAlloc`'s contract themselves.
unsafe impl GlobalAlloc for SplitAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_large(layout.size()) {
            unsafe { System.alloc(layout) }
        } else {
            unsafe { MiMalloc.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_large(layout.size()) {
            unsafe { System.alloc_zeroed(layout) }
        } else {
            unsafe { MiMalloc.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_large(layout.size()) {
            unsafe { System.dealloc(ptr, layout) }
        } else {
            unsafe { MiMalloc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match (is_large(layout.size()), is_large(new_size)) {
            (true, true) => unsafe { System.realloc(block, layout, new_size) },
            (false, false) => unsafe { MiMalloc.realloc(block, layout, new_size) },
            // Across `LARGE`: a new block from the other allocator, the bytes moved over.
            _ => {
                // SAFETY: `realloc`'s contract gives a valid size for this alignment.
                let new_layout =
                    unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
                let moved = unsafe { self.alloc(new_layout) };
                if !moved.is_null() {
                    unsafe {
                        ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                        self.dealloc(block, layout);
                    }
                }
                moved
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_move_between_the_allocators_with_their_bytes() {
        let a = SplitAllocator;
        unsafe {
            let small = Layout::from_size_align(100, 8).unwrap();
            let block = a.alloc(small);
            assert!(!block.is_null());
            for i in 0..100 {
                *block.add(i) = i as u8;
            }
            // up across LARGE, then back down: the first 100 bytes survive both moves
            let large = a.realloc(block, small, 2 * LARGE);
            assert!(!large.is_null());
            *large.add(2 * LARGE - 1) = 7;
            let back = a.realloc(large, Layout::from_size_align(2 * LARGE, 8).unwrap(), 50);
            assert!(!back.is_null());
            assert!((0..50).all(|i| *back.add(i) == i as u8));
            a.dealloc(back, Layout::from_size_align(50, 8).unwrap());
            let zeroed = a.alloc_zeroed(Layout::from_size_align(LARGE, 4096).unwrap());
            assert!((0..LARGE).step_by(4096).all(|i| *zeroed.add(i) == 0));
            assert_eq!(zeroed as usize % 4096, 0);
            a.dealloc(zeroed, Layout::from_size_align(LARGE, 4096).unwrap());
        }
    }
}
