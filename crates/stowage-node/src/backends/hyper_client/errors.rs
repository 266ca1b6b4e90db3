//! The hyper client's failures as object_store's `HttpError`s, of the kinds object_store gives
//! reqwest's (`HttpError::reqwest`), since its retry loop decides by kind: a connection never
//! made or a request never sent is retried, a timeout or a cut-off exchange only when the
//! request is idempotent, anything else not at all.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use object_store::client::{HttpError, HttpErrorKind};

/// What was under way when a failure happened: the first words of its message.
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    Sending,
    ReadingBody,
}

/// A failure of the transport, with what was under way.
#[derive(Debug)]
struct TransportError {
    stage: Stage,
    source: Box<dyn Error + Send + Sync>,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.stage {
            Stage::Sending => "error sending request",
            Stage::ReadingBody => "error reading response body",
        })
    }
}

impl Error for TransportError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// A failure of the hyper client (`request`) or of a response body (`ReadingBody`).
pub fn transport(stage: Stage, err: impl Error + Send + Sync + 'static) -> HttpError {
    let kind = kind_of(&err);
    HttpError::new(
        kind,
        TransportError {
            stage,
            source: Box::new(err),
        },
    )
}

/// A request, or a read of its response, that took longer than `limit` allows.
pub fn timed_out(stage: Stage, limit: &'static str, after: Duration) -> HttpError {
    HttpError::new(
        HttpErrorKind::Timeout,
        TransportError {
            stage,
            source: format!("operation timed out ({limit} of {after:?})").into(),
        },
    )
}

/// A request the client refuses to send: `allowHttp` off, a redirect it may not follow.
pub fn refused(message: String) -> HttpError {
    HttpError::new(
        HttpErrorKind::Unknown,
        TransportError {
            stage: Stage::Sending,
            source: message.into(),
        },
    )
}

/// The kind of `err`, from what its chain of sources says.
fn kind_of(err: &(dyn Error + 'static)) -> HttpErrorKind {
    let mut kind = HttpErrorKind::Unknown;
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(err) = err.downcast_ref::<hyper_util::client::legacy::Error>() {
            if err.is_connect() {
                return HttpErrorKind::Connect;
            }
        }
        if let Some(err) = err.downcast_ref::<hyper::Error>() {
            if err.is_closed() || err.is_incomplete_message() || err.is_body_write_aborted() {
                kind = HttpErrorKind::Request;
            } else if err.is_timeout() {
                kind = HttpErrorKind::Timeout;
            }
        }
        if let Some(err) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as Io;
            match err.kind() {
                Io::TimedOut => kind = HttpErrorKind::Timeout,
                Io::ConnectionAborted
                | Io::ConnectionReset
                | Io::BrokenPipe
                | Io::UnexpectedEof => kind = HttpErrorKind::Interrupted,
                _ => {}
            }
        }
        if kind != HttpErrorKind::Unknown {
            return kind;
        }
        next = err.source();
    }
    kind
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_chain() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(kind_of(&reset), HttpErrorKind::Interrupted);
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        // The kind is found below the error the client returns, as in a `TransportError`.
        let timeout = transport(
            Stage::ReadingBody,
            std::io::Error::from(std::io::ErrorKind::TimedOut),
        );
        assert_eq!(timeout.kind(), HttpErrorKind::Timeout);
        let inner = TransportError {
            stage: Stage::Sending,
            source: Box::new(reset),
        };
        assert_eq!(
            transport(Stage::Sending, inner).kind(),
            HttpErrorKind::Interrupted
        );
        let other = std::io::Error::other("no");
        assert_eq!(kind_of(&other), HttpErrorKind::Unknown);
        let late = timed_out(Stage::Sending, "readTimeout", Duration::from_secs(1));
        assert_eq!(late.kind(), HttpErrorKind::Timeout);
        assert!(crate::error::error_chain(&late).contains("timed out"));
    }
}
