//! `LocalStore` uploads as jobs on a file thread (see `runtime/file_threads.rs`): a
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
        PutPayload::from(data),
        options,
    ))?)
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
        // One part for the batch: LocalFileSystem writes its chunks one after another.
        let payload: PutPayload = chunks.iter().cloned().collect();
        block_on(staged.put_part(payload))?;
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
