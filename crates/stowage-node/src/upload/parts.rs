//! Uploads that arrive in pieces: buffered up to one part, then sent as a
//! concurrent multipart upload, or as a single request if they stay small.
//! `part_size.rs` decides how big each part is.
//!
//! Parts are sliced from the incoming `Bytes` without copying. A `Buffer` given to
//! `put()` is borrowed as it is (its promise covers the whole upload); chunks of a
//! stream arrive already copied (see `NativeUpload::write`).
//!
//! Each part in flight runs as a task of its own (`PartTask`). The work of sending a part
//! is not all waiting: S3 over plain HTTP hashes every part's payload into its signature
//! (SHA-256: in the bench a signed 256 MiB put took 2.2 times as long as an unsigned one),
//! and that happens when the part's future is polled. Polled together from the upload's
//! one task, the parts in flight were hashed one after another on one thread; as tasks of
//! their own they use every runtime thread.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;

use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use object_store::path::Path;
use object_store::{
    MultipartUpload, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use tokio::task::JoinHandle;

use crate::error::{StorageFailure, StorageResult};
use crate::store::StoreInner;
use crate::upload::part_size::{DeclaredLength, PartPlan};
use crate::upload::settings::WriteSettings;

enum Phase {
    Open,
    Done,
}

/// One object being written.
pub struct Upload {
    store: Arc<StoreInner>,
    path: Path,
    settings: WriteSettings,
    pending: VecDeque<Bytes>,
    pending_len: usize,
    multipart: Option<Box<dyn MultipartUpload>>,
    in_flight: FuturesUnordered<PartTask>,
    confirmed: u64,
    /// Set when the store cannot do multipart (HTTP/WebDAV): the object goes up in one request.
    single_request: bool,
    phase: Phase,
    plan: PartPlan,
    /// Bytes accepted so far, against `contentLength` when one was given.
    declared: DeclaredLength,
    /// Parts handed to the multipart upload so far, and the bytes in them.
    parts_sent: u64,
    bytes_in_parts: u64,
}

impl Upload {
    pub fn new(store: Arc<StoreInner>, path: Path, settings: WriteSettings) -> Self {
        let plan = PartPlan::new(
            settings.chunk_size,
            store.part_limits,
            settings.content_length,
        );
        let declared = DeclaredLength::new(settings.content_length);
        Self {
            store,
            path,
            settings,
            pending: VecDeque::new(),
            pending_len: 0,
            multipart: None,
            in_flight: FuturesUnordered::new(),
            confirmed: 0,
            single_request: false,
            phase: Phase::Open,
            plan,
            declared,
            parts_sent: 0,
            bytes_in_parts: 0,
        }
    }

    /// Accept `data`; resolves once it is buffered within the concurrency limit.
    /// Returns how many bytes the server has confirmed so far.
    pub async fn write(&mut self, data: Bytes) -> StorageResult<u64> {
        self.ensure_open()?;
        if data.is_empty() {
            return Ok(self.confirmed);
        }
        // Checked before buffering: bytes past `contentLength` never reach the server.
        let accepted = self.accept(data.len() as u64);
        self.fail_on_error(accepted).await?;
        self.pending_len += data.len();
        self.pending.push_back(data);
        let result = self.send_full_parts().await;
        self.fail_on_error(result).await?;
        Ok(self.confirmed)
    }

    /// Send what is left and make the object visible.
    pub async fn finish(&mut self) -> StorageResult<PutResult> {
        self.ensure_open()?;
        let complete = self.declared.check_complete();
        self.fail_on_error(complete).await?;
        if self.multipart.is_none() {
            self.phase = Phase::Done;
            let payload = self.take_part(self.pending_len);
            let options = PutOptions {
                mode: self.settings.mode.clone(),
                attributes: self.settings.attributes.clone(),
                ..Default::default()
            };
            let size = payload.content_length() as u64;
            let result = self
                .store
                .store
                .put_opts(&self.path, payload, options)
                .await?;
            self.confirmed += size;
            return Ok(result);
        }
        let result = async {
            if self.pending_len > 0 {
                let last = self.take_part(self.pending_len);
                self.send_part(last)?;
            }
            while let Some(done) = self.in_flight.next().await {
                self.confirmed += done? as u64;
            }
            let upload = self.multipart.as_mut().expect("multipart upload started");
            Ok(upload.complete().await?)
        }
        .await;
        let result = self.fail_on_error(result).await?;
        self.phase = Phase::Done;
        Ok(result)
    }

    /// Give up: nothing becomes visible and no parts are left on the server.
    pub async fn abort(&mut self) -> StorageResult<()> {
        if matches!(self.phase, Phase::Done) {
            return Ok(());
        }
        self.phase = Phase::Done;
        self.pending.clear();
        self.pending_len = 0;
        let in_flight = std::mem::take(&mut self.in_flight);
        // Parts still being sent stop: their bytes are not wanted, and a server busy
        // receiving them (moto) would answer the abort only after them.
        for part in in_flight.iter() {
            part.task.abort();
        }
        let Some(mut upload) = self.multipart.take() else {
            return Ok(());
        };
        let aborted = upload.abort().await;
        if !in_flight.is_empty() {
            // A part the server is still receiving may land after the abort and leave an
            // upload (or its part) behind. The abort above does not wait for those parts (a
            // stalled connection would hold it until its timeout); once they have settled,
            // the upload is aborted once more, in the background.
            tokio::spawn(async move {
                in_flight.for_each(|_| async {}).await;
                let _ = upload.abort().await;
            });
        }
        Ok(aborted?)
    }

    pub fn confirmed(&self) -> u64 {
        self.confirmed
    }

    fn ensure_open(&self) -> StorageResult<()> {
        match self.phase {
            Phase::Open => Ok(()),
            Phase::Done => Err(StorageFailure::generic(
                "this upload has already finished or been aborted",
            )),
        }
    }

    async fn fail_on_error<T>(&mut self, result: StorageResult<T>) -> StorageResult<T> {
        if result.is_err() {
            // The original failure matters more than one from the clean-up.
            let _ = self.abort().await;
        }
        result
    }

    /// Count `len` more bytes against `contentLength` and the backend's largest object.
    fn accept(&mut self, len: u64) -> StorageResult<()> {
        let received = self.declared.accept(len)?;
        self.plan.check_received(received)
    }

    /// The size of the next part the plan asks for.
    fn next_part_size(&self) -> usize {
        self.plan.part_size(self.parts_sent, self.bytes_in_parts)
    }

    async fn send_full_parts(&mut self) -> StorageResult<()> {
        while !self.single_request && self.pending_len >= self.next_part_size() {
            if self.multipart.is_none() && !self.start_multipart().await? {
                self.single_request = true;
                break;
            }
            let part = self.take_part(self.next_part_size());
            self.send_part(part)?;
            while self.in_flight.len() >= self.settings.concurrency {
                if let Some(done) = self.in_flight.next().await {
                    self.confirmed += done? as u64;
                }
            }
        }
        while let Some(Some(done)) = self.in_flight.next().now_or_never() {
            self.confirmed += done? as u64;
        }
        Ok(())
    }

    /// Start the multipart upload; `false` if the store has no multipart support.
    async fn start_multipart(&mut self) -> StorageResult<bool> {
        if !matches!(self.settings.mode, PutMode::Overwrite) {
            return Err(StorageFailure::not_supported(format!(
                "a conditional put must fit in one request (at most {} bytes, one part); \
                 raise chunkSize or write with mode 'overwrite'",
                self.next_part_size()
            )));
        }
        let options = PutMultipartOptions {
            attributes: self.settings.attributes.clone(),
            ..Default::default()
        };
        match self
            .store
            .store
            .put_multipart_opts(&self.path, options)
            .await
        {
            Ok(upload) => {
                self.multipart = Some(upload);
                Ok(true)
            }
            Err(object_store::Error::NotImplemented { .. }) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    fn send_part(&mut self, part: PutPayload) -> StorageResult<()> {
        self.plan.check_part_count(self.parts_sent)?;
        let size = part.content_length();
        self.parts_sent += 1;
        self.bytes_in_parts += size as u64;
        let upload = self.multipart.as_mut().expect("multipart upload started");
        self.in_flight.push(PartTask {
            task: tokio::spawn(upload.put_part(part)),
            size,
        });
        Ok(())
    }

    /// Take exactly `size` bytes off the front of the buffer, slicing without copying.
    fn take_part(&mut self, size: usize) -> PutPayload {
        let mut parts = Vec::new();
        let mut needed = size;
        while needed > 0 {
            let mut chunk = self.pending.pop_front().expect("buffer holds enough bytes");
            if chunk.len() > needed {
                let rest = chunk.split_off(needed);
                self.pending.push_front(rest);
            }
            needed -= chunk.len();
            parts.push(chunk);
        }
        self.pending_len -= size;
        parts.into_iter().collect()
    }
}

/// A part being sent on a task of its own; it settles with the part's size. Dropped before
/// it settles (the upload was dropped, or its in-flight parts were), the task is aborted, as
/// a dropped future would stop.
struct PartTask {
    task: JoinHandle<object_store::Result<()>>,
    size: usize,
}

impl Future for PartTask {
    type Output = object_store::Result<usize>;

    /// A panic inside the part is raised again here, inside the operation, where the
    /// runtime's panic guard turns it into an error for JavaScript.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let size = self.size;
        Pin::new(&mut self.task)
            .poll(cx)
            .map(|joined| match joined {
                Ok(sent) => sent.map(|()| size),
                Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                Err(err) => Err(object_store::Error::Generic {
                    store: "stowage",
                    source: Box::new(err),
                }),
            })
    }
}

impl Drop for PartTask {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::memory::memory_store;
    use crate::error::ErrorCode;
    use crate::upload::part_size::PartLimits;
    use object_store::ObjectStoreExt;

    fn settings(chunk_size: usize) -> WriteSettings {
        WriteSettings {
            chunk_size,
            concurrency: 2,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn small_writes_go_up_in_one_request() {
        let store = Arc::new(memory_store());
        let path = Path::parse("small").unwrap();
        let mut upload = Upload::new(store.clone(), path.clone(), settings(16));
        upload.write(Bytes::from_static(b"hello ")).await.unwrap();
        upload.write(Bytes::from_static(b"world")).await.unwrap();
        upload.finish().await.unwrap();
        let bytes = store.store.get(&path).await.unwrap().bytes().await.unwrap();
        assert_eq!(&bytes[..], b"hello world");
    }

    #[tokio::test]
    async fn large_writes_are_split_into_exact_parts() {
        let store = Arc::new(memory_store());
        let path = Path::parse("large").unwrap();
        let mut upload = Upload::new(store.clone(), path.clone(), settings(4));
        let data: Vec<u8> = (0..=250u8).collect();
        for piece in data.chunks(7) {
            upload.write(Bytes::copy_from_slice(piece)).await.unwrap();
        }
        upload.finish().await.unwrap();
        assert_eq!(upload.confirmed(), data.len() as u64);
        let bytes = store.store.get(&path).await.unwrap().bytes().await.unwrap();
        assert_eq!(&bytes[..], &data[..]);
    }

    #[tokio::test]
    async fn aborted_upload_leaves_nothing() {
        let store = Arc::new(memory_store());
        let path = Path::parse("aborted").unwrap();
        let mut upload = Upload::new(store.clone(), path.clone(), settings(4));
        upload
            .write(Bytes::from_static(b"0123456789"))
            .await
            .unwrap();
        upload.abort().await.unwrap();
        assert!(store.store.head(&path).await.is_err());
        assert!(upload.write(Bytes::from_static(b"x")).await.is_err());
    }

    /// A memory store that pretends to S3-like limits small enough to watch: 20 parts, so
    /// parts grow after the first 2.
    fn store_with_twenty_parts() -> Arc<StoreInner> {
        let mut inner = memory_store();
        inner.part_limits = PartLimits {
            max_parts: Some(20),
            max_part_size: Some(64 << 20),
            max_object_size: Some(1 << 30),
        };
        Arc::new(inner)
    }

    #[tokio::test]
    async fn a_stream_of_unknown_length_sends_growing_parts() {
        let store = store_with_twenty_parts();
        let path = Path::parse("growing").unwrap();
        let mut upload = Upload::new(store.clone(), path.clone(), settings(1024));
        let data = vec![7u8; 3 << 20];
        for piece in data.chunks(64 * 1024) {
            upload.write(Bytes::copy_from_slice(piece)).await.unwrap();
        }
        // 2 × 1 KiB, then at least half of what was sent, in whole MiB: 1 MiB, 1 MiB, and
        // 2 MiB next, which the 1 MiB - 2 KiB left does not fill until `finish`.
        assert_eq!(upload.parts_sent, 4);
        assert_eq!(upload.bytes_in_parts, 2048 + (2 << 20));
        assert_eq!(upload.next_part_size(), 2 << 20);
        upload.finish().await.unwrap();
        assert_eq!(upload.parts_sent, 5);
        let bytes = store.store.get(&path).await.unwrap().bytes().await.unwrap();
        assert_eq!(&bytes[..], &data[..]);
    }

    #[tokio::test]
    async fn a_known_length_fixes_the_part_size() {
        let store = store_with_twenty_parts();
        let path = Path::parse("known").unwrap();
        let total = 3 << 20;
        let mut known = settings(1024);
        known.content_length = Some(total as u64);
        let mut upload = Upload::new(store.clone(), path.clone(), known);
        for piece in vec![1u8; total].chunks(100_000) {
            upload.write(Bytes::copy_from_slice(piece)).await.unwrap();
        }
        upload.finish().await.unwrap();
        // ceil(3 MiB / 20) rounded up to a MiB: three parts of 1 MiB.
        assert_eq!(upload.parts_sent, 3);
    }

    #[tokio::test]
    async fn more_bytes_than_declared_fail_and_leave_nothing() {
        let store = Arc::new(memory_store());
        let path = Path::parse("longer").unwrap();
        let mut declared = settings(4);
        declared.content_length = Some(10);
        let mut upload = Upload::new(store.clone(), path.clone(), declared);
        upload.write(Bytes::from_static(b"0123456")).await.unwrap();
        let err = upload.write(Bytes::from_static(b"789A")).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidConfig);
        assert!(upload.finish().await.is_err());
        assert!(store.store.head(&path).await.is_err());
    }

    #[tokio::test]
    async fn fewer_bytes_than_declared_fail_and_leave_nothing() {
        for data in [&b"012345678"[..], b"0"] {
            let store = Arc::new(memory_store());
            let path = Path::parse("shorter").unwrap();
            let mut declared = settings(4);
            declared.content_length = Some(10);
            let mut upload = Upload::new(store.clone(), path.clone(), declared);
            upload.write(Bytes::copy_from_slice(data)).await.unwrap();
            let err = upload.finish().await.unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidConfig);
            assert!(store.store.head(&path).await.is_err());
        }
    }

    /// A store whose parts each wait, blocking their thread, until `parts` of them have
    /// started: only parts sent at once on different threads get there.
    #[derive(Debug)]
    struct Rendezvous {
        inner: object_store::memory::InMemory,
        parts: usize,
        started: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl std::fmt::Display for Rendezvous {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Rendezvous")
        }
    }

    #[derive(Debug)]
    struct RendezvousUpload {
        inner: Box<dyn MultipartUpload>,
        parts: usize,
        started: Arc<std::sync::atomic::AtomicUsize>,
    }

    #[async_trait::async_trait]
    impl MultipartUpload for RendezvousUpload {
        fn put_part(&mut self, data: PutPayload) -> object_store::UploadPart {
            use std::sync::atomic::Ordering;
            let (started, parts) = (self.started.clone(), self.parts);
            let send = self.inner.put_part(data);
            async move {
                started.fetch_add(1, Ordering::SeqCst);
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                while started.load(Ordering::SeqCst) < parts {
                    if std::time::Instant::now() > deadline {
                        return Err(object_store::Error::Generic {
                            store: "Rendezvous",
                            source: "the other parts never started while this one ran".into(),
                        });
                    }
                    std::thread::yield_now();
                }
                send.await
            }
            .boxed()
        }
        async fn complete(&mut self) -> object_store::Result<PutResult> {
            self.inner.complete().await
        }
        async fn abort(&mut self) -> object_store::Result<()> {
            self.inner.abort().await
        }
    }

    #[async_trait::async_trait]
    impl object_store::ObjectStore for Rendezvous {
        async fn put_opts(
            &self,
            location: &Path,
            payload: PutPayload,
            opts: PutOptions,
        ) -> object_store::Result<PutResult> {
            self.inner.put_opts(location, payload, opts).await
        }
        async fn put_multipart_opts(
            &self,
            location: &Path,
            opts: PutMultipartOptions,
        ) -> object_store::Result<Box<dyn MultipartUpload>> {
            Ok(Box::new(RendezvousUpload {
                inner: self.inner.put_multipart_opts(location, opts).await?,
                parts: self.parts,
                started: self.started.clone(),
            }))
        }
        async fn get_opts(
            &self,
            location: &Path,
            options: object_store::GetOptions,
        ) -> object_store::Result<object_store::GetResult> {
            self.inner.get_opts(location, options).await
        }
        fn delete_stream(
            &self,
            locations: futures::stream::BoxStream<'static, object_store::Result<Path>>,
        ) -> futures::stream::BoxStream<'static, object_store::Result<Path>> {
            self.inner.delete_stream(locations)
        }
        fn list(
            &self,
            prefix: Option<&Path>,
        ) -> futures::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>>
        {
            self.inner.list(prefix)
        }
        async fn list_with_delimiter(
            &self,
            prefix: Option<&Path>,
        ) -> object_store::Result<object_store::ListResult> {
            self.inner.list_with_delimiter(prefix).await
        }
        async fn copy_opts(
            &self,
            from: &Path,
            to: &Path,
            options: object_store::CopyOptions,
        ) -> object_store::Result<()> {
            self.inner.copy_opts(from, to, options).await
        }
    }

    /// Parts in flight are sent at once on the runtime's threads (their payloads are hashed
    /// as they are sent). Polled from the upload's one task, the first part would wait out
    /// its deadline alone and the upload would fail.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parts_in_flight_are_sent_on_threads_of_their_own() {
        let mut inner = memory_store();
        inner.store = Arc::new(Rendezvous {
            inner: object_store::memory::InMemory::new(),
            parts: 2,
            started: Arc::default(),
        });
        let store = Arc::new(inner);
        let path = Path::parse("parallel").unwrap();
        let mut upload = Upload::new(store.clone(), path.clone(), settings(4));
        upload.write(Bytes::from_static(b"01234567")).await.unwrap();
        upload.finish().await.unwrap();
        let bytes = store.store.get(&path).await.unwrap().bytes().await.unwrap();
        assert_eq!(&bytes[..], b"01234567");
    }

    #[tokio::test]
    async fn a_dropped_part_task_is_stopped() {
        struct Flag(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Flag(dropped.clone());
        let task = PartTask {
            task: tokio::spawn(async move {
                let _flag = flag;
                futures::future::pending::<object_store::Result<()>>().await
            }),
            size: 0,
        };
        tokio::task::yield_now().await;
        drop(task);
        for _ in 0..100 {
            if dropped.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("the part's task still runs after its PartTask was dropped");
    }

    #[tokio::test]
    async fn a_panic_in_a_part_is_raised_where_it_is_awaited() {
        let task = PartTask {
            task: tokio::spawn(async { panic!("part failed") }),
            size: 0,
        };
        let caught = std::panic::AssertUnwindSafe(task)
            .catch_unwind()
            .await
            .unwrap_err();
        assert_eq!(caught.downcast_ref::<&str>(), Some(&"part failed"));
    }
}
