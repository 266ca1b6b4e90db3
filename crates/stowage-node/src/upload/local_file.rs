//! `LocalStore` uploads as jobs on a file thread (see `runtime/job_threads.rs`): a
//! single-request `put`, and streamed uploads written chunk by chunk into a staged file.
//!
//! Both call `LocalFileSystem` itself, so staging, publishing and error mapping are
//! object_store's own; only the thread they run on differs.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::executor::block_on;
use object_store::path::Path;
use object_store::{MultipartUpload, PutMultipartOptions, PutOptions, PutPayload, PutResult};

use crate::error::{StorageFailure, StorageResult};
use crate::store::StoreInner;
use crate::upload::part_size::DeclaredLength;

/// The whole of a single-request `put` to a local file: stage, write, publish.
pub fn put_local(
    inner: &StoreInner,
    key: &str,
    data: Bytes,
    options: PutOptions,
) -> StorageResult<PutResult> {
    let location = inner.key(key)?;
    Ok(block_on(inner.store.put_opts(
        &location,
        in_write_sized_pieces([&data]),
        options,
    ))?)
}

/// The largest piece of a body written to a local file in one `write`.
///
/// A Buffer put used to be written in one `write` of its whole length. On the ext4 disk of
/// this project's test VM (kernel 6.18), 5 of 18 puts of 128 MiB, each in a fresh process,
/// then took 142-323 ms where the others took 29-52 ms (release build, interleaved with the
/// build below), and `perf` put the extra time, which was CPU time, in the kernel's copy into
/// the page cache; written in 1 MiB pieces, none of 18 did (28-78 ms). Node's
/// `fs.writeFile` writes 512 KiB at a time. Our guess (not proven): one huge write lets the
/// kernel back the file with its largest page-cache folios, whose first use on this VM is
/// slow, as fresh huge pages are (see `io/large_buffer.rs`).
const WRITE_PIECE: usize = 1024 * 1024;

/// `chunks` as one payload of pieces of at most [`WRITE_PIECE`] bytes (views of the chunks,
/// not copies), which `LocalFileSystem` writes one `write` each.
fn in_write_sized_pieces<'a>(chunks: impl IntoIterator<Item = &'a Bytes>) -> PutPayload {
    chunks
        .into_iter()
        .flat_map(|chunk| {
            (0..chunk.len())
                .step_by(WRITE_PIECE)
                .map(|at| chunk.slice(at..(at + WRITE_PIECE).min(chunk.len())))
        })
        .collect()
}

/// A streamed upload to a local file: each batch of chunks is written to the staged file on
/// a file thread before its `write` resolves, so the caller's buffers are borrowed, never
/// copied, and are free again once the promise settles. `finish` publishes the file with a rename.
pub struct LocalFileUpload {
    inner: Arc<StoreInner>,
    path: Path,
    state: Mutex<LocalUploadState>,
}

#[derive(Default)]
struct LocalUploadState {
    staged: Option<Box<dyn MultipartUpload>>,
    written: u64,
    done: bool,
    /// Bytes accepted so far, against `contentLength` when one was given.
    declared: DeclaredLength,
}

impl LocalUploadState {
    /// End the upload over `failure`: the staged file goes, nothing becomes visible.
    fn fail(&mut self, failure: StorageFailure) -> StorageFailure {
        self.done = true;
        if let Some(mut staged) = self.staged.take() {
            // The original failure matters more than one from the clean-up.
            let _ = block_on(staged.abort());
        }
        failure
    }
}

impl LocalFileUpload {
    /// A streamed upload to `path`; `content_length`, if given, is the exact size expected.
    pub fn new(inner: Arc<StoreInner>, path: Path, content_length: Option<u64>) -> Self {
        Self {
            inner,
            path,
            state: Mutex::new(LocalUploadState {
                declared: DeclaredLength::new(content_length),
                ..Default::default()
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LocalUploadState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Append `chunks` (on a file thread), in order; returns the bytes written so far.
    /// Writes must come one at a time: the TypeScript layer awaits each before the next.
    pub fn write(&self, chunks: &[Bytes]) -> StorageResult<u64> {
        let mut state = self.state();
        if state.done {
            return Err(StorageFailure::generic(
                "this upload has already finished or been aborted",
            ));
        }
        let len: u64 = chunks.iter().map(|c| c.len() as u64).sum();
        if let Err(failure) = state.declared.accept(len) {
            return Err(state.fail(failure));
        }
        if state.staged.is_none() {
            let options = PutMultipartOptions::default();
            state.staged = Some(block_on(
                self.inner.store.put_multipart_opts(&self.path, options),
            )?);
        }
        let staged = state.staged.as_mut().expect("staged above");
        // One part for the batch: LocalFileSystem writes its pieces one after another.
        block_on(staged.put_part(in_write_sized_pieces(chunks)))?;
        state.written += len;
        Ok(state.written)
    }

    /// Publish the file (an empty one if nothing was written).
    pub fn finish(&self) -> StorageResult<PutResult> {
        let mut state = self.state();
        if state.done {
            return Err(StorageFailure::generic(
                "this upload has already finished or been aborted",
            ));
        }
        if let Err(failure) = state.declared.check_complete() {
            return Err(state.fail(failure));
        }
        state.done = true;
        Ok(match state.staged.as_mut() {
            Some(staged) => block_on(staged.complete())?,
            None => block_on(self.inner.store.put_opts(
                &self.path,
                PutPayload::new(),
                PutOptions::default(),
            ))?,
        })
    }

    /// Remove the staged file; nothing becomes visible.
    pub fn abort(&self) -> StorageResult<()> {
        let mut state = self.state();
        if state.done {
            return Ok(());
        }
        state.done = true;
        if let Some(mut staged) = state.staged.take() {
            block_on(staged.abort())?;
        }
        Ok(())
    }

    pub fn written(&self) -> u64 {
        self.state
            .try_lock()
            .map(|state| state.written)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_views_of_the_chunks_in_order_and_at_most_a_piece_long() {
        let big = Bytes::from(
            (0..WRITE_PIECE * 2 + 5)
                .map(|i| i as u8)
                .collect::<Vec<_>>(),
        );
        let chunks = [Bytes::from_static(b"ab"), Bytes::new(), big.clone()];
        let payload = in_write_sized_pieces(&chunks);
        let lens: Vec<usize> = payload.iter().map(Bytes::len).collect();
        assert_eq!(lens, [2, WRITE_PIECE, WRITE_PIECE, 5]);
        assert_eq!(
            payload.iter().nth(1).unwrap().as_ptr(),
            big.as_ptr(),
            "copied, not a view"
        );
        let joined: Vec<u8> = payload.iter().flat_map(|piece| piece.to_vec()).collect();
        assert_eq!(joined, [b"ab".as_slice(), &big].concat());
        assert_eq!(in_write_sized_pieces(&[Bytes::new()]).content_length(), 0);
    }
}
