//! Name resolution for the hyper client: the system resolver on a blocking thread, as
//! reqwest's and hyper's own resolvers do, with the addresses shuffled when
//! `randomizeAddresses` is on (object_store's default), so that the connections of one
//! process spread over every address a host has instead of piling onto the first.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::Name;
use rand::seq::SliceRandom;

/// Resolves a host name to its addresses.
#[derive(Debug, Clone, Copy)]
pub struct SystemResolver {
    pub shuffle: bool,
}

/// The addresses of one host.
pub type Addresses = std::vec::IntoIter<SocketAddr>;

impl tower_service::Service<Name> for SystemResolver {
    type Response = Addresses;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Addresses>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let shuffle = self.shuffle;
        Box::pin(async move {
            // The port is the connector's to set; 0 stands in for it here.
            let resolved = tokio::task::spawn_blocking(move || {
                (name.as_str(), 0).to_socket_addrs().map(Vec::from_iter)
            })
            .await
            .map_err(io::Error::other)?;
            let mut addresses = resolved?;
            if shuffle {
                addresses.shuffle(&mut rand::rng());
            }
            Ok(addresses.into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_service::Service;

    #[tokio::test]
    async fn resolves_localhost_either_way() {
        for shuffle in [false, true] {
            let name: Name = "localhost".parse().unwrap();
            let addresses: Vec<_> = SystemResolver { shuffle }
                .call(name)
                .await
                .unwrap()
                .collect();
            assert!(!addresses.is_empty());
            assert!(addresses.iter().all(|a| a.ip().is_loopback()));
        }
    }
}
