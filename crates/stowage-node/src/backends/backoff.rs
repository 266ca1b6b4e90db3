//! Delays between retries that stowage makes itself (a failed list page), computed as
//! object_store computes them for its own requests: exponential backoff with decorrelated
//! jitter from the store's `BackoffConfig`. object_store's own `Backoff` is crate-private.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use object_store::BackoffConfig;

/// The delays of one series of retries: the first is `init_backoff`, each next one a
/// random value between `init_backoff` and `base` times the previous, at most `max_backoff`.
#[derive(Debug)]
pub struct Backoff {
    init_secs: f64,
    next_secs: f64,
    max_secs: f64,
    base: f64,
}

impl Backoff {
    pub fn new(config: &BackoffConfig) -> Self {
        let init_secs = config.init_backoff.as_secs_f64();
        Self {
            init_secs,
            next_secs: init_secs,
            max_secs: config.max_backoff.as_secs_f64(),
            base: config.base,
        }
    }

    /// The delay before the next retry.
    pub fn next_delay(&mut self) -> Duration {
        let high = self.next_secs * self.base;
        let drawn = self.init_secs + (high - self.init_secs).max(0.0) * random_fraction();
        let delay = std::mem::replace(&mut self.next_secs, drawn.min(self.max_secs));
        Duration::from_secs_f64(delay.min(self.max_secs))
    }
}

/// A number in `[0, 1)`. Jitter only has to keep clients that failed together from retrying
/// in step, so the standard library's randomly keyed hasher serves instead of a `rand` crate.
fn random_fraction() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(init_ms: u64, max_ms: u64, base: f64) -> BackoffConfig {
        BackoffConfig {
            init_backoff: Duration::from_millis(init_ms),
            max_backoff: Duration::from_millis(max_ms),
            base,
        }
    }

    #[test]
    fn starts_at_the_initial_delay_and_stays_within_bounds() {
        let mut backoff = Backoff::new(&config(10, 200, 2.0));
        assert_eq!(backoff.next_delay(), Duration::from_millis(10));
        let mut previous = Duration::from_millis(10);
        for _ in 0..50 {
            let delay = backoff.next_delay();
            assert!(delay >= Duration::from_millis(10), "{delay:?}");
            assert!(delay <= Duration::from_millis(200), "{delay:?}");
            // (a microsecond of slack for the float to Duration rounding)
            assert!(
                delay <= previous * 2 + Duration::from_micros(1),
                "{delay:?} after {previous:?}"
            );
            previous = delay;
        }
    }

    #[test]
    fn base_one_keeps_the_initial_delay() {
        let mut backoff = Backoff::new(&config(25, 1000, 1.0));
        for _ in 0..5 {
            assert_eq!(backoff.next_delay(), Duration::from_millis(25));
        }
    }

    #[test]
    fn jitter_varies() {
        let draws: std::collections::HashSet<u64> =
            (0..20).map(|_| random_fraction().to_bits()).collect();
        assert!(draws.len() > 1);
        assert!((0..1000)
            .map(|_| random_fraction())
            .all(|f| (0.0..1.0).contains(&f)));
    }
}
