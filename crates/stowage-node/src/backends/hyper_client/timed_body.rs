//! A response body under the client's timeouts, as reqwest keeps them: `readTimeout` between
//! one frame and the next, `timeout` until the whole body is in.
//!
//! The read timer is not reset on every frame (that moves a timer-wheel entry per frame, a
//! cost reqwest pays on each of a download's thousands of frames): a frame only notes when it
//! came, and when the timer fires, it is armed again from that moment unless the body has
//! really been silent for the whole timeout.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use object_store::client::HttpError;
use tokio::time::{Instant, Sleep};

use super::errors::{self, Stage};

/// The body of a response as hyper hands it over, with the client's timeouts.
pub struct TimedBody {
    inner: hyper::body::Incoming,
    read: Option<ReadTimer>,
    /// The whole request's deadline (`timeout`), with the limit it came from.
    total: Option<(Pin<Box<Sleep>>, Duration)>,
}

struct ReadTimer {
    limit: Duration,
    sleep: Pin<Box<Sleep>>,
    /// When the last frame came (or the body started).
    last_frame: Instant,
}

impl TimedBody {
    /// `inner`, to be read within `read_timeout` per frame and by `deadline` in all; the
    /// deadline comes with the `timeout` it was set from, for the error message.
    pub fn new(
        inner: hyper::body::Incoming,
        read_timeout: Option<Duration>,
        deadline: Option<(Instant, Duration)>,
    ) -> Self {
        let now = Instant::now();
        Self {
            inner,
            read: read_timeout.map(|limit| ReadTimer {
                limit,
                sleep: Box::pin(tokio::time::sleep_until(now + limit)),
                last_frame: now,
            }),
            total: deadline.map(|(at, limit)| (Box::pin(tokio::time::sleep_until(at)), limit)),
        }
    }
}

impl ReadTimer {
    /// Whether the body has been silent for the whole limit; if not, the timer is armed for
    /// the moment it would have been, and the task is woken then.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        while self.sleep.as_mut().poll(cx).is_ready() {
            let due = self.last_frame + self.limit;
            if Instant::now() >= due {
                return true;
            }
            self.sleep.as_mut().reset(due);
        }
        false
    }
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        if let Some((sleep, limit)) = &mut this.total {
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Some(Err(errors::timed_out(
                    Stage::ReadingBody,
                    "timeout",
                    *limit,
                ))));
            }
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some(read) = &mut this.read {
                    read.last_frame = Instant::now();
                }
                Poll::Ready(
                    frame.map(|frame| {
                        frame.map_err(|err| errors::transport(Stage::ReadingBody, err))
                    }),
                )
            }
            Poll::Pending => {
                if let Some(read) = &mut this.read {
                    if read.expired(cx) {
                        let limit = read.limit;
                        return Poll::Ready(Some(Err(errors::timed_out(
                            Stage::ReadingBody,
                            "readTimeout",
                            limit,
                        ))));
                    }
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// `future`, failed with a timeout once `deadline` passes; the deadline comes with the limit
/// it was set from, for the error message.
pub async fn within<T>(
    deadline: Option<(Instant, &'static str, Duration)>,
    future: impl Future<Output = Result<T, HttpError>>,
) -> Result<T, HttpError> {
    match deadline {
        None => future.await,
        Some((at, limit, after)) => match tokio::time::timeout_at(at, future).await {
            Ok(result) => result,
            Err(_) => Err(errors::timed_out(Stage::Sending, limit, after)),
        },
    }
}
