//! `get` on a `LocalStore` in one trip to the blocking thread pool.
//!
//! Through `LocalFileSystem::get_opts`, a small read crosses threads four times: JavaScript
//! to an async worker, to the blocking pool to open the file, back to the worker, to the
//! pool again to read it, and back to JavaScript. Here one blocking call confines the key,
//! opens the file, checks the conditions and reads a small body, and hands the result
//! straight to JavaScript. Metadata and ETags are computed exactly as `LocalFileSystem`
//! computes them, so `head`, `list` and `get` agree (a unit test holds them together).

use std::fs::{File, Metadata};
use std::io::ErrorKind;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, ObjectMeta};

use crate::error::StorageResult;
use crate::get::{NativeGetResult, EAGER_BODY_LIMIT};
use crate::js_bytes::JsBytes;
use crate::meta::NativeObjectMeta;
use crate::reader::{ByteSource, NativeReader};
use crate::store::StoreInner;

const STORE: &str = "LocalFileSystem";

/// The whole of `get` for a local file; runs on a blocking thread.
pub fn get_blocking(
    inner: &StoreInner,
    fs: &LocalFileSystem,
    key: &str,
    options: GetOptions,
) -> StorageResult<NativeGetResult> {
    let location = inner.key(key)?;
    let file_path = fs.path_to_filesystem(&location)?;
    let not_found = |source: std::io::Error| object_store::Error::NotFound {
        path: file_path.display().to_string(),
        source: Box::new(source),
    };
    let file = File::open(&file_path).map_err(|err| match err.kind() {
        ErrorKind::NotFound => not_found(err),
        _ => generic(err),
    })?;
    let metadata = file.metadata().map_err(generic)?;
    if metadata.is_dir() {
        Err(not_found(std::io::Error::new(
            ErrorKind::NotFound,
            "is directory",
        )))?;
    }
    let meta = object_meta(&metadata, location);
    options.check_preconditions(&meta)?;
    let range = match &options.range {
        Some(range) => range.as_range(meta.size).map_err(generic)?,
        None => 0..meta.size,
    };
    let len = (range.end - range.start) as usize;
    let (body, reader) = if len <= EAGER_BODY_LIMIT {
        (Some(JsBytes(read_exact_at(&file, range.start, len)?)), None)
    } else {
        let source = ByteSource::File {
            file: Arc::new(file),
            range: range.clone(),
        };
        (None, Some(NativeReader::new(source)))
    };
    Ok(NativeGetResult {
        meta: NativeObjectMeta::from(meta),
        start: range.start as f64,
        end: range.end as f64,
        attributes: None, // LocalFileSystem keeps no attributes
        body,
        reader,
    })
}

fn read_exact_at(file: &File, offset: u64, len: usize) -> StorageResult<Bytes> {
    let mut buf = vec![0; len];
    file.read_exact_at(&mut buf, offset).map_err(generic)?;
    Ok(buf.into())
}

/// As `LocalFileSystem` reports it: `"{inode:x}-{mtime µs:x}-{size:x}"` as the ETag.
fn object_meta(metadata: &Metadata, location: Path) -> ObjectMeta {
    let modified = metadata
        .modified()
        .expect("Modified file time should be supported on this platform");
    let micros = modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros();
    ObjectMeta {
        location,
        last_modified: modified.into(),
        size: metadata.len(),
        e_tag: Some(format!(
            "\"{:x}-{micros:x}-{:x}\"",
            metadata.ino(),
            metadata.len()
        )),
        version: None,
    }
}

fn generic(err: impl std::error::Error + Send + Sync + 'static) -> object_store::Error {
    object_store::Error::Generic {
        store: STORE,
        source: Box::new(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::local::local_store;
    use object_store::ObjectStoreExt;

    #[tokio::test]
    async fn agrees_with_local_file_system() {
        let dir = std::env::temp_dir().join(format!("stowage-local-get-{}", std::process::id()));
        let inner = local_store(dir.to_str().unwrap(), true).unwrap();
        let fs = inner.local_fs.clone().unwrap();
        let path = Path::from("a/b.txt");
        inner.store.put(&path, "hello world".into()).await.unwrap();

        let ours = get_blocking(&inner, &fs, "a/b.txt", GetOptions::default()).unwrap();
        let theirs = inner.store.head(&path).await.unwrap();
        assert_eq!(ours.meta.etag, theirs.e_tag);
        assert_eq!(ours.meta.last_modified, theirs.last_modified);
        assert_eq!(ours.meta.size, 11.0);
        assert_eq!(&ours.body.unwrap().0[..], b"hello world");

        let ranged = GetOptions {
            range: Some((6..11).into()),
            ..Default::default()
        };
        let part = get_blocking(&inner, &fs, "a/b.txt", ranged).unwrap();
        assert_eq!(&part.body.unwrap().0[..], b"world");

        let missing = get_blocking(&inner, &fs, "a/none", GetOptions::default());
        assert_eq!(
            missing.err().unwrap().code,
            crate::error::ErrorCode::NotFound
        );
        let dir_as_key = get_blocking(&inner, &fs, "a", GetOptions::default());
        assert_eq!(
            dir_as_key.err().unwrap().code,
            crate::error::ErrorCode::NotFound
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
