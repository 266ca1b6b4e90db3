//! How big each part of a multipart upload is, so that an upload fits in the backend's part
//! limit (S3: 10 000 parts; at a fixed 5 MiB that is only 48.8 GiB).
//!
//! - A known total (a `Buffer`, or `contentLength`) gets one part size for the whole upload:
//!   the larger of `chunkSize` and `ceil(total / maxParts)` rounded up to a MiB (rclone's
//!   `chunksize.Calculator` rule).
//! - A stream of unknown length keeps `chunkSize` for the first tenth of the part budget (1 000
//!   parts on S3), then makes each part at least that fraction of the bytes already sent (a
//!   thousandth on S3), rounded up to a MiB and capped at the largest part. The total then grows
//!   by 0.1 % a part: with the default 5 MiB, 10 000 parts hold 15.4 TiB (5 TiB after 7 863
//!   parts), where doubling every 1 000 parts would stop at 4.9 TiB.
//!
//! Parts therefore differ in size, which S3, GCS (XML multipart) and Azure accept: only parts
//! other than the last must be at least 5 MiB (S3, GCS). Cloudflare R2 wants equal parts; there a
//! stream beyond the first tenth of the budget needs `contentLength`.

use crate::error::{StorageFailure, StorageResult};

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

/// The largest integer a JavaScript number holds exactly; the bound of every size option.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// What one backend allows a multipart upload; `None` where it sets no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartLimits {
    /// Most parts in one upload.
    pub max_parts: Option<u64>,
    /// Largest part (and so the largest `chunkSize`).
    pub max_part_size: Option<u64>,
    /// Largest object a multipart upload may produce.
    pub max_object_size: Option<u64>,
}

/// Amazon S3 (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html>, linked from
/// object_store's `MultipartStore for AmazonS3` docs): parts 1 to 10 000, 5 MiB to 5 GiB but the
/// last. The page now gives 48.8 TiB (10 000 × 5 GiB) as the largest object, up from 5 TiB; many
/// S3-compatible servers keep 5 TiB and refuse a larger one themselves.
pub const S3_LIMITS: PartLimits = PartLimits {
    max_parts: Some(10_000),
    max_part_size: Some(5 * GIB),
    max_object_size: Some(10_000 * 5 * GIB),
};

/// Google Cloud Storage through object_store, whose multipart upload is GCS's S3-compatible
/// XML API (`?uploads`, `partNumber=idx+1`): 10 000 parts of 5 MiB to 5 GiB but the last
/// (<https://cloud.google.com/storage/docs/xml-api/post-object-complete>), objects up to 5 TiB
/// (<https://cloud.google.com/storage/quotas>).
pub const GCS_LIMITS: PartLimits = PartLimits {
    max_parts: Some(10_000),
    max_part_size: Some(5 * GIB),
    max_object_size: Some(5 * 1024 * GIB),
};

/// Azure block blobs: 50 000 blocks of up to 4000 MiB, so blobs of 50 000 × 4000 MiB
/// (about 190.7 TiB), for service versions from 2019-12-12 on; object_store sends 2023-11-03
/// and its `MultipartStore for MicrosoftAzure` docs give the same numbers
/// (<https://learn.microsoft.com/en-us/rest/api/storageservices/put-block>).
pub const AZURE_LIMITS: PartLimits = PartLimits {
    max_parts: Some(50_000),
    max_part_size: Some(4000 * MIB),
    max_object_size: Some(50_000 * 4000 * MIB),
};

/// Memory, local files and HTTP: parts are appended (or the body is sent whole), so any count
/// and size goes.
pub const NO_PART_LIMITS: PartLimits = PartLimits {
    max_parts: None,
    max_part_size: None,
    max_object_size: None,
};

impl PartLimits {
    /// The largest `chunkSize` this backend takes.
    pub fn max_chunk_size(&self) -> u64 {
        self.max_part_size.unwrap_or(MAX_SAFE_INTEGER)
    }

    /// Refuse a declared total this backend cannot store, before anything is sent.
    pub fn check_total(&self, total: u64) -> StorageResult<()> {
        match self.max_object_size {
            Some(max) if total > max => Err(StorageFailure::invalid_config(format!(
                "contentLength {total} is larger than this store's largest object ({max} bytes)"
            ))),
            _ => Ok(()),
        }
    }

    /// How many parts a stream of unknown length sends at `chunkSize` before they grow: a tenth
    /// of the part budget, so the other nine tenths can grow the total by a factor of ~e^9.
    fn parts_before_growth(&self) -> Option<u64> {
        self.max_parts.map(|parts| (parts / 10).max(1))
    }
}

/// The part sizes of one upload.
#[derive(Debug, Clone, Copy)]
pub struct PartPlan {
    chunk_size: u64,
    limits: PartLimits,
    /// Set when the total is known: every part but the last has this size.
    fixed: Option<u64>,
}

impl PartPlan {
    /// The plan for `chunk_size` (already checked against `limits`) and a total, if known.
    pub fn new(chunk_size: usize, limits: PartLimits, total: Option<u64>) -> Self {
        let chunk_size = chunk_size as u64;
        let fixed = total.map(|total| match limits.max_parts {
            Some(parts) => chunk_size.max(round_up_to_mib(total.div_ceil(parts))),
            None => chunk_size,
        });
        Self {
            chunk_size,
            limits,
            fixed,
        }
    }

    /// The size of part `index` (from 0), after `sent` bytes went into the earlier parts.
    pub fn part_size(&self, index: u64, sent: u64) -> usize {
        if let Some(fixed) = self.fixed {
            return fixed as usize;
        }
        let Some(threshold) = self.limits.parts_before_growth() else {
            return self.chunk_size as usize;
        };
        if index < threshold {
            return self.chunk_size as usize;
        }
        let grown = self
            .chunk_size
            .max(round_up_to_mib(sent.div_ceil(threshold)));
        grown.min(self.limits.max_chunk_size()) as usize
    }

    /// Refuse part `index` (from 0) when the backend takes no more parts.
    pub fn check_part_count(&self, index: u64) -> StorageResult<()> {
        match self.limits.max_parts {
            Some(max) if index >= max => Err(StorageFailure::not_supported(format!(
                "the upload needs more than {max} parts, the most this store takes; \
                 give contentLength or a larger chunkSize"
            ))),
            _ => Ok(()),
        }
    }

    /// Refuse a stream that has outgrown the largest object the backend stores.
    pub fn check_received(&self, received: u64) -> StorageResult<()> {
        match self.limits.max_object_size {
            Some(max) if received > max => Err(StorageFailure::not_supported(format!(
                "the upload is larger than this store's largest object ({max} bytes)"
            ))),
            _ => Ok(()),
        }
    }
}

/// Whole MiB: a part size the plan chooses is MiB-aligned, as rclone's are, in case a backend
/// cares about alignment.
fn round_up_to_mib(bytes: u64) -> u64 {
    bytes.div_ceil(MIB) * MIB
}

/// The byte count a caller declared (`contentLength`), checked against what actually arrives.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeclaredLength {
    expected: Option<u64>,
    received: u64,
}

impl DeclaredLength {
    /// Nothing received yet; `expected` is `contentLength`, if one was given.
    pub fn new(expected: Option<u64>) -> Self {
        Self {
            expected,
            received: 0,
        }
    }

    /// Count `len` more bytes; an error once they go past the declared length. The mismatch is
    /// `INVALID_CONFIG`: the option's value was wrong, which no retry fixes.
    pub fn accept(&mut self, len: u64) -> StorageResult<u64> {
        let received = self.received + len;
        if let Some(expected) = self.expected {
            if received > expected {
                return Err(StorageFailure::invalid_config(format!(
                    "the data is longer than contentLength ({expected} bytes); nothing was stored"
                )));
            }
        }
        self.received = received;
        Ok(received)
    }

    /// An error if fewer bytes arrived than declared.
    pub fn check_complete(&self) -> StorageResult<()> {
        match self.expected {
            Some(expected) if self.received != expected => {
                Err(StorageFailure::invalid_config(format!(
                    "the data ended after {} of contentLength {expected} bytes; nothing was stored",
                    self.received
                )))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    const TIB: u64 = 1024 * GIB;
    const DEFAULT_CHUNK: usize = 5 * MIB as usize;

    /// Sizes of the parts an unknown-length stream of `total` bytes is cut into.
    fn stream_parts(plan: &PartPlan, total: u64) -> Vec<u64> {
        let mut parts = Vec::new();
        let mut sent = 0;
        while sent < total {
            let size = (plan.part_size(parts.len() as u64, sent) as u64).min(total - sent);
            parts.push(size);
            sent += size;
        }
        parts
    }

    /// The most `max_parts` parts of a growing plan hold.
    fn capacity(plan: &PartPlan, max_parts: u64) -> u64 {
        (0..max_parts).fold(0, |sent, index| sent + plan.part_size(index, sent) as u64)
    }

    #[test]
    fn a_5_tib_stream_at_5_mib_fits_in_10_000_parts() {
        for limits in [S3_LIMITS, GCS_LIMITS] {
            let plan = PartPlan::new(DEFAULT_CHUNK, limits, None);
            let parts = stream_parts(&plan, 5 * TIB);
            assert!(parts.len() <= 10_000, "{} parts", parts.len());
            assert!(parts.iter().all(|&p| p <= 5 * GIB));
            assert!(capacity(&plan, 10_000) >= 5 * TIB);
        }
    }

    #[test]
    fn a_stream_keeps_chunk_size_for_the_first_thousand_parts_then_grows() {
        let plan = PartPlan::new(DEFAULT_CHUNK, S3_LIMITS, None);
        assert!((0..1000).all(|i| plan.part_size(i, i * 5 * MIB) == DEFAULT_CHUNK));
        // A thousandth of what was sent, in whole MiB.
        assert_eq!(plan.part_size(1000, 1000 * 5 * MIB), DEFAULT_CHUNK);
        assert_eq!(plan.part_size(1001, 1001 * 5 * MIB), 6 * MIB as usize);
        assert_eq!(plan.part_size(5000, 100 * GIB), 103 * MIB as usize);
        // Never below chunkSize, never above the largest part.
        let big = PartPlan::new(64 * MIB as usize, S3_LIMITS, None);
        assert_eq!(big.part_size(1000, GIB), 64 * MIB as usize);
        assert_eq!(plan.part_size(9999, 40 * TIB), (5 * GIB) as usize);
        let azure = PartPlan::new(DEFAULT_CHUNK, AZURE_LIMITS, None);
        assert_eq!(azure.part_size(49_999, 150 * TIB), (4000 * MIB) as usize);
    }

    #[test]
    fn a_stream_on_azure_grows_after_5000_blocks() {
        let plan = PartPlan::new(DEFAULT_CHUNK, AZURE_LIMITS, None);
        assert_eq!(plan.part_size(4999, 4999 * 5 * MIB), DEFAULT_CHUNK);
        assert!(capacity(&plan, 50_000) >= 50 * TIB);
    }

    #[test]
    fn a_known_total_picks_one_part_size_that_fits() {
        // Up to 10 000 × chunkSize, chunkSize itself.
        let small = PartPlan::new(DEFAULT_CHUNK, S3_LIMITS, Some(48 * GIB));
        assert_eq!(small.part_size(0, 0), DEFAULT_CHUNK);
        assert_eq!(small.part_size(9000, 45 * GIB), DEFAULT_CHUNK);
        // 100 GiB / 10 000 = 10.24 MiB, rounded up to 11 MiB.
        let large = PartPlan::new(DEFAULT_CHUNK, S3_LIMITS, Some(100 * GIB));
        assert_eq!(large.part_size(0, 0), 11 * MIB as usize);
        assert_eq!(large.part_size(5000, 50 * GIB), 11 * MIB as usize);
        // The largest objects still fit, in parts no larger than the largest part.
        for limits in [S3_LIMITS, GCS_LIMITS, AZURE_LIMITS] {
            let total = limits.max_object_size.unwrap();
            let plan = PartPlan::new(DEFAULT_CHUNK, limits, Some(total));
            let size = plan.part_size(0, 0) as u64;
            assert!(size <= limits.max_part_size.unwrap());
            assert!(total.div_ceil(size) <= limits.max_parts.unwrap());
        }
        // A chunkSize larger than needed wins.
        let chunky = PartPlan::new(64 * MIB as usize, S3_LIMITS, Some(100 * GIB));
        assert_eq!(chunky.part_size(0, 0), 64 * MIB as usize);
    }

    #[test]
    fn a_total_past_the_largest_object_is_refused() {
        assert!(GCS_LIMITS.check_total(5 * TIB).is_ok());
        let err = GCS_LIMITS.check_total(5 * TIB + 1).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidConfig);
        assert!(S3_LIMITS.check_total(10_000 * 5 * GIB).is_ok());
        assert!(S3_LIMITS.check_total(10_000 * 5 * GIB + 1).is_err());
        assert!(NO_PART_LIMITS.check_total(MAX_SAFE_INTEGER).is_ok());
    }

    #[test]
    fn stores_without_part_limits_keep_chunk_size() {
        let plan = PartPlan::new(1024, NO_PART_LIMITS, None);
        assert_eq!(plan.part_size(1_000_000, 1 << 40), 1024);
        assert!(plan.check_part_count(u64::MAX - 1).is_ok());
        assert_eq!(
            PartPlan::new(1024, NO_PART_LIMITS, Some(1 << 40)).part_size(0, 0),
            1024
        );
    }

    #[test]
    fn part_count_and_size_are_capped() {
        let plan = PartPlan::new(DEFAULT_CHUNK, S3_LIMITS, None);
        assert!(plan.check_part_count(9_999).is_ok());
        assert_eq!(
            plan.check_part_count(10_000).unwrap_err().code,
            ErrorCode::NotSupported
        );
        assert!(plan.check_received(10_000 * 5 * GIB).is_ok());
        assert!(plan.check_received(10_000 * 5 * GIB + 1).is_err());
    }

    #[test]
    fn the_declared_length_must_match() {
        let mut exact = DeclaredLength::new(Some(10));
        exact.accept(4).unwrap();
        exact.accept(6).unwrap();
        exact.check_complete().unwrap();

        let mut long = DeclaredLength::new(Some(10));
        long.accept(8).unwrap();
        assert_eq!(long.accept(3).unwrap_err().code, ErrorCode::InvalidConfig);

        let mut short = DeclaredLength::new(Some(10));
        short.accept(9).unwrap();
        assert_eq!(
            short.check_complete().unwrap_err().code,
            ErrorCode::InvalidConfig
        );

        let mut undeclared = DeclaredLength::new(None);
        undeclared.accept(1 << 40).unwrap();
        undeclared.check_complete().unwrap();
    }
}
