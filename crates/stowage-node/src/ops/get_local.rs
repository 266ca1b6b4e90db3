//! `get` on a `LocalStore`, as one job on a file thread (see `runtime/job_threads.rs`):
//! open, check, and read a small body, with `LocalFileSystem`'s own code run inline, so
//! metadata, ETags and error mapping are object_store's own.

use futures::executor::block_on;
use object_store::{GetOptions, GetResultPayload};

use crate::error::StorageResult;
use crate::io::file_read::read_file_range;
use crate::io::js_bytes::JsBytes;
use crate::io::reader::{ByteSource, NativeReader};
use crate::meta::NativeObjectMeta;
use crate::ops::get_result::{NativeGetResult, EAGER_BODY_LIMIT};
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::local::local_store;
    use crate::error::ErrorCode;
    use crate::upload::local_file::put_local;
    use bytes::Bytes;
    use object_store::path::Path;
    use object_store::ObjectStoreExt;
    use object_store::PutOptions;

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
