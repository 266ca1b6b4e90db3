//! The S3 operations over an in-memory store.
//!
//! Buckets map keys to `Arc<Obj>` in a `BTreeMap` (listing order is key order). An object's body
//! is a list of `Bytes` segments: one for a PutObject (the request body, copied once into a
//! buffer of its Content-Length), one per part for a multipart upload (the parts themselves,
//! not concatenated). Reads clone the segments (reference counts) and stream slices of them.
//! Locks are held only for map lookups and inserts, never across an await.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use s3s::dto::*;
use s3s::stream::{ByteStream, RemainingLength};
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, StdError, s3_error};

/// GET bodies go out in slices of at most this many bytes (zero-copy views of the stored body).
const SLICE: usize = 1 << 20;
/// S3's minimum size of every part but the last.
const MIN_PART: usize = 5 << 20;
/// Upper bound of the buffer reserved up front from a request's Content-Length.
const MAX_PREALLOC: usize = 5 << 30;

#[derive(Clone, Default)]
struct Attrs {
    content_type: Option<String>,
    content_encoding: Option<String>,
    content_disposition: Option<String>,
    content_language: Option<String>,
    cache_control: Option<String>,
    expires: Option<Timestamp>,
    website_redirect_location: Option<String>,
    metadata: Option<Metadata>,
}

/// What a GET or HEAD serves: the stored headers, each replaced by the request's `response-*`
/// override when it names one, as AWS does (presigned download links set them).
macro_rules! served_attrs {
    ($input:expr, $attrs:expr) => {
        Attrs {
            content_type: $input
                .response_content_type
                .clone()
                .or_else(|| $attrs.content_type.clone()),
            content_encoding: $input
                .response_content_encoding
                .clone()
                .or_else(|| $attrs.content_encoding.clone()),
            content_disposition: $input
                .response_content_disposition
                .clone()
                .or_else(|| $attrs.content_disposition.clone()),
            content_language: $input
                .response_content_language
                .clone()
                .or_else(|| $attrs.content_language.clone()),
            cache_control: $input
                .response_cache_control
                .clone()
                .or_else(|| $attrs.cache_control.clone()),
            expires: $input
                .response_expires
                .clone()
                .or_else(|| $attrs.expires.clone()),
            website_redirect_location: $attrs.website_redirect_location.clone(),
            metadata: $attrs.metadata.clone(),
        }
    };
}

/// The standard and user headers of a PutObject / CreateMultipartUpload / CopyObject (REPLACE).
macro_rules! attrs_from {
    ($input:expr) => {
        Attrs {
            content_type: $input.content_type,
            content_encoding: $input.content_encoding,
            content_disposition: $input.content_disposition,
            content_language: $input.content_language,
            cache_control: $input.cache_control,
            expires: $input.expires,
            website_redirect_location: $input.website_redirect_location,
            metadata: $input.metadata,
        }
    };
}

struct Obj {
    segments: Vec<Bytes>,
    len: u64,
    etag: String,
    last_modified: Timestamp,
    attrs: Attrs,
}

impl Obj {
    fn e_tag(&self) -> ETag {
        ETag::Strong(self.etag.clone())
    }
}

struct Bucket {
    created: Timestamp,
    objects: BTreeMap<String, Arc<Obj>>,
}

struct PartData {
    body: Bytes,
    etag: String,
    last_modified: Timestamp,
}

struct Upload {
    seq: u64,
    bucket: String,
    key: String,
    attrs: Attrs,
    initiated: Timestamp,
    parts: BTreeMap<i32, PartData>,
}

#[derive(Default)]
pub struct MemStore {
    buckets: RwLock<HashMap<String, Bucket>>,
    uploads: Mutex<HashMap<String, Upload>>,
    ids: Ids,
}

// ---- unique ids and ETags --------------------------------------------------------------

struct Ids {
    seed: u64,
    next: AtomicU64,
}

impl Default for Ids {
    fn default() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self {
            seed: mix(nanos ^ u64::from(std::process::id())),
            next: AtomicU64::new(1),
        }
    }
}

/// splitmix64's finaliser: distinct inputs give distinct, well-spread outputs.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Ids {
    fn seq(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
    /// 32 hex digits, like an MD5 ETag, unique for this process.
    fn hex128(&self) -> (u64, String) {
        let n = self.seq();
        let a = mix(self.seed ^ n);
        let b = mix(a ^ n.rotate_left(32));
        (n, format!("{a:016x}{b:016x}"))
    }
}

/// Now, truncated to whole seconds: Last-Modified and If-(Un)Modified-Since have 1 s precision,
/// so a stored time with milliseconds would compare as modified after its own Last-Modified.
fn now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Timestamp::from(UNIX_EPOCH + Duration::from_secs(secs))
}

// ---- bodies ----------------------------------------------------------------------------

fn body_error(e: StdError) -> S3Error {
    match e.downcast::<S3Error>() {
        Ok(e) => *e,
        Err(e) => S3Error::with_message(S3ErrorCode::IncompleteBody, e.to_string()),
    }
}

/// Reads a request body into one `Bytes`, copying it once at most: into a buffer reserved from
/// Content-Length (or the stream's exact length) as it arrives, or, when neither is known, into
/// one buffer of the total at the end. A body that arrives as a single chunk is kept as it is.
async fn collect(body: Option<StreamingBlob>, content_length: Option<i64>) -> S3Result<Bytes> {
    let Some(mut body) = body else {
        return Ok(Bytes::new());
    };
    let hint = content_length
        .and_then(|n| usize::try_from(n).ok())
        .or_else(|| body.remaining_length().exact());
    let first = match body.next().await {
        None => return Ok(Bytes::new()),
        Some(r) => r.map_err(body_error)?,
    };
    let second = match body.next().await {
        None => return Ok(first),
        Some(r) => r.map_err(body_error)?,
    };
    if let Some(total) = hint {
        let mut buf =
            BytesMut::with_capacity(total.min(MAX_PREALLOC).max(first.len() + second.len()));
        buf.extend_from_slice(&first);
        buf.extend_from_slice(&second);
        drop((first, second));
        while let Some(chunk) = body.next().await {
            buf.extend_from_slice(&chunk.map_err(body_error)?);
        }
        Ok(buf.freeze())
    } else {
        let mut chunks = vec![first, second];
        while let Some(chunk) = body.next().await {
            chunks.push(chunk.map_err(body_error)?);
        }
        let mut buf = BytesMut::with_capacity(chunks.iter().map(Bytes::len).sum());
        for c in &chunks {
            buf.extend_from_slice(c);
        }
        Ok(buf.freeze())
    }
}

/// A response body: slices of the stored segments, at most `SLICE` bytes each, no copies.
struct SliceStream {
    segments: VecDeque<Bytes>,
    remaining: usize,
}

/// The bytes `start..end` of a body stored as `segments`: views of them, no copies.
fn slice_segments(segments: &[Bytes], start: u64, end: u64) -> VecDeque<Bytes> {
    let mut out = VecDeque::new();
    let mut offset = 0u64;
    for s in segments {
        let (a, b) = (offset, offset + s.len() as u64);
        offset = b;
        if b <= start {
            continue;
        }
        if a >= end {
            break;
        }
        let lo = (start.max(a) - a) as usize;
        let hi = (end.min(b) - a) as usize;
        out.push_back(s.slice(lo..hi));
    }
    out
}

impl SliceStream {
    fn new(segments: &[Bytes], start: u64, end: u64) -> Self {
        Self {
            segments: slice_segments(segments, start, end),
            remaining: (end - start) as usize,
        }
    }
}

impl Stream for SliceStream {
    type Item = Result<Bytes, StdError>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        while let Some(front) = this.segments.front_mut() {
            if front.is_empty() {
                this.segments.pop_front();
                continue;
            }
            let out = front.split_to(front.len().min(SLICE));
            this.remaining -= out.len();
            return Poll::Ready(Some(Ok(out)));
        }
        Poll::Ready(None)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.segments.iter().filter(|s| !s.is_empty()).count();
        (n, Some(n))
    }
}

impl ByteStream for SliceStream {
    fn remaining_length(&self) -> RemainingLength {
        RemainingLength::new_exact(self.remaining)
    }
}

// ---- conditions ------------------------------------------------------------------------

/// GET/HEAD preconditions, in S3's order of precedence: 412 for If-Match / If-Unmodified-Since,
/// 304 for If-None-Match / If-Modified-Since.
fn check_read_conditions(
    obj: &Obj,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let etag = obj.e_tag();
    if let Some(c) = if_match {
        let ok = match c {
            ETagCondition::Any => true,
            ETagCondition::ETag(e) => e.strong_cmp(&etag),
        };
        if !ok {
            return Err(s3_error!(PreconditionFailed));
        }
    } else if let Some(t) = if_unmodified_since
        && obj.last_modified > *t
    {
        return Err(s3_error!(PreconditionFailed));
    }
    if let Some(c) = if_none_match {
        let matches = match c {
            ETagCondition::Any => true,
            ETagCondition::ETag(e) => e.weak_cmp(&etag),
        };
        if matches {
            return Err(s3_error!(NotModified));
        }
    } else if let Some(t) = if_modified_since
        && obj.last_modified <= *t
    {
        return Err(s3_error!(NotModified));
    }
    Ok(())
}

/// Write preconditions (PutObject, CompleteMultipartUpload): If-None-Match: * creates only,
/// If-Match: <etag> replaces only that version.
fn check_write_conditions(
    existing: Option<&Arc<Obj>>,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> S3Result<()> {
    if let Some(c) = if_none_match {
        let hit = match (c, existing) {
            (_, None) => false,
            (ETagCondition::Any, Some(_)) => true,
            (ETagCondition::ETag(e), Some(o)) => e.weak_cmp(&o.e_tag()),
        };
        if hit {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            ));
        }
    }
    if let Some(c) = if_match {
        let ok = match (c, existing) {
            (_, None) => return Err(s3_error!(NoSuchKey)),
            (ETagCondition::Any, Some(_)) => true,
            (ETagCondition::ETag(e), Some(o)) => e.strong_cmp(&o.e_tag()),
        };
        if !ok {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            ));
        }
    }
    Ok(())
}

/// CopyObject / UploadPartCopy source preconditions: every failure is 412, as S3 answers.
fn check_copy_source_conditions(
    src: &Obj,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    if let Some(c) = if_match {
        let ok = match c {
            ETagCondition::Any => true,
            ETagCondition::ETag(e) => e.strong_cmp(&src.e_tag()),
        };
        if !ok {
            return Err(s3_error!(PreconditionFailed));
        }
    } else if let Some(t) = if_unmodified_since
        && src.last_modified > *t
    {
        return Err(s3_error!(PreconditionFailed));
    }
    if let Some(c) = if_none_match {
        let hit = match c {
            ETagCondition::Any => true,
            ETagCondition::ETag(e) => e.weak_cmp(&src.e_tag()),
        };
        if hit {
            return Err(s3_error!(PreconditionFailed));
        }
    } else if let Some(t) = if_modified_since
        && src.last_modified <= *t
    {
        return Err(s3_error!(PreconditionFailed));
    }
    Ok(())
}

// ---- listing ---------------------------------------------------------------------------

enum Entry {
    Object(String, Arc<Obj>),
    Prefix(String),
}

struct Listing {
    entries: Vec<Entry>,
    truncated: bool,
}

impl Listing {
    fn last_name(&self) -> Option<String> {
        self.entries.last().map(|e| match e {
            Entry::Object(k, _) | Entry::Prefix(k) => k.clone(),
        })
    }
}

/// Keys under `prefix` strictly after `after`, in key order, keys that contain `delimiter` past
/// the prefix rolled up into one common prefix each; at most `max` entries.
fn list_keys(
    objects: &BTreeMap<String, Arc<Obj>>,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<&str>,
    max: usize,
) -> Listing {
    let mut entries = Vec::new();
    let mut truncated = false;
    let start = match after {
        Some(a) if a >= prefix => Bound::Excluded(a),
        _ => Bound::Included(prefix),
    };
    let mut last_prefix: Option<&str> = None;
    for (key, obj) in objects.range::<str, _>((start, Bound::Unbounded)) {
        if !key.starts_with(prefix) {
            break; // keys sharing a prefix are contiguous in key order
        }
        let rolled = delimiter.and_then(|d| {
            key[prefix.len()..]
                .find(d)
                .map(|i| &key[..prefix.len() + i + d.len()])
        });
        if let Some(cp) = rolled
            && (last_prefix == Some(cp) || after.is_some_and(|a| cp <= a))
        {
            continue; // already listed, here or on an earlier page
        }
        if entries.len() == max {
            truncated = max > 0;
            break;
        }
        match rolled {
            Some(cp) => {
                last_prefix = Some(cp);
                entries.push(Entry::Prefix(cp.to_owned()));
            }
            None => entries.push(Entry::Object(key.clone(), Arc::clone(obj))),
        }
    }
    Listing { entries, truncated }
}

/// encoding-type=url: percent-encodes all but unreserved characters and '/'.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn check_part_number(n: i32) -> S3Result<()> {
    if (1..=10_000).contains(&n) {
        Ok(())
    } else {
        Err(s3_error!(
            InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive"
        ))
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

fn max_keys(n: Option<i32>) -> usize {
    n.map_or(1000, |n| usize::try_from(n).unwrap_or(0).min(1000))
}

// ---- the store -------------------------------------------------------------------------

impl MemStore {
    pub fn create_bucket_named(&self, name: &str) {
        self.buckets
            .write()
            .unwrap()
            .entry(name.to_owned())
            .or_insert_with(|| Bucket {
                created: now(),
                objects: BTreeMap::new(),
            });
    }

    fn get(&self, bucket: &str, key: &str) -> S3Result<Arc<Obj>> {
        let buckets = self.buckets.read().unwrap();
        let b = buckets.get(bucket).ok_or_else(|| s3_error!(NoSuchBucket))?;
        b.objects
            .get(key)
            .cloned()
            .ok_or_else(|| s3_error!(NoSuchKey))
    }

    fn copy_source(&self, source: &CopySource) -> S3Result<Arc<Obj>> {
        match source {
            CopySource::Bucket { bucket, key, .. } => self.get(bucket, key),
            _ => Err(s3_error!(NotImplemented, "only bucket/key copy sources")),
        }
    }

    /// Stores part `number` of an upload of `bucket`/`key` (replacing one of that number);
    /// returns its ETag.
    fn store_part(
        &self,
        upload_id: &str,
        bucket: &str,
        key: &str,
        number: i32,
        body: Bytes,
    ) -> S3Result<String> {
        let (_, etag) = self.ids.hex128();
        let part = PartData {
            body,
            etag: etag.clone(),
            last_modified: now(),
        };
        let old = {
            let mut uploads = self.uploads.lock().unwrap();
            let upload = uploads
                .get_mut(upload_id)
                .filter(|u| u.bucket == bucket && u.key == key)
                .ok_or_else(|| s3_error!(NoSuchUpload))?;
            upload.parts.insert(number, part)
        };
        drop(old); // a large part is freed outside the lock
        Ok(etag)
    }

    fn upload_exists(&self, upload_id: &str, bucket: &str, key: &str) -> S3Result<()> {
        let uploads = self.uploads.lock().unwrap();
        match uploads.get(upload_id) {
            Some(u) if u.bucket == bucket && u.key == key => Ok(()),
            _ => Err(s3_error!(NoSuchUpload)),
        }
    }

    fn bucket_exists(&self, bucket: &str) -> S3Result<()> {
        if self.buckets.read().unwrap().contains_key(bucket) {
            Ok(())
        } else {
            Err(s3_error!(NoSuchBucket))
        }
    }

    /// Inserts under the write lock, after checking the write preconditions there (atomically).
    fn insert(
        &self,
        bucket: &str,
        key: String,
        obj: Obj,
        if_match: Option<&ETagCondition>,
        if_none_match: Option<&ETagCondition>,
    ) -> S3Result<()> {
        let mut buckets = self.buckets.write().unwrap();
        let b = buckets
            .get_mut(bucket)
            .ok_or_else(|| s3_error!(NoSuchBucket))?;
        check_write_conditions(b.objects.get(&key), if_match, if_none_match)?;
        let old = b.objects.insert(key, Arc::new(obj));
        drop(buckets);
        drop(old); // a large body is freed outside the lock
        Ok(())
    }

    fn list(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        after: Option<&str>,
        max: usize,
    ) -> S3Result<Listing> {
        let buckets = self.buckets.read().unwrap();
        let b = buckets.get(bucket).ok_or_else(|| s3_error!(NoSuchBucket))?;
        Ok(list_keys(&b.objects, prefix, delimiter, after, max))
    }
}

fn object_entry(key: String, obj: &Obj, url: bool) -> Object {
    Object {
        key: Some(if url { url_encode(&key) } else { key }),
        size: Some(obj.len as i64),
        e_tag: Some(obj.e_tag()),
        last_modified: Some(obj.last_modified.clone()),
        storage_class: Some(ObjectStorageClass::from_static(
            ObjectStorageClass::STANDARD,
        )),
        ..Default::default()
    }
}

/// Splits a listing into S3's Contents and CommonPrefixes (each None when empty).
fn split_listing(listing: Listing, url: bool) -> (Option<Vec<Object>>, Option<Vec<CommonPrefix>>) {
    let mut contents = Vec::new();
    let mut prefixes = Vec::new();
    for e in listing.entries {
        match e {
            Entry::Object(k, o) => contents.push(object_entry(k, &o, url)),
            Entry::Prefix(p) => prefixes.push(CommonPrefix {
                prefix: Some(if url { url_encode(&p) } else { p }),
            }),
        }
    }
    (
        (!contents.is_empty()).then_some(contents),
        (!prefixes.is_empty()).then_some(prefixes),
    )
}

#[async_trait::async_trait]
impl S3 for MemStore {
    // ---- buckets ----

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let mut buckets = self.buckets.write().unwrap();
        if buckets.contains_key(&req.input.bucket) {
            return Err(s3_error!(BucketAlreadyOwnedByYou));
        }
        buckets.insert(
            req.input.bucket.clone(),
            Bucket {
                created: now(),
                objects: BTreeMap::new(),
            },
        );
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{}", req.input.bucket)),
        }))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.bucket_exists(&req.input.bucket)?;
        Ok(S3Response::new(HeadBucketOutput::default()))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.bucket_exists(&req.input.bucket)?;
        Ok(S3Response::new(GetBucketLocationOutput::default()))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let mut buckets = self.buckets.write().unwrap();
        let b = buckets
            .get(&req.input.bucket)
            .ok_or_else(|| s3_error!(NoSuchBucket))?;
        if !b.objects.is_empty() {
            return Err(s3_error!(BucketNotEmpty));
        }
        buckets.remove(&req.input.bucket);
        Ok(S3Response::new(DeleteBucketOutput::default()))
    }

    async fn list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let buckets = self.buckets.read().unwrap();
        let mut list: Vec<Bucket_> = buckets
            .iter()
            .map(|(name, b)| Bucket_ {
                name: Some(name.clone()),
                creation_date: Some(b.created.clone()),
                bucket_region: None,
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(list),
            ..Default::default()
        }))
    }

    // ---- objects ----

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        self.bucket_exists(&input.bucket)?;
        let body = collect(input.body, input.content_length).await?;
        let (_, etag) = self.ids.hex128();
        let len = body.len() as u64;
        let obj = Obj {
            segments: if body.is_empty() {
                Vec::new()
            } else {
                vec![body]
            },
            len,
            etag: etag.clone(),
            last_modified: now(),
            attrs: attrs_from!(input),
        };
        self.insert(
            &input.bucket,
            input.key,
            obj,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
        )?;
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(ETag::Strong(etag)),
            size: Some(len as i64),
            ..Default::default()
        }))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let obj = self.get(&input.bucket, &input.key)?;
        check_read_conditions(
            &obj,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        let (start, end, content_range) = match input.range {
            None => (0, obj.len, None),
            Some(r) => {
                let range = r.check(obj.len)?;
                let cr = format!("bytes {}-{}/{}", range.start, range.end - 1, obj.len);
                (range.start, range.end, Some(cr))
            }
        };
        let a = served_attrs!(input, obj.attrs);
        let output = GetObjectOutput {
            body: Some(StreamingBlob::new(SliceStream::new(
                &obj.segments,
                start,
                end,
            ))),
            content_length: Some((end - start) as i64),
            content_range,
            accept_ranges: Some("bytes".to_owned()),
            e_tag: Some(obj.e_tag()),
            last_modified: Some(obj.last_modified.clone()),
            content_type: a.content_type,
            content_encoding: a.content_encoding,
            content_disposition: a.content_disposition,
            content_language: a.content_language,
            cache_control: a.cache_control,
            expires: a.expires,
            website_redirect_location: a.website_redirect_location,
            metadata: a.metadata,
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let obj = self.get(&input.bucket, &input.key)?;
        check_read_conditions(
            &obj,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
            input.if_modified_since.as_ref(),
            input.if_unmodified_since.as_ref(),
        )?;
        let a = served_attrs!(input, obj.attrs);
        let output = HeadObjectOutput {
            content_length: Some(obj.len as i64),
            accept_ranges: Some("bytes".to_owned()),
            e_tag: Some(obj.e_tag()),
            last_modified: Some(obj.last_modified.clone()),
            content_type: a.content_type,
            content_encoding: a.content_encoding,
            content_disposition: a.content_disposition,
            content_language: a.content_language,
            cache_control: a.cache_control,
            expires: a.expires,
            website_redirect_location: a.website_redirect_location,
            metadata: a.metadata,
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let input = req.input;
        let old = {
            let mut buckets = self.buckets.write().unwrap();
            let b = buckets
                .get_mut(&input.bucket)
                .ok_or_else(|| s3_error!(NoSuchBucket))?;
            b.objects.remove(&input.key)
        };
        drop(old);
        Ok(S3Response::new(DeleteObjectOutput::default()))
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = req.input;
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut removed = Vec::new();
        let mut deleted = Vec::new();
        {
            let mut buckets = self.buckets.write().unwrap();
            let b = buckets
                .get_mut(&input.bucket)
                .ok_or_else(|| s3_error!(NoSuchBucket))?;
            for id in input.delete.objects {
                removed.push(b.objects.remove(&id.key));
                if !quiet {
                    deleted.push(DeletedObject {
                        key: Some(id.key),
                        version_id: id.version_id,
                        ..Default::default()
                    });
                }
            }
        }
        drop(removed);
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(deleted),
            ..Default::default()
        }))
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let input = req.input;
        let src = self.copy_source(&input.copy_source)?;
        check_copy_source_conditions(
            &src,
            input.copy_source_if_match.as_ref(),
            input.copy_source_if_none_match.as_ref(),
            input.copy_source_if_modified_since.as_ref(),
            input.copy_source_if_unmodified_since.as_ref(),
        )?;
        let replace = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        let attrs = if replace {
            attrs_from!(input)
        } else {
            src.attrs.clone()
        };
        let last_modified = now();
        // the same bytes (shared, not copied) and so the same ETag, as S3 keeps an object's MD5
        let obj = Obj {
            segments: src.segments.clone(),
            len: src.len,
            etag: src.etag.clone(),
            last_modified: last_modified.clone(),
            attrs,
        };
        self.insert(&input.bucket, input.key, obj, None, None)?;
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(CopyObjectResult {
                e_tag: Some(src.e_tag()),
                last_modified: Some(last_modified),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let prefix = input.prefix.as_deref().unwrap_or("");
        // an empty delimiter means none (AWS ignores `delimiter=`)
        let delimiter = non_empty(input.delimiter.as_deref());
        let after = match (
            non_empty(input.continuation_token.as_deref()),
            non_empty(input.start_after.as_deref()),
        ) {
            (Some(t), Some(s)) => Some(t.max(s)),
            (t, s) => t.or(s),
        };
        let max = max_keys(input.max_keys);
        let listing = self.list(&input.bucket, prefix, delimiter, after, max)?;
        let truncated = listing.truncated;
        let next = if truncated { listing.last_name() } else { None };
        let key_count = listing.entries.len() as i32;
        let url = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str() == EncodingType::URL);
        let (contents, common_prefixes) = split_listing(listing, url);
        let enc = |s: Option<String>| if url { s.map(|s| url_encode(&s)) } else { s };
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: enc(input.prefix),
            delimiter: enc(input.delimiter),
            start_after: enc(input.start_after),
            max_keys: Some(max as i32),
            key_count: Some(key_count),
            continuation_token: input.continuation_token,
            next_continuation_token: next,
            is_truncated: Some(truncated),
            contents,
            common_prefixes,
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input;
        let prefix = input.prefix.as_deref().unwrap_or("");
        let delimiter = non_empty(input.delimiter.as_deref());
        let max = max_keys(input.max_keys);
        let listing = self.list(
            &input.bucket,
            prefix,
            delimiter,
            non_empty(input.marker.as_deref()),
            max,
        )?;
        let truncated = listing.truncated;
        let next = if truncated { listing.last_name() } else { None };
        let url = input
            .encoding_type
            .as_ref()
            .is_some_and(|e| e.as_str() == EncodingType::URL);
        let (contents, common_prefixes) = split_listing(listing, url);
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(input.bucket),
            prefix: input.prefix,
            delimiter: input.delimiter,
            marker: input.marker,
            max_keys: Some(max as i32),
            next_marker: next,
            is_truncated: Some(truncated),
            contents,
            common_prefixes,
            encoding_type: input.encoding_type,
            ..Default::default()
        }))
    }

    // ---- multipart uploads ----

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        self.bucket_exists(&input.bucket)?;
        let (seq, upload_id) = self.ids.hex128();
        let upload = Upload {
            seq,
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            attrs: attrs_from!(input),
            initiated: now(),
            parts: BTreeMap::new(),
        };
        self.uploads
            .lock()
            .unwrap()
            .insert(upload_id.clone(), upload);
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            ..Default::default()
        }))
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        check_part_number(input.part_number)?;
        // refused before the body is read, not after
        self.upload_exists(&input.upload_id, &input.bucket, &input.key)?;
        let body = collect(input.body, input.content_length).await?;
        let etag = self.store_part(
            &input.upload_id,
            &input.bucket,
            &input.key,
            input.part_number,
            body,
        )?;
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(ETag::Strong(etag)),
            ..Default::default()
        }))
    }

    /// A part copied from an object (all of it, or `x-amz-copy-source-range`): what object_store
    /// does for a copy that must not overwrite (`copy_if_not_exists = multipart`), completed
    /// with If-None-Match: *.
    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let input = req.input;
        check_part_number(input.part_number)?;
        self.upload_exists(&input.upload_id, &input.bucket, &input.key)?;
        let src = self.copy_source(&input.copy_source)?;
        check_copy_source_conditions(
            &src,
            input.copy_source_if_match.as_ref(),
            input.copy_source_if_none_match.as_ref(),
            input.copy_source_if_modified_since.as_ref(),
            input.copy_source_if_unmodified_since.as_ref(),
        )?;
        let (start, end) = match &input.copy_source_range {
            None => (0, src.len),
            Some(header) => {
                let range = Range::parse(header)
                    .map_err(|_| s3_error!(InvalidArgument, "bad x-amz-copy-source-range"))?
                    .check(src.len)?;
                (range.start, range.end)
            }
        };
        // zero-copy when the range lies in one segment (a PutObject's body); a copy of a
        // multipart object's parts is joined into one buffer
        let slices: Vec<Bytes> = slice_segments(&src.segments, start, end).into();
        let body = match slices.as_slice() {
            [] => Bytes::new(),
            [one] => one.clone(),
            many => many.concat().into(),
        };
        let etag = self.store_part(
            &input.upload_id,
            &input.bucket,
            &input.key,
            input.part_number,
            body,
        )?;
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(ETag::Strong(etag)),
                last_modified: Some(now()),
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let input = req.input;
        let wanted = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default();
        if wanted.is_empty() {
            return Err(s3_error!(
                MalformedXML,
                "You must specify at least one part"
            ));
        }
        let (mut segments, attrs) = {
            let uploads = self.uploads.lock().unwrap();
            let upload = uploads
                .get(&input.upload_id)
                .filter(|u| u.bucket == input.bucket && u.key == input.key)
                .ok_or_else(|| s3_error!(NoSuchUpload))?;
            let mut segments = Vec::with_capacity(wanted.len());
            let mut previous = 0;
            for (i, p) in wanted.iter().enumerate() {
                let n = p
                    .part_number
                    .ok_or_else(|| s3_error!(InvalidPart, "a part has no PartNumber"))?;
                if n <= previous {
                    return Err(s3_error!(InvalidPartOrder));
                }
                previous = n;
                let stored = upload
                    .parts
                    .get(&n)
                    .ok_or_else(|| s3_error!(InvalidPart, "part {n} was not uploaded"))?;
                if p.e_tag.as_ref().is_some_and(|e| e.value() != stored.etag) {
                    return Err(s3_error!(InvalidPart, "part {n}: ETag does not match"));
                }
                if i + 1 < wanted.len() && stored.body.len() < MIN_PART {
                    return Err(s3_error!(
                        EntityTooSmall,
                        "part {n} is smaller than 5 MiB and not the last"
                    ));
                }
                segments.push(stored.body.clone());
            }
            (segments, upload.attrs.clone())
        };
        let len = segments.iter().map(|s| s.len() as u64).sum();
        let etag = format!("{}-{}", self.ids.hex128().1, segments.len());
        segments.retain(|s: &Bytes| !s.is_empty());
        let obj = Obj {
            segments,
            len,
            etag: etag.clone(),
            last_modified: now(),
            attrs,
        };
        self.insert(
            &input.bucket,
            input.key.clone(),
            obj,
            input.if_match.as_ref(),
            input.if_none_match.as_ref(),
        )?;
        let done = self.uploads.lock().unwrap().remove(&input.upload_id);
        drop(done);
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            e_tag: Some(ETag::Strong(etag)),
            ..Default::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        let removed = {
            let mut uploads = self.uploads.lock().unwrap();
            match uploads.get(&input.upload_id) {
                Some(u) if u.bucket == input.bucket && u.key == input.key => {
                    uploads.remove(&input.upload_id)
                }
                _ => return Err(s3_error!(NoSuchUpload)),
            }
        };
        drop(removed);
        Ok(S3Response::new(AbortMultipartUploadOutput::default()))
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        let max = max_keys(input.max_parts);
        let marker = input.part_number_marker.unwrap_or(0);
        let uploads = self.uploads.lock().unwrap();
        let upload = uploads
            .get(&input.upload_id)
            .filter(|u| u.bucket == input.bucket && u.key == input.key)
            .ok_or_else(|| s3_error!(NoSuchUpload))?;
        let mut parts: Vec<Part> = upload
            .parts
            .range(marker + 1..)
            .take(max + 1)
            .map(|(n, p)| Part {
                part_number: Some(*n),
                size: Some(p.body.len() as i64),
                e_tag: Some(ETag::Strong(p.etag.clone())),
                last_modified: Some(p.last_modified.clone()),
                ..Default::default()
            })
            .collect();
        let truncated = parts.len() > max;
        parts.truncate(max);
        let next = if truncated {
            parts.last().and_then(|p| p.part_number)
        } else {
            None
        };
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(input.upload_id),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: next,
            max_parts: Some(max as i32),
            is_truncated: Some(truncated),
            parts: Some(parts),
            ..Default::default()
        }))
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let input = req.input;
        self.bucket_exists(&input.bucket)?;
        let prefix = input.prefix.as_deref().unwrap_or("");
        let max = max_keys(input.max_uploads);
        let key_marker = non_empty(input.key_marker.as_deref());
        let uploads = self.uploads.lock().unwrap();
        // in key order, then in order of initiation (the upload-id marker names one of them)
        let mut all: Vec<(&String, &Upload)> = uploads
            .iter()
            .filter(|(_, u)| u.bucket == input.bucket && u.key.starts_with(prefix))
            .collect();
        all.sort_by(|a, b| a.1.key.cmp(&b.1.key).then(a.1.seq.cmp(&b.1.seq)));
        let marker_seq = input
            .upload_id_marker
            .as_ref()
            .and_then(|id| uploads.get(id))
            .map(|u| u.seq);
        let after = |u: &Upload| match key_marker {
            None => true,
            Some(k) => match (u.key.as_str().cmp(k), marker_seq) {
                (std::cmp::Ordering::Greater, _) => true,
                (std::cmp::Ordering::Equal, Some(seq)) => u.seq > seq,
                _ => false,
            },
        };
        let mut page: Vec<(&String, &Upload)> = all
            .into_iter()
            .filter(|(_, u)| after(u))
            .take(max + 1)
            .collect();
        let truncated = page.len() > max;
        page.truncate(max);
        let (next_key, next_id) = match page.last() {
            Some((id, u)) if truncated => (Some(u.key.clone()), Some((*id).clone())),
            _ => (None, None),
        };
        let list = page
            .into_iter()
            .map(|(id, u)| MultipartUpload {
                key: Some(u.key.clone()),
                upload_id: Some(id.clone()),
                initiated: Some(u.initiated.clone()),
                storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
                ..Default::default()
            })
            .collect();
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            prefix: input.prefix,
            key_marker: input.key_marker,
            upload_id_marker: input.upload_id_marker,
            next_key_marker: next_key,
            next_upload_id_marker: next_id,
            max_uploads: Some(max as i32),
            is_truncated: Some(truncated),
            uploads: Some(list),
            ..Default::default()
        }))
    }
}

/// s3s's DTO for a bucket in ListBuckets (named apart from this file's `Bucket`).
type Bucket_ = s3s::dto::Bucket;
