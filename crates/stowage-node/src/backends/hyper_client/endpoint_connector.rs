//! The connector of a GCS, Azure or HTTP store: its requests to the store's own endpoint go
//! out through the store's `HyperClient`, every other request (a credential provider's: the
//! OAuth and metadata servers, Azure AD) through reqwest as object_store makes it. A request
//! whose URL is spelt in a way the origin check does not recognise goes through reqwest too:
//! a miss costs speed, never behaviour.

use std::sync::Arc;

use async_trait::async_trait;
use http::HeaderMap;
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpRequest, HttpResponse, HttpService, ReqwestConnector,
};
use object_store::ClientOptions;

use super::origin::{is_on_origin, origin_of};
use super::HyperClient;

/// Makes the clients of one store.
#[derive(Debug, Clone)]
pub struct EndpointConnector {
    /// The endpoint's origin; `None` where every request goes through reqwest (an endpoint
    /// URL without a host).
    origin: Option<String>,
    default_headers: Option<HeaderMap>,
}

impl EndpointConnector {
    /// The connector of a store at `endpoint` (its URL) with the store's `defaultHeaders`.
    pub fn new(default_headers: Option<HeaderMap>, endpoint: &str) -> Self {
        Self {
            origin: origin_of(endpoint),
            default_headers,
        }
    }
}

impl EndpointConnector {
    /// The hyper client for requests to the endpoint, made with the options object_store gives
    /// a client, which are not always the store's as configured (Azure's emulator mode allows
    /// `http://` itself); `None` where they go through reqwest.
    pub fn endpoint_client(
        &self,
        options: &ClientOptions,
    ) -> object_store::Result<Option<Arc<HyperClient>>> {
        let Some(origin) = &self.origin else {
            return Ok(None);
        };
        let client = HyperClient::for_endpoint(options, self.default_headers.as_ref(), origin)
            .map_err(|failure| object_store::Error::Generic {
                store: "HTTP client",
                source: failure.message.into(),
            })?;
        Ok(client.map(Arc::new))
    }
}

impl HttpConnector for EndpointConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        let other = ReqwestConnector::default().connect(options)?;
        let endpoint = self
            .endpoint_client(options)?
            .zip(self.origin.clone())
            .map(|(client, origin)| (origin, client));
        Ok(HttpClient::new(EndpointService { endpoint, other }))
    }
}

#[derive(Debug)]
struct EndpointService {
    endpoint: Option<(String, Arc<HyperClient>)>,
    other: HttpClient,
}

#[async_trait]
impl HttpService for EndpointService {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        match &self.endpoint {
            Some((origin, client)) if is_on_origin(request.uri(), origin) => {
                client.execute(request).await
            }
            _ => self.other.execute(request).await,
        }
    }
}
