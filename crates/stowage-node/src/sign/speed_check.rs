//! Per-URL signing time of one of our signers against object_store's `signed_url`, one URL a
//! call, for the signers' ignored speed tests (`cargo test --release sign:: -- --ignored
//! --nocapture`). Test builds only.

use std::time::{Duration, Instant};

use http::Method;
use object_store::path::Path;
use object_store::signer::Signer;

use super::{SignRequest, UrlSigner};

/// Sign `n` GET URLs with each signer, three rounds, and print the times a URL.
pub async fn print_speed_against_object_store(
    label: &str,
    theirs: &dyn Signer,
    ours: &dyn UrlSigner,
    n: usize,
) {
    let paths: Vec<Path> = (0..n)
        .map(|i| Path::from(format!("bench/{i}.bin")))
        .collect();
    let expires_in = Duration::from_secs(600);
    let request = SignRequest::new(Method::GET, expires_in);
    for round in 0..3 {
        let started = Instant::now();
        for path in &paths {
            std::hint::black_box(
                theirs
                    .signed_url(Method::GET, path, expires_in)
                    .await
                    .unwrap(),
            );
        }
        let object_store = started.elapsed();
        let started = Instant::now();
        for path in &paths {
            std::hint::black_box(ours.sign_url(path, &request).await.unwrap());
        }
        let own = started.elapsed();
        println!(
            "{label} round {round}: object_store {:.2} µs/URL, ours {:.2} µs/URL ({:.2}x)",
            object_store.as_secs_f64() * 1e6 / n as f64,
            own.as_secs_f64() * 1e6 / n as f64,
            object_store.as_secs_f64() / own.as_secs_f64()
        );
    }
}
