//! Uploads that arrive in pieces: buffered up to one part, then sent as a
//! concurrent multipart upload, or as a single request if they stay small.
//!
//! Parts are sliced from the incoming `Bytes` without copying. A `Buffer` given to
//! `put()` is borrowed as it is (its promise covers the whole upload); chunks of a
//! stream arrive already copied (see `NativeUpload::write`).

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use object_store::path::Path;
use object_store::{
    MultipartUpload, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

use crate::error::{StorageFailure, StorageResult};
use crate::put::WriteSettings;
use crate::store::StoreInner;

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
    in_flight: FuturesUnordered<BoxFuture<'static, object_store::Result<usize>>>,
    confirmed: u64,
    /// Set when the store cannot do multipart (HTTP/WebDAV): the object goes up in one request.
    single_request: bool,
    phase: Phase,
}

impl Upload {
    pub fn new(store: Arc<StoreInner>, path: Path, settings: WriteSettings) -> Self {
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
        }
    }

    /// Accept `data`; resolves once it is buffered within the concurrency limit.
    /// Returns how many bytes the server has confirmed so far.
    pub async fn write(&mut self, data: Bytes) -> StorageResult<u64> {
        self.ensure_open()?;
        if data.is_empty() {
            return Ok(self.confirmed);
        }
        self.pending_len += data.len();
        self.pending.push_back(data);
        let result = self.send_full_parts().await;
        self.fail_on_error(result).await?;
        Ok(self.confirmed)
    }

    /// Send what is left and make the object visible.
    pub async fn finish(&mut self) -> StorageResult<PutResult> {
        self.ensure_open()?;
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
                self.send_part(last);
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
        self.in_flight = FuturesUnordered::new();
        if let Some(mut upload) = self.multipart.take() {
            upload.abort().await?;
        }
        Ok(())
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

    async fn send_full_parts(&mut self) -> StorageResult<()> {
        let chunk_size = self.settings.chunk_size;
        while !self.single_request && self.pending_len >= chunk_size {
            if self.multipart.is_none() && !self.start_multipart().await? {
                self.single_request = true;
                break;
            }
            let part = self.take_part(chunk_size);
            self.send_part(part);
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
                "a conditional put must fit in one request (at most chunkSize = {} bytes); \
                 raise chunkSize or write with mode 'overwrite'",
                self.settings.chunk_size
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

    fn send_part(&mut self, part: PutPayload) {
        let size = part.content_length();
        let upload = self.multipart.as_mut().expect("multipart upload started");
        let fut = upload.put_part(part);
        self.in_flight
            .push(async move { fut.await.map(|_| size) }.boxed());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::memory::memory_store;
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
}
