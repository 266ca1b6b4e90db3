//! `LocalStore`'s `get`, `put` and streamed uploads as jobs on a file thread (see
//! `file_threads.rs`).
//!
//! Both call `LocalFileSystem` itself, so metadata, ETags, staging and error mapping are
//! object_store's own; only the thread they run on differs.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::executor::block_on;
use object_store::path::Path;
use object_store::{
    GetOptions, GetResultPayload, MultipartUpload, PutMultipartOptions, PutOptions, PutPayload,
    PutResult,
};

use crate::error::{StorageFailure, StorageResult};
use crate::get::{NativeGetResult, EAGER_BODY_LIMIT};
use crate::js_bytes::JsBytes;
use crate::meta::NativeObjectMeta;
use crate::part_size::DeclaredLength;
use crate::reader::{read_file_range, ByteSource, NativeReader};
use crate::store::StoreInner;

/// The whole of `get` on a local file: open, check, and read a small body.
pub fn get_local(
    inner: &StoreInner,
    key: &str,
    options: GetOptions,
) -> StorageResult<NativeGetResult> {
    let location = inner.key(key)?;
    let result = block_on(inner.store.get_opts(&location, options))?;
    let range = result.range.clone();
    let len = (range.end - range.start) as usize;
    let (body, reader) = match result.payload {
        GetResultPayload::File(file, _) if len <= EAGER_BODY_LIMIT => {
            let mut body = vec![0; len];
            read_file_range(&file, range.start, &mut body)?;
            (Some(JsBytes(body.into())), None)
        }
        payload => (
            None,
            Some(NativeReader::new(ByteSource::new(payload, range.clone()))),
        ),
    };
    Ok(NativeGetResult {
        meta: NativeObjectMeta::from(result.meta),
        start: range.start as f64,
        end: range.end as f64,
        attributes: None, // LocalFileSystem keeps no attributes
        body,
        reader,
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::local::local_store;
    use crate::error::ErrorCode;
    use object_store::ObjectStoreExt;

    /// Off the runtime, as on a file thread: object_store runs its file code inline.
    #[test]
    fn gets_and_puts_off_the_runtime() {
        let dir = std::env::temp_dir().join(format!("stowage-local-ops-{}", std::process::id()));
        let inner = local_store(dir.to_str().unwrap(), true).unwrap();
        put_local(
            &inner,
            "a/b.txt",
            Bytes::from_static(b"hello world"),
            PutOptions::default(),
        )
        .unwrap();

        let got = get_local(&inner, "a/b.txt", GetOptions::default()).unwrap();
        let head = block_on(inner.store.head(&Path::from("a/b.txt"))).unwrap();
        assert_eq!(got.meta.etag, head.e_tag);
        assert_eq!(&got.body.unwrap().0[..], b"hello world");

        let ranged = GetOptions {
            range: Some((6..11).into()),
            ..Default::default()
        };
        let part = get_local(&inner, "a/b.txt", ranged).unwrap();
        assert_eq!(&part.body.unwrap().0[..], b"world");

        let missing = get_local(&inner, "a/none", GetOptions::default());
        assert_eq!(missing.err().unwrap().code, ErrorCode::NotFound);
        let create = PutOptions {
            mode: object_store::PutMode::Create,
            ..Default::default()
        };
        let again = put_local(&inner, "a/b.txt", Bytes::from_static(b"x"), create);
        assert_eq!(again.err().unwrap().code, ErrorCode::AlreadyExists);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A streamed upload to a local file: each chunk is written to the staged file on a file
/// thread before its `write` resolves, so the caller's buffer is borrowed, never copied, and
/// is free again once the promise settles. `finish` publishes the file with a rename.
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

    /// Append `data` (on a file thread); returns the bytes written so far. Writes must come
    /// one at a time, in order: the TypeScript layer awaits each before the next.
    pub fn write(&self, data: &Bytes) -> StorageResult<u64> {
        let mut state = self.state();
        if state.done {
            return Err(StorageFailure::generic(
                "this upload has already finished or been aborted",
            ));
        }
        if let Err(failure) = state.declared.accept(data.len() as u64) {
            return Err(state.fail(failure));
        }
        if state.staged.is_none() {
            let options = PutMultipartOptions::default();
            state.staged = Some(block_on(
                self.inner.store.put_multipart_opts(&self.path, options),
            )?);
        }
        let len = data.len() as u64;
        let staged = state.staged.as_mut().expect("staged above");
        block_on(staged.put_part(PutPayload::from(data.clone())))?;
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
