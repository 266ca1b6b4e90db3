//! `--cors`: permissive CORS, so a page on another origin (a test app on another localhost
//! port) can PUT to presigned URLs and POST forms straight to the server, as a bucket with a
//! CORS rule allowing every origin would let it on AWS.
//!
//! A preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here with what it
//! asked for; every other response gets `Access-Control-Allow-Origin` and exposes `ETag`
//! (multipart uploads from a browser need each part's ETag) and the version id.

use futures::future::BoxFuture;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue};
use hyper::service::Service;
use hyper::{Method, Request, Response, StatusCode};
use s3s::{Body, HttpError};

/// The inner service with CORS around it.
#[derive(Clone)]
pub struct Cors<S>(pub S);

const EXPOSED: &str =
    "ETag, x-amz-version-id, x-amz-request-id, Content-Length, Content-Type, Content-Disposition";

fn allow_origin(request: &HeaderMap, response: &mut HeaderMap) {
    let origin = request
        .get("origin")
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("*"));
    response.insert("access-control-allow-origin", origin);
    response.insert("vary", HeaderValue::from_static("Origin"));
    response.insert(
        "access-control-expose-headers",
        HeaderValue::from_static(EXPOSED),
    );
}

impl<S> Service<Request<Incoming>> for Cors<S>
where
    S: Service<Request<Incoming>, Response = Response<Body>, Error = HttpError>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = HttpError;
    type Future = BoxFuture<'static, Result<Response<Body>, HttpError>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let request_headers = req.headers().clone();
        if req.method() == Method::OPTIONS
            && request_headers.contains_key("access-control-request-method")
        {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NO_CONTENT;
            let headers = response.headers_mut();
            allow_origin(&request_headers, headers);
            headers.insert(
                "access-control-allow-methods",
                HeaderValue::from_static("GET, PUT, POST, HEAD, DELETE"),
            );
            if let Some(asked) = request_headers.get("access-control-request-headers") {
                headers.insert("access-control-allow-headers", asked.clone());
            }
            headers.insert("access-control-max-age", HeaderValue::from_static("600"));
            return Box::pin(async move { Ok(response) });
        }
        let inner = self.0.call(req);
        Box::pin(async move {
            let mut response = inner.await?;
            allow_origin(&request_headers, response.headers_mut());
            Ok(response)
        })
    }
}
