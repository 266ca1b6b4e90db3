//! Retries of what object_store reads after its retry loop.
//!
//! object_store retries a *request* in its request loop (`send_retry`: resets, 5xx, a stall
//! before the headers), but reads some answers' bodies after that loop: a list page (the
//! `ListResponseBody` errors of its `aws`, `azure` and `gcp` clients) and the id of a new
//! multipart upload (S3's `CreateMultipartResponseBody`, GCS's `PutResponseBody`). A body
//! cut off or stalled past the read
//! timeout there fails the whole call. Both are safe to ask for again, so they are, with the
//! store's own `RetryConfig`: `list_with_delimiter` and the creation of an upload as a whole,
//! the streamed listing from just after the last key it yielded.

use std::future::Future;
use std::time::{Duration, Instant};

use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::client::HttpError;
use object_store::path::Path;
use object_store::{ObjectMeta, RetryConfig};

use super::backoff::Backoff;

/// What is left of the retries of one failing call or page: object_store's `max_retries`
/// and `retry_timeout`, counted from its first failure.
struct Attempts {
    backoff: Backoff,
    retries: usize,
    max_retries: usize,
    retry_timeout: Duration,
    since: Instant,
}

impl Attempts {
    fn new(config: &RetryConfig) -> Self {
        Self {
            backoff: Backoff::new(&config.backoff),
            retries: 0,
            max_retries: config.max_retries,
            retry_timeout: config.retry_timeout,
            since: Instant::now(),
        }
    }

    fn exhausted(&self) -> bool {
        self.retries >= self.max_retries || self.since.elapsed() > self.retry_timeout
    }

    fn next_delay(&mut self) -> Duration {
        self.retries += 1;
        self.backoff.next_delay()
    }
}

/// Whether a failure may pass if the same is asked for again: a failure of the HTTP exchange
/// itself (a body cut off, a read timeout) that object_store's request loop has not already
/// retried. A status the server chose (not found, denied, unauthenticated, a 5xx after
/// object_store's own retries) or a bad path is not retried again.
pub fn is_transient(err: &object_store::Error) -> bool {
    let object_store::Error::Generic { source, .. } = err else {
        return false;
    };
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(source.as_ref());
    while let Some(err) = current {
        if is_request_loop_failure(err) {
            return false;
        }
        if err.downcast_ref::<HttpError>().is_some() {
            return true;
        }
        current = err.source();
    }
    false
}

/// object_store's request loop wraps what it gave up on in its `RetryError`, a type it does
/// not export, so it is known by its name; `tests::classifies_object_store_errors` checks
/// this against object_store's real errors.
fn is_request_loop_failure(err: &(dyn std::error::Error + 'static)) -> bool {
    format!("{err:?}").starts_with("RetryError(")
}

/// `call` until it succeeds, fails for good, or the retries of `config` are spent.
pub async fn retrying<T, F, Fut>(config: &RetryConfig, mut call: F) -> object_store::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = object_store::Result<T>>,
{
    let mut attempts: Option<Attempts> = None;
    loop {
        match call().await {
            Err(err) if is_transient(&err) => {
                let attempts = attempts.get_or_insert_with(|| Attempts::new(config));
                if attempts.exhausted() {
                    return Err(err);
                }
                tokio::time::sleep(attempts.next_delay()).await;
            }
            other => return other,
        }
    }
}

/// A streamed listing in progress, and how to pick it up again.
struct Resumable<F> {
    open: F,
    config: RetryConfig,
    entries: BoxStream<'static, object_store::Result<ObjectMeta>>,
    /// The offset the listing was asked for.
    offset: Option<Path>,
    /// The last key yielded: a resumed listing starts after it.
    last: Option<Path>,
    /// Whether every key came after the one before. Resuming after the last key is only
    /// right for a listing in key order (S3, Azure and GCS list so; WebDAV need not, but
    /// object_store reads its whole listing before the first key is yielded).
    in_key_order: bool,
    /// The retries of the page that is failing, if one is.
    failing: Option<Attempts>,
}

/// The listing `open(offset)` opens (`offset` exclusive; `None`: from the start), resumed
/// after a transient failure with `open(last key yielded)`, or with the original `offset`
/// when nothing was yielded yet, so no key is yielded twice or skipped. Each failing page
/// gets the retries of `config`; a page that succeeds gives the next one its own.
pub fn resuming<F>(
    config: RetryConfig,
    offset: Option<Path>,
    open: F,
) -> BoxStream<'static, object_store::Result<ObjectMeta>>
where
    F: Fn(Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> + Send + 'static,
{
    let state = Resumable {
        entries: open(offset.as_ref()),
        open,
        config,
        offset,
        last: None,
        in_key_order: true,
        failing: None,
    };
    futures::stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        loop {
            match state.entries.next().await {
                None => return None,
                Some(Ok(meta)) => {
                    if state
                        .last
                        .as_ref()
                        .is_some_and(|last| meta.location <= *last)
                    {
                        state.in_key_order = false;
                    }
                    state.last = Some(meta.location.clone());
                    state.failing = None;
                    return Some((Ok(meta), Some(state)));
                }
                Some(Err(err)) => {
                    let resumable = state.last.is_none() || state.in_key_order;
                    let attempts = state
                        .failing
                        .get_or_insert_with(|| Attempts::new(&state.config));
                    if !resumable || !is_transient(&err) || attempts.exhausted() {
                        // The error ends the listing.
                        return Some((Err(err), None));
                    }
                    tokio::time::sleep(attempts.next_delay()).await;
                    let from = state.last.as_ref().or(state.offset.as_ref());
                    state.entries = (state.open)(from);
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::fmt;
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use futures::TryStreamExt;
    use object_store::client::HttpErrorKind;
    use object_store::{
        CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectStore,
        ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload, PutResult,
    };

    use super::super::client::Adjusted;
    use super::super::scripted_server::{quick_retries, response, s3_at, scripted_server};
    use super::*;

    /// What one opening of a listing does.
    #[derive(Clone, Copy, Debug)]
    enum Fault {
        /// Lists to the end.
        None,
        /// Fails with a cut-off body after yielding this many keys.
        CutAfter(usize),
        /// Fails with a refusal (permission denied) after yielding this many keys.
        DeniedAfter(usize),
    }

    /// The offset of each opening of a listing, in order.
    type Openings = Arc<Mutex<Vec<Option<Path>>>>;

    /// An inner store whose listings fail as scripted, one `Fault` per opening.
    #[derive(Debug)]
    struct FlakyLister {
        keys: Vec<Path>,
        faults: Mutex<VecDeque<Fault>>,
        opened: Openings,
    }

    impl FlakyLister {
        fn new(count: usize, faults: &[Fault]) -> Self {
            Self {
                keys: (0..count)
                    .map(|i| Path::from(format!("k/{i:04}")))
                    .collect(),
                faults: Mutex::new(faults.iter().copied().collect()),
                opened: Arc::default(),
            }
        }

        fn next_fault(&self) -> Fault {
            self.faults
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Fault::None)
        }

        fn listing(
            &self,
            offset: Option<&Path>,
        ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
            self.opened.lock().unwrap().push(offset.cloned());
            let keys = self
                .keys
                .iter()
                .filter(|k| offset.is_none_or(|o| *k > o))
                .map(|k| Ok(meta(k)));
            let failure = |n: usize, err: object_store::Error| {
                keys.clone()
                    .take(n)
                    .chain(std::iter::once(Err(err)))
                    .collect::<Vec<_>>()
            };
            let items: Vec<_> = match self.next_fault() {
                Fault::None => keys.collect(),
                Fault::CutAfter(n) => failure(n, cut_off_body()),
                Fault::DeniedAfter(n) => failure(n, denied()),
            };
            futures::stream::iter(items).boxed()
        }
    }

    fn meta(location: &Path) -> ObjectMeta {
        ObjectMeta {
            location: location.clone(),
            last_modified: chrono::DateTime::UNIX_EPOCH,
            size: 1,
            e_tag: None,
            version: None,
        }
    }

    /// As object_store reports a list body cut off: a generic error over an `HttpError`.
    fn cut_off_body() -> object_store::Error {
        object_store::Error::Generic {
            store: "Flaky",
            source: Box::new(HttpError::new(
                HttpErrorKind::Interrupted,
                std::io::Error::new(std::io::ErrorKind::ConnectionReset, "body cut off"),
            )),
        }
    }

    fn denied() -> object_store::Error {
        object_store::Error::PermissionDenied {
            path: "k".into(),
            source: "denied".into(),
        }
    }

    fn unused() -> object_store::Error {
        object_store::Error::NotImplemented {
            operation: "this test".into(),
            implementer: "FlakyLister".into(),
        }
    }

    impl fmt::Display for FlakyLister {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("FlakyLister")
        }
    }

    #[async_trait]
    impl ObjectStore for FlakyLister {
        async fn put_opts(
            &self,
            _: &Path,
            _: PutPayload,
            _: PutOptions,
        ) -> object_store::Result<PutResult> {
            Err(unused())
        }
        async fn put_multipart_opts(
            &self,
            _: &Path,
            _: PutMultipartOptions,
        ) -> object_store::Result<Box<dyn MultipartUpload>> {
            Err(unused())
        }
        async fn get_opts(&self, _: &Path, _: GetOptions) -> object_store::Result<GetResult> {
            Err(unused())
        }
        fn delete_stream(
            &self,
            _: BoxStream<'static, object_store::Result<Path>>,
        ) -> BoxStream<'static, object_store::Result<Path>> {
            futures::stream::once(async { Err(unused()) }).boxed()
        }
        fn list(&self, _: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
            self.listing(None)
        }
        fn list_with_offset(
            &self,
            _: Option<&Path>,
            offset: &Path,
        ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
            self.listing(Some(offset))
        }
        async fn list_with_delimiter(&self, _: Option<&Path>) -> object_store::Result<ListResult> {
            self.opened.lock().unwrap().push(None);
            match self.next_fault() {
                Fault::None => Ok(ListResult {
                    common_prefixes: vec![],
                    objects: self.keys.iter().map(meta).collect(),
                    extensions: Default::default(),
                }),
                Fault::CutAfter(_) => Err(cut_off_body()),
                Fault::DeniedAfter(_) => Err(denied()),
            }
        }
        async fn copy_opts(&self, _: &Path, _: &Path, _: CopyOptions) -> object_store::Result<()> {
            Err(unused())
        }
    }

    /// The store under test and the log of its inner store's openings.
    fn adjusted(
        count: usize,
        faults: &[Fault],
        max_retries: usize,
    ) -> (Adjusted<FlakyLister>, Openings) {
        let inner = FlakyLister::new(count, faults);
        let opened = inner.opened.clone();
        (Adjusted::new(inner, quick_retries(max_retries)), opened)
    }

    fn keys(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("k/{i:04}")).collect()
    }

    async fn listed(
        stream: BoxStream<'static, object_store::Result<ObjectMeta>>,
    ) -> object_store::Result<Vec<String>> {
        stream
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
    }

    fn offsets(opened: &Mutex<Vec<Option<Path>>>) -> Vec<Option<String>> {
        opened
            .lock()
            .unwrap()
            .iter()
            .map(|o| o.as_ref().map(Path::to_string))
            .collect()
    }

    #[tokio::test]
    async fn a_listing_cut_off_mid_stream_resumes_after_the_last_key() {
        let (store, opened) = adjusted(10, &[Fault::CutAfter(3), Fault::CutAfter(4)], 3);
        let all = listed(store.list(None)).await.unwrap();
        assert_eq!(all, keys(0..10));
        assert_eq!(
            offsets(&opened),
            vec![None, Some("k/0002".into()), Some("k/0006".into())]
        );
    }

    #[tokio::test]
    async fn a_listing_cut_off_before_its_first_key_keeps_its_offset() {
        let (store, opened) = adjusted(10, &[Fault::CutAfter(0), Fault::CutAfter(0)], 3);
        let after = Path::from("k/0004");
        let all = listed(store.list_with_offset(None, &after)).await.unwrap();
        assert_eq!(all, keys(5..10));
        assert_eq!(offsets(&opened), vec![Some("k/0004".into()); 3]);
    }

    #[tokio::test]
    async fn a_listing_without_offset_restarts_from_the_top_when_nothing_was_yielded() {
        let (store, opened) = adjusted(5, &[Fault::CutAfter(0)], 1);
        assert_eq!(listed(store.list(None)).await.unwrap(), keys(0..5));
        assert_eq!(offsets(&opened), vec![None, None]);
    }

    #[tokio::test]
    async fn each_failing_page_gets_its_own_retries() {
        // Three failures in all, but never two in a row without progress: one retry suffices.
        let faults = [Fault::CutAfter(2), Fault::CutAfter(2), Fault::CutAfter(2)];
        let (store, _) = adjusted(10, &faults, 1);
        assert_eq!(listed(store.list(None)).await.unwrap(), keys(0..10));
    }

    #[tokio::test]
    async fn a_page_that_keeps_failing_ends_the_listing_after_max_retries() {
        let faults = [Fault::CutAfter(2), Fault::CutAfter(0), Fault::CutAfter(0)];
        let (store, opened) = adjusted(10, &faults, 1);
        let mut stream = store.list(None);
        let mut seen = Vec::new();
        let err = loop {
            match stream.next().await.expect("the listing ends with an error") {
                Ok(meta) => seen.push(meta.location.to_string()),
                Err(err) => break err,
            }
        };
        assert!(is_transient(&err), "{err}");
        assert_eq!(seen, keys(0..2));
        assert_eq!(opened.lock().unwrap().len(), 2, "one retry, then the error");
        assert!(stream.next().await.is_none(), "nothing after the error");
    }

    #[tokio::test]
    async fn no_retries_configured_means_none_for_listings() {
        let (store, opened) = adjusted(10, &[Fault::CutAfter(3)], 0);
        let err = listed(store.list(None)).await.unwrap_err();
        assert!(is_transient(&err), "{err}");
        assert_eq!(opened.lock().unwrap().len(), 1);

        let (store, opened) = adjusted(10, &[Fault::CutAfter(0)], 0);
        assert!(store.list_with_delimiter(None).await.is_err());
        assert_eq!(opened.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_refusal_is_not_retried() {
        let (store, opened) = adjusted(10, &[Fault::DeniedAfter(3)], 5);
        let err = listed(store.list(None)).await.unwrap_err();
        assert!(
            matches!(err, object_store::Error::PermissionDenied { .. }),
            "{err}"
        );
        assert_eq!(opened.lock().unwrap().len(), 1);

        let (store, opened) = adjusted(10, &[Fault::DeniedAfter(0)], 5);
        let err = store.list_with_delimiter(None).await.unwrap_err();
        assert!(
            matches!(err, object_store::Error::PermissionDenied { .. }),
            "{err}"
        );
        assert_eq!(opened.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_listing_with_delimiter_is_asked_for_again() {
        let (store, opened) = adjusted(3, &[Fault::CutAfter(0), Fault::CutAfter(0)], 2);
        let result = store.list_with_delimiter(None).await.unwrap();
        let got: Vec<String> = result
            .objects
            .iter()
            .map(|m| m.location.to_string())
            .collect();
        assert_eq!(got, keys(0..3));
        assert_eq!(opened.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_listing_out_of_key_order_is_not_resumed_after_keys_were_yielded() {
        let opened = Arc::new(Mutex::new(0));
        let count = opened.clone();
        let stream = resuming(quick_retries(3), None, move |_| {
            *count.lock().unwrap() += 1;
            let unordered = [2, 0, 1].map(|i| Ok(meta(&Path::from(format!("k/{i:04}")))));
            let items: Vec<_> = unordered.into_iter().chain([Err(cut_off_body())]).collect();
            futures::stream::iter(items).boxed()
        });
        assert!(listed(stream).await.is_err());
        assert_eq!(*opened.lock().unwrap(), 1);
    }

    const LISTING: &str = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#,
        "<Name>b</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys>",
        "<IsTruncated>false</IsTruncated><Contents><Key>a.txt</Key>",
        "<LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>\"e\"</ETag>",
        "<Size>3</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>",
    );

    #[tokio::test]
    async fn classifies_object_store_errors() {
        let cut = response("200 OK", LISTING.len(), &LISTING[..40]);
        let err = s3_at(&scripted_server(vec![cut]), 0)
            .list_with_delimiter(None)
            .await
            .unwrap_err();
        assert!(is_transient(&err), "a cut-off body: {err}");

        // object_store's request loop already retried these (or would not): not again.
        let reset_before_headers = Vec::new();
        let err = s3_at(&scripted_server(vec![reset_before_headers]), 0)
            .list_with_delimiter(None)
            .await
            .unwrap_err();
        assert!(!is_transient(&err), "a reset before the headers: {err}");
        let unavailable = response("503 Service Unavailable", 0, "");
        let err = s3_at(&scripted_server(vec![unavailable]), 0)
            .list_with_delimiter(None)
            .await
            .unwrap_err();
        assert!(!is_transient(&err), "a 503 from the request loop: {err}");
        let forbidden = response("403 Forbidden", 0, "");
        let err = s3_at(&scripted_server(vec![forbidden]), 0)
            .list_with_delimiter(None)
            .await
            .unwrap_err();
        assert!(!is_transient(&err), "a 403: {err}");
    }

    // In the two tests below object_store itself retries nothing (max_retries 0); the retry
    // seen is Adjusted's.
    #[tokio::test]
    async fn a_real_s3_listing_cut_off_is_asked_for_again() {
        let cut = response("200 OK", LISTING.len(), &LISTING[..40]);
        let whole = response("200 OK", LISTING.len(), LISTING);
        let endpoint = scripted_server(vec![cut, whole]);
        let store = Adjusted::new(s3_at(&endpoint, 0), quick_retries(1));
        let result = store.list_with_delimiter(None).await.unwrap();
        assert_eq!(result.objects.len(), 1);
        assert_eq!(result.objects[0].location.as_ref(), "a.txt");
    }

    #[tokio::test]
    async fn a_real_s3_upload_creation_cut_off_is_asked_for_again() {
        let created = concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#,
            "<Bucket>b</Bucket><Key>k</Key><UploadId>upload-1</UploadId>",
            "</InitiateMultipartUploadResult>",
        );
        let cut = response("200 OK", created.len(), &created[..30]);
        let whole = response("200 OK", created.len(), created);
        let location = Path::from("k");

        let store = Adjusted::new(
            s3_at(&scripted_server(vec![cut.clone()]), 0),
            quick_retries(0),
        );
        let err = store
            .put_multipart(&location)
            .await
            .expect_err("no retry, so it fails");
        assert!(is_transient(&err), "{err}");

        let store = Adjusted::new(
            s3_at(&scripted_server(vec![cut, whole]), 0),
            quick_retries(1),
        );
        assert!(store.put_multipart(&location).await.is_ok());
    }
}
