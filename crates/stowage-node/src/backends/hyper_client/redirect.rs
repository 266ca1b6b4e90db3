//! Redirects, followed as reqwest's default policy follows them for object_store: up to 10,
//! 301/302 turning a POST into a GET and 303 anything but HEAD, 307/308 sent again as they
//! were (a request body is bytes, so it can be sent twice); credentials and cookies are left
//! off when the next URL has another origin, a `Referer` names the previous one (never an
//! https one to an http URL), and `allowHttp: false` refuses to be redirected to http.

use http::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, PROXY_AUTHORIZATION,
    REFERER, TRANSFER_ENCODING, WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, Version};
use object_store::client::{HttpError, HttpRequest, HttpRequestBody};
use url::Url;

use super::errors;

/// reqwest's default limit: the eleventh redirect fails.
pub const MAX_REDIRECTS: usize = 10;

/// A request as it was sent, kept to send it again where a redirect points.
pub struct Replay {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    body: HttpRequestBody,
}

impl Replay {
    /// What `request` is made of (its body's bytes are shared, not copied).
    pub fn of(request: &HttpRequest) -> Self {
        Self {
            method: request.method().clone(),
            uri: request.uri().clone(),
            version: request.version(),
            headers: request.headers().clone(),
            body: request.body().clone(),
        }
    }

    /// The request that a response of `status` with `location` redirects to, or `None`
    /// where the response is to be returned as it is. `visited` holds the URLs redirected
    /// from so far.
    pub fn next(
        mut self,
        status: StatusCode,
        location: Option<&HeaderValue>,
        visited: &mut Vec<Url>,
        allow_http: bool,
    ) -> Result<Option<HttpRequest>, HttpError> {
        match status {
            StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => {
                if self.method == Method::POST {
                    self.method = Method::GET;
                    self.drop_payload();
                }
            }
            StatusCode::SEE_OTHER => {
                if self.method != Method::HEAD {
                    self.method = Method::GET;
                }
                self.drop_payload();
            }
            StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => {}
            _ => return Ok(None),
        }
        let Ok(previous) = Url::parse(&self.uri.to_string()) else {
            return Ok(None);
        };
        let Some(next) = location
            .and_then(|value| value.to_str().ok())
            .and_then(|value| previous.join(value).ok())
        else {
            return Ok(None);
        };
        if next.scheme() != "http" && next.scheme() != "https" {
            return Err(errors::refused(format!(
                "redirect to a URL scheme that is not allowed: {}",
                next.scheme()
            )));
        }
        if !allow_http && next.scheme() != "https" {
            return Err(errors::refused(
                "redirect to http:// refused: URL scheme is not allowed (allowHttp is off)".into(),
            ));
        }
        visited.push(previous);
        if visited.len() > MAX_REDIRECTS {
            return Err(errors::refused("too many redirects".into()));
        }
        let uri: Uri = next
            .as_str()
            .parse()
            .map_err(|_| errors::refused(format!("redirect to a bad URL: {next}")))?;
        let previous = visited.last().expect("pushed above");
        let cross_origin = next.host_str() != previous.host_str()
            || next.port_or_known_default() != previous.port_or_known_default()
            || next.scheme() != previous.scheme();
        if cross_origin {
            for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION, WWW_AUTHENTICATE] {
                self.headers.remove(name);
            }
            self.headers.remove("cookie2");
        }
        if let Some(referer) = referer(&next, previous) {
            self.headers.insert(REFERER, referer);
        }
        let mut request = HttpRequest::new(self.body);
        *request.method_mut() = self.method;
        *request.uri_mut() = uri;
        *request.version_mut() = self.version;
        *request.headers_mut() = self.headers;
        Ok(Some(request))
    }

    /// A request that became a GET carries no body, nor the headers that described it.
    fn drop_payload(&mut self) {
        self.body = HttpRequestBody::empty();
        for name in [
            CONTENT_TYPE,
            CONTENT_LENGTH,
            CONTENT_ENCODING,
            TRANSFER_ENCODING,
        ] {
            self.headers.remove(name);
        }
    }
}

/// The `Referer` of a request redirected from `previous` to `next`, without credentials.
fn referer(next: &Url, previous: &Url) -> Option<HeaderValue> {
    if next.scheme() == "http" && previous.scheme() == "https" {
        return None;
    }
    let mut referer = previous.clone();
    let _ = referer.set_username("");
    let _ = referer.set_password(None);
    referer.set_fragment(None);
    referer.as_str().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn request(method: Method, uri: &str) -> HttpRequest {
        let mut request = HttpRequest::new(HttpRequestBody::from(Bytes::from_static(b"data")));
        *request.method_mut() = method;
        *request.uri_mut() = uri.parse().unwrap();
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("AWS4 secret"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        request
    }

    fn follow(
        request: &HttpRequest,
        status: u16,
        location: &str,
        visited: &mut Vec<Url>,
    ) -> Result<Option<HttpRequest>, HttpError> {
        let location = HeaderValue::from_str(location).unwrap();
        Replay::of(request).next(
            StatusCode::from_u16(status).unwrap(),
            Some(&location),
            visited,
            true,
        )
    }

    #[test]
    fn methods_and_bodies_as_reqwest_follows_them() {
        let post = request(Method::POST, "http://h/a");
        let next = follow(&post, 302, "/b", &mut vec![]).unwrap().unwrap();
        assert_eq!(
            (next.method(), next.uri().to_string().as_str()),
            (&Method::GET, "http://h/b")
        );
        assert!(next.body().is_empty() && !next.headers().contains_key(CONTENT_TYPE));
        // Same origin: the signature goes along; the Referer names where it came from.
        assert!(next.headers().contains_key(AUTHORIZATION));
        assert_eq!(next.headers()[REFERER], "http://h/a");

        let put = request(Method::PUT, "http://h/a");
        let next = follow(&put, 307, "http://other:81/a", &mut vec![])
            .unwrap()
            .unwrap();
        assert_eq!(next.method(), Method::PUT);
        assert_eq!(next.body().as_bytes().unwrap().as_ref(), b"data");
        assert!(
            !next.headers().contains_key(AUTHORIZATION),
            "credentials stay home"
        );

        let head = request(Method::HEAD, "http://h/a");
        let next = follow(&head, 303, "/c", &mut vec![]).unwrap().unwrap();
        assert_eq!(next.method(), Method::HEAD);

        assert!(follow(&put, 304, "/x", &mut vec![]).unwrap().is_none());
        assert!(follow(&put, 200, "/x", &mut vec![]).unwrap().is_none());
    }

    #[test]
    fn limits_and_schemes() {
        let get = request(Method::GET, "http://h/a");
        let mut visited = vec![];
        for _ in 0..MAX_REDIRECTS {
            assert!(follow(&get, 301, "/a", &mut visited).unwrap().is_some());
        }
        let too_many = follow(&get, 301, "/a", &mut visited).unwrap_err();
        assert!(crate::error::error_chain(&too_many).contains("too many redirects"));

        let https = request(Method::GET, "https://h/a");
        let location = HeaderValue::from_static("http://h/a");
        let refused = Replay::of(&https)
            .next(StatusCode::FOUND, Some(&location), &mut vec![], false)
            .unwrap_err();
        assert!(crate::error::error_chain(&refused).contains("not allowed"));
        let next = follow(&https, 302, "http://h/b", &mut vec![])
            .unwrap()
            .unwrap();
        assert!(
            !next.headers().contains_key(REFERER),
            "no https Referer over http"
        );
        assert!(follow(&get, 302, "ftp://h/b", &mut vec![]).is_err());
    }
}
