//! A body that is not as long as the range its headers announced fails.
//!
//! object_store takes a ranged answer's range from `Content-Range` but lets the HTTP client
//! frame the body by `Content-Length`, and collects what arrives without counting it: a body
//! cut off in transit fails (the client sees the connection end early), but an answer whose
//! `Content-Length` is shorter than its `Content-Range` (a misbehaving server or proxy) would
//! resolve short, as if complete. Counting the bytes closes that.

use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{GetResult, GetResultPayload};

/// `result` with its streamed body failing, at its end, unless it brought exactly the bytes
/// of `result.range`. Not for the answer to a HEAD request, which has no body.
pub fn checked(result: GetResult) -> GetResult {
    let GetResultPayload::Stream(body) = result.payload else {
        return result;
    };
    let expected = result.range.end - result.range.start;
    let location = result.meta.location.clone();
    GetResult {
        payload: GetResultPayload::Stream(counted(body, expected, location)),
        ..result
    }
}

fn counted(
    body: BoxStream<'static, object_store::Result<bytes::Bytes>>,
    expected: u64,
    location: Path,
) -> BoxStream<'static, object_store::Result<bytes::Bytes>> {
    let state = Some((body, 0u64));
    futures::stream::unfold(state, move |state| {
        let location = location.clone();
        async move {
            let (mut body, received) = state?;
            match body.next().await {
                Some(Ok(chunk)) => {
                    let received = received + chunk.len() as u64;
                    if received > expected {
                        return Some((Err(wrong_length(&location, "more than", expected)), None));
                    }
                    Some((Ok(chunk), Some((body, received))))
                }
                Some(Err(err)) => Some((Err(err), None)),
                None if received == expected => None,
                None => Some((
                    Err(wrong_length(
                        &location,
                        &format!("only {received} of"),
                        expected,
                    )),
                    None,
                )),
            }
        }
    })
    .boxed()
}

fn wrong_length(location: &Path, got: &str, expected: u64) -> object_store::Error {
    object_store::Error::Generic {
        store: "stowage",
        source: format!(
            "the answer for {location} brought {got} the {expected} bytes its headers announced"
        )
        .into(),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures::TryStreamExt;
    use object_store::{Attributes, ObjectMeta};

    use super::*;

    fn result(range: std::ops::Range<u64>, chunks: &[&'static [u8]]) -> GetResult {
        let items: Vec<object_store::Result<Bytes>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        GetResult {
            payload: GetResultPayload::Stream(futures::stream::iter(items).boxed()),
            meta: ObjectMeta {
                location: Path::from("k"),
                last_modified: chrono::DateTime::UNIX_EPOCH,
                size: 100,
                e_tag: None,
                version: None,
            },
            range,
            attributes: Attributes::new(),
            extensions: Default::default(),
        }
    }

    async fn body(result: GetResult) -> object_store::Result<Vec<u8>> {
        let GetResultPayload::Stream(stream) = checked(result).payload else {
            unreachable!("a stream stays a stream")
        };
        let chunks: Vec<Bytes> = stream.try_collect().await?;
        Ok(chunks.concat())
    }

    #[tokio::test]
    async fn a_body_of_the_announced_length_passes() {
        assert_eq!(
            body(result(10..15, &[b"ab", b"cde"])).await.unwrap(),
            b"abcde"
        );
        assert_eq!(body(result(0..0, &[])).await.unwrap(), b"");
    }

    #[tokio::test]
    async fn a_short_body_fails_at_its_end() {
        let err = body(result(10..20, &[b"ab", b"cde"])).await.unwrap_err();
        assert!(matches!(err, object_store::Error::Generic { .. }), "{err}");
        assert!(err.to_string().contains("only 5 of the 10 bytes"), "{err}");
    }

    #[tokio::test]
    async fn a_long_body_fails() {
        let err = body(result(0..4, &[b"ab", b"cde"])).await.unwrap_err();
        assert!(err.to_string().contains("more than the 4 bytes"), "{err}");
    }

    /// A ranged answer for `0..100` of a 1000-byte object whose body is 40 bytes long, as
    /// its `Content-Length` says.
    fn misframed_range() -> Vec<u8> {
        concat!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/1000\r\n",
            "Content-Length: 40\r\nETag: \"e\"\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n",
            "Connection: close\r\n\r\n0123456789012345678901234567890123456789",
        )
        .as_bytes()
        .to_vec()
    }

    #[tokio::test]
    async fn a_real_s3_range_shorter_than_announced_fails() {
        use super::super::client::Adjusted;
        use super::super::scripted_server::{quick_retries, s3_at, scripted_server};
        use object_store::{ObjectStore, ObjectStoreExt};

        let location = Path::from("k");
        // object_store alone resolves it short.
        let bare = s3_at(&scripted_server(vec![misframed_range()]), 0);
        assert_eq!(bare.get_range(&location, 0..100).await.unwrap().len(), 40);

        let store = |answers| Adjusted::new(s3_at(&scripted_server(answers), 0), quick_retries(0));
        let err = store(vec![misframed_range()])
            .get_range(&location, 0..100)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("only 40 of the 100 bytes"),
            "{err}"
        );
        let err = store(vec![misframed_range()])
            .get_ranges(&location, &[0..10, 50..100])
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("only 40 of the 100 bytes"),
            "{err}"
        );

        // A HEAD answer announces the object's length and brings no body: it passes.
        let head = concat!(
            "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: \"e\"\r\n",
            "Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\nConnection: close\r\n\r\n",
        );
        let meta = store(vec![head.as_bytes().to_vec()])
            .head(&location)
            .await
            .unwrap();
        assert_eq!(meta.size, 1000);
    }
}
